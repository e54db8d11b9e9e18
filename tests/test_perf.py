"""Functional checks of the performance work (no timings here: speed is measured by benchmarks/run.py).

* benchmarks/synth.py is deterministic and writes a project the extract accepts;
* the extract is byte-identical from run to run (document order never depends on timing);
* validate's two-process path (xmllint for the XSD beside the content pass) finds exactly what the
  one-process path finds, with the schema error located;
* the identification cache never returns a stale result for a changed file.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import sys
from pathlib import Path

import pytest

from noarkpack.validation import validate
from noarkpack.validation.xmlstream import xmllint_path

ROOT = Path(__file__).resolve().parents[1]


def _synth():
    spec = importlib.util.spec_from_file_location("noarkpack_bench_synth", ROOT / "benchmarks" / "synth.py")
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    spec.loader.exec_module(mod)
    return mod


def _files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def synth_extract(tmp_path_factory) -> Path:
    from noarkpack import ExtractWriter, load_project

    base = tmp_path_factory.mktemp("perf")
    stats = _synth().generate(6, base / "project", entries_per_journal=6, doc_kb=24)
    assert stats["journals"] == 6 and stats["documents"] > 0
    project = load_project(base / "project")
    with ExtractWriter(base / "x", project.settings) as w:
        for journal in project.journals():
            w.add(journal)
    return base / "x" / "avleveringspakke"


def test_synth_is_deterministic(tmp_path):
    synth = _synth()
    synth.generate(4, tmp_path / "a", entries_per_journal=5, doc_kb=16)
    synth.generate(4, tmp_path / "b", entries_per_journal=5, doc_kb=16)
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert a == b
    assert any(n.endswith(".tif") for n in a) and any(n.endswith(".txt") for n in a)
    lines = (tmp_path / "a" / "journals.jsonl").read_text(encoding="utf-8").splitlines()
    patients = [json.loads(line)["pasient"]["pasient_id"] for line in lines]
    # grouped by patient: a patient's journals are consecutive
    assert len(set(patients)) == len([p for i, p in enumerate(patients) if i == 0 or patients[i - 1] != p])


def test_extract_is_byte_identical_and_valid(synth_extract, tmp_path):
    from noarkpack import ExtractWriter, load_project

    project = load_project(synth_extract.parents[1] / "project")
    with ExtractWriter(tmp_path, project.settings) as w:
        for journal in project.journals():
            w.add(journal)
    again = tmp_path / "avleveringspakke"
    for name in ("arkivstruktur.xml", "loependeJournal.xml", "offentligJournal.xml", "endringslogg.xml"):
        assert (again / name).read_bytes() == (synth_extract / name).read_bytes(), name
    assert sorted(_files(again / "DOKUMENT")) == sorted(_files(synth_extract / "DOKUMENT"))
    report = validate(synth_extract)
    assert report.errors == 0, "\n".join(report.summary_lines())


def _findings(report) -> list[str]:
    return sorted(json.dumps(f, sort_keys=True) for f in report.to_json()["findings"])


@pytest.mark.skipif(xmllint_path() is None, reason="xmllint is not installed")
def test_two_process_validation_finds_what_one_process_finds(synth_extract, tmp_path, monkeypatch):
    broken = tmp_path / "x"
    shutil.copytree(synth_extract, broken)
    path = broken / "arkivstruktur.xml"
    text = (path.read_text(encoding="utf-8").replace("</saksstatus>", "</saksstatus><bogus>x</bogus>", 1)
            .replace("<tittel>", "<tittel> ", 1).replace("<opprettetAv>", "<opprettetAv>\n", 1))
    line = text[: text.index("<bogus>")].count("\n") + 1
    path.write_text(text, encoding="utf-8")
    fast = validate(broken)
    monkeypatch.setenv("NOARKPACK_NO_XMLLINT", "1")
    slow = validate(broken)
    assert _findings(fast) == _findings(slow)
    errs = [f for f in fast.findings if f.test == "N5.03"]
    assert errs and errs[0].location["line"] == line and "bogus" in errs[0].message


@pytest.mark.skipif(xmllint_path() is None, reason="xmllint is not installed")
def test_truncated_arkivstruktur_is_reported_by_both_paths(synth_extract, tmp_path, monkeypatch):
    broken = tmp_path / "x"
    shutil.copytree(synth_extract, broken)
    path = broken / "arkivstruktur.xml"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    fast = validate(broken)
    monkeypatch.setenv("NOARKPACK_NO_XMLLINT", "1")
    slow = validate(broken)
    for report in (fast, slow):
        assert any(f.test == "N5.03" and "cannot be read to the end" in f.message for f in report.findings)


def test_identification_cache_sees_a_changed_file(tmp_path):
    import os

    from noarkpack.documents import identify

    p = tmp_path / "a.txt"
    p.write_text("Journalnotat. Tilsyn utført.\n" * 20, encoding="utf-8")
    first = identify(p)
    assert first.puid == "x-fmt/111" and identify(p) == first
    synth = _synth()
    import random

    p.write_bytes(synth.tiff(4000, random.Random(1)))
    st = p.stat()
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000))
    assert identify(p).puid == "fmt/353"


def test_np01_identified_in_batches_finds_what_one_at_a_time_finds(synth_extract, monkeypatch):
    import noarkpack.documents as documents
    from noarkpack.validation import engine

    def findings(report):
        return [(f.test, f.severity, f.message) for f in report.findings]

    monkeypatch.setattr(documents, "_cache", None)
    batched = validate(synth_extract)
    monkeypatch.setattr(documents, "_cache", None)
    monkeypatch.setattr(engine, "_identify_batch", lambda paths: None)
    single = validate(synth_extract)
    assert findings(batched) == findings(single)
    assert batched.summary()["tests"]["NP.01"] == single.summary()["tests"]["NP.01"]


def test_streamed_dias_mets_reads_what_the_tree_reads(tmp_path):
    from lxml import etree

    from noarkpack.packaging.findings import VerifyReport
    from noarkpack.packaging.verify import _PackageCheck, _parse_mets

    xlink = "http://www.w3.org/1999/xlink"
    data = f"""<?xml version="1.0" encoding="UTF-8"?>
<mets xmlns="http://arkivverket.no/standarder/METS" xmlns:xlink="{xlink}" OBJID="UUID:x" TYPE="SIP">
  <fileSec><fileGrp>
    <file ID="a" SIZE="12" CHECKSUM="ABC" CHECKSUMTYPE="SHA-256">
      <FLocat xlink:href="file:content/a.txt"/><FLocat xlink:href="content/other.txt"/>
      <file ID="nested" SIZE="x"><FLocat xlink:href="content/nested.txt"/></file>
    </file>
    <file ID="nohref"><FLocat/></file>
    <file ID="b"><FLocat xlink:href="content/b.txt"/></file>
  </fileGrp></fileSec>
</mets>
""".encode()
    check = _PackageCheck(tmp_path / "x.tar", VerifyReport(str(tmp_path / "x.tar")), None, None, set(), None)
    streamed = check._stream_mets(data)
    assert streamed == _parse_mets(etree.fromstring(data))
    assert [f.href for f in streamed.files] == ["content/a.txt", "content/nested.txt", "content/b.txt"]
    assert check._stream_mets(data[:-10]) is None  # not well-formed: the tree path reports it
