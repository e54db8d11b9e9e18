"""The conversion tools: their versions, LibreOffice's export filters, one conversion per process.

* **LibreOffice** (headless) for office and text formats (Word .doc, RTF, WordPerfect, old
  spreadsheets and presentations) *and* raster images (BMP, GIF, PCX …, through Draw): one kept tool
  that imports all of them, places an image unscaled on a page without re-encoding its pixels, and
  exports PDF/A-2b directly.  Many documents per process: :mod:`noarkpack.conversion.pool`.
* **Ghostscript** for plain PDF → PDF/A-2b: it re-writes the PDF it reads and embeds the output
  intent; LibreOffice would import a PDF as editable drawing shapes, which loses fidelity.  One
  process per file: its start-up is some 50 ms (docs/performance.md, "Conversion at scale"), and
  pdfwrite cannot switch its output file between inputs within one process.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
import weakref
from functools import lru_cache
from pathlib import Path

from ..documents import Identification
from ..errors import DocumentError
from ..fsutil import pid_alive
from ..locale import N_, tr
from .gsbatch import GS_PDFA

PDF_PUIDS = frozenset({"fmt/14", "fmt/15", "fmt/16", "fmt/17", "fmt/18", "fmt/19", "fmt/20", "fmt/276",
                       "fmt/1129", "fmt/1451"})
#: the "filter" of a plain PDF in a batch (noarkpack.conversion.pool.PoolItem): Ghostscript converts it
GHOSTSCRIPT = "ghostscript"
#: LibreOffice's PDF export option for PDF/A-2b (SelectPdfVersion 2)
PDF_EXPORT = '"SelectPdfVersion":{"type":"long","value":"2"}'


class ConverterMissing(DocumentError):
    """A conversion tool is not installed."""


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


def require_libreoffice() -> str:
    tool = libreoffice_version()
    if tool is None:
        raise ConverterMissing(tr("LibreOffice is not installed (needed to convert office files and images)"),
                               hint=tr("apt-get install libreoffice-writer-nogui libreoffice-draw-nogui"))
    return tool


def require_ghostscript() -> str:
    tool = ghostscript_version()
    if tool is None:
        raise ConverterMissing(tr("Ghostscript is not installed (needed to convert PDF to PDF/A)"),
                               hint=tr("apt-get install ghostscript"))
    return tool


def libreoffice_filter(ident: Identification) -> str:
    """The PDF export filter of the LibreOffice module that imports ``ident``'s format."""
    mime = ident.mime or ""
    if mime.startswith("image/"):
        return "draw_pdf_Export"
    if "spreadsheet" in mime or "excel" in mime or "lotus" in mime:
        return "calc_pdf_Export"
    if "presentation" in mime or "powerpoint" in mime:
        return "impress_pdf_Export"
    return "writer_pdf_Export"


_libreoffice_filter = libreoffice_filter  # the name before the package split
_lo_profiles = threading.local()
#: the name of a private temporary folder: ``noarkpack-lo-<pid>.<host>-…`` (its owner, for sweep_stale)
LO_PREFIX = "noarkpack-lo-"
_HOST = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:8]


def private_temp(prefix: str, dir: Path | None = None) -> Path:
    """A new folder ``<prefix><pid>.<host>-…`` in ``dir`` (the system's temporary folder by default).

    The owner in its name lets :func:`sweep_stale` remove what a killed process left: LibreOffice's profile
    and its temporary files may hold pieces of the documents it read (confidential data hygiene).
    """
    for kind in (LO_PREFIX, "noarkpack-lopool-"):
        sweep_stale(kind, dir)  # rare (a pool, a thread's first conversion) and cheap: every time
    return Path(tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}.{_HOST}-", dir=dir))


def sweep_stale(prefix: str, dir: Path | None = None) -> None:
    """Remove the folders ``<prefix><pid>.<host>-…`` in ``dir`` of processes of this machine that are gone."""
    root = Path(dir or tempfile.gettempdir())
    try:
        found = list(root.glob(prefix + "*"))
    except OSError:
        return
    for p in found:
        pid, _, host = p.name[len(prefix):].split("-", 1)[0].partition(".")
        if host == _HOST and pid.isdigit() and not pid_alive(int(pid)) and p.is_dir() and not p.is_symlink():
            # A LibreOffice or Ghostscript the killed owner started runs in a session of its own and may still be
            # converting in this folder (and would write its profile back after the removal): stopped first.
            _kill_users_of(p)
            shutil.rmtree(p, ignore_errors=True)


def _kill_users_of(folder: Path) -> None:
    """SIGKILL this machine's processes whose command line or environment names ``folder`` (a stale profile:
    its owner is gone, so they are orphans of a killed run), and wait a little for them to end."""
    import signal

    needle = os.fsencode(str(folder))
    victims = []
    try:
        pids = [int(d) for d in os.listdir("/proc") if d.isdigit()]
    except OSError:
        return  # no /proc: nothing to look through
    for pid in pids:
        if pid == os.getpid():
            continue
        for part in ("cmdline", "environ"):
            try:
                with open(f"/proc/{pid}/{part}", "rb") as fh:
                    if needle in fh.read():
                        os.kill(pid, signal.SIGKILL)
                        victims.append(pid)
                        break
            except OSError:  # gone, or not ours to read or kill
                continue
    deadline = time.monotonic() + 2.0
    while victims and time.monotonic() < deadline:
        victims = [v for v in victims if _running(v)]
        if victims:
            time.sleep(0.02)


def _running(pid: int) -> bool:
    """``pid`` exists and is not a zombie."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[-1].split()[0] != b"Z"
    except OSError:
        return False


class _Profile:
    """A LibreOffice user profile (and TMPDIR) of one thread, removed when the thread ends or the process exits."""

    def __init__(self) -> None:
        self.path = private_temp(LO_PREFIX)
        (self.path / "tmp").mkdir()
        self._remove = weakref.finalize(self, shutil.rmtree, str(self.path), True)


def _lo_profile() -> Path:
    """A LibreOffice user profile per thread: two soffice processes cannot share one.  It is reused by the
    thread's conversions (a fresh profile costs seconds at LibreOffice's first start) and removed with the
    thread's locals when the thread ends, or at the process's exit; one a killed process left is swept by
    the next (:func:`sweep_stale`)."""
    prof = getattr(_lo_profiles, "profile", None)
    if prof is None:
        prof = _lo_profiles.profile = _Profile()
    return prof.path


def lo_env(profile: Path) -> dict[str, str]:
    """The environment of a LibreOffice (or Ghostscript) process: its HOME and its temporary files in its own
    profile folder, which is removed, never in the shared /tmp."""
    tmp = profile / "tmp"
    tmp.mkdir(parents=True, exist_ok=True)
    return {**os.environ, "HOME": str(profile), "TMPDIR": str(tmp)}


def _run(cmd: list[str], timeout: float, what: str) -> None:
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                           stdin=subprocess.DEVNULL, env=lo_env(_lo_profile()))
    except subprocess.TimeoutExpired:
        raise DocumentError(tr("{tool} took longer than {timeout:.0f} s and was stopped", tool=what,
                               timeout=timeout)) from None
    if r.returncode != 0:
        tail = (r.stderr or r.stdout).strip().splitlines()[-1:]
        if not tail:
            raise DocumentError(tr("{tool} failed: no message", tool=what))
        raise DocumentError(tr("{tool} failed: {output}", tool=what, output=tail[0][:200]))


def ghostscript_pdfa(src: Path, out: Path, timeout: float) -> str:
    """Plain PDF ``src`` → PDF/A-2b ``out`` with Ghostscript; returns the tool with its version."""
    tool = require_ghostscript()
    _run(["gs", *GS_PDFA, f"-sOutputFile={out}", str(src)], timeout, "Ghostscript")
    return tool


def convert_file(src: Path, ident: Identification, out_dir: Path, timeout: float = 120.0) -> tuple[Path, str]:
    """Convert ``src`` to PDF/A-2b in ``out_dir`` (one process for this file); returns (output, tool)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if ident.puid in PDF_PUIDS:
        out = out_dir / "converted.pdf"
        tool = ghostscript_pdfa(src, out, timeout)
    else:
        tool = require_libreoffice()
        # LibreOffice names its output after the input: give it a neutral input name.
        work = out_dir / "in"
        work.mkdir(exist_ok=True)
        staged = work / f"document{src.suffix.lower() or '.bin'}"
        shutil.copyfile(src, staged)
        flt = libreoffice_filter(ident)
        _run(["soffice", "--headless", "--norestore", f"-env:UserInstallation={_lo_profile().as_uri()}",
              "--convert-to", f"pdf:{flt}:{{{PDF_EXPORT}}}", "--outdir", str(out_dir), str(staged)],
             timeout, "LibreOffice")
        shutil.rmtree(work, ignore_errors=True)
        out = out_dir / "document.pdf"
        if not out.is_file():
            # LibreOffice exits 0 when it cannot load a file (corrupt, password-protected).
            raise DocumentError(tr(NOT_OPENED))
    if not out.is_file() or out.stat().st_size == 0:
        raise DocumentError(tr("{tool} produced no output", tool=tool))
    return out, tool


#: the reason LibreOffice gives none for (it exits 0): a msgid, translated where it is used (``tr(NOT_OPENED)``)
NOT_OPENED = N_("LibreOffice could not open the file (corrupt or password-protected?)")
