"""``noarkpack convert PROJECT`` (issue 19): identification and conversion into the caches ahead of the extract,
resumable after a kill, measured rates for analyse's estimate; the extract then converts nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from noarkpack.cli import app
from noarkpack.formats import PDFA_PUIDS
from noarkpack.pipeline import analyse_project, convert_project, extract_project
from noarkpack.project import load_project

from . import conversion_scale_project as sp


@pytest.fixture
def project(tmp_path) -> Path:
    return sp.write_project(tmp_path / "proj")


def _cache(root: Path) -> Path:
    return root / ".noarkpack" / "konvertert"


def test_convert_fills_the_cache_and_the_extract_converts_nothing(project, tmp_path):
    r = CliRunner().invoke(app, ["convert", str(project), "--workers", "2"])
    assert r.exit_code == 0, r.output
    assert "Conversion (local, 2 LibreOffice)" in r.output and "fmt/45" in r.output
    got = sp.entries(_cache(project))
    assert len(got) == sp.distinct_to_convert(project)
    assert {tool for _, _, tool in got.values()} == {"LibreOffice", "GPL"}
    assert all(out in PDFA_PUIDS for _, out, _ in got.values())
    rates = json.loads((_cache(project) / "rates.json").read_text(encoding="utf-8"))
    assert rates["fmt/45"]["documents"] == 9 and rates["fmt/45"]["seconds"] > 0
    # nothing of the run is left in the cache but its entries, their locks and the rates
    assert not [p for p in _cache(project).iterdir() if p.name.startswith((".work-", ".spool-", ".batch-"))]

    again = convert_project(project)
    assert again.converted == 0 and not again.failures
    assert sum(f.reused for f in again.formats.values()) == sp.distinct_to_convert(project) + 1  # notat0 twice

    run = extract_project(load_project(project), tmp_path / "out")
    assert run.result.converted == sp.distinct_to_convert(project) + 1
    assert run.conversion is None  # every conversion came from the cache: none ran in the extract
    first = (tmp_path / "out" / "avleveringspakke" / "arkivstruktur.xml").read_bytes()
    extract_project(load_project(project), tmp_path / "again")
    assert (tmp_path / "again" / "avleveringspakke" / "arkivstruktur.xml").read_bytes() == first


def test_analyse_estimates_the_conversion_time_from_measured_rates(project):
    before = analyse_project(project).counts["conversion"]["estimate"]
    assert before["by_format"]["fmt/45"]["source"] == "default" and before["seconds"] > 0
    convert_project(project, workers=1)
    after = analyse_project(project)
    est = after.counts["conversion"]["estimate"]
    assert est["by_format"]["fmt/45"]["source"] == "measured"
    assert est["by_format"]["fmt/45"]["documents"] == sp.distinct_to_convert(project) - 3  # the RTF files
    assert any("estimated conversion time" in line for line in after.summary_lines())


def test_a_killed_convert_goes_on_where_it_stopped(tmp_path):
    root = sp.write_project(tmp_path / "proj", notes=16, scans=0)
    code = ("import sys; from noarkpack.pipeline import convert_project; "
            "convert_project(sys.argv[1], workers=1, batch_size=2)")
    proc = subprocess.Popen([sys.executable, "-c", code, str(root)], start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 180
        # three whole entries (the file, then its record): a PDF whose record is not written yet when the
        # run is killed is not an entry, and is made again by the next run
        while len([m for m in _cache(root).glob("*.json") if m.name != "rates.json"]) < 3:
            assert proc.poll() is None, "the run ended before it could be killed"
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the run and its LibreOffice
        proc.wait()
    before = sp.entries(_cache(root))
    assert 3 <= len(before) < sp.distinct_to_convert(root)
    left = [p for p in _cache(root).iterdir() if p.name.startswith((".work-", ".spool-"))]
    assert left  # the killed run's working folders (with copies of documents in them)
    profiles = list(Path(tempfile.gettempdir()).glob(f"noarkpack-lopool-{proc.pid}.*"))
    assert profiles  # and its LibreOffice profiles (their temporary files may hold pieces of documents)
    run = convert_project(root, workers=2)
    assert not [p for p in left + profiles if p.exists()]  # removed by the next run
    assert run.converted == sp.distinct_to_convert(root) - len(before) and not run.failures
    after = sp.entries(_cache(root))
    assert len(after) == sp.distinct_to_convert(root) and all(after[k] == v for k, v in before.items())


def test_a_document_libreoffice_cannot_open_is_refused_by_sha_not_name(tmp_path):
    root = sp.write_project(tmp_path / "proj", notes=2, scans=0)
    (root / "dok" / "notat1.rtf").write_text(r"{\rtf1\ansi \pict\wmetafile8 ", encoding="ascii")  # cut short
    r = CliRunner().invoke(app, ["convert", str(root)])
    assert r.exit_code == 1, r.output
    assert "refused: fmt/" in r.output and "could not open the file" in r.output
    assert "notat1" not in r.output  # file names may carry a patient's name: the source's SHA-256 instead
    assert len(sp.entries(_cache(root))) == sp.distinct_to_convert(root) - 1  # the rest of its batch converted


def test_the_sweep_stops_an_orphaned_converter_before_it_removes_its_folder(tmp_path):
    """A killed run's LibreOffice runs on in a session of its own and would write its profile back after the next
    run removed it: the sweep kills the processes that name the stale folder, then removes it."""
    from noarkpack.conversion.tools import _HOST, sweep_stale

    gone = subprocess.Popen(["true"])
    gone.wait()  # a pid whose process is gone: the killed run
    stale = tmp_path / f"noarkpack-lopool-{gone.pid}.{_HOST}-abc123"
    (stale / "p0").mkdir(parents=True)
    orphan = subprocess.Popen(["sleep", "60"], env={**os.environ, "HOME": str(stale / "p0")},
                              start_new_session=True)
    bystander = subprocess.Popen(["sleep", "60"], start_new_session=True)
    try:
        sweep_stale("noarkpack-lopool-", tmp_path)
        assert orphan.wait(timeout=5) == -signal.SIGKILL
        assert not stale.exists()
        assert bystander.poll() is None  # a process that does not name the folder is left alone
    finally:
        for p in (orphan, bystander):
            if p.poll() is None:
                p.kill()
            p.wait()
