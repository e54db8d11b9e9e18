"""Identify and convert an extract's documents ahead of the writer, in a child process.

Siegfried (pygfried) reads a scanned TIFF or PDF whole and holds the GIL while it does, so in one
process it cannot overlap the extract's copying, hashing and XML writing.  The prepass runs it in a
child process, on the other core:

* the child (``python -m noarkpack.prepass``) loads the same project, walks the selected journals'
  documents in the order the writer meets them, has them identified in small batches and writes each
  result to the project's identification store (:class:`~noarkpack.documents.IdentificationStore`).
  Siegfried itself runs in two processes of the child's own (:mod:`noarkpack.identify_server`, one
  worker each on two cores), fed alternate batches: pygfried holds the GIL while it works, so the walk
  and the store's writes go on beside it, and two processes keep both cores busy where Siegfried's own
  two workers keep 1.35;
* the documents of a batch that are not in an archival format are converted together into the
  project's conversion cache, ahead of the writer, by a pool of LibreOffice instances fed batches
  (:mod:`noarkpack.conversion.pool`; one per core);
* in the parent, :func:`noarkpack.documents.identify` finds each file in the store, waiting for the
  child when it is ahead of it (the child identifies on both cores; the parent never loads Siegfried
  while the child works).
  A conversion the child has started is waited for on the cache's per-source lock and reused, never
  run twice.

The child starts when the writer first needs it: at the first document the store does not know,
or the first conversion the conversion cache lacks; at once when the store is empty (nothing was
analysed: it will be needed from the first document).  After ``noarkpack analyse`` with nothing to
convert, it never starts: walking the journals again would only take CPU from the writer.

The child only ever adds to the store and the cache.  If it cannot start, fails or dies, the parent
identifies and converts whatever is left itself, so the extract is the same either way
(byte-identical: identifications and conversions are looked up by the file, not by who made them).
Files the analysis (``noarkpack analyse``) or an earlier extract identified are already in the store
and not read again.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from collections import deque
from pathlib import Path
from stat import S_ISREG

from . import documents
from .documents import Identification
from .fsutil import kill_child, start_child

#: documents identified per Siegfried call in the child (a result is visible to the parent after each)
BATCH = 128
#: batches with each Siegfried server beyond the one it works on (queued, so that it never waits for the walk)
IN_FLIGHT = 2
#: how long the parent waits for the child on one document before it identifies it itself.  The child
#: identifies on both cores, so the parent helping would only add another Siegfried (~170 MB) to the
#: machine; it takes over only when the child is stuck or gone.
PATIENCE = 60.0


def documents_in_order(journals, documents_root: Path):
    """(path, the entry's date) of every document of the closed ``journals``, in the writer's order."""
    for j in journals:
        if not j.is_closed:
            continue
        for i in j.innslag:
            for d in i.dokumenter:
                yield documents.document_source(documents_root, d), i.opprettet.date()


class Prepass:
    """The child process and the parent's side of it; use as a context manager around the extract."""

    def __init__(self, project, *, cache=None, workers: int | None = None) -> None:
        self.project = project
        self.store_path = project.identification_store
        self.cache = cache
        self.workers = workers
        self.proc: subprocess.Popen | None = None
        self.report: dict | None = None
        self._started = False

    def __enter__(self) -> "Prepass":
        # The child starts when the writer first needs it: at a document the store does not know,
        # or a conversion the cache lacks.  After `noarkpack analyse` (every document identified)
        # and with nothing to convert, it never starts, and its core is left to the copies.
        documents._waiter = self.wait_for
        if self.cache is not None:
            self.cache.on_miss = self.start
        if documents._store is None or documents._store.is_empty():
            self.start()  # nothing identified yet (no analysis): the child is needed from the first document
        return self

    def start(self) -> None:
        """Start the child (once; when it cannot start, the parent does its work)."""
        if self._started:
            return
        self._started = True
        args = {"root": str(self.project.root), "store": str(self.store_path),
                "database": str(self.project.database) if self.project.uses_staging else None,
                "cache": str(self.cache.folder) if self.cache is not None else None,
                "timeout": self.cache.timeout if self.cache is not None else None, "workers": self.workers}
        try:
            # The child's stdin is a pipe nobody writes to: it closes when this process ends (or is
            # killed), and that tells the child to stop.  Its own process group: on an error the
            # parent stops it with its converters (_stop).
            self.proc = start_child("noarkpack.prepass", json.dumps(args))
        except OSError:
            self.proc = None  # the parent does it all, as without a prepass

    def wait_for(self, key: str) -> Identification | None:
        """documents' hook when the writer meets a document the store lacks: wait for the child.

        None (the writer identifies the file itself) when the child is gone, could not identify the
        file, or has made the writer wait PATIENCE seconds: then it is stopped for good.
        """
        self.start()
        store = documents._store
        if self.proc is None or store is None:
            return None
        t0 = time.monotonic()
        while self.proc.poll() is None:
            hit = store.get(key)
            if hit is not None:
                return hit
            if store.failed(key):
                return None
            if time.monotonic() - t0 > PATIENCE:
                self._stop()  # stuck: the writer does the rest
                return None
            time.sleep(0.002)
        return store.get(key)

    def _stop(self) -> None:
        """Kill the child and whatever it started (LibreOffice, Ghostscript): its process group."""
        documents._waiter = None
        if self.proc is not None:
            kill_child(self.proc)

    def __exit__(self, *exc) -> None:
        documents._waiter = None
        if self.cache is not None:
            self.cache.on_miss = None
        proc = self.proc
        if proc is None:
            return
        if exc[0] is not None:
            self._stop()
            self.proc = None
            for f in (proc.stdin, proc.stdout):
                f.close()
            return
        # The writer has seen every document: whatever the child has not reached is done already.
        # Closing its stdin stops it (queued conversions are cancelled; one running finishes).
        timeout = (self.cache.timeout if self.cache is not None else 0) + 60
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self._stop()
            out = b""
        self.proc = None
        try:
            self.report = json.loads(out.decode("utf-8").strip().splitlines()[-1]) if out.strip() else None
        except ValueError:
            self.report = None


def _child(args: dict) -> dict:
    from concurrent.futures import ThreadPoolExecutor

    from .conversion import ConversionCache, LibreOfficePool
    from .errors import NoarkpackError
    from .formats import is_archival
    from .hashing import sha256_file
    from .identify_server import SiegfriedPool
    from .project import load_project

    t0 = time.monotonic()
    # Siegfried in a process of its own (it holds the GIL while it works): this one walks the journals and
    # stores the answers meanwhile.  Started first, so that its start overlaps the project's loading.
    try:
        siegfried: SiegfriedPool | None = SiegfriedPool()
    except OSError:
        siegfried = None  # Siegfried here, between the walk's batches
    project = load_project(args["root"], database=args.get("database"), auto_import=False)
    cache = ConversionCache(Path(args["cache"]), timeout=args["timeout"]) if args.get("cache") else None
    stats = {"identified": 0, "converted": 0, "conversion_failures": 0, "conversion_seconds": 0.0}
    span: list[float] = []

    pool = LibreOfficePool(args.get("workers"), timeout=cache.timeout) if cache is not None else None

    def convert(items: list[tuple[Path, Identification]]) -> None:
        """One identified batch's conversions, together: LibreOffice's in the pool's batches."""
        start = time.monotonic()

        def on_done(sha, puid, result, seconds) -> None:
            if isinstance(result, NoarkpackError):
                stats["conversion_failures"] += 1  # the writer meets it again and reports it

        try:
            jobs = [(p, ident, sha256_file(p)) for p, ident in items if not stop.is_set()]
            cache.convert_many(jobs, pool, on_done)
        except (NoarkpackError, OSError):
            stats["conversion_failures"] += 1  # the writer converts (and reports) what is left
        span[:] = [min(span[0], start) if span else start, time.monotonic()]

    stop = threading.Event()
    queued: list = []  # conversion futures

    def watch_parent() -> None:
        try:
            sys.stdin.buffer.read()  # returns at EOF: the parent is done, or gone
        finally:
            stop.set()
            for fut in list(queued):
                fut.cancel()  # not started yet: the writer has converted what it needed

    threading.Thread(target=watch_parent, name="noarkpack-prepass-parent", daemon=True).start()
    with documents.persistent_identifications(args["store"]) as store, \
            ThreadPoolExecutor(max_workers=1) as batches:  # one batch at a time: the pool uses every core
        batch: list[tuple[Path, object]] = []
        pending: deque = deque()  # batches with the Siegfried server, not answered yet

        def send() -> None:
            """The batch's documents the store does not know yet, to Siegfried (the server, else here)."""
            files, keys = [], []
            for p, day in batch:
                try:
                    st = os.stat(p)
                except OSError:
                    continue  # the writer meets it and reports it
                if S_ISREG(st.st_mode):
                    files.append((p, day))
                    keys.append(documents._IdentificationCache.key(p, st))
            batch.clear()
            known = documents._known_many(keys)
            todo = [i for i, hit in enumerate(known) if hit is None]
            # submit says False once every server is gone: then the batch is identified here
            if todo and siegfried is not None and siegfried.submit([files[i][0] for i in todo]):
                pending.append((files, keys, known, todo))
            else:
                answer(files, keys, known, todo, None)
            while pending and len(pending) > IN_FLIGHT * len(siegfried.servers):
                receive()

        def receive() -> None:
            files, keys, known, todo = pending.popleft()
            found = siegfried.result()  # None: its server died first, so the batch is identified here
            if found is not None and len(found) != len(todo):
                found = None  # a server's answer that does not fit: this batch is identified here
            answer(files, keys, known, todo, found)

        def answer(files, keys, known, todo, found) -> None:
            """Keep a batch's identifications in the store (visible to the writer) and queue its conversions.

            A file Siegfried could not read is marked failed, so that the writer does not wait for it and
            identifies (and reports) it itself."""
            if todo and found is None:
                found = documents.identify_files([files[i][0] for i in todo], workers=2)
            for i, ident in zip(todo, found or ()):
                if ident is None:
                    store.put_failed(keys[i])
                else:
                    documents._remember(keys[i], ident)
                    known[i] = ident
            store.flush()
            stats["identified"] += len(files)
            if cache is None:
                return
            todo_conv = [(p, ident) for (p, day), ident in zip(files, known)
                         if ident is not None and ident.puid != "UNKNOWN" and not is_archival(ident.puid, day)]
            if todo_conv and not stop.is_set():
                queued.append(batches.submit(convert, todo_conv))

        try:
            for item in documents_in_order(project.selected_journals(), project.settings.documents_root):
                if stop.is_set():
                    break
                batch.append(item)
                if len(batch) >= BATCH:
                    send()
            if not stop.is_set():
                send()
                while pending:
                    receive()
        finally:
            if siegfried is not None:
                siegfried.close()
        batches.shutdown(wait=True)  # what is still queued at a stop is cancelled by watch_parent
    if pool is not None:
        pool.close()
    stats["converted"] = cache.made if cache is not None else 0
    stats["seconds"] = round(time.monotonic() - t0, 3)
    if span:
        stats["conversion_seconds"] = round(span[1] - span[0], 3)
    return stats


def main(argv: list[str]) -> int:
    try:
        stats = _child(json.loads(argv[1]))
    except Exception:  # noqa: BLE001 - the parent does what is left; never a traceback on its screen
        return 1
    sys.stdout.write(json.dumps(stats) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    # The store and the pool are closed by now.  os._exit: no interpreter shutdown while the stdin
    # watcher thread is blocked in read() and Siegfried's Go runtime is loaded (that can abort).
    os._exit(main(sys.argv))
