"""The analysis of the documents: the document folder walked and set against the staged dokumenter (missing,
empty and unreferenced files), the documents from the legacy source's content store, and the formats of the files
to be deposited (identified with Siegfried into the project's identification store), with the conversions they
need and their estimated time (issues 7, 18, 19).

No message holds a document's file name (names often carry a patient's name): :func:`_masked` keeps its folder and
extension; the name itself goes only into a finding's ``identifiers``.
"""

from __future__ import annotations

import os
import sqlite3
import unicodedata
from datetime import datetime
from pathlib import Path, PurePosixPath
from typing import Any

from ..fsutil import human_size as _human
from ..locale import tr
from ..progress import Progress


def _masked(path: str) -> str:
    """The folder and extension of a path, without the file name (names often carry a patient's name)."""
    p = PurePosixPath(path)
    parent = "" if str(p.parent) == "." else f"{p.parent}/"
    return f"{parent}…{p.suffix}"


def _walk(root: Path, skip: set[Path]) -> Any:
    for dirpath, dirnames, filenames in os.walk(root):
        d = Path(dirpath)
        dirnames[:] = sorted(x for x in dirnames if not x.startswith(".") and (d / x) not in skip)
        for name in sorted(filenames):
            p = d / name
            if name.startswith(".") or p in skip:
                continue
            try:
                size = p.stat().st_size
            except OSError:
                continue
            rel = unicodedata.normalize("NFC", p.relative_to(root).as_posix())
            yield rel, size


def document_findings(a, project, c: sqlite3.Connection, identify_formats: bool,
                      progress: Progress | None) -> None:
    """The document folder against the staged dokumenter (AN.11–AN.15, AN.22) and, with ``identify_formats``, the
    formats of the files to be deposited and the conversion they need, with its estimated time; added to ``a``
    (the :class:`~noarkpack.analysis.core.Analysis`, which imports this module)."""
    from ..formats import is_archival

    root = Path(project.settings.documents_root)
    skip = {project.root / "noarkpack.toml", project.root / ".noarkpack"}
    if project.import_mapping is not None:
        skip |= {f.path for f in project.import_mapping.files} | {project.import_mapping.database}
    elif project.source:
        skip.add(Path(project.source))
    batch = []
    for rel, size in (_walk(root, skip) if root.is_dir() else ()):
        batch.append((rel, size))
        if len(batch) >= 5000:
            c.executemany("INSERT OR IGNORE INTO disk VALUES (?, ?)", batch)
            batch.clear()
    c.executemany("INSERT OR IGNORE INTO disk VALUES (?, ?)", batch)
    store = _stored_contents(a, c, project)
    rel_root = os.path.relpath(root, project.root)

    def loc(path: str) -> str:
        return f"{rel_root}/{_masked(path)}" if rel_root != "." else _masked(path)

    # referenced files: missing or empty
    q = ("SELECT d.journal_id, d.innslag_id, d.fil_norm, d.src_file, d.src_line, coalesce(js.selected, 0), disk.size, "
         "(SELECT count(*) FROM dokument d2 WHERE d2.journal_id = d.journal_id AND d2.innslag_id = d.innslag_id "
         "AND d2.seq <= d.seq) FROM dokument d LEFT JOIN jstat js USING (journal_id) "
         "LEFT JOIN disk ON disk.path = d.fil_norm WHERE disk.path IS NULL OR disk.size = 0 ORDER BY d.seq")
    for jid, iid, fil, file, line, sel, size, nr in c.execute(q).fetchall():
        rec = tr("journal {journal}, entry {entry}, document {document}", journal=a.key(jid, file, line),
                 entry=a.key(iid, file, line), document=nr)
        sev = "blocking" if sel else "warning"
        if size is None and sel:
            msg = tr("the document file is not in the document folder ({path})", path=_masked(fil))
        elif size is None:
            msg = tr("the document file is not in the document folder ({path}) (the journal is not selected for "
                     "deposit)", path=_masked(fil))
        elif sel:
            msg = tr("the document file is empty ({path})", path=_masked(fil))
        else:
            msg = tr("the document file is empty ({path}) (the journal is not selected for deposit)",
                     path=_masked(fil))
        a.add("AN.11" if size is None else "AN.12", sev, msg, file=file, line=line, record=rec,
              identifiers={"fil": fil})
    unref = 0
    for path, size in c.execute("SELECT path, size FROM disk WHERE path NOT IN (SELECT fil_norm FROM dokument) "
                                "ORDER BY path"):
        unref += 1
        a.add("AN.13", "warning", tr("no entry references this file ({size})", size=_human(size)), file=loc(path),
              identifiers={"fil": path})
    a.counts["document_files_on_disk"] = c.execute("SELECT count(*) FROM disk WHERE path NOT LIKE '@innhold/%'").fetchone()[0]
    a.counts["document_files_unreferenced"] = unref
    # formats of the files that will be deposited
    conv = {"files": 0, "bytes": 0, "by_format": {}}
    if identify_formats:
        q = ("SELECT d.fil_norm, min(i.opprettet), disk.size, max(d.format), min(d.journal_id), min(d.innslag_id), "
             "min(d.src_file), min(d.src_line) FROM dokument d JOIN jstat js ON js.journal_id = d.journal_id "
             "AND js.selected = 1 JOIN innslag i ON i.journal_id = d.journal_id AND i.innslag_id = d.innslag_id "
             "JOIN disk ON disk.path = d.fil_norm AND disk.size > 0 GROUP BY d.fil_norm ORDER BY d.fil_norm")
        done = 0
        allow = project.conversion.allow_unconverted
        # every file to be deposited by its format as found (before conversion): the report's format chart
        formats: dict[str, dict] = {}
        a.counts["formats"] = formats
        for fil, written, size, given, jid, iid, file, line, ident in _identified(c.execute(q), root, store):
            done += 1
            if progress and done % 200 == 0:
                progress("identify", done, None)
            puid = ident.puid if ident.puid != "UNKNOWN" else (given or "UNKNOWN")
            kind = formats.setdefault(puid, {"name": ident.name or None, "files": 0, "bytes": 0})
            kind["files"] += 1
            kind["bytes"] += size
            day = datetime.fromisoformat(written).date() if written else None
            if is_archival(puid, day):
                continue
            rec = tr("journal {journal}, entry {entry}", journal=a.key(jid, file, line), entry=a.key(iid, file, line))
            if puid == "UNKNOWN" or not project.conversion.enabled:
                if puid == "UNKNOWN":
                    msg = tr("the document cannot be converted: its format is unknown ({path})", path=_masked(fil))
                else:
                    msg = tr("the document cannot be converted: {puid} is not archival and conversion is off "
                             "({path})", puid=puid, path=_masked(fil))
                a.add("AN.15", "warning" if allow else "blocking", msg, file=file, line=line, record=rec,
                      identifiers={"fil": fil})
                continue
            conv["files"] += 1
            conv["bytes"] += size
            f = conv["by_format"].setdefault(puid, {"name": ident.name or None, "files": 0, "bytes": 0})
            f["files"] += 1
            f["bytes"] += size
            a.add("AN.14", "info", tr("{puid} \"{name}\" is not an archival format for a document of {year}: it "
                                      "will be converted to PDF/A ({path}, {size})", puid=puid,
                                      name=ident.name or tr("unknown name"),
                                      year=day.year if day else tr("unknown date"), path=_masked(fil),
                                      size=_human(size)),
                  file=file, line=line, record=rec, identifiers={"fil": fil})
    if conv["by_format"]:
        conv["estimate"] = _conversion_estimate(project, conv["by_format"])
    a.counts["conversion"] = conv


def _stored_contents(a, c: sqlite3.Connection, project):
    """Documents whose bytes came from the source (issue 18): their content store files join the ``disk`` table
    (so a missing or empty one is AN.11/AN.12 like a file), the counts of documents from the source vs from files,
    and AN.22 for each empty content (an undecodable one is a rejected row, AN.01)."""
    from ..sources.content_store import PREFIX, ContentStore
    from ..sources.staging_content import content_counts, content_problems

    mapping = project.import_mapping
    if mapping is None:
        return None
    store = ContentStore.beside(mapping.database)
    rows = []
    for (fil,) in c.execute("SELECT DISTINCT fil_norm FROM dokument WHERE substr(fil_norm, 1, ?) = ?",
                            (len(PREFIX), PREFIX)):
        p = store.path_of(fil)
        if p.is_file():
            rows.append((fil, p.stat().st_size))
    c.executemany("INSERT OR IGNORE INTO disk VALUES (?, ?)", rows)
    for file, line, column, status in content_problems(c):
        if status == "empty":
            a.add("AN.22", "info", tr("the content column {column} is empty: the row has no document",
                                      column=column), file=file, line=line)
    a.counts["contents"] = content_counts(c)
    return store


def _conversion_estimate(project, by_format: dict) -> dict:
    """How long ``noarkpack convert`` will take (issue 19): the rates measured in the project's cache
    (rates.json), else the documented defaults (noarkpack.conversion.rates), on this machine's workers."""
    import os

    from ..conversion.rates import estimate

    cache = project.conversion_cache()
    measured = cache.rates() if cache is not None else {}
    workers = project.conversion.workers or os.cpu_count() or 1
    return estimate({puid: f["files"] for puid, f in by_format.items()}, measured, workers)


def _identified(rows, root: Path, store=None, batch: int = 256):
    """Each row with its document's Identification; identified in batches on every core.

    Inside analyse() the results go to the project's identification store, so the extract that
    follows does not read these files for identification again.  Siegfried runs in two processes of
    its own, a share of each batch each (:class:`~noarkpack.identify_server.SiegfriedPool`: its own two
    workers keep 1.35 of two cores busy, two processes both), started at the first file the store does
    not know; if they cannot start, Siegfried runs here.
    """
    from ..documents import identify_many
    from ..identify_server import SiegfriedPool

    pool: list = []

    def identifier(paths: list[Path]) -> list:
        if not pool:
            try:
                pool.append(SiegfriedPool())
            except OSError:
                pool.append(None)
        if pool[0] is None:
            from ..documents import identify_files

            return identify_files(paths)
        return pool[0].identify(paths)

    def identify(paths: list[Path]) -> list:
        return identify_many(paths, identifier=identifier)

    pending: list[tuple] = []
    try:
        for row in rows:
            pending.append(row)
            if len(pending) >= batch:
                yield from _with_idents(pending, root, identify, store)
                pending = []
        if pending:
            yield from _with_idents(pending, root, identify, store)
    finally:
        if pool and pool[0] is not None:
            pool[0].close()


def _with_idents(rows: list[tuple], root: Path, identify_many, store=None):
    from ..sources.content_store import is_stored

    paths = [store.path_of(r[0]) if store is not None and is_stored(r[0]) else root / r[0] for r in rows]
    for row, ident in zip(rows, identify_many(paths)):
        yield (*row, ident)
