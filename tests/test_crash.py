"""kill -9 at any moment leaves nothing incomplete under a final name, and a rerun succeeds (issue 9)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from . import builders

NOARKPACK = [sys.executable, "-m", "noarkpack.cli", "--quiet"]


@pytest.fixture(scope="module")
def synth(tmp_path_factory) -> Path:
    return builders.synth_project(tmp_path_factory.mktemp("synth"), journals=150, entries=12, doc_kb=24)


def _final_names(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if not p.name.startswith(".")] if folder.exists() else []


def _check_no_broken_final(out: Path) -> None:
    """Whatever carries a final name must be complete: a tar that verifies (fixity and structure)."""
    finals = _final_names(out)
    for tar in [p for p in finals if p.suffix == ".tar"]:
        if not tar.with_suffix(".xml").exists():
            continue  # killed between the two renames: the tar is whole, the description not yet placed
        r = subprocess.run([*NOARKPACK, "verify", str(tar), "--no-content"], capture_output=True, text=True)
        assert r.returncode == 0, f"a package under its final name does not verify:\n{r.stdout}{r.stderr}"
    assert not [p for p in finals if p.suffix not in (".tar", ".xml")], finals


def _run_and_kill(args: list[str], after: float) -> int | None:
    proc = subprocess.Popen([*NOARKPACK, *args], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(after)
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    return proc.wait()


def test_kill_9_during_package(synth, tmp_path, monkeypatch):
    # the same package byte for byte: its time fixed on purpose (the real time otherwise: noarkpack.clock)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1709290800")
    out = tmp_path / "pkg"
    t0 = time.monotonic()
    r = subprocess.run([*NOARKPACK, "package", str(synth), "--out", str(tmp_path / "ref")], capture_output=True,
                       text=True)
    full = time.monotonic() - t0
    assert r.returncode == 0, r.stderr
    killed = 0
    for fraction in (0.15, 0.35, 0.55, 0.75, 0.9):
        code = _run_and_kill(["package", str(synth), "--out", str(out)], full * fraction)
        killed += code == -signal.SIGKILL
        _check_no_broken_final(out)
        if code == 0:  # it finished before the kill: start over for the next moment
            for p in _final_names(out):
                p.unlink()
    assert killed >= 3, "the run was too fast to be killed mid-way"
    # A rerun after the last kill starts cleanly and gives the same package as an undisturbed run.
    r = subprocess.run([*NOARKPACK, "package", str(synth), "--out", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    (tar,) = [p for p in _final_names(out) if p.suffix == ".tar"]
    (ref,) = [p for p in _final_names(tmp_path / "ref") if p.suffix == ".tar"]
    assert tar.read_bytes() == ref.read_bytes()
    r = subprocess.run([*NOARKPACK, "verify", str(tar)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout
    assert not [p for p in tmp_path.iterdir() if ".work-" in p.name], "stale work folders left beside OUT"


def test_kill_9_during_extract(synth, tmp_path):
    out = tmp_path / "x"
    for after in (0.5, 1.5, 3.0):
        _run_and_kill(["extract", str(synth), "--out", str(out)], after)
        final = out / "avleveringspakke"
        if final.exists():
            # Killed after the final rename (or finished): what carries the final name must be complete.
            r = subprocess.run([*NOARKPACK, "validate", str(final), "--no-identify"], capture_output=True, text=True)
            assert r.returncode == 0, f"a killed extract left an incomplete avleveringspakke/:\n{r.stdout}"
            final.rename(out / f".done-{after}")
    r = subprocess.run([*NOARKPACK, "extract", str(synth), "--out", str(out)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in _final_names(out)) == ["avleveringspakke"]
    r = subprocess.run([*NOARKPACK, "validate", str(out / "avleveringspakke"), "--no-identify"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout
