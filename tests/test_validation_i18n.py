"""validate in bokmål and English (issue 20): the catalogue's names and purposes, the report's language, the
message keys kept through the findings' spool, and the caller's language in the threads and the child process
that make findings."""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

import pytest

from noarkpack.locale import current, language, tr
from noarkpack.validation import catalogue, parallel
from noarkpack.validation.report import STATUS_LABELS, FindingList, Report, status_label
from noarkpack.validation.xmlstream import in_own_thread

ROOT = Path(__file__).resolve().parents[1]


def _msgids(path: Path) -> set[str]:
    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import i18n
    finally:
        sys.path.pop(0)
    return set(i18n.extract([path]))


# --------------------------------------------------------------------------- the catalogue


def test_every_purpose_and_every_own_name_is_a_msgid():
    found = _msgids(ROOT / "noarkpack" / "validation" / "catalogue.py")
    for t in catalogue.TESTS.values():
        assert t.purpose in found, t.id
        if not t.id.startswith("N5."):
            assert t.name in found, t.id  # NP.xx: ours to translate; N5.xx: Arkade's names, in both languages
    for label in STATUS_LABELS.values():
        assert label in _msgids(ROOT / "noarkpack" / "validation" / "report.py")


def test_names_and_purposes_in_the_current_language():
    t = catalogue.get("N5.29")
    assert (t.id, t.kind, t.severity) == ("N5.29", "content", "error")  # stable fields
    assert current() == "en"
    assert t.title() == t.display_name == "Number of each different document format"
    assert t.title("nb") == catalogue.display_name("N5.29", "nb") == "Antall av ulike dokumentformater"
    with language("nb"):
        assert t.display_name == "Antall av ulike dokumentformater"
        assert catalogue.display_name("N5.29") == "Antall av ulike dokumentformater"
    assert catalogue.display_name("N5.35", "en", "5.0") == "Number of parties"
    own = catalogue.get("NP.05")
    assert own.title() == own.name == "XML files declare no DTD"
    assert own.description == own.purpose and own.description.key == own.purpose
    assert catalogue.purpose("NP.05") == own.purpose
    local = own.localized("en")
    assert (local.id, local.kind, local.severity, local.name, local.purpose) == (
        own.id, own.kind, own.severity, own.name, own.purpose)
    assert catalogue.get("N5.29").localized("nb").name == catalogue.get("N5.29").name  # Arkade's is arkade_name
    with pytest.raises(ValueError):
        catalogue.display_name("N5.29", "de")


def test_status_labels_keep_the_codes():
    r = Report("uttrekk")
    assert r.status("N5.01") == "not run"  # the JSON's code
    assert status_label("not run") == "not run" and status_label("failed").key == "failed"


# --------------------------------------------------------------------------- the report's language


def test_the_report_speaks_the_current_language_unless_told():
    r = Report("uttrekk")
    assert r.lang == "en"
    with language("nb"):
        assert r.lang == "nb"
    r.lang = "nb"
    with language("en"):
        assert r.lang == "nb"
    r.lang = None
    assert r.lang == "en"
    with pytest.raises(ValueError):
        r.lang = "de"


def test_summary_lines_are_texts_with_keys():
    r = Report("uttrekk")
    r.add("N5.22", "error", tr("journalstatus {value!r} is not allowed", value="X"), file="arkivstruktur.xml")
    r.mark_ran("N5.01")
    lines = r.summary_lines()
    assert lines[0] == "Validated uttrekk in 0.0 s: 2 tests run"
    assert lines[1].startswith("  N5.22 Number of each different journal status — failed (1 errors, 0 warnings): ")
    assert lines[-1] == "FAILED: 1 errors, 0 warnings" and lines[-1].key == "FAILED: {errors} errors, {warnings} warnings"
    r.lang = "nb"
    assert r.summary_lines()[1].startswith("  N5.22 Antall av ulike journalstatuser — ")
    junit = r.to_junit()
    assert f'name="N5.22 {catalogue.get("N5.22").name}"' in junit  # the testcase's name: the same in every language


# --------------------------------------------------------------------------- keys through the spool


@pytest.fixture
def small_memory(monkeypatch):
    monkeypatch.setattr(FindingList, "MEMORY", 3)
    monkeypatch.setattr(FindingList, "BLOCK", 2)


def _keyed(n: int) -> Report:
    r = Report("uttrekk")
    for i in range(n):
        r.add("N5.28", "info", tr("document files found: {count}", count=i), file="DOKUMENT/")
    return r


def test_spooled_pickled_and_spilled_findings_keep_their_keys(small_memory, tmp_path):
    r = _keyed(9)
    for found in (list(r.findings), list(pickle.loads(pickle.dumps(r.findings))),
                  list(pickle.loads(pickle.dumps(r.findings.spill(tmp_path / "f.bin"))))):
        assert [f.key for f in found] == ["document files found: {count}"] * 9
        assert [f.message.params for f in found] == [{"count": i} for i in range(9)]
        assert [f.message for f in found] == [f"document files found: {i}" for i in range(9)]
    parent = Report("uttrekk")
    parent.absorb(*r.part())
    assert {f.key for f in parent.findings} == {"document files found: {count}"}
    assert all(x["key"] == "document files found: {count}" for x in parent.to_json()["findings"])


# --------------------------------------------------------------------------- threads and the child process


def test_the_xml_thread_makes_texts_in_the_callers_language():
    with language("nb"):
        assert in_own_thread(current, "t") == "nb"
    with language("en"):
        assert in_own_thread(current, "t") == "en"


def test_the_split_child_is_told_the_callers_language(monkeypatch, tmp_path):
    seen: list[dict] = []

    class NoChild:
        def __init__(self, args, workdir):
            seen.append(args)
            raise OSError("no child here")

    monkeypatch.setattr(parallel, "_Child", NoChild)
    monkeypatch.setattr(parallel, "MIN_BYTES", 0)
    monkeypatch.delenv("NOARKPACK_NO_PARALLEL", raising=False)
    xml = tmp_path / "arkivstruktur.xml"
    body = "".join(f"    <mappe><systemID>{i}</systemID></mappe>\n" for i in range(400))
    xml.write_text('<?xml version="1.0"?>\n<arkiv>\n  <arkivdel>\n' + body + "  </arkivdel>\n</arkiv>\n")
    from noarkpack.validation.content import content_pass
    from noarkpack.validation.source import open_source

    src = open_source(xml)
    r = Report(str(tmp_path))
    from noarkpack.validation.addml import AddmlInfo

    cp = content_pass(r, src, AddmlInfo(), documents=None, doc_dir=None, identify=None, approved=set(),
                      mergeable=True, expected_bytes=xml.stat().st_size)
    with language("nb"):
        parallel.validate_in_halves(tmp_path, "arkivstruktur.xml", cp, r, schema=None, xsd=None,
                                    addml=AddmlInfo(), identify=False)
    assert seen and seen[0]["lang"] == "nb"
