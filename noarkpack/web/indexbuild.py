"""The one streaming pass that builds an :class:`.index.ExtractIndex` (see there for what it holds): where the
source is, the index's file (keyed by the source's path, size and mtime), checkpoints and resuming, the tar walk.

The fast pass (:mod:`.indexscan`) keeps each node's own metadata as byte ranges into the source; a file in another
encoding, or whose root has a prefix, and an NHA deposit's lists go through lxml (:mod:`.indexlxml`), whose rows
carry the metadata itself.

The index is built into ``<key>.sqlite.part`` beside its final name and renamed when complete, so a half index
is never taken for one.  Every :data:`CHECKPOINT` bytes of source the fast pass commits its rows with its state
(where the unscanned bytes begin, the chain of open nodes, the line): a build cut short (stopped, the server
killed) goes on from there on the next open.  The part file keeps SQLite's rollback journal (synchronous off: a
crash of the process, not of the machine, rolls back to the last checkpoint).  When a new index is complete, the
index files of the same path with another size or mtime are removed.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import sqlite3
import tarfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable

from ..locale import tr
from ..progress import Progress
from .indexlxml import Builder, Cancelled, IndexError_, parse_lxml
from .indexscan import _SYSTEM_ID, NODE_KINDS, Scanner, sid_key  # noqa: F401 - names of the index

SCHEMA_VERSION = 5  # 4: the fast pass's metadata as ranges into the source; keys path-stamp; 5: the docfile table
#                      (a dokumentobjekt by its referanseDokumentfil: a finding that names a document file)
CHECKPOINT = 64 << 20
CHUNK = 4 << 20

_DDL = """
CREATE TABLE info (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE node (id INTEGER PRIMARY KEY, parent INTEGER, kind TEXT NOT NULL, xtype TEXT, line INTEGER,
                   sid INTEGER, nchildren INTEGER NOT NULL, block INTEGER NOT NULL, start INTEGER NOT NULL,
                   stop INTEGER NOT NULL, tstart INTEGER NOT NULL, tstop INTEGER NOT NULL);
CREATE TABLE block (id INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE extra (id INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE member (name TEXT PRIMARY KEY, offset INTEGER NOT NULL, size INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE docfile (key INTEGER NOT NULL, id INTEGER NOT NULL);
"""
_INDEXES = ("CREATE INDEX node_parent ON node(parent, id)", "CREATE INDEX node_sid ON node(sid)",
            "CREATE INDEX docfile_key ON docfile(key)")
#: only where lines do not follow the ids (NHA: two files); elsewhere the ids are in document order, so are the
#: lines, and a line is found by a binary search over the ids (info "line_order")
_LINE_INDEX = "CREATE INDEX node_line ON node(line)"


# --------------------------------------------------------------------------- the source

@dataclass
class Source:
    """Where arkivstruktur.xml is: ``xml`` in the folder ``base``, or the member ``content/arkivstruktur.xml`` of the
    tar ``tar``."""

    path: Path  #: what the person opened (folder or tar)
    base: Path | None = None  #: the extract folder (folder sources), the deposit folder (NHA)
    tar: Path | None = None
    nha: tuple[Path, Path] | None = None  #: an NHA deposit: its AVLXML list and its epjpakkeliste

    @property
    def stamp_file(self) -> Path:
        if self.nha is not None:
            return self.nha[0]
        return self.tar if self.tar is not None else self.base / "arkivstruktur.xml"

    @property
    def stamp_files(self) -> list[Path]:
        return list(self.nha) if self.nha is not None else [self.stamp_file]


def locate(path: Path) -> Source:
    """The source of ``path``: a folder holding an extract, or a tar; IndexError_ when neither."""
    path = Path(path)
    if path.is_file() and path.suffix.lower() == ".tar":
        return Source(path, tar=path)
    if path.is_dir():
        from ..nha.detect import is_nha_deposit
        from ..validation.source import find_extract_dir

        if is_nha_deposit(path):
            return Source(path, base=path, nha=(sorted(path.glob("avlxml*.xml"))[0],
                                                sorted(path.glob("epjpakkeliste*.xml"))[0]))

        base = find_extract_dir(path)
        if base is not None and (base / "arkivstruktur.xml").is_file():
            return Source(path, base=base)
    raise IndexError_(tr("no arkivstruktur.xml found here"))


def index_key(source: Source) -> str:
    """``<path>-<stamp>``: 12 hex digits of the source's path(s), 12 of the path(s) with their size and mtime (and
    the index's version): a changed source gets a new key with the same first part."""
    where, stamp = "", f"{SCHEMA_VERSION}"
    for f in source.stamp_files:
        st = f.stat()
        where += f"\x00{f.resolve()}"
        stamp += f"\x00{f.resolve()}\x00{st.st_size}\x00{st.st_mtime_ns}"
    h = [hashlib.sha256(s.encode("utf-8", "surrogateescape")).hexdigest()[:12] for s in (where, stamp)]
    return f"{h[0]}-{h[1]}"


_KEYED = re.compile(r"^([0-9a-f]{12})-([0-9a-f]{12})\.sqlite$")
_LEGACY = re.compile(r"^[0-9a-f]{20}\.sqlite(\.part-\d+-\d+)?$")


# --------------------------------------------------------------------------- the passes

_ENCODING = re.compile(rb"^\s*<\?xml[^>]*encoding\s*=\s*[\"']([^\"']*)[\"']")
_ROOT = re.compile(rb"<arkiv[\s>/]")


def _checkpoint(db: sqlite3.Connection, sc: Scanner, key: str) -> None:
    """The rows so far and the state to go on from, committed together."""
    sc.flush()
    db.execute("INSERT OR REPLACE INTO info VALUES ('resume', ?)", (json.dumps({"key": key, **sc.state()}),))
    db.execute("COMMIT")
    db.execute("BEGIN")


def _parse(open_at: Callable[[int], object], db: sqlite3.Connection, total: int, progress: Progress | None, stop,
           resume: dict | None, key: str) -> int:
    """arkivstruktur.xml's pass, from ``open_at(offset)`` (a stream from that offset): the fast pass, from the
    checkpoint ``resume`` if given, else lxml's for a file it cannot take."""
    if resume is None:
        stream = open_at(0)
        head = stream.read(max(CHUNK, 1024))  # enough to see the root
        m = _ENCODING.match(head)
        if (m and m.group(1).decode("ascii", "replace").lower().replace("_", "-") not in ("utf-8", "utf8")) or \
                (head.strip() and not _ROOT.search(head)):  # not UTF-8, or the root has a prefix: lxml's pass
            return parse_lxml(_Prefixed(head, stream), db, total, progress, stop)
        sc = Scanner(db)
    else:
        sc = Scanner(db, resume)
        stream = open_at(sc.base)
        head = stream.read(CHUNK)
    done = sc.base + len(head)
    buf = head
    mark = sc.base
    try:
        while True:
            chunk = stream.read(CHUNK)
            if chunk:
                buf += chunk
                done += len(chunk)
            rest = sc.feed(buf, not chunk)
            if sc.error:
                raise IndexError_(*sc.error)
            if not chunk:
                break
            buf = buf[rest:]
            if progress is not None:
                progress("index", done, total)
            cancel = stop is not None and stop()
            if cancel or sc.base - mark >= CHECKPOINT:
                _checkpoint(db, sc, key)
                mark = sc.base
            if cancel:
                raise Cancelled()
    except OSError as exc:
        raise IndexError_(tr("read error: {error}", error=str(exc))) from None
    sc.flush()
    if sc.stack or not sc.started:
        raise IndexError_(tr("the XML is not well-formed: parsing stopped before the root element was closed")
                          if done else tr("the file is empty"), sc.line)
    if progress is not None:
        progress("index", done, total)
    db.execute("INSERT OR REPLACE INTO info VALUES ('namespaces', ?)", (json.dumps(sc.namespaces),))
    db.execute("INSERT OR REPLACE INTO info VALUES ('storage', '\"ranges\"')")
    db.execute("INSERT OR REPLACE INTO info VALUES ('counts', ?)", (json.dumps(dict(sc.counts)),))
    return sc.count


class _Range:
    """``size`` bytes of ``f`` from ``offset`` (a tar member's data)."""

    def __init__(self, f, offset: int, size: int) -> None:
        self.f, self.left = f, size
        f.seek(offset)

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        data = self.f.read(n) if n else b""
        if len(data) < n:
            raise tarfile.ReadError("unexpected end of data")  # as tarfile's own reader
        self.left -= len(data)
        return data


class _Prefixed:
    """``head`` then the rest of ``stream``."""

    def __init__(self, head: bytes, stream) -> None:
        self.head, self.stream = head, stream

    def read(self, n: int = -1) -> bytes:
        if self.head:
            out, self.head = self.head[:n] if n >= 0 else self.head, self.head[n:] if n >= 0 else b""
            return out
        return self.stream.read(n)


def _walk_tar(source: Source, db: sqlite3.Connection, progress: Progress | None, stop, resume: dict | None,
              key: str) -> tuple[int, str, int]:
    """The tar's members (offsets) and its content/arkivstruktur.xml parsed on the way; (nodes, root folder, the
    offset of arkivstruktur.xml's data in the tar)."""
    found = None
    root = None
    xml_offset = 0
    members: list[tuple[str, int, int]] = []
    try:
        with open(source.tar, "rb") as raw, tarfile.open(fileobj=raw, mode="r:", encoding="utf-8",
                                                         errors="surrogateescape") as tar:
            while True:
                ti = tar.next()
                if ti is None:
                    break
                tar.members.clear()
                name = str(PurePosixPath(ti.name.lstrip("/")))
                top, _, rel = name.partition("/")
                if root is None:
                    root = top
                if top != root or not rel or not ti.isreg() or ti.sparse is not None:
                    continue
                members.append((rel, ti.offset_data, ti.size))
                if len(members) >= 5000:
                    db.executemany("INSERT OR REPLACE INTO member VALUES (?,?,?)", members)
                    members = []
                if rel == "content/arkivstruktur.xml" and found is None:
                    # read straight from the file (its own handle), not through tarfile's member reader
                    xml_offset = ti.offset_data
                    with open(source.tar, "rb") as f:
                        def open_at(at: int, ti=ti, f=f):
                            return _Range(f, ti.offset_data + at, ti.size - at)

                        found = _parse(open_at, db, ti.size, progress, stop, resume, key)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise IndexError_(tr("the tar cannot be read: {error}", error=str(exc))) from None
    db.executemany("INSERT OR REPLACE INTO member VALUES (?,?,?)", members)
    if found is None:
        raise IndexError_(tr("the tar holds no content/arkivstruktur.xml"))
    return found, root or "", xml_offset


_FIRST_TAG = re.compile(rb"<(?:[\w.-]+:)?([\w.-]+)[\s/>]")


def _root_name(path: Path) -> str:
    with open(path, "rb") as f:
        head = f.read(1 << 16)
    head = re.sub(rb"<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>", b"", head, flags=re.S)
    m = _FIRST_TAG.search(head)
    return m.group(1).decode() if m else ""


def _nha(source: Source, db: sqlite3.Connection, progress: Progress | None, stop) -> int:
    """An NHA deposit: the AVLXML list (its root and one node per pasientjournal) and the epjpakkeliste (its root
    and one node per pakke), keyed by journalidentifikator and filReferanse."""
    avlxml, pakkeliste = source.nha
    total = avlxml.stat().st_size + pakkeliste.stat().st_size
    b = Builder(db, keys=("journalidentifikator", "filReferanse"))
    count = 0
    done = 0
    for path, inner in ((avlxml, "pasientjournal"), (pakkeliste, "pakke")):
        def prog(stage: str, n: int, _t=None, base=done) -> None:
            if progress is not None:
                progress(stage, base + n, total)

        try:
            with open(path, "rb") as f:
                if done:
                    b.restart()
                count = parse_lxml(f, db, total, prog, stop, containers=(_root_name(path), inner), builder=b)
        except OSError as exc:
            raise IndexError_(tr("read error: {error}", error=str(exc))) from None
        done += path.stat().st_size
    return count


# --------------------------------------------------------------------------- the index's files

def _lock(path: Path):
    """An exclusive lock on ``path`` (a file of its own), or None when another process holds it."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return None
    return fd


def _unlink_all(*paths: Path) -> None:
    for p in paths:
        p.unlink(missing_ok=True)


def _clean_stale(db_path: Path) -> None:
    """Remove what builds of ``db_path`` by processes no longer running left behind (a build beside another)."""
    for part in db_path.parent.glob(f"{db_path.name}.part-*"):
        try:
            pid = int(part.name.rsplit(".part-", 1)[1].split("-")[0])
            os.kill(pid, 0)
        except ProcessLookupError:
            part.unlink(missing_ok=True)
        except (ValueError, OSError):
            continue


def _remove_older(db_path: Path) -> None:
    """The index files of the same source path with another stamp (a changed source), unless being built, and those
    of version 3 and before (one 20-digit key: no key of this version names them)."""
    m = _KEYED.match(db_path.name)
    if not m:
        return
    for old in db_path.parent.glob("*.sqlite*"):
        if _LEGACY.match(old.name):
            old.unlink(missing_ok=True)
    keys = {p.name[:25] for p in db_path.parent.glob(f"{m.group(1)}-*.sqlite*")} - {db_path.name[:25]}
    for k in sorted(keys):
        stem = db_path.with_name(f"{k}.sqlite")
        lock = stem.with_name(stem.name + ".lock")
        fd = _lock(lock)
        if fd is None:
            continue  # being built by another process
        try:
            _unlink_all(stem, stem.with_name(stem.name + ".part"), stem.with_name(stem.name + ".part-journal"),
                        *stem.parent.glob(f"{stem.name}.part-*"))
        finally:
            lock.unlink(missing_ok=True)
            os.close(fd)


def _resume_state(part: Path, key: str) -> dict | None:
    """The checkpoint of an earlier build of the same source in ``part``, or None (then the part is removed)."""
    try:
        db = sqlite3.connect(part)  # rolls a hot journal back: to the last checkpoint
        try:
            info = dict(db.execute("SELECT key, value FROM info WHERE key IN ('resume', 'key', 'version')"))
            state = json.loads(info["resume"]) if "resume" in info else None
            if state is None and info.get("version") == str(SCHEMA_VERSION) and info.get("key") == json.dumps(key):
                state = {"key": key, "complete": True}  # complete, not yet renamed when the build was cut short
        finally:
            db.close()
    except (sqlite3.Error, ValueError):
        state = None
    if state is None or state.get("key") != key:
        _unlink_all(part, part.with_name(part.name + "-journal"))
        return None
    return state


def build(source: Source, db_path: Path, *, progress: Progress | None = None,
          stop: Callable[[], bool] | None = None) -> None:
    """Build the index of ``source`` into ``db_path``: into ``<db_path>.part``, renamed at the end; from the last
    checkpoint of an earlier build of the same source cut short, when there is one."""
    db_path = Path(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    key = index_key(source)
    _clean_stale(db_path)
    lock = _lock(db_path.with_name(db_path.name + ".lock"))
    resume = None
    if lock is not None:
        part = db_path.with_name(db_path.name + ".part")
        if source.nha is None and part.exists():
            resume = _resume_state(part, key)
        if resume is None:
            _unlink_all(part, part.with_name(part.name + "-journal"))
        elif resume.get("complete"):
            _finish(part, db_path, lock)
            return
    else:  # another process builds it: a part of our own, not resumable
        part = db_path.with_name(f"{db_path.name}.part-{os.getpid()}-{threading.get_ident()}")
        part.unlink(missing_ok=True)
    t0 = time.monotonic()
    db = sqlite3.connect(part, isolation_level=None, check_same_thread=False)
    try:
        db.execute("PRAGMA journal_mode=TRUNCATE" if lock is not None else "PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
        if resume is None:
            db.execute("PRAGMA page_size=8192")
            db.executescript(_DDL)
        db.execute("BEGIN")
        root, xml_offset = "", 0
        if source.nha is not None:
            count = _nha(source, db, progress, stop)
        elif source.tar is not None:
            count, root, xml_offset = _walk_tar(source, db, progress, stop, resume, key)
        else:
            xml = source.base / "arkivstruktur.xml"
            try:
                with open(xml, "rb") as f:
                    def open_at(at: int):
                        f.seek(at)
                        return f

                    count = _parse(open_at, db, xml.stat().st_size, progress, stop, resume, key)
            except OSError as exc:
                raise IndexError_(tr("read error: {error}", error=str(exc))) from None
        for stmt in _INDEXES:
            db.execute(stmt)
        if source.nha is not None:
            db.execute(_LINE_INDEX)
        info = {"version": SCHEMA_VERSION, "nodes": count, "tar_root": root, "xml_offset": xml_offset,
                "seconds": round(time.monotonic() - t0, 3), "source_size": source.stamp_file.stat().st_size,
                "line_order": source.nha is None, "resumed_at": resume["base"] if resume else None, "key": key}
        db.execute("DELETE FROM info WHERE key='resume'")
        db.executemany("INSERT OR REPLACE INTO info VALUES (?,?)", [(k, json.dumps(v)) for k, v in info.items()])
        db.execute("INSERT OR IGNORE INTO info VALUES ('storage', '\"blocks\"')")
        if not db.execute("SELECT 1 FROM info WHERE key='counts'").fetchall():  # lxml's pass: small files
            db.execute("INSERT INTO info VALUES ('counts', ?)",
                       (json.dumps(dict(db.execute("SELECT kind, count(*) FROM node GROUP BY kind").fetchall())),))
        db.execute("COMMIT")
        db.execute("PRAGMA journal_mode=DELETE")
    except BaseException as exc:
        keep = lock is not None and not isinstance(exc, IndexError_)
        if keep and db.in_transaction:
            try:
                db.execute("ROLLBACK")  # to the last checkpoint
            except sqlite3.Error:
                keep = False
        db.close()
        if not keep:
            _unlink_all(part, part.with_name(part.name + "-journal"))
        if lock is not None:
            os.close(lock)
        raise
    db.close()
    _finish(part, db_path, lock)


def _finish(part: Path, db_path: Path, lock: int | None) -> None:
    """The complete part renamed to the index, the index files of the source as it was removed."""
    try:
        os.replace(part, db_path)
        try:
            _remove_older(db_path)
        except OSError:
            pass  # the old files stay until the next build: nothing to stop this one for
    finally:
        if lock is not None:
            os.close(lock)
