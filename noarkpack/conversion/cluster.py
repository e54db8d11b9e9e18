"""Identification and conversion across machines on Dask distributed (``noarkpack convert PROJECT --scheduler
tcp://HOST:8786``).

Install with the extra ``noarkpack[cluster]`` (``distributed``) on the machine that runs the command
and on every worker; a worker also needs LibreOffice and Ghostscript (tools/install-system-packages.sh).

**The document bytes travel; nothing is shared.**  A task carries one batch of documents (their bytes,
under neutral names) to a worker; the worker converts them in its own temporary folder with its own
LibreOffice instance (:mod:`noarkpack.conversion.pool`) and returns the converted bytes; the machine
that runs ``noarkpack convert`` writes each result, which the worker's Siegfried identified (the cache
refuses one that is not PDF/A; the client identifying them all was the bottleneck), to the project's cache
(keyed by the source's SHA-256, atomically, under the source's lock).  So a worker needs no mount of
the journal's documents nor of the cache, and a depot can lend any machine that reaches the scheduler
(docs/performance.md, "Conversion across machines").  When the cache folder itself is a shared mount,
an extract on any machine reads the results.

The identification travels the same way (:class:`ClusterIdentifier`): a task carries a batch of documents'
bytes under neutral names that keep each one's extension (Siegfried matches PRONOM signatures on the bytes
and the extension only), the worker's Siegfried identifies them, and the machine running ``noarkpack
convert`` keeps each result in the project's identification store under the document's own key (its path,
size, mtime, inode), exactly as a local identification would: the extract after it identifies nothing.

A worker killed mid-run loses no document: the scheduler runs its unfinished tasks again on another
worker, and each result is committed once, under the source's lock that this run holds from before the
task is sent until its result is in (:meth:`ConversionCache.convert_many`): an entry is never written twice.
A worker writes nothing outside its temporary folders (removed after every task; its LibreOffice
profiles when its process ends), so confidential documents do not stay on lent machines.
"""

from __future__ import annotations

import atexit
import itertools
import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Iterable

from ..errors import ConfigError, DocumentError
from ..locale import current, language, tr
from .pool import OnResult, PoolItem, split_even

#: batches in flight per worker thread (one running, one queued: the next starts without a round trip)
IN_FLIGHT = 2


def connect(scheduler: str, timeout: float = 10.0):
    """A ``distributed.Client`` of the scheduler at ``scheduler`` (``tcp://HOST:8786``)."""
    try:
        from distributed import Client
    except ImportError:
        raise ConfigError(tr("--scheduler needs Dask distributed, which is not installed"),
                          hint=tr("pip install 'noarkpack[cluster]' (on this machine and on every worker)")) from None
    try:
        return Client(scheduler, timeout=timeout)
    except (OSError, TimeoutError) as e:
        raise ConfigError(tr("cannot reach the Dask scheduler at {scheduler} ({error})", scheduler=scheduler,
                             error=type(e).__name__),
                          hint=tr("start it with `dask scheduler` and its workers with `dask worker {scheduler}`; "
                                  "check the address and the firewall", scheduler=scheduler)) from None


class ClusterConverter:
    """The pool interface (:class:`~noarkpack.conversion.pool.LibreOfficePool`) over a Dask cluster."""

    converts_pdf = True  # the workers run Ghostscript too

    def __init__(self, client, cache, *, batch_size: int) -> None:
        self.client = client
        self.cache = cache
        self.batch_size = batch_size
        info = client.scheduler_info()
        self.address = info.get("address", "?")
        workers = info.get("workers", {})
        self.nworkers = max(1, len(workers))
        self.threads = max(1, sum(w.get("nthreads", 1) for w in workers.values()))
        self.workers = self.threads
        #: the PUID a worker's Siegfried gave each result (sha256 → PUID), taken by the cache's commit, so
        #: the machine running convert does not identify every result again (it would be the bottleneck)
        self.identified: dict[str, str] = {}
        self.tasks = 0  #: conversion tasks sent (batches: each one LibreOffice start on a worker)

    def close(self) -> None:
        pass

    def convert(self, items: Iterable[PoolItem], work: Path, on_result: OnResult) -> None:
        """Every item converted on the cluster; results written under ``work`` and passed to ``on_result``."""
        from distributed import as_completed

        items = list(items)
        by_filter: dict[str, list[PoolItem]] = {}
        for it in items:
            by_filter.setdefault(it.filter, []).append(it)
        batches = []
        for group in by_filter.values():
            for batch in split_even(group, self.batch_size, self.threads):
                batches += _bounded(batch, TASK_BYTES)
        self.tasks += len(batches)
        limit = IN_FLIGHT * self.threads
        pending = iter(batches)
        lang = current()  # the workers' messages (a refusal's reason) in the caller's language

        def submit(batch: list[PoolItem]):
            payload = [(it.key, it.src.suffix.lower() or ".bin", it.src.read_bytes()) for it in batch]
            # the key names the batch's sources: a batch submitted again is the same task (idempotent)
            key = "noarkpack-convert-" + _digest([it.key for it in batch])
            return self.client.submit(convert_remote, payload, batch[0].filter, self.cache.timeout, lang,
                                      key=key, pure=False)

        running = as_completed([submit(b) for b in itertools.islice(pending, limit)])
        for fut in running:
            for key, data, tool, puid, error, seconds in fut.result():
                if error is not None:
                    on_result(key, DocumentError(error), tool, seconds)
                    continue
                out = work / f"{key}.pdf"
                out.write_bytes(data)
                self.identified[key] = puid
                on_result(key, out, tool, seconds)
            fut.release()
            nxt = next(pending, None)
            if nxt is not None:
                running.add(submit(nxt))


#: a conversion task's source bytes at most (held in memory on both sides, IN_FLIGHT per worker thread): a batch
#: of large scans is cut into tasks of this size, each still one LibreOffice start on its worker
TASK_BYTES = 64 * 1024 * 1024


def _bounded(batch: list[PoolItem], limit: int) -> list[list[PoolItem]]:
    """``batch`` cut, in order, into runs whose sources hold at most ``limit`` bytes (a larger source alone)."""
    out: list[list[PoolItem]] = [[]]
    size = 0
    for it in batch:
        n = _size(it.src)
        if out[-1] and size + n > limit:
            out.append([])
            size = 0
        out[-1].append(it)
        size += n
    return out if out[0] else []


#: documents per identification task, and their bytes at most (a task's payload is held in memory on both
#: sides): Siegfried takes ~1-5 ms a document, so a task of 64 outweighs its round trip many times
IDENTIFY_BATCH = 64
IDENTIFY_BYTES = 32 * 1024 * 1024


class ClusterIdentifier:
    """documents.identify_many's ``identifier`` on a Dask cluster: the files' bytes go to the workers, their
    Siegfried identifies them; a list of Identification (None: the worker could not read it)."""

    def __init__(self, client) -> None:
        self.client = client
        workers = client.scheduler_info().get("workers", {})
        self.threads = max(1, sum(w.get("nthreads", 1) for w in workers.values()))

    def __call__(self, paths: list[Path]) -> list:
        from distributed import as_completed

        from ..documents import Identification

        batches: list[list[int]] = [[]]
        size = 0
        for i, p in enumerate(paths):
            n = _size(p)
            if batches[-1] and (len(batches[-1]) >= IDENTIFY_BATCH or size + n > IDENTIFY_BYTES):
                batches.append([])
                size = 0
            batches[-1].append(i)
            size += n
        results: list = [None] * len(paths)
        pending = iter(b for b in batches if b)
        lang = current()  # any text a worker makes, in the caller's language

        def submit(batch: list[int]):
            payload = []
            for i in batch:
                try:
                    payload.append((_extension(paths[i]), paths[i].read_bytes()))
                except OSError:
                    payload.append(("", None))  # unreadable here: identify() reports it
            key = "noarkpack-identify-" + _digest([os.fsdecode(paths[i]) for i in batch])
            fut = self.client.submit(identify_remote, payload, lang, key=key, pure=False)
            fut.batch = batch
            return fut

        running = as_completed([submit(b) for b in itertools.islice(pending, IN_FLIGHT * self.threads)])
        for fut in running:
            for i, row in zip(fut.batch, fut.result()):
                results[i] = Identification(*row) if row is not None else None
            fut.release()
            nxt = next(pending, None)
            if nxt is not None:
                running.add(submit(nxt))
        return results


def _extension(p: Path) -> str:
    """The name's extension as Siegfried sees it (Go's filepath.Ext: from the last dot, ``.bashrc`` too)."""
    i = p.name.rfind(".")
    return p.name[i:] if i >= 0 else ""


def _size(p: Path) -> int:
    try:
        return p.stat().st_size
    except OSError:
        return 0


def _digest(keys: list[str]) -> str:
    import hashlib

    return hashlib.sha256("\n".join(keys).encode()).hexdigest()[:32]


# -- on a worker --------------------------------------------------------------------------------------

_worker_pool = None
_worker_lock = threading.Lock()


def _worker_folder() -> Path | None:
    """The Dask worker's own folder (its ``local_directory``): removed by Dask when the worker ends, and
    left behind by a killed worker only until the next worker on that machine clears it."""
    try:
        from distributed import get_worker

        return Path(get_worker().local_directory)
    except (ImportError, ValueError):
        return None  # not on a Dask worker (called directly)


def _pool():
    """This worker process's LibreOffice pool (profiles reused by its tasks; removed when it exits).

    One LibreOffice instance per thread the worker offers (``dask worker --nthreads N``), not per core of
    its machine: Dask places tasks by the threads a worker declares, so ``--nworkers 4 --nthreads 1`` on a
    4-core machine runs 4 instances, not 16, and a worker given one core keeps one core busy.
    """
    global _worker_pool
    with _worker_lock:
        if _worker_pool is None:
            from .pool import LibreOfficePool

            _worker_pool = LibreOfficePool(_threads(), temp=_worker_folder())
            atexit.register(_worker_pool.close)
        return _worker_pool


def identify_remote(payload: list[tuple[str, bytes | None]], lang: str | None = None) -> list[tuple | None]:
    """A Dask task: ``(suffix, bytes)`` of a batch of documents → each one's Identification as a tuple
    (None: Siegfried could not read it), identified by this worker's Siegfried on its threads.

    The documents are written under neutral names with their own suffix in a temporary folder of this
    worker's, removed before the task returns.  Texts are made in ``lang`` (the caller's; None: this worker's).
    """
    if lang is not None:
        with language(lang):
            return identify_remote(payload)
    from dataclasses import astuple

    from ..documents import identify_files

    tmp = Path(tempfile.mkdtemp(prefix="noarkpack-task-", dir=_worker_folder()))
    try:
        paths: list[Path | None] = []
        for n, (suffix, data) in enumerate(payload):
            if data is None:
                paths.append(None)
                continue
            p = tmp / f"d{n:05d}{suffix}"
            p.write_bytes(data)
            paths.append(p)
        found = iter(identify_files([p for p in paths if p is not None], workers=_threads()))
        idents = [next(found) if p is not None else None for p in paths]
        return [astuple(ident) if ident is not None else None for ident in idents]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _threads() -> int:
    """This Dask worker's threads (Siegfried's own workers for one task), 1 when not on a worker."""
    try:
        from distributed import get_worker

        return max(1, get_worker().state.nthreads)
    except (ImportError, ValueError, AttributeError):
        return 1


def convert_remote(payload: list[tuple[str, str, bytes]], flt: str, timeout: float,
                   lang: str | None = None) -> list[tuple]:
    """A Dask task: ``(sha256, suffix, bytes)`` of one batch → ``(sha256, PDF bytes, tool, PUID, error, seconds)``.

    The PUID is Siegfried's identification of the converted file, made here (the cache refuses one that is
    not PDF/A).  ``error`` is made in ``lang`` (the language of the machine that runs ``noarkpack convert``;
    None: this worker's own) and keeps its untranslated key (a :class:`~noarkpack.locale.Text` pickles whole).

    Everything is written in a temporary folder of this worker's, removed before the task returns.
    """
    if lang is not None:
        with language(lang):
            return convert_remote(payload, flt, timeout)
    from ..documents import identify

    results: list[tuple] = []
    tmp = Path(tempfile.mkdtemp(prefix="noarkpack-task-", dir=_worker_folder()))
    try:
        srcs = []
        for n, (key, suffix, data) in enumerate(payload):
            p = tmp / f"s{n:05d}{suffix}"
            p.write_bytes(data)
            srcs.append((key, p))
        pool = _pool()
        pool.timeout = timeout

        def on_result(key: str, out, tool: str, seconds: float) -> None:
            if isinstance(out, DocumentError):
                results.append((key, None, tool, None, out.message, seconds))
            else:
                results.append((key, out.read_bytes(), tool, identify(out).puid, None, seconds))

        pool.convert([PoolItem(key, p, flt) for key, p in srcs], tmp, on_result)
        return results
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
