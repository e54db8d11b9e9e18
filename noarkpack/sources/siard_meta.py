"""What ``header/metadata.xml`` of a SIARD 2.x archive says: schemas, tables, columns, LOB folders.

SIARD 2.1 (eCH-0165 v2.1, DILCISBoard/SIARD) and 2.2 share one namespace and one layout; 2.2 adds
nothing this reader needs beyond the clarified LOB folder rules (SIARD 2.2 ch. 5.1, 5.6, 6.2).

Each table becomes a list of *leaves*: the values a row holds, as flat named columns.

- A column of a predefined type is one leaf (``<cN>`` in the table XML, N 1-based).
- A column of a UDT (category ``udt``) is flattened into one leaf per attribute, named
  ``COLUMN.ATTRIBUTE`` (recursively ``COLUMN.ATTR.SUBATTR``), read from ``<cN><uK>…``.  Flattening keeps a
  LOB attribute (e.g. a scanned page in ``CUDTS.SOUND``) a column of its own that a mapping can take a
  document from, with its own type, length and digest.
- A column of a DISTINCT type is one leaf of the distinct type's base type.
- An array (``<cardinality>``; elements ``<aK>``) is one leaf holding JSON text: a list of the elements in
  position order, ``null`` for a position the archive leaves out, up to the last present position.  Arrays
  are declared with cardinalities up to 2^31, so they cannot be flattened into columns.

The metadata file is read whole (it describes the database, it does not hold its rows); its size is bounded
by :data:`MAX_METADATA_BYTES` before it is parsed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from lxml import etree

from ..errors import SourceError
from ..locale import tr
from .catalog import ColumnInfo, SchemaInfo, SourceCatalog, TableInfo

NS = "http://www.bar.admin.ch/xmlns/siard/2/metadata.xsd"
TABLE_NS = "http://www.bar.admin.ch/xmlns/siard/2/table.xsd"
#: SIARD 1.0 used another namespace; its archives are refused with a hint
SIARD1_NS = "http://www.bar.admin.ch/xmlns/siard/1.0/metadata.xsd"
SUPPORTED_VERSIONS = ("2.0", "2.1", "2.2")
MAX_METADATA_BYTES = 256 * 1024 * 1024

#: how a leaf's text becomes a Python value (see siard_values.convert)
KIND_INT, KIND_FLOAT, KIND_BOOL, KIND_DATE, KIND_TEXT, KIND_BINARY, KIND_JSON = (
    "int", "float", "bool", "date", "text", "binary", "json")

_LOB_TYPES = ("BLOB", "CLOB", "NCLOB", "XML", "BINARY LARGE OBJECT", "CHARACTER LARGE OBJECT",
              "NATIONAL CHARACTER LARGE OBJECT", "NCHAR LARGE OBJECT", "DATALINK")


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def kind_of(sql_type: str) -> str:
    """The value kind of a SQL:2008 predefined type as SIARD writes it (SIARD 2.1 ch. 5.10, table of types)."""
    t = sql_type.upper().strip()
    base = re.sub(r"\s*\(.*$", "", t)
    if base in ("INTEGER", "INT", "SMALLINT", "BIGINT"):
        return KIND_INT
    if base in ("DECIMAL", "DEC", "NUMERIC"):
        # an integer only when a precision is given and the scale is 0 (DECIMAL(22), NUMERIC(10, 0)); a bare
        # DECIMAL is written with fractions by SIARD Suite (sample.siard CDECIMAL = 0.493827156)
        m = re.match(r"^\w+\s*\(\s*\d+\s*(?:,\s*(\d+)\s*)?\)$", t)
        return KIND_INT if m and not (m.group(1) and int(m.group(1))) else KIND_TEXT
    if base in ("REAL", "FLOAT", "DOUBLE PRECISION", "DOUBLE"):
        return KIND_FLOAT
    if base == "BOOLEAN":
        return KIND_BOOL
    if base == "DATE":
        return KIND_DATE
    if base in ("BINARY", "VARBINARY", "BINARY VARYING", "BLOB", "BINARY LARGE OBJECT", "DATALINK"):
        # DATALINK: a file of any content, its length in bytes (SIARD 2.2 table 6.2, "length")
        return KIND_BINARY
    return KIND_TEXT


def is_lob_type(sql_type: str) -> bool:
    t = re.sub(r"\s*\(.*$", "", sql_type.upper().strip())
    return t in _LOB_TYPES


@dataclass
class Leaf:
    """One flat column of a table: where its value sits in a row element and how to read it."""

    name: str
    #: element names from the row down: ("c3",) or ("c3", "u2")
    path: tuple[str, ...]
    sql_type: str
    kind: str
    is_lob: bool
    nullable: bool = True
    #: lobFolder values from the column down to this field (each relative to the one before; SIARD 2.2 5.6)
    lob_folders: tuple[str, ...] = ()


@dataclass
class TableMeta:
    schema: str
    name: str
    #: "content/schema0/table3" inside the ZIP
    folder: str
    rows: int | None
    leaves: list[Leaf]
    primary_key: tuple[str, ...] = ()
    description: str | None = None

    @property
    def qualified(self) -> str:
        return f"{self.schema}.{self.name}"


@dataclass
class ArchiveMeta:
    version: str
    lob_folder: str | None
    schemas: list[tuple[str, list[TableMeta]]]
    details: dict[str, str] = field(default_factory=dict)

    def tables(self) -> list[TableMeta]:
        return [t for _, ts in self.schemas for t in ts]

    def table(self, schema: str, name: str) -> TableMeta | None:
        for t in self.tables():
            if t.schema == schema and t.name == name:
                return t
        return None


def _text(el, tag: str) -> str | None:
    child = el.find(_q(tag))
    return child.text.strip() if child is not None and child.text is not None else None


class _Types:
    """The UDT and DISTINCT types of every schema, by (schema, name)."""

    def __init__(self, root) -> None:
        self.types: dict[tuple[str, str], etree._Element] = {}
        for s in root.iterfind(f"{_q('schemas')}/{_q('schema')}"):
            sname = _text(s, "name") or ""
            for t in s.iterfind(f"{_q('types')}/{_q('type')}"):
                self.types[(sname, _text(t, "name") or "")] = t

    def get(self, schema: str | None, name: str | None, *, where: str):
        t = self.types.get((schema or "", name or ""))
        if t is None:
            raise SourceError(tr("the type {type} is not declared in metadata.xml",
                                 type=".".join((str(schema), str(name)))),
                              file=where, hint=tr("the archive is incomplete; export it again with SIARD Suite or "
                                                  "DBPTK"))
        return t


def _leaves(name: str, path: tuple[str, ...], decl, default_schema: str, types: _Types, folders: tuple[str, ...],
            field_decls: list, nullable: bool, where: str, depth: int = 0) -> list[Leaf]:
    """The leaves of one column or attribute ``decl`` (a <column> or an <attribute> element)."""
    if depth > 16:
        raise SourceError(tr("the type of {column} nests deeper than 16 levels (a recursive type?)", column=name),
                          file=where)
    sql_type = _text(decl, "type")
    if _text(decl, "cardinality") is not None:
        label = f"{sql_type or _text(decl, 'typeName')} ARRAY[{_text(decl, 'cardinality')}]"
        return [Leaf(name, path, label, KIND_JSON, False, nullable, folders)]
    if sql_type is not None:
        return [Leaf(name, path, sql_type, kind_of(sql_type), is_lob_type(sql_type), nullable, folders)]
    tschema = _text(decl, "typeSchema") or default_schema
    tdecl = types.get(tschema, _text(decl, "typeName"), where=where)
    category = (_text(tdecl, "category") or "").lower()
    if category == "distinct":
        base = _text(tdecl, "base") or "VARCHAR"
        return [Leaf(name, path, base, kind_of(base), is_lob_type(base), nullable, folders)]
    out: list[Leaf] = []
    for k, attr in enumerate(tdecl.iterfind(f"{_q('attributes')}/{_q('attribute')}"), start=1):
        fdecl = field_decls[k - 1] if k - 1 < len(field_decls) else None
        sub_folders = folders
        sub_fields: list = []
        if fdecl is not None:
            lf = _text(fdecl, "lobFolder")
            sub_folders = folders + ((lf,) if lf else ())
            sub_fields = list(fdecl.iterfind(f"{_q('fields')}/{_q('field')}"))
        out += _leaves(f"{name}.{_text(attr, 'name')}", path + (f"u{k}",), attr, tschema, types, sub_folders,
                       sub_fields, True, where, depth + 1)
    return out


def parse_metadata(data: bytes, *, where: str = "header/metadata.xml") -> ArchiveMeta:
    """Read metadata.xml (bytes) into an :class:`ArchiveMeta`; SourceError when it is not SIARD 2.x metadata."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as e:
        raise SourceError(tr("metadata.xml is not well-formed XML: {reason}", reason=e.msg), file=where,
                          line=e.lineno,
                          hint=tr("the archive is damaged; get a fresh copy of the SIARD file")) from None
    if root.tag == f"{{{SIARD1_NS}}}siardArchive":
        raise SourceError(tr("this is a SIARD 1.0 archive; noarkpack reads SIARD 2.1 and 2.2"), file=where,
                          hint=tr("convert it to SIARD 2.2 with SIARD Suite (siardfromdb/siardtodb or the GUI's "
                                  "upgrade)"))
    if root.tag != _q("siardArchive"):
        raise SourceError(tr("the root element is {element}, not a SIARD 2 siardArchive", element=root.tag),
                          file=where)
    version = (root.get("version") or "").strip()
    if version not in SUPPORTED_VERSIONS:
        raise SourceError(tr("SIARD version {version} is not one noarkpack reads (2.1, 2.2)", version=repr(version)),
                          file=where)
    types = _Types(root)
    schemas: list[tuple[str, list[TableMeta]]] = []
    for s in root.iterfind(f"{_q('schemas')}/{_q('schema')}"):
        sname = _text(s, "name") or ""
        sfolder = _text(s, "folder") or ""
        tables: list[TableMeta] = []
        for t in s.iterfind(f"{_q('tables')}/{_q('table')}"):
            tname = _text(t, "name") or ""
            twhere = f"{where} (table {sname}.{tname})"
            leaves: list[Leaf] = []
            for n, col in enumerate(t.iterfind(f"{_q('columns')}/{_q('column')}"), start=1):
                lf = _text(col, "lobFolder")
                nullable = (_text(col, "nullable") or "true").lower() != "false"
                fields = list(col.iterfind(f"{_q('fields')}/{_q('field')}"))
                leaves += _leaves(_text(col, "name") or f"c{n}", (f"c{n}",), col, sname, types,
                                  (lf,) if lf else (), fields, nullable, twhere)
            seen: set[str] = set()
            for leaf in leaves:
                if leaf.name in seen:
                    raise SourceError(tr("two columns of {table} are both named {column} (a UDT attribute "
                                         "flattened onto a column's name)", table=".".join((sname, tname)),
                                         column=repr(leaf.name)), file=where)
                seen.add(leaf.name)
            pk = t.find(_q("primaryKey"))
            pk_cols = tuple(c.text.strip() for c in pk.iterfind(_q("column")) if c.text) if pk is not None else ()
            rows = _text(t, "rows")
            tables.append(TableMeta(sname, tname, f"content/{sfolder}/{_text(t, 'folder') or ''}",
                                    int(rows) if rows and rows.isdigit() else None, leaves, pk_cols,
                                    _text(t, "description")))
        schemas.append((sname, tables))
    details = {"siard_version": version}
    for key, tag in (("dbname", "dbname"), ("producer", "producerApplication"),
                     ("database_product", "databaseProduct"), ("archival_date", "archivalDate")):
        value = _text(root, tag)
        if value:
            details[key] = value
    return ArchiveMeta(version, _text(root, "lobFolder"), schemas, details)


def to_catalog(meta: ArchiveMeta, location: str) -> SourceCatalog:
    """The :class:`SourceCatalog` of an archive: flattened columns as load_into_sqlite writes them."""
    schemas = []
    for sname, tables in meta.schemas:
        infos = tuple(TableInfo(t.name, tuple(ColumnInfo(lf.name, lf.sql_type, lf.nullable, lf.is_lob)
                                              for lf in t.leaves), t.rows, t.primary_key) for t in tables)
        schemas.append(SchemaInfo(sname, infos))
    return SourceCatalog("siard", location, tuple(schemas), dict(meta.details))
