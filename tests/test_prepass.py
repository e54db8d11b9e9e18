"""Identification once per file: the project's store, the extract's prepass child, one conversion per source.

Issue 8: every document byte is read once during extraction.  Siegfried's reading is done by the analysis
(or by a child process ahead of the writer) and kept in PROJECT/.noarkpack/identification.sqlite, so the
extract copies and hashes each file and reads it for nothing else.  These tests use real files, real
Siegfried and real child processes; the extract must come out byte-identical whichever path ran.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from noarkpack import documents, pipeline
from noarkpack.conversion import ConversionCache
from noarkpack.documents import IdentificationStore, identify, persistent_identifications
from noarkpack.project import load_project

from . import builders



@pytest.fixture(scope="module")
def synth(tmp_path_factory) -> Path:
    return builders.synth_project(tmp_path_factory.mktemp("synth"), journals=40, entries=6, doc_kb=16)


@pytest.fixture(autouse=True)
def fresh_memory(monkeypatch):
    """Each test starts with an empty in-process cache (what a new command starts with)."""
    monkeypatch.setattr(documents, "_cache", None)
    monkeypatch.setattr(documents, "_store", None)
    monkeypatch.setattr(documents, "_waiter", None)


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def _count_siegfried(monkeypatch) -> list[Path]:
    calls: list[Path] = []
    real = documents._identify

    def counting(path):
        calls.append(Path(path))
        return real(path)

    monkeypatch.setattr(documents, "_identify", counting)
    return calls


def test_store_keeps_results_between_processes_and_forgets_changed_files(tmp_path, monkeypatch):
    a = tmp_path / "a.txt"
    a.write_text("Notat om pasienten.\n" * 20, encoding="utf-8")
    store = tmp_path / "ident.sqlite"
    with persistent_identifications(store):
        first = identify(a)
    assert first.puid == "x-fmt/111"
    # another process sees it without Siegfried
    code = ("import sys; from noarkpack import documents as d\n"
            "d._identify = lambda p: sys.exit('Siegfried was called')\n"
            f"with d.persistent_identifications({str(store)!r}):\n"
            f"    print(d.identify(__import__('pathlib').Path({str(a)!r})).puid)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "x-fmt/111"
    # the same size and mtime, other bytes: the ctime (and so the key) changes, the file is read again
    st = a.stat()
    a.write_bytes(b"%PDF-1.4\n" + b"x" * (st.st_size - 9))
    os.utime(a, ns=(st.st_atime_ns, st.st_mtime_ns))
    monkeypatch.setattr(documents, "_cache", None)
    calls = _count_siegfried(monkeypatch)
    with persistent_identifications(store):
        again = identify(a)
    assert calls == [a] and again.puid  # read again, not taken from the store


def test_store_is_emptied_when_siegfried_changes_and_recreated_when_damaged(tmp_path, monkeypatch):
    a = tmp_path / "a.txt"
    a.write_text("tekst\n" * 10, encoding="utf-8")
    path = tmp_path / "ident.sqlite"
    with persistent_identifications(path):
        identify(a)
    monkeypatch.setattr(documents, "siegfried_release", lambda: "pygfried 99.0")
    s = IdentificationStore(path)
    key = documents._IdentificationCache.key(a)
    assert s.get(key) is None  # another release: nothing reused
    s.close()
    path.write_bytes(b"not a database" * 100)
    for extra in ("-wal", "-shm"):
        Path(f"{path}{extra}").unlink(missing_ok=True)
    s = IdentificationStore(path)  # recreated, not an error
    assert s.get(key) is None
    s.close()


def test_extract_after_analyse_reads_no_document_for_identification(synth, tmp_path, monkeypatch):
    """The analysis identifies; the extract (parent and child) finds every file in the store."""
    reference = tmp_path / "reference"
    project = load_project(synth)
    pipeline.extract_project(project, reference)  # cold: the prepass child identifies
    (synth / ".noarkpack" / "identification.sqlite").unlink()
    for extra in ("-wal", "-shm"):
        Path(f"{synth}/.noarkpack/identification.sqlite{extra}").unlink(missing_ok=True)

    from noarkpack.analysis import analyse

    analyse(load_project(synth))
    monkeypatch.setattr(documents, "_cache", None)
    monkeypatch.setattr(documents, "_identify", lambda p: pytest.fail(f"Siegfried read {p} again"))
    from noarkpack import prepass

    # Every document is known and nothing is left to convert: the prepass child is never started.
    monkeypatch.setattr(prepass, "start_child", lambda *a: pytest.fail("the prepass child was started"))
    warm = tmp_path / "warm"
    run = pipeline.extract_project(load_project(synth), warm)
    assert run.result.dokumentfiler > 100
    assert _files(warm) == _files(reference)


def test_extract_is_the_same_when_the_prepass_child_cannot_run(synth, tmp_path, monkeypatch):
    """No child (it cannot start, or dies): the parent identifies everything itself, same bytes."""
    reference = tmp_path / "reference"
    pipeline.extract_project(load_project(synth), reference)
    for name in ("identification.sqlite", "identification.sqlite-wal", "identification.sqlite-shm"):
        (synth / ".noarkpack" / name).unlink(missing_ok=True)
    monkeypatch.setattr(documents, "_cache", None)
    calls = _count_siegfried(monkeypatch)
    monkeypatch.setattr(sys, "executable", "/bin/false")  # the child starts and exits at once
    alone = tmp_path / "alone"
    run = pipeline.extract_project(load_project(synth), alone)
    assert len(calls) == run.result.dokumentfiler  # the parent read each document once, itself
    assert _files(alone) == _files(reference)


def test_prepass_child_stops_when_its_parent_is_killed(synth, tmp_path):
    code = ("import os, sys; from noarkpack.project import load_project; from noarkpack import prepass\n"
            f"p = prepass.Prepass(load_project({str(synth)!r}))\n"
            "p.__enter__(); p.start(); print(p.proc.pid, flush=True); os._exit(0)\n")
    for name in ("identification.sqlite", "identification.sqlite-wal", "identification.sqlite-shm"):
        (synth / ".noarkpack" / name).unlink(missing_ok=True)
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    child = int(r.stdout.split()[0])
    import time

    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        # a zombie is gone as far as work goes
        try:
            with open(f"/proc/{child}/stat") as f:
                if f.read().split(")")[-1].split()[0] == "Z":
                    break
        except OSError:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the prepass child outlived its parent by 30 s")
    # its Siegfried servers (noarkpack.identify_server, in its process group) end with it
    while time.monotonic() < deadline and _group_members(child):
        time.sleep(0.05)
    assert not _group_members(child), "a Siegfried server outlived the prepass child"


def _group_members(pgid: int) -> list[int]:
    """Live (not zombie) processes of the process group ``pgid``."""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    fields = f.read().rsplit(")", 1)[-1].split()
            except OSError:
                continue
            if fields[0] != "Z" and int(fields[2]) == pgid:
                out.append(int(d))
    return out


def test_one_conversion_per_source_across_threads(tmp_path, monkeypatch):
    """Two callers converting the same source at once: one conversion, both get the same output."""
    import noarkpack.conversion as conversion

    src = tmp_path / "brev.rtf"
    src.write_text(r"{\rtf1\ansi Notat.\par }", encoding="ascii")
    gate = threading.Event()
    runs: list[int] = []

    def slow_convert(self, path, ident, sha):
        runs.append(1)
        gate.wait(5)
        out = self.folder / f"{sha}.pdf"
        out.write_bytes(b"%PDF-1.7 converted once")
        rec = conversion.ConversionRecord(source_sha256=sha, source_puid=ident.puid, output_puid="fmt/477",
                                          tool="test", converted_at="2026-11-25T12:00:00+01:00",
                                          output_name=out.name)
        (self.folder / f"{sha}.json").write_text(__import__("json").dumps(rec.__dict__), encoding="utf-8")
        return out, rec

    monkeypatch.setattr(ConversionCache, "_convert", slow_convert)
    cache = ConversionCache(tmp_path / "cache")
    ident = documents.Identification("fmt/355", "Rich Text Format", "1.9", "", "", "")
    results: list = []
    threads = [threading.Thread(target=lambda: results.append(cache.convert(src, ident))) for _ in range(3)]
    for t in threads:
        t.start()
    gate.set()
    for t in threads:
        t.join(10)
    assert len(runs) == 1 and cache.made == 1
    assert len(results) == 3 and len({r[0] for r in results}) == 1


def test_writer_does_not_wait_for_a_file_the_child_could_not_identify_or_for_a_stuck_child(tmp_path, monkeypatch):
    """A failure marker ends the wait at once; a child that stops producing is killed after PATIENCE."""
    import time

    from noarkpack import prepass

    a = tmp_path / "a.txt"
    a.write_text("tekst\n", encoding="utf-8")
    key = documents._IdentificationCache.key(a)
    with persistent_identifications(tmp_path / "ident.sqlite") as store:
        p = prepass.Prepass.__new__(prepass.Prepass)
        p._started = True
        p.proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
        documents._waiter = p.wait_for
        try:
            store.put_failed(key)
            store.flush()
            t0 = time.monotonic()
            assert p.wait_for(key) is None and time.monotonic() - t0 < 1.0
            assert store.get(key) is None  # a marker is not a result
            # a result replaces the marker; a marker never replaces a result
            ident = identify(a, wait=True)
            store.flush()
            store.put_failed(key)
            store.flush()
            assert store.get(key) == ident
            b = tmp_path / "b.txt"
            b.write_text("mer tekst\n", encoding="utf-8")
            monkeypatch.setattr(prepass, "PATIENCE", 0.3)
            t0 = time.monotonic()
            assert p.wait_for(documents._IdentificationCache.key(b)) is None
            assert time.monotonic() - t0 < 5 and p.proc.poll() is not None  # stuck: killed
            assert documents._waiter is None
        finally:
            if p.proc.poll() is None:
                p.proc.kill()
            p.proc.wait()


def test_no_store_where_it_cannot_be_opened(tmp_path):
    """A project folder that cannot take the store (read-only, a file in the way): identification
    works as without one."""
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    a = tmp_path / "a.txt"
    a.write_text("tekst\n", encoding="utf-8")
    with persistent_identifications(blocker / "identification.sqlite") as store:
        assert store is None
        assert identify(a).puid == "x-fmt/111"


def test_store_keys_carry_no_file_names(tmp_path):
    doc = tmp_path / "Kari Nordmann 01019912345.txt"
    doc.write_text("tekst\n", encoding="utf-8")
    path = tmp_path / "ident.sqlite"
    with persistent_identifications(path):
        identify(doc)
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("ident.sqlite*"))
    assert b"Kari" not in raw and b"01019912345" not in raw


def test_prepass_child_starts_at_once_when_nothing_is_identified(synth, tmp_path):
    """An empty store (no analysis): the child is started before the writer's first document."""
    from noarkpack import prepass

    project = load_project(synth)
    with persistent_identifications(tmp_path / "empty.sqlite"):
        p = prepass.Prepass(project)
        p.__enter__()
        try:
            assert p.proc is not None
        finally:
            p.__exit__(RuntimeError, RuntimeError("stop"), None)  # stops the child
