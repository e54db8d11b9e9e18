"""Conversion on Dask distributed (issue 19): a LocalCluster of two worker processes, and a `dask scheduler` with
two `dask worker` processes, one killed mid-run.  Every document converted once, nothing lost, the extract
converts nothing and is the same on every run; the same entries as a local run."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from noarkpack.pipeline import convert_project, extract_project
from noarkpack.project import load_project

from . import conversion_scale_project as sp

distributed = pytest.importorskip("distributed", reason="the extra noarkpack[cluster] (.ci/run installs it)")


def _cache(root: Path) -> Path:
    return root / ".noarkpack" / "konvertert"


def _local_entries(tmp_path: Path, **kw) -> dict:
    root = sp.write_project(tmp_path / "local", **kw)
    convert_project(root, workers=2)
    return {k: v for k, v in sp.entries(_cache(root)).items()}


def _no_task_folders_left(cluster) -> None:
    """Every task's folder is removed; what else the workers wrote (their LibreOffice profiles) is in their
    own Dask folders, which Dask removes with the workers."""
    folders = cluster.scheduler_info and [w.get("local_directory") for w in
                                          cluster.scheduler_info["workers"].values()]
    for folder in filter(None, folders):
        assert not list(Path(folder).glob("noarkpack-task-*"))


def _extract_twice(root: Path, tmp_path: Path) -> None:
    run = extract_project(load_project(root), tmp_path / "x1")
    assert run.conversion is None  # every conversion came from the cluster's cache entries
    extract_project(load_project(root), tmp_path / "x2")
    one, two = tmp_path / "x1" / "avleveringspakke", tmp_path / "x2" / "avleveringspakke"
    files = sorted(p.relative_to(one) for p in one.rglob("*") if p.is_file())
    assert files == sorted(p.relative_to(two) for p in two.rglob("*") if p.is_file())
    assert all((one / f).read_bytes() == (two / f).read_bytes() for f in files)


def test_local_cluster_of_two_worker_processes(tmp_path):
    root = sp.write_project(tmp_path / "proj")
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as lc:
        run = convert_project(root, scheduler=lc.scheduler_address, batch_size=3)
        _no_task_folders_left(lc)
    assert "Dask" in run.where and "2 workers" in run.where
    assert run.converted == sp.distinct_to_convert(root) and not run.failures
    got = sp.entries(_cache(root))
    assert got == _local_entries(tmp_path)  # the same sources, formats and tools as on this machine
    _extract_twice(root, tmp_path)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(args: list[str], log: Path) -> subprocess.Popen:
    dask = shutil.which("dask", path=str(Path(sys.executable).parent)) or "dask"
    return subprocess.Popen([dask, *args], stdout=open(log, "wb"), stderr=subprocess.STDOUT, start_new_session=True,
                            stdin=subprocess.DEVNULL)


def test_scheduler_and_two_workers_one_killed_mid_run(tmp_path):
    root = sp.write_project(tmp_path / "proj", notes=12, scans=2)
    address = f"tcp://127.0.0.1:{_free_port()}"
    procs = [_start(["scheduler", "--host", "127.0.0.1", "--port", address.rsplit(":", 1)[1],
                     "--no-dashboard"], tmp_path / "scheduler.log")]
    try:
        client = None
        deadline = time.monotonic() + 60
        while client is None:
            try:
                client = distributed.Client(address, timeout=2)
            except OSError:
                assert time.monotonic() < deadline, (tmp_path / "scheduler.log").read_text()
        for n in range(2):
            procs.append(_start(["worker", address, "--nworkers", "1", "--nthreads", "1", "--no-dashboard",
                                 "--name", f"w{n}"], tmp_path / f"worker{n}.log"))
        client.wait_for_workers(2, timeout=60)
        client.close()
        victim = procs[2]

        def kill_one_worker(stage: str, done: int, total: int | None = None) -> None:
            # the first results are in: one worker (its nanny, its process, its LibreOffice) dies mid-run
            if stage.startswith("convert ") and done >= 2 and victim.poll() is None:
                os.killpg(victim.pid, signal.SIGKILL)
                victim.wait()

        run = convert_project(root, scheduler=address, batch_size=2, progress=kill_one_worker)
        assert victim.poll() is not None, "the worker was never killed"
    finally:
        for p in reversed(procs):
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
    # every document converted (committed) once, none lost, none refused
    assert run.converted == sp.distinct_to_convert(root) and not run.failures
    got = sp.entries(_cache(root))
    assert len(got) == sp.distinct_to_convert(root)
    assert got == _local_entries(tmp_path, notes=12, scans=2)
    _extract_twice(root, tmp_path)


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path):
    from typer.testing import CliRunner

    from noarkpack.cli import app

    root = sp.write_project(tmp_path / "proj", notes=1, scans=0)
    address = f"tcp://127.0.0.1:{_free_port()}"  # nobody listens there
    r = CliRunner().invoke(app, ["convert", str(root), "--scheduler", address])
    assert r.exit_code == 2
    assert f"cannot reach the Dask scheduler at {address}" in r.output and "dask scheduler" in r.output
    assert not list(_cache(root).glob("*.pdf"))  # nothing converted on this machine instead
