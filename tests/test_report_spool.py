"""Validation reports with many findings: kept on disk past a few thousand, same outputs as in memory."""

from __future__ import annotations

import json
import pickle

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from noarkpack.validation.report import Finding, FindingList, Report


def _report(n: int, *, limit=None) -> Report:
    r = Report("uttrekk", limit=limit)
    for i in range(n):
        test = ("N5.21", "N5.30", "NP.04")[i % 3]
        severity = ("info", "error", "warning")[i % 3]
        r.add(test, severity, f"finding {i} «æøå»\nline two", file="arkivstruktur.xml", line=i + 1,
              systemID=f"sid-{i}")
    r.facts["version"] = "5.0"
    return r


@pytest.fixture
def small_memory(monkeypatch):
    monkeypatch.setattr(FindingList, "MEMORY", 7)
    monkeypatch.setattr(FindingList, "BLOCK", 5)


@pytest.mark.parametrize("n", [0, 1, 6, 7, 8, 12, 40])
def test_spooled_findings_come_back_in_order_and_json_is_the_same(small_memory, n):
    r = _report(n)
    assert len(r.findings) == n
    assert [f.message for f in r.findings] == [f"finding {i} «æøå»\nline two" for i in range(n)]
    # two iterations at once (the spool is read with pread, not a shared file position)
    pairs = list(zip(r.findings, r.findings))
    assert all(a == b for a, b in pairs) and len(pairs) == n
    assert "".join(r.iter_json()) == json.dumps(r.to_json(), ensure_ascii=False, indent=2, default=str)
    assert r.summary()["tests"]["N5.21"]["not_shown"] == 0


def test_a_pickled_list_keeps_every_finding(small_memory):
    """The split pass sends the child's findings to the parent in a pickle."""
    r = _report(23)
    copy = pickle.loads(pickle.dumps(r.findings))
    assert list(copy) == list(r.findings)
    parent = _report(9)
    parent.absorb(*r.part())
    assert len(parent.findings) == 32
    assert [f.message for f in parent.findings][9:] == [f.message for f in r.findings]


@pytest.mark.parametrize("n", [0, 5, 7, 23])
def test_spilled_findings_pickle_small_and_come_back_in_order(small_memory, tmp_path, n):
    """The split pass's child spills its findings to a file; the pickle holds only the in-memory ones."""
    r = _report(n)
    spilled = r.findings.spill(tmp_path / "findings.bin")
    data = pickle.dumps(spilled)
    if n > 12:  # some blocks are in the file: the pickle is smaller than the whole list's
        assert len(data) < len(pickle.dumps(r.findings)) / 2
    copy = pickle.loads(data)
    assert len(copy) == n and list(copy) == list(r.findings)
    parent = _report(9)
    parent.absorb(copy, *r.part()[1:])
    assert [f.message for f in parent.findings][9:] == [f.message for f in r.findings]


def test_limit_and_shown_counts(small_memory):
    r = _report(30, limit=4)
    assert len(r.findings) == 12  # 4 per test
    s = r.summary()["tests"]
    assert s["N5.30"]["errors"] == 10 and s["N5.30"]["not_shown"] == 6
    html = r.to_html(first=2)
    # the first two errors of N5.30, each in the failed-tests summary and in the test's section (issue 23), and
    # no later one
    assert html.count("finding 1 ") == html.count("finding 4 ") == 2
    assert "finding 7 " not in html and "finding 10 " not in html


def test_memory_holds_only_the_head():
    r = _report(FindingList.MEMORY + 3 * FindingList.BLOCK + 5)
    assert len(r.findings._head) == FindingList.MEMORY
    assert len(r.findings._tail) == 5 and len(r.findings._blocks) == 3


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["N5.21", "N5.30", "NP.04"]), st.sampled_from(["error", "warning", "info"]),
                          st.text(max_size=30)), max_size=40))
def test_iter_json_is_json_dumps(findings):
    FindingList.MEMORY, FindingList.BLOCK = 3, 4
    try:
        r = Report("x")
        for test, severity, message in findings:
            r.add(test, severity, message, systemID="s")
        assert "".join(r.iter_json()) == json.dumps(r.to_json(), ensure_ascii=False, indent=2, default=str)
        assert [(f.test, f.message) for f in r.findings] == [(t, m) for t, _, m in findings]
    finally:
        FindingList.MEMORY, FindingList.BLOCK = 5_000, 2_000


def test_junit_lists_the_first_findings_of_each_test_and_counts_all(small_memory):
    from lxml import etree

    r = _report(30)
    r.add("N5.30", "error", "bad byte \x00\x1b here", file="arkivstruktur.xml", line=99)
    r.ran.update({"N5.21", "N5.30", "NP.04"})
    suite = etree.fromstring(r.to_junit(first=3).encode())
    cases = {c.get("name").split()[0]: c for c in suite.iter("testcase")}
    failure = cases["N5.30"].find("failure")
    assert failure.get("message") == "finding 1 «æøå» line two"  # a newline in an attribute reads as a space
    assert failure.text.count("arkivstruktur.xml:") == 3
    assert "the first 3 of 11 errors are listed" in failure.text
    assert cases["N5.21"].find("failure") is None
    assert "the first 3 of 10 warnings and infos are listed" in cases["N5.21"].find("system-out").text
    # every finding listed, when there are few: the control characters become U+FFFD, the XML stays well-formed
    whole = etree.fromstring(r.to_junit(first=100).encode())
    text = [c for c in whole.iter("testcase") if c.get("name").startswith("N5.30")][0].find("failure").text
    assert "bad byte \ufffd\ufffd here" in text and text.endswith("(11 errors in all)")
