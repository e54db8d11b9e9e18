"""What an import did: the :class:`ImportReport` (rows per file and table, rejected rows, unmapped codes).

It is one of noarkpack's reports: ``errors`` (rows rejected), ``warnings`` (codes missing from a value
map, kept as recorded), ``exit_code``, ``summary_lines()``, ``to_json()`` and ``to_html()``.  A rejected row
is located by file, line, table and record key only: no report carries a value from the export (it could be
a name or a fødselsnummer); an unmapped value is a local code (value maps hold codes, never names).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..errors import SourceError
from ..locale import tr
from .staging import DATA_TABLES

KEEP_REJECTED = 1000  # rows kept in the report (all are in the database)


@dataclass(frozen=True)
class Rejected:
    file: str
    line: int
    table: str
    record: str | None
    reason: str  #: in the import's language; a tr() text carries its msgid as ``key`` (the same in every language)

    def to_json(self) -> dict:
        return {"file": self.file, "line": self.line, "table": self.table, "record": self.record,
                "reason": self.reason, "key": getattr(self.reason, "key", None)}


@dataclass
class Unmapped:
    table: str
    field: str
    value: str  # a local code (value maps hold codes, never names)
    value_map: str
    rows: int
    file: str
    line: int

    def to_json(self) -> dict:
        return {"table": self.table, "field": self.field, "value": self.value, "value_map": self.value_map,
                "rows": self.rows, "location": {"file": self.file, "line": self.line}}


@dataclass
class FileStats:
    path: str
    table: str
    rows_read: int = 0
    rows_imported: int = 0
    rows_rejected: int = 0
    #: rows that repeat an imported record with the same values (a denormalised export): one record
    rows_merged: int = 0


@dataclass
class ImportReport:
    database: Path
    files: list[FileStats] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # rows per staging table after the import
    rejected: list[Rejected] = field(default_factory=list)  # the first KEEP_REJECTED
    rejected_total: int = 0
    unmapped: list[Unmapped] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def errors(self) -> int:
        """Rows rejected (not imported)."""
        return self.rejected_total

    @property
    def warnings(self) -> int:
        """Codes missing from a value map (kept as recorded)."""
        return len(self.unmapped)

    @property
    def exit_code(self) -> int:
        return 1 if self.rejected_total else 0

    def to_json(self) -> dict:
        return {"database": str(self.database), "seconds": round(self.seconds, 3), "counts": self.counts,
                "files": [vars(f) for f in self.files], "rejected_total": self.rejected_total,
                "rejected": [r.to_json() for r in self.rejected], "unmapped": [u.to_json() for u in self.unmapped]}

    def summary_lines(self) -> list[str]:
        out = [tr("Imported into {database} in {seconds:.1f} s", database=str(self.database), seconds=self.seconds)]
        for f in self.files:
            # the staging table with a colon: a name, not a word of either language
            args = dict(path=f.path, table=f"{f.table}:", imported=f.rows_imported, rejected=f.rows_rejected,
                        merged=f.rows_merged)
            if f.rows_rejected and f.rows_merged:
                line = tr("{path:40} → {table:19} imported {imported:>9}, rejected {rejected}, repeated (the same "
                          "record) {merged}", **args)
            elif f.rows_rejected:
                line = tr("{path:40} → {table:19} imported {imported:>9}, rejected {rejected}", **args)
            elif f.rows_merged:
                line = tr("{path:40} → {table:19} imported {imported:>9}, repeated (the same record) {merged}",
                          **args)
            else:
                line = tr("{path:40} → {table:19} imported {imported:>9}", **args)
            out.append(f"  {line}")
        out.append("  " + tr("in the database: {counts}",
                             counts=", ".join(f"{t}={n}" for t, n in self.counts.items() if t in DATA_TABLES)))
        for u in self.unmapped:
            out.append("  " + tr("unknown code {code} in {field} (value map {value_map}): rows {rows}, first "
                                 "{where}; kept as recorded", code=repr(u.value), field=u.table + "." + u.field,
                                 value_map=u.value_map, rows=u.rows, where=_at(u.file, u.line)))
        if self.rejected_total:
            out.append("  " + tr("REJECTED, rows not imported: {count}", count=self.rejected_total))
            for r in self.rejected[:20]:
                out.append(f"    {r.file}:{r.line}: {r.reason}" + (f" ({r.record})" if r.record else ""))
            if self.rejected_total > 20:
                out.append("    " + tr("… and {count} more (the table rejected in the database)",
                                       count=self.rejected_total - 20))
        return out

    def to_html(self) -> str:
        """A self-contained HTML page (no outside assets): files, counts, unmapped codes, rejected rows."""

        from ..resources import html_environment

        env = html_environment()
        counts = {t: n for t, n in self.counts.items() if t in DATA_TABLES}
        return env.get_template("import-report.html.j2").render(r=self, counts=counts)


def _at(file: str, line: int) -> str:
    return f"{file}:{line}"


class ImportRejected(SourceError):
    """An automatic import (before extract, analyse, package) rejected rows: the deposit would be incomplete."""

    exit_code = 1


__all__ = ["FileStats", "ImportRejected", "ImportReport", "KEEP_REJECTED", "Rejected", "Unmapped"]
