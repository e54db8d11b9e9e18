"""Document files: copy and hash in one pass, identify the format.

Every document byte is read once during extraction: :func:`copy_and_hash`
streams the source into the extract and computes its SHA-256 on the way.  The
checksum is then carried forward (dokumentobjekt/sjekksum → ADDML → METS →
BagIt) and never computed again.  Format identification uses Siegfried
(pygfried, offline, PRONOM signatures).
"""

from __future__ import annotations

import hashlib
import io
import os
import threading
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable

from .errors import DocumentError
from .hashing import CHUNK_SIZE, copy_hashed
from .locale import tr


def document_rel(fil: str) -> PurePosixPath:
    """A dokument's file name from the source as the extract reads it: ``\\`` as ``/``, Unicode NFC."""
    return PurePosixPath(unicodedata.normalize("NFC", fil.replace("\\", "/")))


def document_source(documents_root: Path, d) -> Path:
    """Where the bytes of the model's Dokumentfil ``d`` are: its file in the content store when they came from
    the legacy source (``d.innhold``, issue 18), else its file in the document folder."""
    stored = getattr(d, "innhold", None)
    # Path(root, name): the same path as Path(root) / document_rel(d.fil), in one construction (a walk's hot spot)
    return Path(stored) if stored else Path(documents_root, unicodedata.normalize("NFC", d.fil.replace("\\", "/")))


@dataclass(frozen=True)
class CopiedFile:
    sha256: str
    size: int


def copy_and_hash(src: Path, dst: Path, *, record: str | None = None, atomic: bool = True,
                  make_parents: bool = True) -> CopiedFile:
    """Copy ``src`` to ``dst`` and return its SHA-256 and size, reading every byte once.

    With ``atomic`` (the default) the destination is written under a temporary name and renamed
    when complete, so a crash never leaves a truncated file under the final name.  A writer whose
    whole output folder is private until it is complete (the ExtractWriter) passes
    ``atomic=False`` and saves a rename per file.  ``make_parents=False``: the caller has created
    ``dst``'s folder.
    """
    if make_parents:
        dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(dst.name + ".part") if atomic else dst
    digest = hashlib.sha256()
    size = 0
    buf = _buffer()
    view = memoryview(buf)
    try:
        # Unbuffered raw files and one reused buffer: no copy beyond the kernel's and the hash's.
        fin = io.FileIO(src, "r")
        try:
            fout = io.FileIO(tmp, "w")
        except OSError as e:
            fin.close()
            raise DocumentError(tr("the copy cannot be written: {reason}", reason=e.strerror), file=dst, record=record,
                                hint=tr("check the free space and the permissions of the output folder")) from None
        with fin, fout:
            size = copy_hashed(fin, fout, view, digest)
        if atomic:
            os.replace(tmp, dst)
    except FileNotFoundError:
        _unlink(tmp)
        raise DocumentError(tr("document file not found"), file=src, record=record,
                            hint=tr("check the path in the source and the project's document folder")) from None
    except IsADirectoryError:
        _unlink(tmp)
        raise DocumentError(tr("document path is a folder, not a file"), file=src, record=record) from None
    except PermissionError:
        _unlink(tmp)
        raise DocumentError(tr("document file cannot be read (permission denied)"), file=src, record=record) from None
    except BaseException:
        _unlink(tmp)
        raise
    return CopiedFile(digest.hexdigest(), size)


_buffers = threading.local()


def _buffer() -> bytearray:
    """One reused copy buffer per thread (CHUNK_SIZE bytes)."""
    buf = getattr(_buffers, "buf", None)
    if buf is None:
        buf = _buffers.buf = bytearray(CHUNK_SIZE)
    return buf


def _unlink(p: Path) -> None:
    try:
        p.unlink()
    except FileNotFoundError:
        pass


@dataclass(frozen=True)
class Identification:
    puid: str  # PRONOM id, e.g. fmt/354; "UNKNOWN" if Siegfried found none
    name: str  # format name, e.g. "Acrobat PDF/A - Portable Document Format"
    version: str
    mime: str
    basis: str
    warning: str
    error: str = ""  # Siegfried's complaint about the file (e.g. a corrupt container), if any

    @property
    def details(self) -> str | None:
        """A short formatDetaljer text (format name and version), or None."""
        text = " ".join(x for x in (self.name, self.version) if x).strip()
        return text or None


class _IdentificationCache:
    """What Siegfried said about each file, in ~26 bytes per file.

    A deposit identifies every document twice in one process (the conversion plan, then the
    extract), and Siegfried reads a scanned TIFF or PDF whole (~5 ms each here).  The key is the
    file's path, size, mtime and inode, so a changed file is identified again; the value is an index
    into the (few) distinct results.  Bounded: cleared after four million files.
    """

    LIMIT = 4_000_000

    def __init__(self) -> None:
        from .idset import IdSet

        self._idset = IdSet
        self.table = IdSet(stable=True)  # stable: a child process may be handed the table (shared())
        self.results: list[Identification] = []
        self.index: dict[Identification, int] = {}
        self._lock = threading.Lock()  # a prepass child identifies in its conversion threads too

    @staticmethod
    def key(path: Path, st: os.stat_result | None = None) -> str | None:
        """The file's identity: a digest of its absolute path (file names may carry a patient's name,
        and the key is kept on disk), size, mtime, ctime, inode and device.  ctime cannot be set back
        by a user: a file rewritten in place with its size and mtime restored still gets a new key.
        ``st``: the file's os.stat() when the caller has just made it."""
        if st is None:
            try:
                st = os.stat(path)
            except OSError:
                return None
        name = hashlib.blake2b(os.fsencode(os.path.abspath(path)), digest_size=16).hexdigest()
        return f"{name}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ctime_ns}\0{st.st_ino}\0{st.st_dev}"

    def get(self, key: str | None) -> Identification | None:
        if key is None:
            return None
        with self._lock:
            i = self.table.get_line(key)
            return self.results[i] if i is not None else None

    def put(self, key: str | None, ident: Identification) -> None:
        if key is None:
            return
        with self._lock:
            if self.table.count >= self.LIMIT:
                self.table = self._idset(stable=True)
            i = self.index.get(ident)
            if i is None:
                if len(self.results) >= 0xFFFF0000:  # pragma: no cover - never in practice
                    return
                i = self.index[ident] = len(self.results)
                self.results.append(ident)
            self.table.add(key, i)


_cache: _IdentificationCache | None = None
_store: "IdentificationStore | None" = None
#: set by a running :class:`noarkpack.prepass.Prepass`: waits until a child process has identified a file
_waiter = None


def _memory() -> _IdentificationCache:
    global _cache
    if _cache is None:
        _cache = _IdentificationCache()
    return _cache


def shared_identifications() -> tuple:
    """What this process knows of files' formats, for :func:`adopt_identifications` in a child."""
    cache = _memory()
    with cache._lock:
        return cache.table, list(cache.results)


def adopt_identifications(known: tuple) -> None:
    """Start this process's memory of identifications from another's (:func:`shared_identifications`)."""
    table, results = known
    cache = _memory()
    with cache._lock:
        cache.table = table
        cache.results = list(results)
        cache.index = {ident: i for i, ident in enumerate(cache.results)}


def absorb_identifications(known: tuple) -> None:
    """Add what another process identified (its :func:`shared_identifications`) to this process's memory."""
    table, results = known
    cache = _memory()
    with cache._lock:
        mapping = []
        for ident in results:
            i = cache.index.get(ident)
            if i is None:
                i = cache.index[ident] = len(cache.results)
                cache.results.append(ident)
            mapping.append(i)
        table.map_lines(mapping)
        if cache.table.count + table.count >= cache.LIMIT:
            cache.table = cache._idset(stable=True)
        cache.table.merge(table)


def _known(key: str | None, wait: bool = False) -> Identification | None:
    """What this process, the project's store or (``wait``) a prepass child already said about a file."""
    cache = _memory()
    hit = cache.get(key)
    if key is None or _store is None:
        return hit
    if hit is not None:
        if _store.get(key) is None:
            _store.put(key, hit)  # known to this process from before the store was opened
        return hit
    hit = _store.get(key)
    if hit is None and wait and _waiter is not None:
        hit = _waiter(key)
    if hit is not None:
        cache.put(key, hit)
    return hit


def _known_many(keys: list[str | None]) -> list[Identification | None]:
    """:func:`_known` (without waiting) of many files, with one query of the store per few hundred."""
    cache = _memory()
    hits = [cache.get(k) for k in keys]
    if _store is None:
        return hits
    stored = _store.get_many([k for k in keys if k is not None])
    out: list[Identification | None] = []
    for key, hit in zip(keys, hits):
        if key is not None:
            row = stored.get(key)
            if hit is None and row is not None:
                cache.put(key, row)
                hit = row
            elif hit is not None and row is None:
                _store.put(key, hit)  # known to this process from before the store was opened
        out.append(hit)
    return out


def known_identifications(paths: list[Path], stats: list[os.stat_result | None]) -> list[Identification | None]:
    """What this process or the project's store already says of each file (``stats``: their os.stat()),
    None where nothing yet: then :func:`identify` it.  One query of the store for many files."""
    return _known_many([_IdentificationCache.key(p, st) for p, st in zip(paths, stats)])


def _remember(key: str | None, ident: Identification) -> None:
    _memory().put(key, ident)
    if _store is not None and key is not None:
        _store.put(key, ident)


def identify(path: Path, *, wait: bool = False, st: os.stat_result | None = None) -> Identification:
    """Identify ``path`` with Siegfried (PRONOM); a file identified before is not read again.

    "Before" is this process, or, inside :func:`persistent_identifications`, any earlier run on the
    same project (the analysis, an earlier extract) for as long as the file is unchanged.  ``wait``:
    the file is one a running prepass child identifies (a document of the extract), so wait for it.
    ``st``: the file's os.stat(), when the caller has just made it (one system call less).
    """
    key = _IdentificationCache.key(path, st)
    hit = _known(key, wait)
    if hit is not None:
        return hit
    ident = _identify(path)
    _remember(key, ident)
    return ident


def identify_many(paths: list[Path], workers: int | None = None, *,
                  identifier: Callable[[list[Path]], list[Identification | None]] | None = None
                  ) -> list[Identification]:
    """Identify many files at once, on every core (Siegfried's own workers); results are kept like identify().

    ``identifier``: what identifies the files not known yet (default :func:`identify_files` on this
    machine; ``noarkpack convert --scheduler`` passes the Dask workers', noarkpack.conversion.cluster).
    """
    keys = [_IdentificationCache.key(p) for p in paths]
    known = _known_many(keys)
    todo = [i for i, hit in enumerate(known) if hit is None]
    if todo:
        found = (identifier or (lambda ps: identify_files(ps, workers)))([paths[i] for i in todo])
        for i, ident in zip(todo, found):
            known[i] = ident  # None: unreadable, identify() below reports it
            if ident is not None:
                _remember(keys[i], ident)
    return [hit if hit is not None else identify(p) for p, hit in zip(paths, known)]


def identify_files(paths: list[Path], workers: int | None = None) -> list[Identification | None]:
    """Siegfried on every file, in one call on ``workers`` cores; nothing remembered.  None for a file it
    cannot read.  A file's result depends on its bytes and its name's extension only (PRONOM's signatures),
    so a copy under another name with the same suffix is identified the same (a cluster worker's copies)."""
    if not paths:
        return []
    import pygfried

    try:
        result = pygfried.identify_many([str(p) for p in paths], workers=workers or os.cpu_count() or 1)
        entries = {f.get("filename"): f for f in result.get("files") or []}
    except Exception:  # one unreadable file fails the batch: fall back to one at a time
        entries = None
    out: list[Identification | None] = []
    for p in paths:
        entry = entries.get(str(p)) if entries is not None else None
        try:
            out.append(_from_result(entry) if entry is not None else _identify(p))
        except DocumentError:
            out.append(None)
    return out


class IdentificationStore:
    """Identifications kept between runs of one project (``PROJECT/.noarkpack/identification.sqlite``).

    ``noarkpack analyse`` identifies every document it will deposit; the extract that follows finds
    each unchanged file here and reads its bytes only once more, to copy and hash them.  Rows are
    keyed like the in-process cache (absolute path, size, mtime, ctime, inode, device), so a changed,
    moved or replaced file is identified again.  The store is emptied when the Siegfried release
    changes.  Several processes may use one store (SQLite WAL); a damaged store is recreated.
    """

    BATCH = 64

    def __init__(self, path: str | os.PathLike) -> None:
        import sqlite3

        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._pending: list[tuple] = []
        try:
            self._db = self._open(sqlite3)
        except sqlite3.DatabaseError as e:
            # Only a damaged file is replaced; "locked", "read-only" or an I/O error go to the caller
            # (which then works without the store) and never remove another process's store.
            if getattr(e, "sqlite_errorname", "") not in ("SQLITE_CORRUPT", "SQLITE_NOTADB"):
                raise
            for suffix in ("", "-wal", "-shm"):
                _unlink(Path(f"{self.path}{suffix}"))
            self._db = self._open(sqlite3)

    def _open(self, sqlite3):
        db = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.execute("CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v TEXT)")
        db.execute("CREATE TABLE IF NOT EXISTS ident (key TEXT PRIMARY KEY, puid TEXT, name TEXT, version TEXT, "
                   "mime TEXT, basis TEXT, warning TEXT, error TEXT) WITHOUT ROWID")
        engine = siegfried_release()
        row = db.execute("SELECT v FROM meta WHERE k = 'engine'").fetchone()
        if row is None or row[0] != engine:
            db.execute("BEGIN IMMEDIATE")
            db.execute("DELETE FROM ident")
            db.execute("INSERT OR REPLACE INTO meta VALUES ('engine', ?)", (engine,))
            db.execute("COMMIT")
        return db

    def get(self, key: str) -> Identification | None:
        with self._lock:
            row = self._db.execute("SELECT puid, name, version, mime, basis, warning, error FROM ident "
                                   "WHERE key = ?", (key,)).fetchone()
        return Identification(*row) if row is not None and row[0] is not None else None

    def get_many(self, keys: list[str]) -> dict[str, Identification]:
        """The identifications of those of ``keys`` the store has (as :meth:`get`, in few queries)."""
        found: dict[str, Identification] = {}
        with self._lock:
            for start in range(0, len(keys), 500):  # SQLite allows 999 parameters in a statement (older builds)
                part = keys[start:start + 500]
                rows = self._db.execute("SELECT key, puid, name, version, mime, basis, warning, error FROM ident "
                                        f"WHERE key IN ({','.join('?' * len(part))})", part).fetchall()
                for key, *row in rows:
                    if row[0] is not None:
                        found[key] = Identification(*row)
        return found

    def is_empty(self) -> bool:
        with self._lock:
            return self._db.execute("SELECT 1 FROM ident LIMIT 1").fetchone() is None

    def failed(self, key: str) -> bool:
        """True when a prepass child could not identify the file (the writer then reports why)."""
        with self._lock:
            row = self._db.execute("SELECT puid FROM ident WHERE key = ?", (key,)).fetchone()
        return row is not None and row[0] is None

    def put_failed(self, key: str) -> None:
        with self._lock:
            self._pending.append((key, None, None, None, None, None, None, None))

    def put(self, key: str, ident: Identification) -> None:
        with self._lock:
            self._pending.append((key, ident.puid, ident.name, ident.version, ident.mime, ident.basis,
                                  ident.warning, ident.error))
            if len(self._pending) >= self.BATCH:
                self._flush()

    def flush(self) -> None:
        with self._lock:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._db.execute("BEGIN IMMEDIATE")
            # A failure marker never replaces a result.
            self._db.executemany("INSERT INTO ident VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE "
                                 "SET puid = excluded.puid, name = excluded.name, version = excluded.version, "
                                 "mime = excluded.mime, basis = excluded.basis, warning = excluded.warning, "
                                 "error = excluded.error WHERE excluded.puid IS NOT NULL", self._pending)
            self._db.execute("COMMIT")
            self._pending.clear()

    def close(self) -> None:
        with self._lock:
            try:
                self._flush()
            finally:
                self._db.close()


def siegfried_release() -> str:
    """The pygfried (Siegfried + PRONOM signatures) release, read without starting Siegfried.

    From the ``pygfried-VERSION.dist-info`` folder beside the module (importlib.metadata takes ~0.1 s to
    import and search every installed distribution: paid by each extract, analysis and prepass child).
    """
    import importlib.util

    spec = importlib.util.find_spec("pygfried")
    if spec is not None and spec.origin:
        found = [d.name for d in Path(spec.origin).parent.glob("pygfried-*.dist-info")]
        if len(found) == 1:
            return f"pygfried {found[0][len('pygfried-'):-len('.dist-info')]}"
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f"pygfried {version('pygfried')}"
    except PackageNotFoundError:  # pragma: no cover - dependency of the package
        return "pygfried unknown"


@contextmanager
def persistent_identifications(path: str | os.PathLike):
    """Inside the block, identify() and identify_many() keep their results in the store at ``path``.

    Yields the store, or None when it cannot be opened (a read-only project folder, a locked or
    unreachable file): identification then works as without a store, only slower next time.
    """
    global _store
    import sqlite3

    previous = _store
    try:
        store = IdentificationStore(path)
    except (OSError, sqlite3.Error):
        yield None
        return
    _store = store
    try:
        yield store
    finally:
        _store = previous
        store.close()


def _identify(path: Path) -> Identification:
    try:
        import pygfried
    except ImportError as e:  # pragma: no cover - dependency of the package
        raise DocumentError(tr("Siegfried (pygfried) is not installed"), hint="pip install pygfried") from e
    try:
        result = pygfried.identify(str(path), detailed=True)
    except Exception as e:  # pygfried.GoError: unreadable file
        raise DocumentError(tr("Siegfried could not read the file: {error}", error=str(e)), file=path) from None
    files = result.get("files") or []
    return _from_result(files[0] if files else None)


def _from_result(entry: dict | None) -> Identification:
    """An Identification from one file entry of Siegfried's detailed result."""
    error = (entry.get("errors") or "") if entry else "no result"
    matches = [m for m in (entry.get("matches", []) if entry else []) if m.get("ns") == "pronom"]
    if not matches:
        return Identification("UNKNOWN", "", "", "", "", "no match", error)
    m = matches[0]
    return Identification(
        puid=m.get("id") or "UNKNOWN",
        name=m.get("format", ""),
        version=m.get("version", ""),
        mime=m.get("mime", ""),
        basis=m.get("basis", ""),
        warning=m.get("warning", ""),
        error=error,
    )
