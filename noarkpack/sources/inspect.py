"""``noarkpack source inspect`` and ``source sample``: the archivist's first look at an unknown legacy source.

:func:`inspect_source` takes a project folder (its ``[import.source]``), a database URL or a SIARD file and gives
a :class:`~noarkpack.sources.catalog.SourceCatalog`: schemas, tables, columns with their types, row counts
(``SELECT COUNT(*)``, read-only), LOB columns, and which mapping entries of the project read each column.
:func:`sample_rows` shows a few rows of one table with identifiers masked: every value that holds a valid
fødselsnummer, D- or H-nummer, every value of a column the project maps as ``fodselsnummer`` or a name, and every
value of a column whose name says it is one (fnr, personnr, navn, adresse, …); LOBs as their size only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..errors import SourceError
from ..locale import tr
from .catalog import ColumnInfo, SchemaInfo, SourceCatalog, TableInfo
from .keys import holds_person_number

#: schemas of the database itself, never the legacy system's
SYSTEM_SCHEMAS = {"information_schema", "pg_catalog", "pg_toast", "mysql", "performance_schema", "sys"}
#: column names that say the column holds a person's identity (masked in a sample)
IDENTIFYING = re.compile(r"(fnr|f.?dselsn|personn|pnr|ssn|navn|name|adresse|address|telefon|phone|e.?post|email)",
                         re.I)
#: mapping fields whose source columns are identifying
IDENTIFYING_FIELDS = {"fodselsnummer", "navn"}


def catalog_statements(table: str, schema: str | None, *, sample_rows: int = 5):
    """The statements inspect and sample issue for one table: COUNT(*) and a sample of its rows."""
    import sqlalchemy as sa

    t = sa.table(table, schema=schema)
    return [sa.select(sa.func.count()).select_from(t),
            sa.select(sa.literal_column("*")).select_from(t).limit(sample_rows)]


def _is_lob(coltype: Any) -> bool:
    import sqlalchemy as sa

    if isinstance(coltype, sa.LargeBinary):
        return True
    if isinstance(coltype, sa.Text) or (isinstance(coltype, sa.String) and type(coltype).__name__.upper()
                                        in ("CLOB", "NCLOB", "LONGTEXT", "MEDIUMTEXT", "TEXT")):
        return True
    return type(coltype).__name__.upper() in ("BLOB", "BYTEA", "LONGBLOB", "MEDIUMBLOB", "IMAGE", "VARBINARY")


def annotate(cat: SourceCatalog, mapping) -> SourceCatalog:
    """The catalogue with each column's ``used_by``: the mapping entries that read it ("query NAME: field").
    A ``from`` query names its table (``table``, ``schema.table``); a ``sql`` query counts for the tables and
    columns its text names."""
    if mapping is None:
        return cat
    queries = [fm for fm in mapping.files if fm.path is None]
    schemas = []
    for s in cat.schemas:
        tables = []
        for t in s.tables:
            names = {t.name.lower(), f"{s.name}.{t.name}".lower()}
            if "." in t.name:  # a SIARD table in its SQLite copy: "SCHEMA.TABLE", also known by its bare name
                names.add(t.name.split(".", 1)[1].lower())
            cols = []
            for c in t.columns:
                by: list[str] = []
                for fm in queries:
                    if fm.source_table is not None:
                        if fm.source_table.lower() not in names:
                            continue
                    else:
                        words = {w.strip('"').lower() for w in re.findall(r'[A-Za-z_][A-Za-z0-9_.$"]*', fm.sql)}
                        if not names & words or c.name.lower() not in words | {w.split(".")[-1] for w in words}:
                            continue
                    fields = [f for f, spec in fm.fields.items() if any(x.lower() == c.name.lower()
                                                                         for x in spec.sources)]
                    by += [f"{fm.rel}: {f}" for f in fields] or ([fm.rel] if fm.sql else [])
                cols.append(replace(c, used_by=tuple(dict.fromkeys(by))))
            tables.append(replace(t, columns=tuple(cols)))
        schemas.append(replace(s, tables=tuple(tables)))
    return replace(cat, schemas=tuple(schemas))


def inspect_sql(source, mapping=None) -> SourceCatalog:
    """The catalogue of an open :class:`~noarkpack.sources.sql.SqlSource` (row counts by SELECT COUNT(*))."""
    import sqlalchemy as sa
    from sqlalchemy.exc import DBAPIError

    from .sql import clean_message

    conn = source.connection()
    try:
        insp = sa.inspect(conn)
        dialect = source.dialect
        if dialect in ("mysql", "mariadb", "sqlite"):
            schemas = [None]  # the URL's database (MySQL: a schema is a database; never the whole server)
        else:
            schemas = [s for s in insp.get_schema_names() if s.lower() not in SYSTEM_SCHEMAS
                       and not s.lower().startswith("pg_")]
        out = []
        for schema in schemas:
            tables = []
            for name in sorted(insp.get_table_names(schema=schema)):
                if source.whole_names and name.startswith("sqlite_"):
                    continue
                cols = [ColumnInfo(name=c["name"], type=str(c["type"]), nullable=bool(c.get("nullable", True)),
                                   is_lob=_is_lob(c["type"])) for c in insp.get_columns(name, schema=schema)]
                pk = tuple(insp.get_pk_constraint(name, schema=schema).get("constrained_columns") or ())
                count = conn.execute(catalog_statements(name, schema)[0]).scalar()
                tables.append(TableInfo(name=name, columns=tuple(cols), rows=int(count), primary_key=pk))
            out.append(SchemaInfo(name=schema or insp.default_schema_name or "main", tables=tuple(tables)))
        version = ".".join(str(v) for v in (conn.dialect.server_version_info or ()))
    except DBAPIError as e:
        raise SourceError(tr("the source cannot be inspected: {reason}", reason=clean_message(e)),
                          file=source.location) from None
    finally:
        conn.rollback()
    details = {"dialect": source.dialect}
    if version:
        details["server_version"] = version
    return annotate(SourceCatalog(kind="siard" if source.whole_names else "sql", location=source.location,
                                  schemas=tuple(out), details=details), mapping)


@dataclass
class Target:
    """What ``source inspect`` / ``source sample`` was pointed at."""

    spec: Any  # SourceSpec
    root: Path
    mapping: Any = None
    cache_dir: Path | None = None


def resolve_target(target: str, load_project=None) -> Target:
    """A project folder, a database URL or a SIARD file → :class:`Target`.  ``load_project`` is the project
    loader (the CLI passes :func:`noarkpack.project.load_project`; sources may not import the project layer)."""
    from .sql import SourceSpec

    if "://" in target:
        return Target(SourceSpec(url=target), Path.cwd())
    p = Path(target)
    if p.is_file() and p.suffix.lower() == ".siard":
        return Target(SourceSpec(siard=p.resolve(), siard_rel=str(p)), p.resolve().parent,
                      cache_dir=None)
    if p.is_dir() and (p / "noarkpack.toml").is_file() and load_project is not None:
        project = load_project(p)
        mapping = project.import_mapping
        if mapping is None or mapping.source is None:
            raise SourceError(tr("the project has no [import.source] (a database URL or a SIARD archive)"),
                              file=p / "noarkpack.toml", hint=tr("see docs/migration.md, SQL databases"))
        return Target(mapping.source, project.root, mapping, mapping.database.parent)
    raise SourceError(tr("not a project folder, a database URL or a .siard file"), file=target,
                      hint=tr("e.g. noarkpack source inspect examples/legacydb, or a URL such as "
                              "postgresql+psycopg://user@host/db"))


def inspect_source(t: Target) -> SourceCatalog:
    """The catalogue of the target's source."""
    from .sql import open_source

    if t.spec.siard is not None:
        from .siard import inspect_siard  # straight from the archive's metadata.xml (its own types and counts)

        return annotate(inspect_siard(t.spec.siard), t.mapping)
    with open_source(t.spec, t.root, cache_dir=t.cache_dir) as src:
        return inspect_sql(src, t.mapping)


def _identifying_columns(mapping) -> set[str]:
    cols: set[str] = set()
    if mapping is not None:
        for fm in mapping.files:
            for f, spec in fm.fields.items():
                if f in IDENTIFYING_FIELDS or (fm.table == "korrespondansepart" and f == "navn"):
                    cols.update(c.lower() for c in spec.sources)
    return cols


def _shown(value: Any, masked: bool, show_identifiers: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return tr("<{size} bytes>", size=len(bytes(value)))
    text = str(value)
    if not show_identifiers and (masked or holds_person_number(text)):
        return "***"
    if len(text) > 60:
        return text[:57].replace("\n", " ") + "… " + tr("<{count} characters>", count=len(text))
    return text.replace("\n", " ")


def sample_rows(t: Target, table: str, rows: int = 5, *, show_identifiers: bool = False
                ) -> tuple[list[str], list[list[str]]]:
    """(column names, the first ``rows`` rows as text) of ``table`` (``schema.table`` allowed), identifiers masked
    unless ``show_identifiers``."""
    from sqlalchemy.exc import DBAPIError

    from .sql import clean_message, open_source, split_name

    if rows < 1 or rows > 1000:
        raise SourceError(tr("--rows must be between 1 and 1000"))
    ident = _identifying_columns(t.mapping)
    if t.spec.siard is not None and t.mapping is None:
        # a depot's archive looked at on its own: read straight from the ZIP (no copy written beside it)
        keys, got = _siard_sample(t.spec.siard, table, rows)
        masked_cols = [bool(IDENTIFYING.search(k)) for k in keys]
        return keys, [[_shown(v, m, show_identifiers) for v, m in zip(r, masked_cols)] for r in got]
    with open_source(t.spec, t.root, cache_dir=t.cache_dir) as src:
        schema, name = split_name(table, whole=src.whole_names)
        conn = src.connection()
        try:
            result = conn.execute(catalog_statements(name, schema, sample_rows=rows)[1])
            keys = list(result.keys())
            got = result.fetchall()
        except DBAPIError as e:
            raise SourceError(tr("the table cannot be read: {reason}", reason=clean_message(e)), file=table,
                              hint=tr("noarkpack source inspect lists the tables")) from None
        finally:
            conn.rollback()
    masked_cols = [k.lower() in ident or bool(IDENTIFYING.search(k)) for k in keys]
    return keys, [[_shown(v, m, show_identifiers) for v, m in zip(r, masked_cols)] for r in got]


def _siard_sample(path: Path, table: str, rows: int) -> tuple[list[str], list[list[Any]]]:
    from itertools import islice

    from .siard import SiardArchive

    with SiardArchive(path) as archive:
        tables = archive.tables()
        found = [x for x in tables if x.qualified == table] or [x for x in tables if x.name == table]
        if len(found) != 1:
            known = ", ".join(x.qualified for x in tables)
            hint = tr("name it as schema.table: {tables}", tables=known if len(known) <= 360 else known[:359] + "…")
            if not found:
                raise SourceError(tr("the archive has no table {table}", table=table), file=path, hint=hint)
            raise SourceError(tr("the archive has more than one table {table}", table=table), file=path, hint=hint)
        tm = found[0]
        keys = [lf.name for lf in tm.leaves]
        got = [[r.get(k) for k in keys] for r in islice(archive.rows(tm.schema, tm.name, check_count=False), rows)]
    return keys, got


def catalog_lines(cat: SourceCatalog) -> list[str]:
    """The catalogue as the screen shows it."""
    details = "".join(f", {k} {v}" for k, v in cat.details.items())  # keys as in --json: not translated
    out = [tr("Source: {location} ({kind}{details})", location=cat.location, kind=cat.kind, details=details)]
    key = tr("(primary key)")
    for s in cat.schemas:
        out.append("  " + tr("schema {name}: {count} table(s)", name=s.name, count=len(s.tables)))
        for t in s.tables:
            rows = "?" if t.rows is None else t.rows
            if t.lob_columns:
                out.append("    " + tr("{table}  ({rows} row(s), LOB: {columns})", table=t.name, rows=rows,
                                       columns=", ".join(t.lob_columns)))
            else:
                out.append("    " + tr("{table}  ({rows} row(s))", table=t.name, rows=rows))
            for c in t.columns:
                mark = " [LOB]" if c.is_lob else ""
                used = f"  ← {'; '.join(c.used_by)}" if c.used_by else ""
                pk = f" {key}" if c.name in t.primary_key else ""
                out.append(f"      {c.name:28} {c.type}{pk}{mark}{used}")
    return out


__all__ = ["Target", "catalog_lines", "catalog_statements", "inspect_source", "inspect_sql", "resolve_target",
           "sample_rows"]
