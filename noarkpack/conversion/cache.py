"""The conversion cache: converted files keyed by the source's SHA-256, each with its record.

Every converted file is identified again with Siegfried and must come out as a PDF/A PUID.  The
record keeps what Noark 5's ``konvertering`` needs: when the conversion ran (M615 konvertertDato), who
ran it (M616 konvertertAv: noarkpack and its version), the tool with its version (M714) and both
formats (M712, M713).  The record belongs to the content's *first* conversion: a rerun, or another
project sharing the cache, reuses the same bytes with the same record, so the extract is
byte-identical and its dates are true.  One conversion per source runs at a time, across threads,
processes and machines sharing the folder (a lock file per source); an entry appears whole or not at
all (the file, then its record, each written to a temporary name and renamed), so a killed run
leaves nothing that is ever used, and the next run goes on where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import socket
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable

from .._version import __version__
from ..documents import Identification, identify
from ..errors import DocumentError
from ..formats import PDFA_PUIDS
from ..fsutil import pid_alive
from ..hashing import sha256_file
from ..locale import current, language, tr
from .tools import convert_file

#: konvertertAv (M616, "Person eller system som har foretatt konverteringen") of the conversions this
#: noarkpack runs: the system, with its version; the tool that did the rendering is konverteringsverktoey
CONVERTED_BY = f"noarkpack {__version__}"
#: konvertertAv of a cache entry made before noarkpack recorded it: noarkpack made it, which version is
#: not known (docs/mapping.md, "Conversion")
CONVERTED_BY_UNKNOWN_VERSION = "noarkpack"


@dataclass(frozen=True)
class ConversionRecord:
    """One finished conversion, as stored beside the converted file in the cache.

    ``converted_at`` and ``converted_by`` are those of the first conversion of the source's content;
    they are written once, with the converted file, and never change afterwards.
    """

    source_sha256: str
    source_puid: str
    output_puid: str
    tool: str  # name and version, e.g. "LibreOffice 7.4.7.2"
    converted_at: str  # ISO 8601 with offset: when the converted file was made
    output_name: str  # file name in the cache folder
    converted_by: str | None = None  # the system that converted, e.g. "noarkpack 0.1.0"

    def converted_datetime(self) -> datetime:
        return datetime.fromisoformat(self.converted_at)

    @classmethod
    def from_json(cls, data: dict) -> "ConversionRecord":
        """A stored record; keys this version does not know are ignored, missing optional ones are None."""
        known = {f: data[f] for f in cls.__dataclass_fields__ if f in data}
        known.setdefault("converted_at", "")
        return cls(**known)

    @property
    def complete(self) -> bool:
        """Whether the record says when and by whom (older cache entries may lack either)."""
        if not (self.converted_by or "").strip():
            return False
        try:
            return datetime.fromisoformat(self.converted_at).tzinfo is not None
        except (TypeError, ValueError):
            return False


@dataclass(frozen=True)
class ConversionFailure:
    file: str  # path relative to the document folder (or as given)
    puid: str
    reason: str


# -- the cache ------------------------------------------------------------------------------------


class ConversionCache:
    """Converted files keyed by the source's SHA-256: ``<sha256>.pdf`` + ``<sha256>.json``."""

    def __init__(self, folder: Path, timeout: float = 120.0) -> None:
        self.folder = Path(folder)
        self.timeout = timeout
        self.made = 0  # conversions this object ran (not reused from the cache)
        #: called when a conversion is not in the cache, before it runs (the extract's prepass starts then)
        self.on_miss: Callable[[], None] | None = None
        self._made_lock = threading.Lock()
        #: set by a run (the extract) that reports how many of the conversions it used are new: entries
        #: committed from then on, by this process or another (the prepass child, a cluster), are in ``fresh``
        self.run_started_ns: int | None = None
        self.fresh: set[str] = set()

    def _count(self) -> None:
        with self._made_lock:
            self.made += 1

    def _note(self, sha: str) -> None:
        """Remember ``sha`` as new to this run when its entry was committed after the run started."""
        if self.run_started_ns is None or sha in self.fresh:
            return
        try:
            committed = os.stat(self.folder / f"{sha}.json").st_mtime_ns
        except OSError:
            return
        if committed >= self.run_started_ns:
            with self._made_lock:
                self.fresh.add(sha)

    def get(self, source_sha256: str) -> tuple[Path, ConversionRecord] | None:
        """The converted file and its record, or None when the source was never converted (or its entry
        is damaged: it is then converted again).

        An entry written before noarkpack recorded the conversion's date or system gets them here, once,
        under the source's lock (:meth:`_completed`); from then on the entry keeps them.
        """
        hit = self._load(source_sha256)
        if hit is None or hit[1].complete:
            return hit
        self.folder.mkdir(parents=True, exist_ok=True)
        with _exclusive(self.folder / f".{source_sha256}.lock"):
            return self._completed(self._load(source_sha256))

    def _completed(self, hit: tuple[Path, ConversionRecord] | None) -> tuple[Path, ConversionRecord] | None:
        """``hit`` with its record's date and system filled in and stored, where it lacked them.

        The caller holds the source's lock.  The date: a date without an offset is read as this machine's
        local time; a missing one is the converted file's modification time (when the file was made).
        The system: "noarkpack", without a version, which is not known.
        """
        if hit is None or hit[1].complete:
            return hit
        out, rec = hit
        try:
            when = datetime.fromisoformat(rec.converted_at)
        except (TypeError, ValueError):
            when = datetime.fromtimestamp(out.stat().st_mtime, timezone.utc)
        if when.tzinfo is None:
            when = when.astimezone()  # a naive time is this machine's local time
        rec = replace(rec, converted_at=when.isoformat(timespec="seconds"),
                      converted_by=(rec.converted_by or "").strip() or CONVERTED_BY_UNKNOWN_VERSION)
        self._write_record(rec)
        return out, rec

    def _load(self, source_sha256: str) -> tuple[Path, ConversionRecord] | None:
        meta = self.folder / f"{source_sha256}.json"
        if not meta.is_file():
            return None
        try:
            data = json.loads(meta.read_text(encoding="utf-8"))
            rec = ConversionRecord.from_json(data)
        except (ValueError, TypeError, AttributeError):
            return None
        if rec.source_sha256 != source_sha256 or Path(rec.output_name).name != rec.output_name:
            return None
        out = self.folder / rec.output_name
        return (out, rec) if out.is_file() else None

    def _write_record(self, rec: ConversionRecord) -> None:
        """The record, atomically (a temporary file, synced, renamed over the old one)."""
        tmp = self.folder / f".{rec.source_sha256}.json.partial"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(json.dumps(asdict(rec), ensure_ascii=False, indent=1))
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.folder / f"{rec.source_sha256}.json")

    def convert(self, src: Path, ident: Identification, source_sha256: str | None = None) -> tuple[Path, ConversionRecord]:
        """Convert (or reuse) ``src``; raises DocumentError with the reason on failure."""
        sha = source_sha256 or sha256_file(src)
        hit = self.get(sha)
        if hit is not None:
            self._note(sha)
            return hit
        if self.on_miss is not None:
            self.on_miss()
        self.folder.mkdir(parents=True, exist_ok=True)
        # One conversion per source at a time, across threads and processes (the extract's prepass
        # converts ahead of the writer): whoever comes second waits and reuses the first's output,
        # so every run of a project refers to the same converted bytes.
        with _exclusive(self.folder / f".{sha}.lock"):
            hit = self._completed(self._load(sha))
            if hit is None:
                hit = self._convert(src, ident, sha)
                self._count()
            self._note(sha)
            return hit

    def _convert(self, src: Path, ident: Identification, sha: str) -> tuple[Path, ConversionRecord]:
        work = Path(tempfile.mkdtemp(prefix=work_prefix(".work-"), dir=self.folder))
        try:
            out, tool = convert_file(src, ident, work, self.timeout)
            return self.commit(sha, ident.puid, out, tool)
        finally:
            shutil.rmtree(work, ignore_errors=True)

    def commit(self, sha: str, source_puid: str, out: Path, tool: str, *, output_puid: str | None = None,
               converted_at: str | None = None) -> tuple[Path, ConversionRecord]:
        """Make ``out`` (a converted file in this folder's file system) the entry of ``sha``.

        The caller holds the source's lock.  ``out`` is identified (unless a cluster worker did:
        ``output_puid``) and must be PDF/A; it is moved in place, then its record is written.
        ``converted_at`` (konvertertDato) is when the tool finished: now, unless given.
        """
        # konvertertDato: when the converted file was made (the tool has just finished)
        made = converted_at or datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")
        puid = output_puid or identify(out).puid
        if puid not in PDFA_PUIDS:
            raise DocumentError(tr("the converted file is not PDF/A (Siegfried: {puid})", puid=puid))
        with open(out, "rb") as f:
            os.fsync(f.fileno())
        final = self.folder / f"{sha}.pdf"
        os.replace(out, final)
        # The record is the entry's commit: a converted file without it is never used (and is
        # replaced by the next conversion), so the file and its record appear together.
        rec = ConversionRecord(source_sha256=sha, source_puid=source_puid, output_puid=puid, tool=tool,
                               converted_at=made, output_name=final.name, converted_by=CONVERTED_BY)
        self._write_record(rec)
        return final, rec

    def convert_many(self, jobs: Iterable[tuple[Path, Identification, str]], pool,
                     on_done: Callable[[str, str, "tuple[Path, ConversionRecord] | DocumentError", float], None]
                     | None = None) -> dict[str, "tuple[Path, ConversionRecord] | DocumentError"]:
        """Convert (or reuse) many ``(source, identification, sha256)`` at once, in ``pool``'s batches (a
        :class:`~noarkpack.conversion.pool.LibreOfficePool`: LibreOffice's, and Ghostscript's for plain PDF).

        Returns, per SHA-256, the entry or the DocumentError that refused it; ``on_done(sha, puid,
        result, seconds)`` is called as each finishes (seconds: what converting it cost, 0 when reused).
        A source another process converts right now is waited for and reused.
        """
        from .pool import PoolItem
        from .tools import GHOSTSCRIPT, PDF_PUIDS, libreoffice_filter

        results: dict[str, tuple[Path, ConversionRecord] | DocumentError] = {}
        locks: dict[str, object] = {}
        fresh: dict[str, tuple[Path, Identification]] = {}
        busy: list[tuple[Path, Identification, str]] = []

        def done(sha: str, puid: str, result, seconds: float = 0.0) -> None:
            results[sha] = result
            if on_done is not None:
                on_done(sha, puid, result, seconds)

        self.folder.mkdir(parents=True, exist_ok=True)
        try:
            for src, ident, sha in jobs:
                if sha in results or sha in fresh:
                    continue
                hit = self.get(sha)
                if hit is not None:
                    done(sha, ident.puid, hit)
                    continue
                lock = _try_lock(self.folder / f".{sha}.lock")
                if lock is None:
                    busy.append((src, ident, sha))  # converting elsewhere: wait for it afterwards
                    continue
                hit = self._completed(self._load(sha))
                if hit is not None:
                    _unlock(lock)
                    done(sha, ident.puid, hit)
                    continue
                locks[sha] = lock
                fresh[sha] = (src, ident)
            if fresh and self.on_miss is not None:
                self.on_miss()

            def finished(sha: str, out, tool: str, seconds: float) -> None:
                ident = fresh[sha][1]
                try:
                    if isinstance(out, DocumentError):
                        raise out
                    # a cluster's worker identified its result already (ClusterConverter.identified)
                    puid = getattr(pool, "identified", {}).pop(sha, None)
                    result = self.commit(sha, ident.puid, out, tool, output_puid=puid)
                    self._count()
                except DocumentError as e:
                    result = e
                _unlock(locks.pop(sha))
                done(sha, ident.puid, result, seconds)

            # The pool converts plain PDF too (Ghostscript batches; a cluster's workers likewise); a converter
            # without ``converts_pdf`` leaves them to Ghostscript here, one process each.
            remote_pdf = getattr(pool, "converts_pdf", False)
            work = Path(tempfile.mkdtemp(prefix=work_prefix(".work-"), dir=self.folder))
            try:
                pool.convert([PoolItem(sha, src, GHOSTSCRIPT if ident.puid in PDF_PUIDS else libreoffice_filter(ident))
                              for sha, (src, ident) in fresh.items() if remote_pdf or ident.puid not in PDF_PUIDS],
                             work, finished)
            finally:
                shutil.rmtree(work, ignore_errors=True)
            gs = [sha for sha, (_, ident) in fresh.items() if ident.puid in PDF_PUIDS and sha in locks]
            lang = current()  # the threads' messages in the caller's language
            with ThreadPoolExecutor(max_workers=max(1, pool.workers)) as ex:
                for sha, fut in [(sha, ex.submit(self._timed, *fresh[sha], sha, lang)) for sha in gs]:
                    result, seconds = fut.result()
                    _unlock(locks.pop(sha))
                    done(sha, fresh[sha][1].puid, result, seconds)
        finally:
            for lock in locks.values():
                _unlock(lock)
        for src, ident, sha in busy:
            try:
                done(sha, ident.puid, self.convert(src, ident, sha))
            except DocumentError as e:
                done(sha, ident.puid, e)
        return results

    def _timed(self, src: Path, ident: Identification, sha: str, lang: str):
        t0 = time.monotonic()
        try:
            with language(lang):
                result = self._convert(src, ident, sha)
            self._count()
            return result, time.monotonic() - t0
        except DocumentError as e:
            return e, time.monotonic() - t0

    # -- measured rates -----------------------------------------------------------------------------

    def rates(self) -> dict[str, dict]:
        """Measured conversion costs per source PUID: ``{"documents": n, "seconds": s}`` (one worker's
        seconds), from ``rates.json`` in this folder (empty when nothing was measured here)."""
        try:
            data = json.loads((self.folder / RATES_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        return {k: v for k, v in data.items() if isinstance(v, dict) and v.get("documents", 0) > 0}

    def add_rates(self, measured: dict[str, tuple[int, float]]) -> None:
        """Add ``{puid: (documents, seconds)}`` to ``rates.json`` (under a lock, written atomically)."""
        if not measured:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        with _exclusive(self.folder / ".rates.lock"):
            data = self.rates()
            for puid, (n, secs) in measured.items():
                r = data.setdefault(puid, {"documents": 0, "seconds": 0.0})
                r["documents"] += n
                r["seconds"] = round(r["seconds"] + secs, 3)
            tmp = self.folder / f".{RATES_FILE}.partial"
            tmp.write_text(json.dumps(data, indent=1, sort_keys=True), encoding="utf-8")
            os.replace(tmp, self.folder / RATES_FILE)


def work_prefix(kind: str) -> str:
    """The name prefix of a working folder in the cache: ``<kind><pid>.<host>-`` (its owner, for clean_stale)."""
    return f"{kind}{os.getpid()}.{_HOST}-"


_HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]  # the cache may be shared by machines


def clean_stale(folder: Path) -> None:
    """Remove working folders (``.work-``, ``.spool-``) that runs on this machine left when they were killed.

    They may hold copies of documents (the pool's inputs): nothing confidential is left behind for long.
    A folder of a run that still lives, or of another machine sharing the cache, is left alone.
    """
    for kind in (".work-", ".spool-"):
        for p in Path(folder).glob(kind + "*"):
            owner = p.name[len(kind):].split("-", 1)[0]
            pid, _, host = owner.partition(".")
            if p.is_dir() and host == _HOST and pid.isdigit() and not pid_alive(int(pid)):
                shutil.rmtree(p, ignore_errors=True)


#: measured conversion rates per source PUID, in the cache folder
RATES_FILE = "rates.json"


@contextmanager
def _exclusive(lock_path: Path):
    """An exclusive lock on ``lock_path`` (flock; a no-op where there is none).

    The (empty, hidden) lock file stays: removing it while others wait on it would let two of them
    convert the same source after a failure.
    """
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    with open(lock_path, "a") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f.fileno(), fcntl.LOCK_UN)


def _try_lock(lock_path: Path):
    """The lock on ``lock_path`` when it is free (an open file to pass to :func:`_unlock`), else None."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        return open(lock_path, "a")
    f = open(lock_path, "a")
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        f.close()
        return None
    return f


def _unlock(lock) -> None:
    try:
        import fcntl

        fcntl.flock(lock.fileno(), fcntl.LOCK_UN)
    except ImportError:  # pragma: no cover - not POSIX
        pass
    lock.close()
