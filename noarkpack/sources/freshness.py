"""Is the staging database up to date with the export and the mapping?

The import log in the database (``import_run``, ``import_file``) records the mapping's digest and each export
file's size, modification time and SHA-256; :func:`check_fresh` compares them with what is on disk now.
"""

from __future__ import annotations

from pathlib import Path

from ..hashing import sha256_file
from ..locale import tr
from .mapping import ImportMapping
from .sql import source_file
from .staging import StagingDB, StagingError, import_hint


def check_fresh(mapping: ImportMapping, project_root: Path | None = None) -> None:
    """Raise StagingError when the staging database is missing or older than the export or the mapping.

    ``project_root`` names the project in the hint (``run noarkpack import PROJECT``).
    """
    with StagingDB(mapping.database, project_root=project_root) as db:
        run = db.last_run()
        files = {r["path"]: r for r in db.imported_files()}
    hint = import_hint(project_root)
    if run is None:
        raise StagingError(tr("the staging database holds no finished import"), file=mapping.database, hint=hint)
    if run["mapping_sha256"] != mapping.digest:
        raise StagingError(tr("the [import] mapping in noarkpack.toml changed since the last import"),
                           file=mapping.database, hint=hint)
    checked = [(fm.rel, fm.path) for fm in mapping.files if fm.path is not None]
    # A query of a database server cannot be checked (run `noarkpack import` after the database changed); a
    # source that is a file (SQLite, SIARD) is checked like an export file.
    sf = source_file(mapping.source, project_root or mapping.database.parent)
    if sf is not None:
        checked.append(sf)
    for fm in mapping.files:
        if fm.path is None and fm.rel not in files:
            raise StagingError(tr("a query of the mapping was not imported"), file=fm.rel, hint=hint)
    for rel, path in checked:
        r = files.get(rel)
        if r is None:
            raise StagingError(tr("an export file of the mapping was not imported"), file=rel, hint=hint)
        if not path.is_file():
            raise StagingError(tr("an imported export file is gone"), file=rel, hint=hint)
        st = path.stat()
        if st.st_size != r["size"]:
            raise StagingError(tr("the export file changed since the last import"), file=rel, hint=hint)
        if st.st_mtime_ns != r["mtime_ns"]:
            if sha256_file(path) != r["sha256"]:
                raise StagingError(tr("the export file changed since the last import"), file=rel, hint=hint)


__all__ = ["check_fresh"]
