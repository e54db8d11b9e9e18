"""Conversion on Dask distributed (issue 19): a LocalCluster of two worker processes, and a `dask scheduler` with
two `dask worker` processes, one killed mid-run.  Every document converted once, nothing lost, the extract
converts nothing and is the same on every run; the same entries as a local run."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
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
        with distributed.Client(lc) as client:
            # one LibreOffice instance per thread a worker offers, not per core of the machine
            sizes = client.run(lambda: __import__("noarkpack.conversion.cluster", fromlist=["_pool"])._pool().workers)
        assert sorted(sizes.values()) == [1, 1]
    assert "Dask" in run.where and "workers: 2" in run.where
    assert run.converted == sp.distinct_to_convert(root) and not run.failures
    got = sp.entries(_cache(root))
    assert got == _local_entries(tmp_path)  # the same sources, formats and tools as on this machine
    _extract_twice(root, tmp_path)


def _store_rows(root: Path) -> list[tuple]:
    db = sqlite3.connect(root / ".noarkpack" / "identification.sqlite")
    try:
        return db.execute("SELECT * FROM ident ORDER BY key").fetchall()
    finally:
        db.close()


def _no_siegfried_here(monkeypatch) -> None:
    """Siegfried in this process fails the test: every identification must come from the workers or the store."""
    from noarkpack import documents

    def refuse(*args, **kwargs):
        raise AssertionError("Siegfried ran on the machine that runs convert/extract")

    monkeypatch.setattr(documents, "_identify", refuse)
    monkeypatch.setattr(documents, "identify_files", refuse)


def test_identification_on_the_workers_equals_a_local_one(tmp_path, monkeypatch):
    """`convert --scheduler` identifies the documents on the workers (their bytes travel): the store then
    holds what a local identification writes, row for row, and the extract after it identifies nothing."""
    from noarkpack import prepass

    root = sp.write_project(tmp_path / "proj")
    (root / "dok" / ".utenendelse").write_bytes((root / "dok" / "notat1.rtf").read_bytes())  # Go's Ext: whole name
    with monkeypatch.context() as m, \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as lc:
        _no_siegfried_here(m)
        run = convert_project(root, scheduler=lc.scheduler_address, batch_size=3)
        _no_task_folders_left(lc)
        with distributed.Client(lc) as client:
            # one LibreOffice instance per thread a worker offers, not per core of the machine
            sizes = client.run(lambda: __import__("noarkpack.conversion.cluster", fromlist=["_pool"])._pool().workers)
        assert sorted(sizes.values()) == [1, 1]
    assert run.identified == len(list((root / "dok").iterdir())) - 1 + 1  # notat0 twice, .utenendelse unused
    assert run.converted == sp.distinct_to_convert(root) - 1 and not run.failures
    on_cluster = _store_rows(root)
    assert len(on_cluster) == len(list((root / "dok").iterdir())) - 1  # every referenced file, once

    # the same project identified on this machine, from an empty store: the same rows
    (root / ".noarkpack" / "identification.sqlite").unlink()
    for extra in ("-wal", "-shm"):
        (root / ".noarkpack" / f"identification.sqlite{extra}").unlink(missing_ok=True)
    local = convert_project(root, workers=2)
    assert local.converted == 0 and local.identified == run.identified
    assert _store_rows(root) == on_cluster

    # the identification of a file nobody references, on a worker and here: the same (extension match)
    from noarkpack.conversion.cluster import ClusterIdentifier
    from noarkpack.documents import identify_files

    odd = [root / "dok" / ".utenendelse", root / "dok" / "notat1.rtf", root / "dok" / "skann0.bmp"]
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as lc, \
            distributed.Client(lc) as client:
        assert ClusterIdentifier(client)(odd) == identify_files(odd)

    # the extract after the cluster's convert: no Siegfried, no prepass child, every document from the store
    started = []
    monkeypatch.setattr(prepass.Prepass, "start", lambda self: started.append(1))
    _no_siegfried_here(monkeypatch)
    x = extract_project(load_project(root), tmp_path / "x")
    assert not started and x.conversion is None
    assert x.result.converted == sp.distinct_to_convert(root)  # notat0 twice, .utenendelse unused: -1 +1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(args: list[str], log: Path) -> subprocess.Popen:
    dask = shutil.which("dask", path=str(Path(sys.executable).parent)) or "dask"
    return subprocess.Popen([dask, *args], stdout=open(log, "wb"), stderr=subprocess.STDOUT, start_new_session=True,
                            stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("stage", ["identify", "convert"])
def test_scheduler_and_two_workers_one_killed_mid_run(tmp_path, monkeypatch, stage):
    """One worker killed while the identification (or the conversion) tasks are in flight: nothing lost."""
    from noarkpack.conversion import cluster

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

        def kill_victim() -> None:
            if victim.poll() is None:
                os.killpg(victim.pid, signal.SIGKILL)
                victim.wait()

        def kill_one_worker(label: str, done: int, total: int | None = None) -> None:
            # the first results are in: one worker (its nanny, its process, its LibreOffice) dies mid-run
            if stage == "convert" and label.startswith("convert ") and done >= 2:
                kill_victim()

        if stage == "identify":
            # a task a document, four in flight: the first identification result is in, the others are on the
            # workers when one of them dies; no document is identified on this machine instead
            monkeypatch.setattr(cluster, "IDENTIFY_BATCH", 1)
            release = distributed.Future.release

            def release_and_kill(fut, *a, **kw):
                kill_victim()
                return release(fut, *a, **kw)

            monkeypatch.setattr(distributed.Future, "release", release_and_kill)
            _no_siegfried_here(monkeypatch)

        run = convert_project(root, scheduler=address, batch_size=2, progress=kill_one_worker)
        assert victim.poll() is not None, "the worker was never killed"
        monkeypatch.undo()
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
    assert run.identified == len(list((root / "dok").iterdir())) + 1  # notat0 twice
    assert len(_store_rows(root)) == len(list((root / "dok").iterdir()))
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


def test_a_batch_of_large_sources_is_cut_into_tasks_of_bounded_bytes(tmp_path):
    """A conversion task's bytes are held in memory on the client and the worker: a batch is cut, in order, into
    tasks of at most TASK_BYTES (a source larger than that goes alone)."""
    from noarkpack.conversion.cluster import _bounded
    from noarkpack.conversion.pool import PoolItem

    items = []
    for name, size in (("a", 10), ("b", 10), ("c", 10), ("d", 50), ("e", 5)):
        (tmp_path / name).write_bytes(b"x" * size)
        items.append(PoolItem(name, tmp_path / name, "writer_pdf_Export"))
    cut = _bounded(items, 25)
    assert [[it.key for it in task] for task in cut] == [["a", "b"], ["c"], ["d"], ["e"]]
    assert _bounded(items, 1000) == [items] and _bounded([], 25) == []
