"""A pool of LibreOffice instances fed many documents per call (issue 19).

Starting LibreOffice costs about a second; converting a small RTF note, about a tenth of that
(docs/performance.md, "Conversion at scale").  The pool keeps one *profile* per core
(``-env:UserInstallation=file://…``, made once and reused: a fresh profile costs seconds more at the
first start) and gives each LibreOffice process a batch of documents::

    soffice --headless --norestore -env:UserInstallation=file:///tmp/p1 \\
        --convert-to 'pdf:writer_pdf_Export:{"SelectPdfVersion":…}' --outdir OUT d00000.rtf d00001.rtf …

Why batches of ``soffice --convert-to`` and not UNO (``unoserver``): measured on the same machine,
a warm unoserver converts a small RTF in 0.12 s, a batch of 20 in one soffice call in 0.13–0.19 s
each (start-up included), so the gain of UNO is small once batches hold a few dozen documents; UNO
needs Debian's ``python3-uno`` in the *system* Python and unoserver installed beside it, outside the
project's virtualenv, and one hung or crashed UNO call leaves a shared instance to be recovered.  A
process per batch needs no such bridge, and its end is a clean restart.

So every batch is one LibreOffice instance, restarted after ``batch_size`` documents (``N``).  A batch
has the sum of its documents' budgets (``timeout`` each) and every document keeps its own: when no
new output appears for ``timeout`` seconds the instance hangs and is killed.  LibreOffice converts a
batch in order; after a crash or a hang the documents whose output is complete are kept (the last
one written is not trusted: it may be cut short), and every other document of the batch is tried
alone once, in a fresh instance; what fails alone is refused with its reason.  No document of a
batch is lost.  The profile of an instance that crashed or hung is made anew.
"""

from __future__ import annotations

import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from ..errors import DocumentError
from ..fsutil import child_env
from ..locale import current, language, tr
from .gsbatch import libgs_name
from .tools import (
    GHOSTSCRIPT,
    NOT_OPENED,
    PDF_EXPORT,
    ghostscript_pdfa,
    lo_env,
    private_temp,
    require_ghostscript,
    require_libreoffice,
)

#: seconds LibreOffice may take to start (a fresh profile included) before its first document's budget runs
STARTUP = 60.0
#: documents per LibreOffice instance (restart after N).  An instance's start costs about as much as converting
#: 30 small notes (~1 s), so on the same 256 notes batches of 32 convert 2,952 a minute, of 64 4,138, of 128
#: 5,337; 129 scans 1,010 and 1,171 a minute (32, 128).  LibreOffice's peak RSS stayed at 209 MB either way, and
#: a crash or a hang costs no more in a long batch (the documents after it go on in a new instance).
BATCH_SIZE = 128


@dataclass(frozen=True)
class PoolItem:
    key: str  # the caller's key (the source's SHA-256)
    src: Path
    filter: str  # LibreOffice's PDF export filter (tools.libreoffice_filter)


#: (key, output file or the reason it failed, tool with version, seconds this document took)
OnResult = Callable[[str, "Path | DocumentError", str, float], None]


class LibreOfficePool:
    """``workers`` LibreOffice profiles, each converting one batch at a time; a context manager.

    Plain PDF (filter :data:`~noarkpack.conversion.tools.GHOSTSCRIPT`) goes the same way, a batch per process of
    :mod:`noarkpack.conversion.gsbatch` (a Ghostscript instance per document, through libgs); a document it wrote
    nothing for, or crashed or hung on, is converted alone with the ``gs`` command, which gives the reason.
    """

    converts_pdf = True  # plain PDF in Ghostscript batches

    def __init__(self, workers: int | None = None, *, batch_size: int = BATCH_SIZE, timeout: float = 120.0,
                 startup: float = STARTUP, soffice: str = "soffice", temp: Path | None = None) -> None:
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.batch_size = max(1, batch_size)
        self.timeout = timeout
        self.startup = startup
        self.soffice = soffice
        self.instances = 0  # LibreOffice processes started (restarts included)
        self.crashes = 0  # instances that crashed or hung
        self._profiles: queue.Queue[Path] = queue.Queue()
        # the profiles: in ``temp`` when given (a Dask worker's own folder), else the system's
        self._root = private_temp("noarkpack-lopool-", temp)
        for n in range(self.workers):
            self._profiles.put(self._root / f"p{n}")
        #: the running LibreOffice processes (the tests kill one to see a crash handled)
        self.running: dict[int, subprocess.Popen] = {}

    def __enter__(self) -> "LibreOfficePool":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Remove the profiles (every instance has ended with its batch)."""
        shutil.rmtree(self._root, ignore_errors=True)

    def convert(self, items: Iterable[PoolItem], work: Path, on_result: OnResult) -> None:
        """Convert every item to PDF/A-2b under ``work``; ``on_result`` gets each one (from pool threads).

        Items are grouped by filter (one per LibreOffice call) into batches of ``batch_size``.
        """
        by_filter: dict[str, list[PoolItem]] = {}
        for it in items:
            by_filter.setdefault(it.filter, []).append(it)
        batches = []
        for flt, group in by_filter.items():
            tool = require_ghostscript() if flt == GHOSTSCRIPT else require_libreoffice()
            batches += [(b, tool) for b in split_even(group, self.batch_size, self.workers)]
        if not batches:
            return
        lang = current()  # the pool's threads make their messages in the caller's language
        with ThreadPoolExecutor(max_workers=min(self.workers, len(batches)),
                                thread_name_prefix="noarkpack-lo") as ex:
            for fut in [ex.submit(self._batch, b, work, tool, on_result, lang) for b, tool in batches]:
                fut.result()

    # -- one batch ------------------------------------------------------------------------------

    def _batch(self, batch: list[PoolItem], work: Path, tool: str, on_result: OnResult, lang: str) -> None:
        folder = Path(tempfile.mkdtemp(prefix=".batch-", dir=work))
        try:
            with language(lang):
                self._convert_batch(batch, folder, tool, on_result)
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _convert_batch(self, batch: list[PoolItem], folder: Path, tool: str, on_result: OnResult,
                       alone: bool = False) -> None:
        """One instance over ``batch``; after a crash or a hang, the suspects alone and the rest again."""
        gs = batch[0].filter == GHOSTSCRIPT
        if gs and (alone or libgs_name() is None):
            for it in batch:  # one gs command each, as without batches: its own reason when it fails
                self._ghostscript_alone(it, folder, tool, on_result)
            return
        sub = Path(tempfile.mkdtemp(prefix=".run-", dir=folder))
        t0 = time.monotonic()
        done, failed, why = self._run(batch, sub)
        each = (time.monotonic() - t0) / max(1, len(done) + (len(failed) if why == NOT_OPENED else 0))
        for i in done:
            on_result(batch[i].key, sub / "out" / f"d{i:05d}.pdf", tool, each)
        if gs and failed and (why == NOT_OPENED or len(batch) == 1):
            # Ghostscript wrote nothing for these (or stopped on the only one): each alone, with its own reason
            for i in failed:
                self._convert_batch([batch[i]], folder, tool, on_result, alone=True)
            return
        if why == NOT_OPENED or alone or len(batch) == 1:
            for i in failed:
                on_result(batch[i].key, DocumentError(tr(NOT_OPENED) if why == NOT_OPENED else why), tool, each)
            return
        # A crash or a hang: LibreOffice works in order, so it stopped on the first document it did not
        # finish (or on the one after the last output, which is not trusted).  Those are tried alone
        # once; the documents after them go on in a new instance, as a batch.
        wrote_any = any((sub / "out" / f"d{i:05d}.pdf").exists() for i in failed)
        suspects = failed[:2] if done or wrote_any else failed[:1]
        rest = [i for i in failed if i not in suspects]
        shutil.rmtree(sub, ignore_errors=True)
        for i in suspects:
            self._convert_batch([batch[i]], folder, tool, on_result, alone=True)
        if rest:
            self._convert_batch([batch[i] for i in rest], folder, tool, on_result)

    def _run(self, batch: list[PoolItem], folder: Path) -> tuple[list[int], list[int], str]:
        """One LibreOffice instance over ``batch``: (indexes converted, indexes not, why not: NOT_OPENED, the
        untranslated msgid, when LibreOffice ended normally, else the reason, translated)."""
        inp, out = folder / "in", folder / "out"
        inp.mkdir()
        out.mkdir()
        staged = []
        for i, it in enumerate(batch):
            # LibreOffice names its output after the input: neutral names, no patient's name on a command line
            p = inp / f"d{i:05d}{it.src.suffix.lower() or '.bin'}"
            shutil.copyfile(it.src, p)
            staged.append(p)
        outputs = [out / f"d{i:05d}.pdf" for i in range(len(batch))]
        profile = self._profiles.get()
        try:
            profile.mkdir(exist_ok=True)
            env = lo_env(profile)
            if batch[0].filter == GHOSTSCRIPT:
                cmd = [sys.executable, "-m", "noarkpack.conversion.gsbatch", str(out), *map(str, staged)]
                env = child_env(env)
            else:
                cmd = [self.soffice, "--headless", "--norestore", "--nolockcheck",
                       f"-env:UserInstallation={profile.as_uri()}",
                       "--convert-to", f"pdf:{batch[0].filter}:{{{PDF_EXPORT}}}", "--outdir", str(out),
                       *map(str, staged)]
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, env=env, start_new_session=True)
            self.instances += 1
            self.running[proc.pid] = proc
            try:
                rc, hung = self._watch(proc, outputs)
            finally:
                self.running.pop(proc.pid, None)
            if rc != 0 or hung:
                self.crashes += 1
                shutil.rmtree(profile, ignore_errors=True)  # a crashed instance's profile is made anew
        finally:
            self._profiles.put(profile)
        produced = [i for i, o in enumerate(outputs) if o.is_file() and o.stat().st_size > 0]
        if rc == 0 and not hung:
            return produced, [i for i in range(len(batch)) if i not in set(produced)], NOT_OPENED
        # The last output written may be cut short by the crash or the kill: it is converted again.
        trusted = produced[:-1] if produced else []
        why = (tr("LibreOffice took longer than {timeout:.0f} s on the document and was stopped", timeout=self.timeout)
               if hung else _stopped(rc))
        return trusted, [i for i in range(len(batch)) if i not in set(trusted)], why

    def _ghostscript_alone(self, it: PoolItem, folder: Path, tool: str, on_result: OnResult) -> None:
        """One plain PDF with the ``gs`` command, as without batches: its own reason when it fails."""
        out = Path(tempfile.mkdtemp(prefix=".gs-", dir=folder)) / "d.pdf"
        t0 = time.monotonic()
        try:
            ghostscript_pdfa(it.src, out, self.timeout)
            if not out.is_file() or out.stat().st_size == 0:
                raise DocumentError(tr("{tool} produced no output", tool=tool))
        except DocumentError as e:
            on_result(it.key, e, tool, time.monotonic() - t0)
            return
        on_result(it.key, out, tool, time.monotonic() - t0)

    def _watch(self, proc: subprocess.Popen, outputs: list[Path]) -> tuple[int, bool]:
        """Wait for ``proc``: (its exit code, whether it hung and was killed).

        A document's budget is ``timeout``: the instance hangs when no new output has appeared for that
        long (for the first document: ``startup`` more, LibreOffice's own start); the batch as a whole
        has the sum of its documents' budgets.
        """
        start = time.monotonic()
        last = start + self.startup
        seen = 0
        deadline = last + self.timeout * len(outputs)
        while True:
            try:
                return proc.wait(timeout=0.05), False
            except subprocess.TimeoutExpired:
                pass
            now = time.monotonic()
            n = sum(1 for o in outputs[seen:] if o.exists()) + seen
            if n > seen:
                seen, last = n, now
            if now - last > self.timeout or now > deadline:
                _kill(proc)
                return proc.wait(), True


def split_even(group: list, batch_size: int, workers: int) -> list[list]:
    """``group`` in batches of at most ``batch_size``, as many as a multiple of ``workers`` and of even sizes.

    So every worker gets the same share: 48 documents, batches of 20 and two workers were 20 + 20 + 8 (one
    worker idle while the other converted the 8; Dask's two workers ran 1.59× one), now 4 × 12.
    """
    if not group:
        return []
    workers = max(1, workers)
    count = -(-len(group) // max(1, batch_size))
    count = -(-count // workers) * workers  # a multiple of the workers: the same number of batches each
    count = min(count, len(group))
    size, extra = divmod(len(group), count)
    out, start = [], 0
    for n in range(count):
        end = start + size + (1 if n < extra else 0)
        out.append(group[start:end])
        start = end
    return out


def _kill(proc: subprocess.Popen) -> None:
    """Kill LibreOffice with everything it started (its own session: oosplash, soffice.bin)."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        proc.kill()


def _stopped(rc: int) -> str:
    """Why LibreOffice's instance ended before its batch was done: the signal that ended it or its exit code."""
    if rc < 0:
        try:
            name = signal.Signals(-rc).name
        except ValueError:
            name = str(-rc)
        return tr("LibreOffice stopped (signal {signal}) while converting the document", signal=name)
    return tr("LibreOffice stopped (exit code {code}) while converting the document", code=rc)
