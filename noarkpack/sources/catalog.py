"""What a legacy source holds: schemas, tables, columns, row counts, LOB columns.

One shape for every kind of source (an SQL database through SQLAlchemy, a SIARD
archive), so that ``noarkpack source inspect`` and a migration script read the
same thing whatever the source.  Values are never held here: only names, types
and counts, so a catalogue can be shown on a screen and written to a report.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class ColumnInfo:
    """One column: its name, its type as the source declares it, and whether it holds large objects."""

    name: str
    type: str
    nullable: bool = True
    #: a BLOB/CLOB (SQL: LargeBinary, Text of unbounded length; SIARD: BLOB, CLOB, XML, or a LOB-valued UDT field)
    is_lob: bool = False
    #: which mapping entries of the project read this column ("file/query name: field"), filled by inspect
    used_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableInfo:
    name: str
    columns: tuple[ColumnInfo, ...]
    #: rows as the source states them (SIARD metadata.xml) or as counted (SQL); None when unknown
    rows: int | None = None
    #: the primary key's column names, when the source declares one
    primary_key: tuple[str, ...] = ()

    @property
    def lob_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.is_lob)


@dataclass(frozen=True)
class SchemaInfo:
    name: str
    tables: tuple[TableInfo, ...]


@dataclass(frozen=True)
class SourceCatalog:
    """Everything ``source inspect`` shows of one source."""

    #: "sql" or "siard"
    kind: str
    #: where it is, fit to print: a URL with its password masked, or a file path
    location: str
    schemas: tuple[SchemaInfo, ...]
    #: e.g. the SQL dialect and server version, or the SIARD version and the program that wrote it
    details: dict[str, str] = field(default_factory=dict)

    def table(self, schema: str | None, name: str) -> TableInfo | None:
        for s in self.schemas:
            if schema is not None and s.name != schema:
                continue
            for t in s.tables:
                if t.name == name:
                    return t
        return None

    def to_json(self) -> dict:
        return asdict(self)
