"""Many conversions at once: :func:`convert_all` for a list of files, :func:`convert_documents` for a
project's documents (``noarkpack convert``), on this machine's pool or a Dask cluster.

``convert_documents`` works in two passes, so that memory does not grow with the number of documents:
it identifies every document (kept in the project's identification store) and writes the path of each
one to convert to a spool file per format, in a hidden folder of the cache that is removed at the
end; then it converts one format after the other, a chunk of a few batches at a time, with progress
per format (``convert fmt/355``: done, total; the CLI shows documents a minute and the time left).
A killed run leaves whole cache entries only: the next run identifies from the store, finds what was
converted in the cache and goes on with the rest.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Callable, Iterable

from ..documents import Identification
from ..errors import DocumentError
from ..hashing import sha256_file
from ..locale import tr
from ..progress import Progress
from .cache import ConversionCache, ConversionFailure, clean_stale, work_prefix


@dataclass
class ConversionReport:
    converted: int = 0
    reused: int = 0
    failures: list[ConversionFailure] | None = None
    seconds: float = 0.0

    def __post_init__(self) -> None:
        if self.failures is None:
            self.failures = []


def convert_all(jobs: Iterable[tuple[str, Path, Identification]], cache: ConversionCache, *,
                workers: int | None = None, progress: Callable[[int, int], None] | None = None,
                batch_size: int | None = None) -> ConversionReport:
    """Convert every (name, path, identification) job: LibreOffice's in batches on a pool of one
    instance per core (:mod:`noarkpack.conversion.pool`), Ghostscript's in batches on the same pool."""
    from .pool import BATCH_SIZE, LibreOfficePool

    t0 = time.monotonic()
    report = ConversionReport()
    todo: dict[str, tuple[str, Path, Identification]] = {}
    for name, path, ident in jobs:
        if ident.puid == "UNKNOWN":
            reason = (tr("Siegfried cannot identify its format ({error})", error=ident.error) if ident.error
                      else tr("Siegfried cannot identify its format (no signature matched)"))
            report.failures.append(ConversionFailure(name, "UNKNOWN", reason))
            continue
        sha = sha256_file(path)
        if sha in todo or cache.get(sha) is not None:
            report.reused += 1  # converted before, or the same file once more in this batch
        else:
            todo[sha] = (name, path, ident)
    done = 0

    measured: dict[str, tuple[int, float]] = {}

    def on_done(sha: str, puid: str, result, seconds: float) -> None:
        nonlocal done
        if isinstance(result, DocumentError):
            report.failures.append(ConversionFailure(todo[sha][0], puid, result.message))
        else:
            report.converted += 1
            n, secs = measured.get(puid, (0, 0.0))
            measured[puid] = (n + 1, secs + seconds)
        done += 1
        if progress:
            progress(done, len(todo))

    with LibreOfficePool(workers, batch_size=batch_size or BATCH_SIZE, timeout=cache.timeout) as pool:
        cache.convert_many([(path, ident, sha) for sha, (_, path, ident) in todo.items()], pool, on_done)
    cache.add_rates(measured)  # for analyse's estimate (rates.json)
    report.seconds = time.monotonic() - t0
    return report


# -- a project's documents (noarkpack convert) -----------------------------------------------------


@dataclass
class FormatRun:
    """One format's conversions in a run of :func:`convert_documents`."""

    puid: str
    documents: int = 0  # to convert (referenced documents; the same content counts once per reference)
    converted: int = 0  # converted in this run
    reused: int = 0  # in the cache already
    failed: int = 0
    seconds: float = 0.0  # wall time spent on this format

    @property
    def per_minute(self) -> float:
        return self.converted / self.seconds * 60 if self.seconds > 0 else 0.0


@dataclass
class ConvertRun:
    """What ``noarkpack convert`` did: identifications, conversions per format, refusals."""

    identified: int = 0
    unknown: int = 0  # documents Siegfried could not identify (the extract reports each)
    formats: dict[str, FormatRun] = field(default_factory=dict)
    failures: list[ConversionFailure] = field(default_factory=list)  # file: the source's SHA-256
    seconds: float = 0.0
    where: str = "local"  # "local (N workers)" or the scheduler's address

    @property
    def converted(self) -> int:
        return sum(f.converted for f in self.formats.values())

    @property
    def exit_code(self) -> int:
        return 1 if self.failures else 0

    def summary_lines(self) -> list[str]:
        reused = sum(f.reused for f in self.formats.values())
        lines = [tr("Conversion ({where}): {seconds:.1f} s in all, documents identified: {identified}",
                    where=self.where, identified=self.identified, seconds=self.seconds),
                 "  " + tr("converted to PDF/A:         {new} new, {reused} reused",
                           new=self.converted, reused=reused)]
        for f in sorted(self.formats.values(), key=lambda f: -f.documents):
            if f.converted:
                line = tr("{puid:12} documents: {documents:7}; new: {new}, reused: {reused}, refused: {failed}, "
                          "documents/min: {rate:.0f}", puid=f.puid, documents=f.documents,
                          new=f.converted, reused=f.reused, failed=f.failed, rate=f.per_minute)
            else:
                line = tr("{puid:12} documents: {documents:7}; new: {new}, reused: {reused}, refused: {failed}",
                          puid=f.puid, documents=f.documents, new=f.converted, reused=f.reused, failed=f.failed)
            lines.append("    " + line)
        if self.unknown:
            lines.append("  " + tr("unknown format:             {count} (the extract reports each)",
                                   count=self.unknown))
        return lines

    def problem_lines(self) -> list[str]:
        # The source's SHA-256, not its file name: a name may carry a patient's name.
        return ["  " + tr("refused: {puid}, source sha256 {sha256}…: {reason}", puid=f.puid, sha256=f.file[:16],
                          reason=f.reason) for f in self.failures]


#: documents per chunk handed to the pool or the cluster at once (per worker), and at most: a chunk holds
#: a lock file open per source (ConversionCache.convert_many), and 1024 open files is a common limit
CHUNK_PER_WORKER = 128
CHUNK_MAX = 512
#: documents identified at once in pass 1 (on a cluster: this many per worker thread, twice)
IDENTIFY_GROUP = 256


def convert_documents(documents: Iterable[tuple[Path, date | None]], cache: ConversionCache, *,
                      workers: int | None = None, client=None, batch_size: int | None = None,
                      progress: Progress | None = None) -> ConvertRun:
    """Identify every ``(path, date produced)`` and convert those not archival for their date.

    ``client``: a ``distributed.Client`` (:mod:`noarkpack.conversion.cluster`) to identify and convert on
    its workers; otherwise this machine's Siegfried and pool of ``workers`` LibreOffice instances.  Identification
    results go to the identification store the caller opened (documents.persistent_identifications).
    """
    from ..documents import identify_many
    from ..formats import is_archival
    from .pool import BATCH_SIZE, LibreOfficePool

    t0 = time.monotonic()
    run = ConvertRun()
    batch_size = batch_size or BATCH_SIZE
    cache.folder.mkdir(parents=True, exist_ok=True)
    clean_stale(cache.folder)  # what a killed run left (copies of documents in its working folders)
    spool = Path(tempfile.mkdtemp(prefix=work_prefix(".spool-"), dir=cache.folder))
    files: dict[str, object] = {}
    try:
        # Pass 1: identify (on the cluster's workers when there is one); the path of each document to
        # convert goes to its format's spool file.
        pending: list[tuple[Path, date | None]] = []
        identifier = None
        group = IDENTIFY_GROUP
        if client is not None:
            from .cluster import ClusterIdentifier

            identifier = ClusterIdentifier(client)
            group = IDENTIFY_GROUP * 2 * identifier.threads  # a few tasks a worker thread: little idle at the end

        def flush() -> None:
            present = [(p, d) for p, d in pending if p.is_file()]
            pending.clear()
            for (p, day), ident in zip(present, identify_many([p for p, _ in present], identifier=identifier)):
                run.identified += 1
                if ident.puid == "UNKNOWN":
                    run.unknown += 1
                elif not is_archival(ident.puid, day):
                    f = run.formats.setdefault(ident.puid, FormatRun(ident.puid))
                    f.documents += 1
                    if ident.puid not in files:
                        files[ident.puid] = open(spool / f"{len(files)}.txt", "w", encoding="utf-8",
                                                 errors="surrogateescape")
                    files[ident.puid].write(os.fsdecode(p) + "\n")
            if progress:
                progress("identify", run.identified, None)

        for item in documents:
            pending.append(item)
            if len(pending) >= group:
                flush()
        flush()
        for f in files.values():
            f.close()
        # Pass 2: convert, one format after the other.
        if client is not None:
            from .cluster import ClusterConverter

            converter = ClusterConverter(client, cache, batch_size=batch_size)
            run.where = tr("Dask {address}, workers: {count}", address=converter.address, count=converter.nworkers)
        else:
            converter = LibreOfficePool(workers, batch_size=batch_size, timeout=cache.timeout)
            run.where = tr("local, {count} LibreOffice", count=converter.workers)
        chunk = min(CHUNK_MAX, CHUNK_PER_WORKER * converter.workers)
        try:
            for puid, fh in files.items():
                _convert_format(run.formats[puid], Path(fh.name), cache, converter, chunk, run, progress)
        finally:
            if client is None:
                converter.close()
    finally:
        for f in files.values():
            f.close()
        shutil.rmtree(spool, ignore_errors=True)
    run.seconds = time.monotonic() - t0
    return run


def _convert_format(fmt: FormatRun, spool_file: Path, cache: ConversionCache, converter, chunk: int,
                    run: ConvertRun, progress: Progress | None) -> None:
    from ..documents import identify

    t0 = time.monotonic()
    measured = [0, 0.0]
    done = 0

    def on_done(sha: str, puid: str, result, seconds: float) -> None:
        nonlocal done
        done += 1
        if isinstance(result, DocumentError):
            fmt.failed += 1
            run.failures.append(ConversionFailure(sha, puid, result.message))
        elif seconds > 0:
            fmt.converted += 1
            measured[0] += 1
            measured[1] += seconds
        else:
            fmt.reused += 1
        if progress:
            progress(f"convert {fmt.puid}", done, fmt.documents)

    def jobs(paths: list[str]):
        # the identification is the store's (pass 1); the SHA-256 keys the cache, hashed on both cores
        with ThreadPoolExecutor(max_workers=2) as ex:
            futs = [(Path(p), ex.submit(sha256_file, Path(p))) for p in paths]
            return [(p, identify(p), fut.result()) for p, fut in futs]

    def convert(paths: list[str]) -> None:
        nonlocal done
        batch = jobs(paths)
        results = cache.convert_many(batch, converter, on_done)
        # the same content twice in a chunk is one conversion: the other references count as reused
        for _ in range(len(batch) - len(results)):
            fmt.reused += 1
            done += 1
        if progress:
            progress(f"convert {fmt.puid}", done, fmt.documents)

    with open(spool_file, encoding="utf-8", errors="surrogateescape") as f:
        paths: list[str] = []
        for line in f:
            paths.append(line.rstrip("\n"))
            if len(paths) >= chunk:
                convert(paths)
                paths = []
        if paths:
            convert(paths)
    fmt.seconds = time.monotonic() - t0
    cache.add_rates({fmt.puid: (measured[0], measured[1])} if measured[0] else {})


__all__ = ["ConversionReport", "ConvertRun", "FormatRun", "convert_all", "convert_documents"]
