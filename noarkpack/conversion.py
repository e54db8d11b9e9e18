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
source, with a record of the tool, its version, the time and both formats —
what Noark 5's ``konvertering`` needs — so a rerun reuses the same bytes and
gives a byte-identical extract; one conversion per source runs at a time,
across threads and processes (a lock file per source).  The extract converts
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
from dataclasses import asdict, dataclass
from contextlib import contextmanager
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable

from .documents import Identification, identify
from .errors import DocumentError
from .formats import PDFA_PUIDS
from .hashing import sha256_file

PDF_PUIDS = frozenset({"fmt/14", "fmt/15", "fmt/16", "fmt/17", "fmt/18", "fmt/19", "fmt/20", "fmt/276",
                       "fmt/1129", "fmt/1451"})
_PDF_EXPORT = '"SelectPdfVersion":{"type":"long","value":"2"}'


class ConverterMissing(DocumentError):
    """A conversion tool is not installed."""


@dataclass(frozen=True)
class ConversionRecord:
    """One finished conversion, as stored beside the converted file in the cache."""

    source_sha256: str
    source_puid: str
    output_puid: str
    tool: str  # name and version, e.g. "LibreOffice 7.4.7.2"
    converted_at: str  # ISO 8601 with offset
    output_name: str  # file name in the cache folder

    def converted_datetime(self) -> datetime:
        return datetime.fromisoformat(self.converted_at)


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
        meta = self.folder / f"{source_sha256}.json"
        if not meta.is_file():
            return None
        try:
            rec = ConversionRecord(**json.loads(meta.read_text(encoding="utf-8")))
        except (ValueError, TypeError):
            return None
        out = self.folder / rec.output_name
        return (out, rec) if out.is_file() else None

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
            hit = self.get(sha)
            if hit is not None:
                return hit
            result = self._convert(src, ident, sha)
            self.made += 1
            return result

    def _convert(self, src: Path, ident: Identification, sha: str) -> tuple[Path, ConversionRecord]:
        work = Path(tempfile.mkdtemp(prefix=".work-", dir=self.folder))
        try:
            out, tool = convert_file(src, ident, work, self.timeout)
            result = identify(out)
            if result.puid not in PDFA_PUIDS:
                raise DocumentError(f"the converted file is not PDF/A (Siegfried: {result.puid})")
            final = self.folder / f"{sha}.pdf"
            os.replace(out, final)
            rec = ConversionRecord(source_sha256=sha, source_puid=ident.puid, output_puid=result.puid, tool=tool,
                                   converted_at=datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds"),
                                   output_name=final.name)
            tmp = self.folder / f".{sha}.json.partial"
            tmp.write_text(json.dumps(asdict(rec), ensure_ascii=False, indent=1), encoding="utf-8")
            os.replace(tmp, self.folder / f"{sha}.json")
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
