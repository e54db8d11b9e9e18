"""NP.01 identifies an extract's documents in a child process (validation.identify_child).

Real files, real Siegfried, real child processes: the validating process must not run Siegfried itself,
and the report must be the one the in-process path gives (also when the child cannot run).
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from noarkpack import documents, pipeline
from noarkpack.project import load_project
from noarkpack.validation import validate

from . import builders


@pytest.fixture(scope="module")
def synth_extract(tmp_path_factory) -> Path:
    project = builders.synth_project(tmp_path_factory.mktemp("synth"), journals=12, entries=6, doc_kb=16)
    out = tmp_path_factory.mktemp("x")
    pipeline.extract_project(load_project(project), out)
    return out / "avleveringspakke"


def _findings(report) -> list:
    return [f.to_json() for f in report.findings]


@pytest.fixture(autouse=True)
def fresh_memory(monkeypatch):
    monkeypatch.setattr(documents, "_cache", None)
    monkeypatch.setattr(documents, "_store", None)


def test_documents_are_identified_in_the_child_not_here(synth_extract, monkeypatch):
    monkeypatch.setattr(documents, "_identify", lambda p: pytest.fail(f"this process ran Siegfried on {p}"))
    monkeypatch.setattr("pygfried.identify_many", lambda *a, **k: pytest.fail("this process ran Siegfried"))
    report = validate(synth_extract)
    assert "NP.01" in report.ran
    n = sum(1 for p in (synth_extract / "DOKUMENT").rglob("*") if p.is_file())
    assert n > 20 and len(documents._memory().table) >= n  # every document's result came from the child


def test_the_report_is_the_same_when_the_child_cannot_run(synth_extract, monkeypatch):
    child = validate(synth_extract)
    monkeypatch.setattr(documents, "_cache", None)
    monkeypatch.setattr(sys, "executable", "/bin/false")  # the child starts and fails at once
    here = validate(synth_extract)
    assert _findings(here) == _findings(child)
    assert here.summary()["tests"] == child.summary()["tests"]


def test_absorbed_results_are_found_by_key(tmp_path):
    """What a child identified is found in this process's memory under the same file keys."""
    a, b = tmp_path / "a.txt", tmp_path / "b.pdf"
    a.write_text("Notat.\n", encoding="utf-8")
    b.write_bytes(b"%PDF-1.4\n%%EOF\n")
    known = documents.identify_many([a, b])
    shared = documents.shared_identifications()
    documents._cache = None
    c = tmp_path / "c.txt"
    c.write_text("Mer.\n", encoding="utf-8")
    mine = documents.identify(c)  # this process knew something already: indexes must be remapped
    documents.absorb_identifications(shared)
    for path, ident in ((a, known[0]), (b, known[1]), (c, mine)):
        assert documents._known(documents._IdentificationCache.key(path)) == ident


def _tar(folder: Path, dest: Path, mode: str = "w") -> Path:
    import tarfile

    with tarfile.open(dest, mode) as tar:
        tar.add(folder, arcname="content")
    return dest


def test_a_tars_members_are_identified_in_the_child_from_their_offsets(synth_extract, tmp_path, monkeypatch):
    tar = _tar(synth_extract, tmp_path / "x.tar")
    expected = validate(tar)  # the child's results
    monkeypatch.setattr(documents, "_cache", None)
    monkeypatch.setattr(documents, "_identify", lambda p: pytest.fail(f"this process ran Siegfried on {p}"))
    monkeypatch.setattr("pygfried.identify_many", lambda *a, **k: pytest.fail("this process ran Siegfried"))
    report = validate(tar)
    assert "NP.01" in report.ran and _findings(report) == _findings(expected)
    # the same results as the folder's own documents give, and as this process finds without the child
    monkeypatch.undo()
    monkeypatch.setattr(documents, "_cache", None)
    monkeypatch.setattr(sys, "executable", "/bin/false")
    here = validate(tar)
    assert _findings(here) == _findings(report)
    assert here.summary()["tests"]["NP.01"] == report.summary()["tests"]["NP.01"]
    assert validate(synth_extract).summary()["tests"]["NP.01"] == report.summary()["tests"]["NP.01"]


def test_a_compressed_tar_is_identified_here_as_before(synth_extract, tmp_path, monkeypatch):
    from noarkpack.validation import identify_child

    plain = validate(_tar(synth_extract, tmp_path / "x.tar"))
    monkeypatch.setattr(documents, "_cache", None)
    monkeypatch.setattr(identify_child, "_run_child", lambda *a: pytest.fail("no offsets in a gzip stream"))
    monkeypatch.setattr("noarkpack.validation.engine.identify_members_in_child",
                        lambda *a: pytest.fail("no offsets in a gzip stream"))
    gz = validate(_tar(synth_extract, tmp_path / "x.tar.gz", "w:gz"))
    assert gz.summary()["tests"]["NP.01"] == plain.summary()["tests"]["NP.01"]
    assert [f for f in _findings(gz) if f["test"] == "NP.01"] == [f for f in _findings(plain) if f["test"] == "NP.01"]


def test_member_records_round_trip(tmp_path):
    from noarkpack.validation.identify_child import iter_members, member_record

    rows = [("DOKUMENT/a b.pdf", 512, 10), ("DOKUMENT/æøå.txt", None, 0), ("DOKUMENT/c.tif", 1 << 40, 0)]
    (tmp_path / "list").write_bytes(b"".join(member_record(*r) for r in rows))
    assert list(iter_members(tmp_path / "list")) == rows
