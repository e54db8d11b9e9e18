"""``noarkpack import``: the legacy export → the staging database, through the mapping.

:func:`import_export` takes plain data (the parsed ``[import]`` mapping and the declared arkivskapere),
reads every ``[[import.file]]`` (CSV in any delimiter and encoding, or JSON Lines:
:mod:`noarkpack.sources.readers`) and ``[[import.query]]``, turns each row into a row of a staging table
(:mod:`noarkpack.sources.import_rows`, through :mod:`noarkpack.sources.mapping`), and writes the result as one new database
that replaces the old one only when the whole import succeeded.  So:

* a failed import (a missing export file, a wrong encoding, a missing column,
  a malformed mapping) raises a :class:`~noarkpack.errors.NoarkpackError` with
  file and line, and leaves the database exactly as it was;
* a row that cannot be used (a bad date or number, a missing required value,
  a parent that is not in the export, a key twice) is *rejected*: recorded
  with file, line and reason in the ``rejected`` table and the
  :class:`~noarkpack.sources.import_report.ImportReport`, and the import goes on (the CLI exits 1);
* importing the same export again gives the same database content: rows are
  keyed by their natural keys (journal_id, innslag_id, …) and the staged data
  is exactly what the export holds.

Messages never carry a value from the export (it could be a name or a
fødselsnummer): they name the file, the line, the column and the record key.
The project-level call is :meth:`noarkpack.project.Project.import_export`.
"""

from __future__ import annotations

import os
import sqlite3
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable

from .._version import __version__
from ..errors import SourceError
from ..fsutil import fsync_file
from ..locale import tr
from ..model.noark5 import ArkivskaperInfo
from ..progress import Progress
from .import_report import FileStats, ImportRejected, ImportReport, Rejected, Unmapped
from .import_rows import RowImporter
from .mapping import ImportMapping
from .staging import (
    DATA_TABLES,
    SCHEMA_VERSION,
    StagingError,
    check_version,
    new_database,
    normalise_path,
    schema_version,
    stage_journals,
)
from .staging_content import create_content_log

# -- the import ---------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    from ..hashing import sha256_file

    return sha256_file(path)


def _source_sha256(mapping: ImportMapping, path: Path) -> str:
    """The SHA-256 of the source file: a SIARD archive's as its cached copy recorded it (hashed while it was
    loaded; an archive of gigabytes is not read once more), else read now."""
    if mapping.source is not None and mapping.source.siard:
        from .siard_cache import recorded_sha256

        known = recorded_sha256(path, mapping.database.parent)
        if known is not None:
            return known
    return _sha256(path)


def import_export(mapping: ImportMapping, arkivskapere: Iterable[ArkivskaperInfo], *,
                  project_root: Path | None = None, progress: Progress | None = None) -> ImportReport:
    """Import the export ``mapping`` describes into its staging database (see the module docstring).

    ``arkivskapere`` (the ``[[arkivskaper]]`` tables of noarkpack.toml) fill the database's ``arkivskaper`` table;
    ``project_root`` names the project in hints (``run noarkpack import PROJECT``).
    """
    t0 = time.monotonic()
    started = datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")
    for fm in mapping.files:
        if fm.path is not None and not fm.path.is_file():
            raise SourceError(tr("the export file does not exist"), file=fm.rel,
                              hint=tr("check [[import.file]] path in noarkpack.toml (relative to the project folder)"))
    target = mapping.database
    history: list[tuple] = []
    if target.exists():
        version = schema_version(target)
        if version > SCHEMA_VERSION or version == 0:
            check_version(target, version, project_root)
        if version == SCHEMA_VERSION:
            old = sqlite3.connect(f"file:{target}?mode=ro", uri=True)
            try:
                history = old.execute("SELECT * FROM import_run ORDER BY id").fetchall()
            finally:
                old.close()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.partial-{uuid.uuid4().hex[:10]}")
    report = ImportReport(database=target)
    conn: sqlite3.Connection | None = None
    imp: RowImporter | None = None
    ok = False
    try:
        conn = new_database(tmp, arkivskapere)
        create_content_log(conn)
        imp = RowImporter(conn, mapping, report, progress)
        imp.store.clean_stale()  # what killed imports left in the content store (nothing names it)
        if any(fm.format == "sql" for fm in mapping.files):
            from .sql import open_source, source_file

            root = project_root or mapping.database.parent
            imp.source = open_source(mapping.source, root, cache_dir=mapping.database.parent, progress=progress)
            sf = source_file(mapping.source, root)
            if sf is not None:  # the import log keeps the source file's fingerprint (freshness.py)
                st = sf[1].stat()
                conn.execute("INSERT INTO import_file VALUES (?, ?, NULL, ?, ?, ?, 0, 0, 0)",
                             (sf[0], "siard" if mapping.source.siard else "sqlite", st.st_size, st.st_mtime_ns,
                              _source_sha256(mapping, sf[1])))
        for fm in mapping.ordered_files():
            stats, sha = imp.run_file(fm)
            report.files.append(stats)
            size, mtime = (fm.path.stat().st_size, fm.path.stat().st_mtime_ns) if fm.path is not None else (0, 0)
            conn.execute("INSERT OR REPLACE INTO import_file VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         (fm.rel, fm.format, fm.encoding, size, mtime, sha, stats.rows_read, stats.rows_imported,
                          stats.rows_rejected))
        for u in sorted(imp.unmapped.values(), key=lambda u: (u.table, u.field, u.value)):
            conn.execute("INSERT INTO unmapped VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (u.table, u.field, u.value, u.value_map, u.rows, u.file, u.line))
            report.unmapped.append(u)
        for h in history:
            conn.execute("INSERT INTO import_run VALUES (?, ?, ?, ?, ?, ?, ?, ?)", tuple(h))
        conn.execute("INSERT INTO import_run (started, finished, noarkpack, mapping_sha256, rows_read, "
                     "rows_imported, rows_rejected) VALUES (?, ?, ?, ?, ?, ?, ?)",
                     (started, datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds"), __version__,
                      mapping.digest, imp.rows_read, imp.rows_imported, report.rejected_total))
        imp.store.sync()  # the stored contents are written and durable before the database that names them
        conn.execute("COMMIT")
        report.counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                         for t in (*DATA_TABLES, "rejected", "unmapped")}
        conn.close()
        fsync_file(tmp)
        os.replace(tmp, target)
        ok = True
    finally:
        if imp is not None:
            imp.store.close()  # an import that failed: its writers stop (a finished one has nothing left)
            if imp.source is not None:
                imp.source.close()
        if not ok:
            try:
                if conn is not None:
                    conn.close()
            except sqlite3.Error:
                pass
            for p in (tmp, tmp.with_name(tmp.name + "-journal")):
                try:
                    p.unlink()
                except FileNotFoundError:
                    pass
    report.seconds = time.monotonic() - t0
    if progress:
        progress("import", imp.rows_read, imp.rows_read)
    return report


__all__ = ["ImportRejected", "ImportReport", "Rejected", "Unmapped", "import_export", "stage_journals", "StagingError",
           "FileStats", "normalise_path"]
