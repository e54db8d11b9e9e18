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
from .staging import DATA_TABLES

KEEP_REJECTED = 1000  # rows kept in the report (all are in the database)


@dataclass(frozen=True)
class Rejected:
    file: str
    line: int
    table: str
    record: str | None
    reason: str

    def to_json(self) -> dict:
        return {"file": self.file, "line": self.line, "table": self.table, "record": self.record,
                "reason": self.reason}


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
        out = [f"Importert til {self.database} på {self.seconds:.1f} s"]
        for f in self.files:
            out.append(f"  {f.path:40} → {f.table:18} {f.rows_imported:>9} rader"
                       + (f", {f.rows_rejected} avvist" if f.rows_rejected else "")
                       + (f", {f.rows_merged} gjentatt (samme post)" if f.rows_merged else ""))
        out.append("  i databasen: " + ", ".join(f"{t} {n}" for t, n in self.counts.items() if t in DATA_TABLES))
        for u in self.unmapped:
            out.append(f"  ukjent kode {u.value!r} i {u.table}.{u.field} (verdiliste {u.value_map}): {u.rows} rader, "
                       f"første {u.file}:{u.line}; beholdt som registrert")
        if self.rejected_total:
            out.append(f"  AVVIST: {self.rejected_total} rader (ikke importert):")
            for r in self.rejected[:20]:
                out.append(f"    {r.file}:{r.line}: {r.reason}" + (f" ({r.record})" if r.record else ""))
            if self.rejected_total > 20:
                out.append(f"    … og {self.rejected_total - 20} til (tabellen rejected i databasen)")
        return out

    def to_html(self) -> str:
        """A self-contained HTML page (no outside assets): files, counts, unmapped codes, rejected rows."""

        from ..resources import html_environment

        env = html_environment()
        counts = {t: n for t, n in self.counts.items() if t in DATA_TABLES}
        return env.get_template("import-report.html.j2").render(r=self, counts=counts)


class ImportRejected(SourceError):
    """An automatic import (before extract, analyse, package) rejected rows: the deposit would be incomplete."""

    exit_code = 1


__all__ = ["FileStats", "ImportRejected", "ImportReport", "KEEP_REJECTED", "Rejected", "Unmapped"]
