"""The extract's document copier (noarkpack.noark5.copier): a child process copies and hashes, the parent
takes over whatever the child fails or leaves when it dies; the extract is the same either way."""

from __future__ import annotations

import hashlib
import os
import signal
from pathlib import Path

import pytest

from noarkpack.errors import DocumentError
from noarkpack.noark5 import copier as copier_mod
from noarkpack.noark5.copier import Copy, DocumentCopier
from noarkpack.noark5.writer import ExtractWriter

from . import builders


def _sources(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for k in range(n):
        p = folder / f"doc-{k}.txt"
        p.write_bytes((f"dokument {k}\n" * (k * 37 + 1)).encode())
        out.append(p)
    big = folder / "big.bin"
    big.write_bytes(os.urandom(3 * copier_mod.CHUNK + 123))  # more than one read
    return [*out, big]


def _jobs(sources: list[Path], dst: Path) -> list[Copy]:
    dst.mkdir(parents=True, exist_ok=True)
    return [Copy(p, str(dst / p.name), lambda: "the record") for p in sources]


def _expected(p: Path) -> tuple[str, int]:
    data = p.read_bytes()
    return hashlib.sha256(data).hexdigest(), len(data)


def test_child_copies_and_hashes_every_document(tmp_path):
    sources = _sources(tmp_path / "src", 300)
    c = DocumentCopier(in_flight=40, per_request=16)  # several requests, the window full on the way
    jobs = _jobs(sources, tmp_path / "dst")
    c.submit(jobs)
    results = [c.wait(j) for j in jobs]
    assert c._started and c._proc is not None  # the child did the copies
    c.close()
    for p, j, r in zip(sources, jobs, results):
        assert (r.sha256, r.size) == _expected(p)
        assert Path(j.dst).read_bytes() == p.read_bytes()
        assert not j.existed


@pytest.mark.parametrize("when", ["at once", "after the first answer", "between requests"])
def test_child_killed_mid_run_the_parent_copies_the_rest(tmp_path, when):
    """Whatever the child was writing when it died (a request answered only when all of it is copied) is
    made anew; every copy and checksum is right."""
    sources = _sources(tmp_path / "src", 400)
    c = DocumentCopier(in_flight=64, per_request=16)
    jobs = _jobs(sources, tmp_path / "dst")
    c.submit(jobs[:200])
    if when != "at once":
        c.wait(jobs[0])
    if when == "between requests":
        c.wait(jobs[150])
    os.kill(c._proc.pid, signal.SIGKILL)
    c.submit(jobs[200:])
    results = [c.wait(j) for j in jobs]
    assert c._proc is None
    c.close()
    for p, j, r in zip(sources, jobs, results):
        assert (r.sha256, r.size) == _expected(p)
        assert Path(j.dst).read_bytes() == p.read_bytes()
        assert not j.existed


def test_a_copy_the_child_cannot_make_is_reported_by_the_parent(tmp_path):
    sources = _sources(tmp_path / "src", 3)
    folder = tmp_path / "src" / "a-folder"
    folder.mkdir()
    c = DocumentCopier()
    jobs = _jobs([sources[0], folder, sources[1]], tmp_path / "dst")
    c.submit(jobs)
    c._send()
    assert c.wait(jobs[0]).sha256 == _expected(sources[0])[0]
    with pytest.raises(DocumentError) as e:
        c.wait(jobs[1])
    assert e.value.record == "the record"
    assert c.wait(jobs[2]).sha256 == _expected(sources[1])[0]  # the child goes on after a failure
    c.close()


def test_an_existing_copy_is_never_overwritten_but_hashed(tmp_path):
    sources = _sources(tmp_path / "src", 2)
    dst = tmp_path / "dst"
    dst.mkdir()
    (dst / sources[0].name).write_bytes(b"copied earlier")
    c = DocumentCopier()
    jobs = _jobs(sources, dst)
    c.submit(jobs)
    first, second = c.wait(jobs[0]), c.wait(jobs[1])
    c.close()
    assert jobs[0].existed and (first.sha256, first.size) == (hashlib.sha256(b"copied earlier").hexdigest(), 14)
    assert (dst / sources[0].name).read_bytes() == b"copied earlier"
    assert not jobs[1].existed and first != second


def _extract(out: Path, docs: Path) -> Path:
    with ExtractWriter(out, builders.settings(docs)) as w:
        for k in range(12):
            w.add(builders.journal(f"J{k}", f"P{k}", docs, entries=9))
    return out / "avleveringspakke"


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_extract_is_the_same_with_and_without_the_child(tmp_path, monkeypatch):
    docs = tmp_path / "docs"
    with_child = _tree(_extract(tmp_path / "a", docs))

    def cannot_start(*args, **kwargs):
        raise OSError("no processes left")

    monkeypatch.setattr("noarkpack.fsutil.start_child", cannot_start)
    without = _tree(_extract(tmp_path / "b", docs))
    assert with_child == without
    assert any(name.startswith("DOKUMENT/") for name in with_child)


def test_abort_stops_the_child_before_the_folder_goes(tmp_path):
    docs = tmp_path / "docs"
    w = ExtractWriter(tmp_path / "out", builders.settings(docs))
    w.open()
    for k in range(5):
        w.add(builders.journal(f"J{k}", f"P{k}", docs, entries=9))
    proc = w._copier._proc
    w.abort()
    assert proc is None or proc.poll() is not None
    assert list((tmp_path / "out").iterdir()) == []
