"""The project's content store: documents whose bytes live in the legacy source (a BLOB, a note in a text
or RTF column), written once as files so that they are identified, converted and deposited exactly like the
files of a document folder (docs/migration.md, "Documents stored in the source").

Layout: ``<staging database folder>/content/<sha256[:2]>/<sha256><ext>`` (by default under the project's
``.noarkpack/``, beside the staging database: derived data, rebuilt by ``noarkpack import``).  A content is
addressed by its SHA-256, so the same note or scan stored twice is one file (deduplicated), and writing is
atomic: a temporary file in the same folder, fsynced, then renamed, so a crash never leaves a truncated file
under a final name (the writing runs in background threads: :class:`ContentStore`).  Importing again writes
nothing new: the same content, the same name.

In the staging database a stored document's ``dokument.fil`` is ``@innhold/<sha256><ext>`` (a name that is
never a file of the document folder); :meth:`noarkpack.sources.staging.StagingDB.journals` turns it into the
model's :attr:`~noarkpack.model.epj.Dokumentfil.innhold` path, which the extract writers read instead of the
document folder.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import itertools
import os
import socket
import stat
import threading
import time
import uuid
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ..fsutil import fsync_dir, fsync_file, pid_alive
from ..locale import tr

#: ``dokument.fil`` of a document whose bytes came from the source
PREFIX = "@innhold/"
#: file name extension per ``innhold`` format: what identification and conversion go by
EXTENSIONS = {"text": ".txt", "rtf": ".rtf", "html": ".html"}
#: threads that write the store's new files while the import reads on (:meth:`ContentStore.put`)
WRITERS = 2
#: bytes of new contents that may wait for a writer; :meth:`ContentStore.put` waits beyond that (memory stays
#: bounded however many documents an import stores)
PENDING_BYTES = 32 * 2**20
#: new files fsynced together, and threads that fsync them (:meth:`ContentStore._commit`)
SYNC_BATCH = 256
SYNC_THREADS = 8
#: a temporary file whose name does not say its writer (one of an older noarkpack) is stale after this many seconds
#: untouched (writing one file takes milliseconds)
STALE_UNOWNED = 3600
#: this machine in temporary file names (the project folder, and so the store, may be shared by machines)
_HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


def sniff_extension(data: bytes) -> str:
    """A file name extension for a BLOB from its first bytes (the name only helps tools; Siegfried
    identifies by content); ``.bin`` when unknown."""
    head = data[:16]
    if head.startswith(b"%PDF-"):
        return ".pdf"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return ".tif"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return ".png"
    if head.startswith(b"\xff\xd8\xff"):
        return ".jpg"
    if head.startswith(b"{\\rtf"):
        return ".rtf"
    if head.startswith(b"PK\x03\x04"):
        return ".zip"
    return ".bin"


class ContentStore:
    """Write-once, content-addressed files under ``root``.

    :meth:`put` names a content at once (its SHA-256) and hands the bytes to :data:`WRITERS` background threads,
    so the import reads its next rows while the disk writes; :meth:`sync` waits until every file is written.  A
    writer writes a temporary file; every :data:`SYNC_BATCH` files the temporary files are fsynced together and
    only then renamed to their final names: a file under a final name is always complete and on the disk,
    whatever happens to the process or the machine (a killed import leaves at most ``.*.part`` files, which no
    name points to; the next import removes them: :meth:`clean_stale`).  The batch's fsyncs run in
    :data:`SYNC_THREADS` threads: one fsync after another waits for
    one file system journal commit each (~2-4 ms on ext4), while concurrent fsyncs share their commits (on the
    benchmark machine, 10,000 files of 20-200 KB: ~4 ms each fsynced as written in 4 threads, far less in
    batches).  At most :data:`PENDING_BYTES` wait for a writer (:meth:`put` waits beyond that) and at most a
    batch of names waits for its fsync: memory does not grow with the number of documents.
    """

    def __init__(self, root: Path, *, writers: int = WRITERS, pending_bytes: int = PENDING_BYTES,
                 batch: int = SYNC_BATCH) -> None:
        self.root = Path(root)
        self.written = 0  # new files written by this instance
        self.reused = 0  # contents that were already in the store
        self._root = str(self.root)
        self._writers = max(1, writers)
        self._limit = pending_bytes
        self._batch_size = max(1, batch)
        # one lock, two conditions: writers wait for work, put() waits for room
        self._lock = threading.Lock()
        self._work_ready = threading.Condition(self._lock)
        self._room = threading.Condition(self._lock)
        self._todo: deque[tuple[bytes, str, str]] = deque()  # (bytes, folder, name)
        self._pending = 0  # bytes queued or being written
        self._busy: set[str] = set()  # names queued, or written and not yet renamed (the same content twice: once)
        self._unsynced: list[tuple[str, str]] = []  # (temporary file, final name) written, not yet fsynced
        self._threads: list[threading.Thread] = []
        self._pool: ThreadPoolExecutor | None = None
        self._stop = False
        self._drop = False
        self._error: BaseException | None = None
        self._dirs: set[str] = set()  # folders made or written to by this instance (at most 256)
        self._tmp_prefix = f".{os.getpid()}.{_HOST}-{uuid.uuid4().hex[:6]}-"  # its owner: see clean_stale()
        self._tmp_count = itertools.count()

    @classmethod
    def beside(cls, database: Path) -> ContentStore:
        """The store of the staging database ``database`` (its folder's ``content``)."""
        return cls(Path(database).parent / "content")

    def clean_stale(self) -> int:
        """Remove the temporary files (``.*.part``) that killed imports left; returns how many.  A file is stale
        when its name says its writer (``.<pid>.<host>-…``) and that process no longer runs on this machine; a
        file of another machine is left alone; a file whose name does not say its writer (an older noarkpack's)
        when it was last written over :data:`STALE_UNOWNED` seconds ago.  Nothing names a temporary file, so
        removing a stale one loses nothing; a live writer's files are never touched.  Called when an import
        starts (noarkpack.sources.importer)."""
        removed = 0
        now = time.time()
        alive: dict[int, bool] = {}
        try:
            folders = [e.path for e in os.scandir(self._root) if e.is_dir(follow_symlinks=False)] + [self._root]
        except FileNotFoundError:
            return 0
        for folder in folders:
            with os.scandir(folder) as it:
                entries = [e for e in it if e.name.startswith(".") and e.name.endswith(".part")]
            for e in entries:
                owner = e.name[1:].split("-", 1)[0]
                pid, _, host = owner.partition(".")
                if host == _HOST and pid.isdigit():
                    if int(pid) == os.getpid():
                        continue  # this process's own (another store of it may be writing)
                    if alive.setdefault(int(pid), pid_alive(int(pid))):
                        continue
                elif host and pid.isdigit() and len(host) == len(_HOST):
                    continue  # another machine's writer: it may live
                else:
                    try:
                        if now - e.stat(follow_symlinks=False).st_mtime < STALE_UNOWNED:
                            continue
                    except FileNotFoundError:
                        continue
                try:
                    os.unlink(e.path)
                    removed += 1
                except FileNotFoundError:
                    pass
        return removed

    def path_of(self, fil: str) -> Path:
        """The file of a ``dokument.fil`` that names stored content (``@innhold/<sha256><ext>``)."""
        name = fil[len(PREFIX):]
        if not fil.startswith(PREFIX) or "/" in name or name.startswith("."):
            raise ValueError("not a content store name")
        return self.root / name[:2] / name

    def put(self, data: bytes, ext: str, sha256: str | None = None) -> str:
        """Store ``data``; returns its ``dokument.fil`` (``@innhold/<sha256><ext>``).  ``sha256``: the hex SHA-256
        of ``data`` when the caller has it already (each content is hashed once).  The file is written in the
        background: it is there once :meth:`sync` returns; an error of an earlier write is raised here."""
        sha = sha256 or hashlib.sha256(data).hexdigest()
        name = sha + ext
        folder = f"{self._root}/{sha[:2]}"
        with self._lock:
            self._raise_error()
            if name in self._busy:
                self.reused += 1
                return PREFIX + name
        try:
            st = os.stat(f"{folder}/{name}")
        except (FileNotFoundError, NotADirectoryError):
            pass  # not stored yet (a writer meets whatever stands in the way)
        else:
            if stat.S_ISREG(st.st_mode) and st.st_size == len(data):
                self.reused += 1
                return PREFIX + name
        with self._lock:
            while self._pending and self._pending + len(data) > self._limit and self._error is None:
                self._room.wait()
            self._raise_error()
            self._todo.append((data, folder, name))
            self._pending += len(data)
            self._busy.add(name)
            self._work_ready.notify()
            if len(self._threads) < self._writers:
                if self._pool is None:
                    self._pool = ThreadPoolExecutor(SYNC_THREADS, thread_name_prefix="noarkpack-content-sync")
                t = threading.Thread(target=self._work, name="noarkpack-content-writer", daemon=True)
                self._threads.append(t)
                t.start()
        self.written += 1
        return PREFIX + name

    def _raise_error(self) -> None:
        if self._error is not None:
            e, self._error = self._error, None
            raise e

    def _fail(self, e: BaseException) -> None:
        with self._lock:
            if self._error is None:
                self._error = e
            self._room.notify_all()

    def _work(self) -> None:
        while True:
            with self._lock:
                while not self._todo and not self._stop:
                    self._work_ready.wait()
                if not self._todo:
                    return
                data, folder, name = self._todo.popleft()
                skip = self._drop or self._error is not None
            tmp = None
            try:
                if not skip:
                    tmp = self._write(data, folder, name)
            except BaseException as e:  # noqa: BLE001 - handed to the importing thread
                self._fail(e)
            batch = None
            with self._lock:
                self._pending -= len(data)
                if tmp is None:
                    self._busy.discard(name)
                else:
                    self._unsynced.append((tmp, f"{folder}/{name}"))
                    if len(self._unsynced) >= self._batch_size:
                        batch, self._unsynced = self._unsynced, []
                self._room.notify()
            del data
            if batch:
                self._commit(batch)

    def _write(self, data: bytes, folder: str, name: str) -> str:
        """``data`` into a new temporary file in ``folder`` (not yet fsynced); returns its path."""
        if folder not in self._dirs:
            os.makedirs(folder, exist_ok=True)
            self._dirs.add(folder)
        tmp = f"{folder}/{self._tmp_prefix}{next(self._tmp_count)}.part"
        try:
            with open(tmp, "xb") as f:
                f.write(data)
        except BaseException:
            _unlink(tmp)
            raise
        return tmp

    def _commit(self, batch: list[tuple[str, str]]) -> None:
        """fsync a batch of temporary files (concurrently, :data:`SYNC_THREADS` runs of them), then rename each to
        its final name."""
        done = 0
        try:
            if self._error is None and not self._drop:
                assert self._pool is not None
                tmps = [tmp for tmp, _ in batch]
                step = -(-len(tmps) // SYNC_THREADS)
                for _ in self._pool.map(_fsync_all, [tmps[i:i + step] for i in range(0, len(tmps), step)]):
                    pass
                for tmp, target in batch:
                    os.replace(tmp, target)
                    done += 1
        except BaseException as e:  # noqa: BLE001 - handed to the importing thread
            self._fail(e)
        finally:
            for tmp, _ in batch[done:]:
                _unlink(tmp)
            with self._lock:
                self._busy.difference_update(target.rsplit("/", 1)[1] for _, target in batch)

    def _join(self) -> None:
        with self._lock:
            self._stop = True
            self._work_ready.notify_all()
        for t in self._threads:
            t.join()
        batch, self._unsynced = self._unsynced, []
        if batch:
            self._commit(batch)
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
        with self._lock:
            self._threads.clear()
            self._stop = self._drop = False

    def sync(self) -> None:
        """Wait until every content :meth:`put` so far is written, fsynced and under its final name, then make the
        folders' new entries durable: called before the import that names them is committed.  The first error of
        a write is raised."""
        self._join()
        self._raise_error()
        for folder in sorted(self._dirs) + [self._root]:
            fsync_dir(folder)

    def close(self) -> None:
        """Stop the writers without writing what still waits (an import that failed): the files already under
        their final names are complete; the temporary files are removed; nothing names the others."""
        with self._lock:
            self._drop = True
        self._join()
        self._error = None


def _fsync_all(paths: list[str]) -> None:
    for p in paths:
        fsync_file(p)


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


class Undecodable(ValueError):
    """Text of a content column that is not in its declared encoding (the row is rejected).  Its one argument is
    the whole message (a :func:`~noarkpack.locale.tr` text naming the column): the importer rejects the row with
    it as it is."""


_ENC_NAMES = {"cp1252": "Windows-1252", "latin-1": "ISO-8859-1", "iso8859-15": "ISO-8859-15", "utf-8": "UTF-8"}


def content_bytes(raw: Any, fmt: str, encoding: str, *, column: str = "?") -> tuple[bytes, str] | None:
    """The bytes to store and their extension for one ``innhold`` value; None when empty (NULL, "", no bytes).

    ``text`` becomes UTF-8 plain text (an archival format: Arkivverket's list, x-fmt/111); ``rtf`` keeps its bytes
    (RTF is 7-bit; a text column is encoded in ``encoding``) and ``html`` is UTF-8; both are converted to PDF/A-2b
    by the conversion step like any RTF or HTML file.  ``bytes``: a BLOB as it is, or base64/hex text.
    Raises :class:`Undecodable` for bytes that are not ``encoding`` text (or not base64/hex); its message names
    ``column`` (the source column the value came from).
    """
    if raw is None:
        return None
    if isinstance(raw, memoryview):
        raw = raw.tobytes()
    if isinstance(raw, bytearray):
        raw = bytes(raw)
    if isinstance(raw, str) and not raw.strip():
        return None
    if isinstance(raw, bytes) and not raw:
        return None
    name = _ENC_NAMES.get(encoding, encoding)
    if fmt == "bytes":
        if isinstance(raw, bytes):
            return raw, sniff_extension(raw)
        text = "".join(str(raw).split())
        try:
            data = bytes.fromhex(text) if encoding == "hex" else base64.b64decode(text, validate=True)
        except (ValueError, binascii.Error):
            raise Undecodable(tr("dokument.innhold (column {column}) is not {encoding} text", column=column,
                                 encoding=encoding)) from None
        return (data, sniff_extension(data)) if data else None
    if isinstance(raw, bytes):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as e:
            raise Undecodable(tr("dokument.innhold (column {column}) is not {encoding} text (byte 0x{byte} at "
                                 "offset {offset})", column=column, encoding=name, byte=format(raw[e.start], "02x"),
                                 offset=e.start)) from None
    else:
        text = str(raw)
    if not text.strip():
        return None
    if fmt == "rtf":
        if isinstance(raw, bytes):
            return raw, ".rtf"
        try:
            return text.encode(encoding if encoding != "utf-8" else "cp1252"), ".rtf"
        except UnicodeEncodeError:
            raise Undecodable(tr("dokument.innhold (column {column}) holds characters that {encoding} cannot store "
                                 "in RTF", column=column, encoding=name)) from None
    return text.encode("utf-8"), EXTENSIONS[fmt]


def is_stored(fil: str | None) -> bool:
    return bool(fil) and fil.startswith(PREFIX)


__all__ = ["ContentStore", "EXTENSIONS", "PREFIX", "Undecodable", "content_bytes", "is_stored", "sniff_extension"]
