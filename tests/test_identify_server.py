"""Siegfried in processes of its own (noarkpack.identify_server), as the prepass child uses it (issue 19):
the same identifications as Siegfried in this process, answers in the order sent, no batch lost to a server
that dies, and the prepass child's store complete when one of its servers is killed mid-run."""

from __future__ import annotations

import io
import os
import shutil
import signal
import sys
from pathlib import Path

import pytest

from noarkpack import documents, prepass
from noarkpack.identify_server import SiegfriedPool, SiegfriedServer

from . import builders


@pytest.fixture(scope="module")
def synth(tmp_path_factory) -> Path:
    return builders.synth_project(tmp_path_factory.mktemp("synth"), journals=12, entries=5, doc_kb=8)


@pytest.fixture(autouse=True)
def fresh_memory(monkeypatch):
    monkeypatch.setattr(documents, "_cache", None)
    monkeypatch.setattr(documents, "_store", None)
    monkeypatch.setattr(documents, "_waiter", None)


def _documents(synth: Path) -> list[Path]:
    return sorted(p for p in (synth / "dokumenter").rglob("*") if p.is_file())


def test_a_server_answers_as_siegfried_here(synth, tmp_path):
    files = _documents(synth)[:40]
    odd = tmp_path / os.fsdecode(b"notat-\xe6\xf8\xe5.pdf")  # a Latin-1 name: not UTF-8
    shutil.copyfile(files[0], odd)
    text = tmp_path / "notat.txt"
    text.write_text("Pasienten er i god form.\n" * 10, encoding="utf-8")
    batch = [*files, odd, text, tmp_path / "gone.pdf"]
    server = SiegfriedServer(workers=1)
    try:
        assert server.submit(batch)
        got = server.result()
    finally:
        server.close()
    assert server.proc.returncode == 0
    assert got == documents.identify_files(batch, workers=1)
    # the Latin-1 name travels (as a surrogate escape) and comes back as Siegfried here sees it
    assert got[-1].puid == "UNKNOWN" and got[-1].error and got[-2].puid == "x-fmt/111"
    assert all(i is not None and i.puid.startswith(("fmt/", "x-fmt/")) for i in got[:-3])


def test_a_pool_deals_batches_in_turn_and_answers_in_order(synth):
    files = _documents(synth)
    batches = [files[i:i + 7] for i in range(0, 35, 7)]
    pool = SiegfriedPool(servers=2, workers=1)
    try:
        for b in batches:
            assert pool.submit(b)
        assert pool.in_flight == 5 and len({id(s) for s in pool._order}) == 2  # both servers got work
        answers = [pool.result() for _ in batches]
    finally:
        pool.close()
    assert answers == [documents.identify_files(b, workers=1) for b in batches]
    assert pool.in_flight == 0


def test_a_killed_server_loses_no_batch(synth):
    """A batch with a server that dies is answered None (its caller identifies it); the next batches go to the
    server that is left."""
    files = _documents(synth)
    pool = SiegfriedPool(servers=2, workers=1)
    try:
        first, second = pool.servers
        assert pool.submit(files[:5])  # to the first server, still starting
        os.kill(first.proc.pid, signal.SIGKILL)
        first.proc.wait()
        assert pool.submit(files[5:10])  # to the second
        assert pool.result() is None
        assert pool.servers == [second]
        assert pool.result() == documents.identify_files(files[5:10], workers=1)
        assert pool.submit(files[10:15]) and pool.result() == documents.identify_files(files[10:15], workers=1)
        os.kill(second.proc.pid, signal.SIGKILL)
        second.proc.wait()
        assert not pool.submit(files[15:20]) and not pool.servers  # none left: the caller does it itself
    finally:
        pool.close()


def test_the_prepass_store_is_complete_when_a_server_is_killed_mid_run(synth, tmp_path, monkeypatch):
    """prepass._child in this process, its first Siegfried server SIGKILLed after its first batch: every
    document is in the store, identified as Siegfried here identifies it."""
    store_path = tmp_path / "identification.sqlite"
    monkeypatch.setattr(prepass, "BATCH", 8)
    killed: list[int] = []
    real_submit = SiegfriedPool.submit

    def submit_then_kill(self, paths):
        ok = real_submit(self, paths)
        if not killed:
            victim = self.servers[0]
            os.kill(victim.proc.pid, signal.SIGKILL)
            victim.proc.wait()
            killed.append(victim.proc.pid)
        return ok

    monkeypatch.setattr(SiegfriedPool, "submit", submit_then_kill)
    r, w = os.pipe()  # the child's stdin: never written, so it never tells the child to stop
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(open(r, "rb")))
    try:
        stats = prepass._child({"root": str(synth), "store": str(store_path), "database": None, "cache": None,
                                "timeout": None, "workers": None})
    finally:
        os.close(w)
    files = _documents(synth)
    assert killed and stats["identified"] == len(files)
    store = documents.IdentificationStore(store_path)
    try:
        keys = [documents._IdentificationCache.key(p) for p in files]
        assert [store.get(k) for k in keys] == documents.identify_files(files, workers=1)
    finally:
        store.close()


def test_a_pool_identifies_a_list_in_shares_and_a_dead_server_s_share_here(synth):
    files = _documents(synth)[:30]
    pool = SiegfriedPool(servers=2, workers=1)
    try:
        assert pool.identify(files) == documents.identify_files(files, workers=1)
        assert pool.identify([]) == []
        victim = pool.servers[0]
        os.kill(victim.proc.pid, signal.SIGKILL)
        victim.proc.wait()
        assert pool.identify(files) == documents.identify_files(files, workers=1)
    finally:
        pool.close()


def test_analyse_identifies_in_the_servers(synth, tmp_path, monkeypatch):
    """noarkpack analyse's identification runs in Siegfried servers, not in the analysing process: the same
    formats and the same store as Siegfried here."""
    from noarkpack.analysis import analyse
    from noarkpack.project import load_project

    project = shutil.copytree(synth, tmp_path / "project")
    real = documents.identify_files
    expected = real(_documents(project), workers=1)

    def refuse(*args, **kwargs):
        raise AssertionError("Siegfried ran in the analysing process")

    monkeypatch.setattr(documents, "identify_files", refuse)
    monkeypatch.setattr(documents, "_identify", refuse)
    a = analyse(load_project(project))
    counted = {puid: f["files"] for puid, f in a.counts["formats"].items()}
    want: dict[str, int] = {}
    for ident in expected:
        want[ident.puid] = want.get(ident.puid, 0) + 1
    assert counted == want
    store = documents.IdentificationStore(project / ".noarkpack" / "identification.sqlite")
    try:
        keys = [documents._IdentificationCache.key(p) for p in _documents(project)]
        assert [store.get(k) for k in keys] == expected
    finally:
        store.close()
