"""Conversion of documents that are not in an archival format to PDF/A-2b.

Tools (Debian packages, see README):

* **LibreOffice** (headless) for office and text formats (Word .doc, RTF,
  WordPerfect, old spreadsheets and presentations) *and* raster images
  (BMP, GIF, PCX …, through Draw): one kept tool that imports all of them,
  places an image unscaled on a page without re-encoding its pixels, and
  exports PDF/A-2b directly.
* **Ghostscript** for plain PDF → PDF/A-2b: it re-writes the PDF it reads
  and embeds the output intent; LibreOffice would import a PDF as editable
  drawing shapes, which loses fidelity.

Every converted file is identified again with Siegfried and must come out as
a PDF/A PUID.  Results are kept in a cache folder keyed by the SHA-256 of the
source, with a record of what Noark 5's ``konvertering`` needs: when the
conversion ran (M615 konvertertDato), who ran it (M616 konvertertAv: noarkpack
and its version), the tool with its version (M714) and both formats (M712,
M713).  The record belongs to the content's *first* conversion: a rerun, or
another project sharing the cache, reuses the same bytes with the same record,
so the extract is byte-identical and its dates are true.  One conversion per
source runs at a time, across threads and processes (a lock file per source).  The extract converts
ahead of its writer in the prepass child (:mod:`noarkpack.prepass`);
:func:`convert_all` converts a list of files in parallel for library callers.
Each conversion has its own timeout; a failure is reported with the file and
the reason, never silently dropped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import asdict, dataclass, replace
from contextlib import contextmanager
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable

from ._version import __version__
from .documents import Identification, identify
from .errors import DocumentError
from .formats import PDFA_PUIDS
from .hashing import sha256_file

PDF_PUIDS = frozenset({"fmt/14", "fmt/15", "fmt/16", "fmt/17", "fmt/18", "fmt/19", "fmt/20", "fmt/276",
                       "fmt/1129", "fmt/1451"})
_PDF_EXPORT = '"SelectPdfVersion":{"type":"long","value":"2"}'


class ConverterMissing(DocumentError):
    """A conversion tool is not installed."""


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


# -- the tools ------------------------------------------------------------------------------------


@lru_cache(maxsize=None)
def _tool_version(cmd: tuple[str, ...]) -> str | None:
    exe = shutil.which(cmd[0])
    if exe is None:
        return None
    try:
        out = subprocess.run([exe, *cmd[1:]], capture_output=True, text=True, timeout=60).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.splitlines()[0] if out else None


def libreoffice_version() -> str | None:
    v = _tool_version(("soffice", "--version"))
    if not v:
        return None
    parts = v.split()  # "LibreOffice 7.4.7.2 40(Build:2)"
    return " ".join(parts[:2]) if len(parts) >= 2 else v


def ghostscript_version() -> str | None:
    v = _tool_version(("gs", "--version"))
    return f"GPL Ghostscript {v}" if v else None


def _libreoffice_filter(ident: Identification) -> str:
    mime = ident.mime or ""
    if mime.startswith("image/"):
        return "draw_pdf_Export"
    if "spreadsheet" in mime or "excel" in mime or "lotus" in mime:
        return "calc_pdf_Export"
    if "presentation" in mime or "powerpoint" in mime:
        return "impress_pdf_Export"
    return "writer_pdf_Export"


_lo_profiles = threading.local()


def _lo_profile() -> Path:
    """A LibreOffice user profile per thread: two soffice processes cannot share one."""
    p = getattr(_lo_profiles, "path", None)
    if p is None:
        p = Path(tempfile.mkdtemp(prefix="noarkpack-lo-"))
        _lo_profiles.path = p
    return p


def _run(cmd: list[str], timeout: float, what: str) -> None:
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL, env={**os.environ, "HOME": str(_lo_profile())})
    except subprocess.TimeoutExpired:
        raise DocumentError(f"{what} took longer than {timeout:.0f} s and was stopped") from None
    if r.returncode != 0:
        tail = (r.stderr or r.stdout).strip().splitlines()[-1:] or ["no message"]
        raise DocumentError(f"{what} failed: {tail[0][:200]}")


def convert_file(src: Path, ident: Identification, out_dir: Path, timeout: float = 120.0) -> tuple[Path, str]:
    """Convert ``src`` to PDF/A-2b in ``out_dir``; returns (output file, tool with version)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if ident.puid in PDF_PUIDS:
        tool = ghostscript_version()
        if tool is None:
            raise ConverterMissing("Ghostscript is not installed (needed to convert PDF to PDF/A)",
                                   hint="apt-get install ghostscript")
        out = out_dir / "converted.pdf"
        _run(["gs", "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-dPDFA=2", "-dPDFACompatibilityPolicy=1",
              "-sColorConversionStrategy=RGB", "-sDEVICE=pdfwrite", f"-sOutputFile={out}", str(src)],
             timeout, "Ghostscript")
    else:
        tool = libreoffice_version()
        if tool is None:
            raise ConverterMissing("LibreOffice is not installed (needed to convert office files and images)",
                                   hint="apt-get install libreoffice-writer-nogui libreoffice-draw-nogui")
        # LibreOffice names its output after the input: give it a neutral input name.
        work = out_dir / "in"
        work.mkdir(exist_ok=True)
        staged = work / f"document{src.suffix.lower() or '.bin'}"
        shutil.copyfile(src, staged)
        flt = _libreoffice_filter(ident)
        _run(["soffice", "--headless", "--norestore", f"-env:UserInstallation={_lo_profile().as_uri()}",
              "--convert-to", f"pdf:{flt}:{{{_PDF_EXPORT}}}", "--outdir", str(out_dir), str(staged)],
             timeout, "LibreOffice")
        shutil.rmtree(work, ignore_errors=True)
        out = out_dir / "document.pdf"
        if not out.is_file():
            # LibreOffice exits 0 when it cannot load a file (corrupt, password-protected).
            raise DocumentError("LibreOffice could not open the file (corrupt or password-protected?)")
    if not out.is_file() or out.stat().st_size == 0:
        raise DocumentError(f"{tool} produced no output")
    return out, tool


# -- the cache ------------------------------------------------------------------------------------


class ConversionCache:
    """Converted files keyed by the source's SHA-256: ``<sha256>.pdf`` + ``<sha256>.json``."""

    def __init__(self, folder: Path, timeout: float = 120.0) -> None:
        self.folder = Path(folder)
        self.timeout = timeout
        self.made = 0  # conversions this object ran (not reused from the cache)
        #: called when a conversion is not in the cache, before it runs (the extract's prepass starts then)
        self.on_miss: Callable[[], None] | None = None

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
            return hit
        if self.on_miss is not None:
            self.on_miss()
        self.folder.mkdir(parents=True, exist_ok=True)
        # One conversion per source at a time, across threads and processes (the extract's prepass
        # converts ahead of the writer): whoever comes second waits and reuses the first's output,
        # so every run of a project refers to the same converted bytes.
        with _exclusive(self.folder / f".{sha}.lock"):
            hit = self._completed(self._load(sha))
            if hit is not None:
                return hit
            result = self._convert(src, ident, sha)
            self.made += 1
            return result

    def _convert(self, src: Path, ident: Identification, sha: str) -> tuple[Path, ConversionRecord]:
        work = Path(tempfile.mkdtemp(prefix=".work-", dir=self.folder))
        try:
            out, tool = convert_file(src, ident, work, self.timeout)
            # konvertertDato: when the converted file was made (the tool has just finished)
            made = datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")
            result = identify(out)
            if result.puid not in PDFA_PUIDS:
                raise DocumentError(f"the converted file is not PDF/A (Siegfried: {result.puid})")
            with open(out, "rb") as f:
                os.fsync(f.fileno())
            final = self.folder / f"{sha}.pdf"
            os.replace(out, final)
            # The record is the entry's commit: a converted file without it is never used (and is
            # replaced by the next conversion), so the file and its record appear together.
            rec = ConversionRecord(source_sha256=sha, source_puid=ident.puid, output_puid=result.puid, tool=tool,
                                   converted_at=made, output_name=final.name, converted_by=CONVERTED_BY)
            self._write_record(rec)
            return final, rec
        finally:
            shutil.rmtree(work, ignore_errors=True)


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
                workers: int | None = None, progress: Callable[[int, int], None] | None = None) -> ConversionReport:
    """Convert every (name, path, identification) job in parallel (one process per core)."""
    import time

    t0 = time.monotonic()
    jobs = list(jobs)
    report = ConversionReport()
    todo = []
    queued: set[str] = set()
    for name, path, ident in jobs:
        if ident.puid == "UNKNOWN":
            report.failures.append(ConversionFailure(name, "UNKNOWN", "Siegfried cannot identify its format "
                                                     f"({ident.error or 'no signature matched'})"))
            continue
        sha = sha256_file(path)
        if cache.get(sha) is not None or sha in queued:
            report.reused += 1  # converted before, or the same file once more in this batch
        else:
            queued.add(sha)
            todo.append((name, path, ident, sha))
    done = 0
    with ThreadPoolExecutor(max_workers=workers or os.cpu_count() or 1) as pool:
        futures = {pool.submit(cache.convert, path, ident, sha): (name, ident) for name, path, ident, sha in todo}
        for fut in as_completed(futures):
            name, ident = futures[fut]
            try:
                fut.result()
                report.converted += 1
            except DocumentError as e:
                report.failures.append(ConversionFailure(name, ident.puid, e.message))
            done += 1
            if progress:
                progress(done, len(todo))
    report.seconds = time.monotonic() - t0
    return report
