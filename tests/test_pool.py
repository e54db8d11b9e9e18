"""The resident LibreOffice pool (issue 19): batches, a crash and a hang mid-batch, restart after N, and
the same cache results as one conversion per process.  Real LibreOffice, small documents."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pygfried
import pytest

from noarkpack.conversion import ConversionCache, LibreOfficePool, PoolItem, convert_all
from noarkpack.documents import identify
from noarkpack.errors import DocumentError
from noarkpack.formats import PDFA_PUIDS


def _rtf(path: Path, text: str, lines: int = 1) -> Path:
    body = " ".join(f"{text} {i}, lorem ipsum dolor sit amet.\\par" for i in range(lines))
    path.write_text("{\\rtf1\\ansi\\deff0 {\\fonttbl {\\f0 Times New Roman;}}\\f0\\fs24 " + body + "}",
                    encoding="ascii")
    return path


@pytest.fixture(scope="module")
def notes(tmp_path_factory) -> list[Path]:
    d = tmp_path_factory.mktemp("notes")
    return [_rtf(d / f"notat{n}.rtf", f"Notat {n} om pasienten") for n in range(8)]


def _run(pool: LibreOfficePool, items: list[PoolItem], work: Path) -> dict:
    got: dict = {}

    def on_result(key, out, tool, seconds):
        assert key not in got, f"{key} reported twice"
        if isinstance(out, Path):
            assert out.is_file() and out.read_bytes().startswith(b"%PDF")
            got[key] = pygfried.identify(str(out))
        else:
            got[key] = out

    work.mkdir(exist_ok=True)
    pool.convert(items, work, on_result)
    return got


def test_batches_convert_every_document_to_pdfa(notes, tmp_path):
    with LibreOfficePool(2, batch_size=4) as pool:
        got = _run(pool, [PoolItem(f"k{n}", p, "writer_pdf_Export") for n, p in enumerate(notes)], tmp_path / "w")
        assert pool.instances == 2 and pool.crashes == 0  # 8 documents, 4 a batch: two LibreOffice starts
    assert sorted(got) == [f"k{n}" for n in range(8)]
    assert all(puid in PDFA_PUIDS for puid in got.values()), got
    assert not list((tmp_path / "w").iterdir())  # the batches' folders are removed


def test_restart_after_n_documents(notes, tmp_path):
    with LibreOfficePool(1, batch_size=3) as pool:
        got = _run(pool, [PoolItem(f"k{n}", p, "writer_pdf_Export") for n, p in enumerate(notes[:7])], tmp_path / "w")
        assert pool.instances == 3  # 3 + 3 + 1
    assert len(got) == 7 and all(v in PDFA_PUIDS for v in got.values())


def test_a_document_libreoffice_cannot_open_is_refused_and_the_batch_kept(notes, tmp_path):
    bad = tmp_path / "ødelagt.docx"
    bad.write_bytes(b"PK\x03\x04\x14\x00\x00\x00" + b"cut short" * 10)  # a zip cut off after its first header
    items = [PoolItem("a", notes[0], "writer_pdf_Export"), PoolItem("bad", bad, "writer_pdf_Export"),
             PoolItem("b", notes[1], "writer_pdf_Export")]
    with LibreOfficePool(1, batch_size=8) as pool:
        got = _run(pool, items, tmp_path / "w")
    assert got["a"] in PDFA_PUIDS and got["b"] in PDFA_PUIDS
    assert isinstance(got["bad"], DocumentError) and "could not open" in got["bad"].message


def test_a_crash_mid_batch_loses_no_document(notes, tmp_path):
    """LibreOffice killed while it converts a batch: what it finished is kept, the rest is converted alone."""
    many = notes + notes[:4]  # 12 documents in one batch (the same content under other keys)
    items = [PoolItem(f"k{n}", p, "writer_pdf_Export") for n, p in enumerate(many)]
    work = tmp_path / "w"
    work.mkdir()
    killed = threading.Event()

    with LibreOfficePool(1, batch_size=len(items)) as pool:
        def crash() -> None:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not killed.is_set():
                outs = list(work.glob(".batch-*/.run-*/out/*.pdf"))
                if len(outs) >= 3 and pool.running:
                    for pid in list(pool.running):
                        os.killpg(pid, signal.SIGKILL)  # LibreOffice and everything it started
                    killed.set()
                time.sleep(0.01)

        t = threading.Thread(target=crash)
        t.start()
        try:
            got = _run(pool, items, work)
        finally:
            killed.set()
            t.join()
        assert pool.crashes, "the batch ended before it could be killed"
        assert pool.crashes == 1
        # the batch; the two it was on when it died, each alone; the rest as a batch again
        assert pool.instances == 4
    assert sorted(got) == sorted(it.key for it in items)
    assert all(v in PDFA_PUIDS for v in got.values()), got


def test_a_hang_past_the_timeout_is_refused_alone_and_the_rest_converted(notes, tmp_path):
    # some 7500 pages: far longer than the budget below, however fast the machine (it is killed at the budget;
    # 1800 pages were converted inside the 9 s a warm LibreOffice has for its first document)
    big = _rtf(tmp_path / "stor.rtf", "Linje om pasienten", lines=250000)
    items = [PoolItem("a", notes[0], "writer_pdf_Export"), PoolItem("big", big, "writer_pdf_Export"),
             PoolItem("b", notes[1], "writer_pdf_Export")]
    # 1 s a document; LibreOffice's own start has 8 s more before the first document's budget runs
    with LibreOfficePool(1, batch_size=8, timeout=1.0, startup=8.0) as pool:
        got = _run(pool, items, tmp_path / "w")
        assert pool.crashes == 2  # the batch, then the big document alone
    assert got["a"] in PDFA_PUIDS and got["b"] in PDFA_PUIDS
    assert isinstance(got["big"], DocumentError) and "longer than 1 s" in got["big"].message


def test_the_pool_gives_the_same_cache_as_one_process_per_file(notes, tmp_path):
    """Batches or one soffice per file: the same entries, formats and tool; a rerun converts nothing."""
    jobs = [(p.name, p, identify(p)) for p in notes[:4]]
    pooled = ConversionCache(tmp_path / "pooled")
    report = convert_all(jobs, pooled, workers=2, batch_size=2)
    assert report.converted == 4 and not report.failures
    single = ConversionCache(tmp_path / "single")
    for _, path, ident in jobs:
        single.convert(path, ident)

    def entries(cache: ConversionCache) -> dict:
        out = {}
        for meta in sorted(cache.folder.glob("*.json")):
            if meta.name == "rates.json":
                continue
            rec = cache.get(meta.stem)[1]
            out[meta.stem] = (rec.source_puid, rec.output_puid, rec.tool, rec.converted_by, rec.output_name)
        return out

    assert entries(pooled) == entries(single) and len(entries(pooled)) == 4
    assert not [p for p in pooled.folder.iterdir() if p.name.startswith((".work-", ".batch-"))]
    again = convert_all(jobs, pooled, workers=2)
    assert again.reused == 4 and again.converted == 0


_LEAVES_NOTHING = r"""
import json, sys, threading
from pathlib import Path
from noarkpack.conversion import ConversionCache, LibreOfficePool, PoolItem
from noarkpack.conversion.tools import LO_PREFIX, convert_file
from noarkpack.documents import identify

tmp, rtf, pdf, cache = map(Path, sys.argv[1:5])
ConversionCache(cache).convert(pdf, identify(pdf))  # Ghostscript, per file, in this (the main) thread
worker = threading.Thread(target=lambda: convert_file(rtf, identify(rtf), cache / "one"))  # soffice per file
worker.start()
worker.join()
print(json.dumps(sorted(p.name for p in tmp.iterdir() if p.name.startswith(LO_PREFIX))))
with LibreOfficePool(1) as pool:
    pool.convert([PoolItem("k", rtf, "writer_pdf_Export")], cache, lambda *a: None)
"""


def test_lo_profiles_and_temporary_files_are_removed(notes, tmp_path):
    """Confidential data hygiene: the per-file path's LibreOffice profiles (one per thread) and LibreOffice's
    and Ghostscript's temporary files are removed when the thread ends and at the process's exit, the pool's
    at its close; what a killed process left is swept by the next one."""
    import subprocess
    import sys

    from noarkpack.conversion.tools import _HOST, LO_PREFIX

    from .conversion_scale_project import plain_pdf

    tmp = tmp_path / "tmp"
    tmp.mkdir()
    dead = subprocess.Popen(["true"])
    dead.wait()  # a process that is gone, and its profile folder left behind (killed mid-conversion)
    stale = tmp / f"{LO_PREFIX}{dead.pid}.{_HOST}-abc"
    (stale / "user").mkdir(parents=True)
    (stale / "user" / "registrymodifications.xcu").write_text("<x/>")
    alive = tmp / f"{LO_PREFIX}{os.getpid()}.{_HOST}-abc"  # this process's: it lives, so it is kept
    alive.mkdir()
    plain_pdf(tmp_path / "plain.pdf", "Henvisning")
    r = subprocess.run([sys.executable, "-c", _LEAVES_NOTHING, str(tmp), str(notes[0]), str(tmp_path / "plain.pdf"),
                        str(tmp_path / "cache")], env={**os.environ, "TMPDIR": str(tmp)}, capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    # after the thread: only the main thread's profile (Ghostscript's HOME) is there, until the exit
    during = set(json.loads(r.stdout.strip().splitlines()[-1])) - {alive.name}
    assert len(during) == 1 and stale.name not in during, r.stdout
    assert sorted(p.name for p in tmp.iterdir()) == [alive.name]  # nothing else left, the stale one swept
    assert (tmp_path / "cache" / "one" / "document.pdf").is_file()


def test_batches_are_split_evenly_over_the_workers():
    """Every worker gets the same number of batches of near-equal size: 48 documents, batches of at most 20 and
    two workers were 20 + 20 + 8 (one worker idle while the other converted the last 8)."""
    from noarkpack.conversion.pool import split_even

    def sizes(n, batch, workers):
        got = split_even(list(range(n)), batch, workers)
        assert [x for b in got for x in b] == list(range(n))  # every document once, in order
        return [len(b) for b in got]

    assert sizes(48, 20, 2) == [12, 12, 12, 12]
    assert sizes(48, 20, 1) == [16, 16, 16]
    assert sizes(8, 4, 2) == [4, 4]
    assert sizes(7, 2, 2) == [2, 2, 2, 1]
    assert sizes(3, 32, 2) == [2, 1]
    assert sizes(1, 32, 4) == [1]
    assert sizes(0, 32, 2) == []


def _text(pdf: Path) -> str:
    """The text Ghostscript reads from ``pdf`` (its txtwrite device)."""
    import subprocess

    r = subprocess.run(["gs", "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-sDEVICE=txtwrite", "-sOutputFile=-",
                        str(pdf)], capture_output=True, text=True, check=True)
    return " ".join(r.stdout.split())


@pytest.fixture(scope="module")
def exported_pdfs(tmp_path_factory) -> list[Path]:
    """Plain PDFs as LibreOffice exports them (the input Ghostscript 10.00.0 crashed on, batched by device switch)."""
    import subprocess

    d = tmp_path_factory.mktemp("pdfs")
    rtf = [_rtf(d / f"henvisning{n}.rtf", f"Henvisning nummer {n}") for n in range(5)]
    subprocess.run(["soffice", "--headless", f"-env:UserInstallation={(d / '.lo').as_uri()}", "--convert-to", "pdf",
                    "--outdir", str(d / "pdf"), *map(str, rtf)], check=True, capture_output=True, timeout=300)
    return sorted((d / "pdf").glob("*.pdf"))


def test_plain_pdfs_go_in_ghostscript_batches_each_to_its_own_pdfa(exported_pdfs, tmp_path):
    """Plain PDF → PDF/A-2b, a batch per process: every output its own document's text, PDF/A, and the same entry
    (formats, tool) as one gs command per file."""
    from noarkpack.conversion.tools import GHOSTSCRIPT, convert_file

    outs: dict = {}
    work = tmp_path / "w"
    work.mkdir()

    def on_result(key, out, tool, seconds):
        assert isinstance(out, Path), out
        outs[key] = (pygfried.identify(str(out)), _text(out), tool)

    with LibreOfficePool(1, batch_size=8) as pool:
        pool.convert([PoolItem(f"k{n}", p, GHOSTSCRIPT) for n, p in enumerate(exported_pdfs)], work, on_result)
        assert pool.instances == 1 and pool.crashes == 0  # five documents, one process
    single = {}
    for n, p in enumerate(exported_pdfs):
        out, tool = convert_file(p, identify(p), tmp_path / f"one{n}")
        single[f"k{n}"] = (pygfried.identify(str(out)), _text(out), tool)
    assert outs == single
    assert [outs[f"k{n}"][1] for n in range(5)] == [f"Henvisning nummer {n} 0, lorem ipsum dolor sit amet."
                                                    for n in range(5)]
    assert all(v[0] in PDFA_PUIDS for v in outs.values())


def test_a_pdf_ghostscript_cannot_read_is_refused_as_alone_and_the_batch_kept(exported_pdfs, tmp_path):
    from noarkpack.conversion.tools import GHOSTSCRIPT, ghostscript_pdfa

    bad = tmp_path / "ødelagt.pdf"
    bad.write_bytes(b"\x00\x01 not a PDF at all " * 40)  # gs stops on it (exit code 1)
    items = [PoolItem("a", exported_pdfs[0], GHOSTSCRIPT), PoolItem("bad", bad, GHOSTSCRIPT),
             PoolItem("b", exported_pdfs[1], GHOSTSCRIPT)]
    with LibreOfficePool(1, batch_size=8) as pool:
        got = _run(pool, items, tmp_path / "w")
        assert pool.instances == 1 and pool.crashes == 0  # the batch went on past it
    assert got["a"] in PDFA_PUIDS and got["b"] in PDFA_PUIDS
    with pytest.raises(DocumentError) as alone:  # one gs command for this file alone
        ghostscript_pdfa(bad, tmp_path / "one.pdf", 120.0)
    assert isinstance(got["bad"], DocumentError) and got["bad"].message == alone.value.message
