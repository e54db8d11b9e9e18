"""A SIARD archive as an SQL source: loaded once into a cached SQLite database, then queried like any database.

Why SQLite and not the staging step: the mappings of SIARD sources are the same ``[[import.query]]`` tables as
for a live database — filters, joins and column selection in SQL over the archive's ``schema.table`` names — so
one query path serves both, and SQLite gives those joins for free with indexes and no memory growth.  The loader
(:func:`noarkpack.sources.siard.load_into_sqlite`) writes one SQLite table per SIARD table, named
``"SCHEMA.TABLE"``, with every LOB verified against its recorded length and digest.

The copy lives under the project's ``.noarkpack/siard/`` and is reused while the archive's size, modification
time and SHA-256 are unchanged; it is built under a temporary name and renamed, so a failed load (a corrupt
archive, a digest mismatch) leaves no copy and raises the loader's :class:`~noarkpack.errors.SourceError`.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ..errors import SourceError
from ..hashing import sha256_file
from ..locale import tr


def _fingerprint(siard: Path) -> dict:
    st = siard.stat()
    return {"size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _bare_name_views(db: Path) -> None:
    """A view under the bare table name for every ``"SCHEMA.TABLE"`` whose name is unique in the archive, so the
    mapping written for the live database (``from = "pasient"``, ``FROM notat``) runs unchanged on its SIARD
    archive; ``"SCHEMA.TABLE"`` always works."""
    conn = sqlite3.connect(db)
    try:
        names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        bare: dict[str, list[str]] = {}
        for n in names:
            if "." in n:
                bare.setdefault(n.split(".", 1)[1], []).append(n)
        existing = {n.lower() for n in names}
        for short, full in sorted(bare.items()):
            if len(full) == 1 and short.lower() not in existing:
                q = '"' + full[0].replace('"', '""') + '"'
                conn.execute(f'CREATE VIEW "{short.replace(chr(34), chr(34) * 2)}" AS SELECT * FROM {q}')
        conn.commit()
    finally:
        conn.close()


def cached_sqlite(siard: Path, cache_dir: Path, *, progress=None) -> Path:
    """The SQLite copy of ``siard`` (built when missing or when the archive changed)."""
    siard = Path(siard)
    if not siard.is_file():
        raise SourceError(tr("the SIARD archive does not exist"), file=siard,
                          hint=tr("check [import.source] siard (relative to the project folder)"))
    folder = Path(cache_dir) / "siard"
    key = hashlib.sha256(str(siard.resolve()).encode()).hexdigest()[:16]
    db, meta = folder / f"{key}.sqlite", folder / f"{key}.json"
    fp = _fingerprint(siard)
    if db.is_file() and meta.is_file():
        try:
            old = json.loads(meta.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            old = {}
        if old.get("size") == fp["size"]:
            if old.get("mtime_ns") == fp["mtime_ns"]:
                return db
            if old.get("sha256") == sha256_file(siard):  # touched, not changed
                meta.write_text(json.dumps({**old, **fp}), encoding="utf-8")
                return db
    from .siard import load_into_sqlite  # the SIARD reader (noarkpack.sources.siard)

    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{key}.{uuid.uuid4().hex[:8]}.partial"
    # the archive's SHA-256 (the cache's key to "unchanged", and the import log's: recorded_sha256) is computed in
    # a thread of its own while the load reads the archive (hashing releases the GIL): one more pass over a file
    # of gigabytes, no longer one after the load
    with ThreadPoolExecutor(1) as pool:
        digest = pool.submit(sha256_file, siard)
        try:
            load_into_sqlite(siard, tmp, progress=progress)
            _bare_name_views(tmp)
            os.replace(tmp, db)
        finally:
            for p in (tmp, tmp.with_name(tmp.name + "-journal")):
                if p.exists():
                    p.unlink()
        sha = digest.result()
    meta.write_text(json.dumps({**fp, "sha256": sha}), encoding="utf-8")
    return db


def recorded_sha256(siard: Path, cache_dir: Path) -> str | None:
    """The SHA-256 of ``siard`` recorded by :func:`cached_sqlite` when the archive's size and time are still those
    it had then (the import log's fingerprint without a second pass over the archive), else None."""
    siard = Path(siard)
    key = hashlib.sha256(str(siard.resolve()).encode()).hexdigest()[:16]
    try:
        old = json.loads((Path(cache_dir) / "siard" / f"{key}.json").read_text(encoding="utf-8"))
        fp = _fingerprint(siard)
    except (OSError, ValueError):
        return None
    if old.get("size") == fp["size"] and old.get("mtime_ns") == fp["mtime_ns"] and isinstance(old.get("sha256"), str):
        return old["sha256"]
    return None


__all__ = ["cached_sqlite", "recorded_sha256"]
