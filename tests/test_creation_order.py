"""NP.06 (validation.content.creation_order): numbers follow creation order, and the journals are sorted.

Mutation tests: a copy of a valid extract (written by noarkpack with its numbering) is damaged the way a
producer's system or a careless migration would, and validate must find it; the undamaged copy has no
NP.06 finding but its count.  Lines are edited in place so every other line keeps its number.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from lxml import etree

from noarkpack.noark5.numbering import Numbering
from noarkpack.pipeline import extract_project
from noarkpack.project import load_project
from noarkpack.validation import validate

from . import builders
from .extract_checks import AS, XSI_TYPE
from .test_numbering import _journals, _write
from .test_parallel_validation import _same_report


@pytest.fixture(scope="module")
def numbered_extract(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("np06")
    docs = base / "docs"
    docs.mkdir()
    journals = _journals(docs)
    with Numbering.build(journals) as numbering:
        _write(base / "out", builders.settings(docs), journals, numbering)
    return base / "out" / "avleveringspakke"


@pytest.fixture
def extract(numbered_extract, tmp_path) -> Path:
    dst = tmp_path / "avleveringspakke"
    shutil.copytree(numbered_extract, dst)
    return dst


def _numbered(pkg: Path, kind: str) -> list[dict]:
    """Each journalpost ("journalpost") or saksmappe ("saksmappe") of arkivstruktur.xml: its year, number,
    systemID and the lines of its year and number elements, in file order."""
    year_el, number_el = ("journalaar", "journalsekvensnummer") if kind == "journalpost" else ("saksaar", "sakssekvensnummer")
    out = []
    for _, el in etree.iterparse(str(pkg / "arkivstruktur.xml"), events=("end",), tag=(f"{AS}registrering", f"{AS}mappe")):
        if (kind == "saksmappe") != (el.tag == f"{AS}mappe") or (kind == "journalpost" and el.get(XSI_TYPE) != "journalpost"):
            continue
        y, n = el.find(f"{AS}{year_el}"), el.find(f"{AS}{number_el}")
        out.append({"year": int(y.text), "number": int(n.text), "sid": el.findtext(f"{AS}systemID"),
                    "year_line": y.sourceline, "number_line": n.sourceline, "created": el.findtext(f"{AS}opprettetDato")})
    return out


def _set(path: Path, line: int, old: str, new: str) -> None:
    lines = path.read_text(encoding="utf-8").split("\n")
    assert lines[line - 1].count(old) == 1, lines[line - 1]
    lines[line - 1] = lines[line - 1].replace(old, new)
    path.write_text("\n".join(lines), encoding="utf-8")


def _np06(report, severity: str | None = None) -> list:
    return [f for f in report.findings if f.test == "NP.06" and (severity is None or f.severity == severity)]


def _swap_numbers(pkg: Path, a: dict, b: dict, element: str) -> None:
    xml = pkg / "arkivstruktur.xml"
    _set(xml, a["number_line"], f"<{element}>{a['number']}<", f"<{element}>{b['number']}<")
    _set(xml, b["number_line"], f"<{element}>{b['number']}<", f"<{element}>{a['number']}<")


def test_a_valid_extract_has_no_np06_finding_but_its_count(numbered_extract):
    report = validate(numbered_extract, tests={"NP.06"})
    assert [(f.severity, f.message) for f in _np06(report)] == [
        ("info", "journalposts checked: 5, out of creation order: 0; saksmapper checked: 3, out of creation order: 0; "
                 "journalpostnummer out of order within their saksmappe: 0")]


def test_the_writers_order_added_is_found(tmp_path):
    """Without a numbering the writer numbers in the order the journals are added (by patient here)."""
    docs = tmp_path / "docs"
    docs.mkdir()
    _write(tmp_path / "out", builders.settings(docs), _journals(docs))
    report = validate(tmp_path / "out" / "avleveringspakke", tests={"NP.06"})
    assert [f.message[:37] for f in _np06(report, "warning")] == [
        "journalpost 2018/2 was created (2018-",  # J2's letter of April after J1's of November
        "journalpost 2019/2 was created (2019-",
        "saksmappe 2018/2 was created (2018-02",  # J2 (February) and J3 (May) after J1 (September)
        "saksmappe 2018/3 was created (2018-05"]
    assert report.errors == 0  # the journals are sorted by løpenummer all the same


def test_swapped_journalsekvensnummer_is_found(extract):
    posts = sorted((p for p in _numbered(extract, "journalpost") if p["year"] == 2018), key=lambda p: p["number"])
    first, last = posts[0], posts[-1]
    _swap_numbers(extract, first, last, "journalsekvensnummer")
    report = validate(extract, tests={"NP.06"})
    found = _np06(report, "warning")
    assert found and all("was created" in f.message for f in found)
    # 2018/1 now goes to the journalpost created last in 2018: the two numbered after it were created before it
    assert {f.location["systemID"] for f in found} == {posts[0]["sid"], posts[1]["sid"]}
    assert found[0].message.startswith(f"journalpost 2018/2 was created ({posts[1]['created']}) before journalpost 2018/1")
    assert report.errors == 0


def test_swapped_sakssekvensnummer_is_found(extract):
    mapper = sorted(_numbered(extract, "saksmappe"), key=lambda m: m["number"])
    _swap_numbers(extract, mapper[0], mapper[1], "sakssekvensnummer")
    found = _np06(validate(extract, tests={"NP.06"}), "warning")
    assert [f.location["systemID"] for f in found] == [mapper[0]["sid"]]
    assert "saksmappe 2018/2 was created" in found[0].message and "(M012)" in found[0].message


def test_wrong_journalaar_is_found(extract):
    post = next(p for p in _numbered(extract, "journalpost") if p["year"] == 2019)
    _set(extract / "arkivstruktur.xml", post["year_line"], "<journalaar>2019<", "<journalaar>2020<")
    found = _np06(validate(extract, tests={"NP.06"}), "warning")
    assert [(f.location["systemID"], f.location["line"]) for f in found] == [(post["sid"], post["year_line"])]
    assert "journalaar 2020" in found[0].message and "not the year of its opprettetDato" in found[0].message


def test_number_given_twice_is_found(extract):
    posts = [p for p in _numbered(extract, "journalpost") if p["year"] == 2019]
    a, b = sorted(posts, key=lambda p: p["number"])
    _set(extract / "arkivstruktur.xml", b["number_line"], f">{b['number']}<", f">{a['number']}<")
    found = _np06(validate(extract, tests={"NP.06"}), "warning")
    assert [f.message for f in found] == [f"journalsekvensnummer 2019/{a['number']} is given twice (also the journalpost "
                                          f"at line {_line_of_start(extract, a['sid'])})"]


def test_journalpostnummer_against_creation_order_is_found(extract):
    """M015: journalpostnummer shows the journalposts' order within the saksmappe; swapped, validate says so."""
    xml = extract / "arkivstruktur.xml"
    by_mappe: dict[str, list[tuple[int, int, int, int]]] = {}
    for _, el in etree.iterparse(str(xml), events=("end",), tag=f"{AS}mappe"):
        for jp in el.iterfind(f"{AS}registrering"):
            if jp.get(XSI_TYPE) == "journalpost":
                nr = jp.find(f"{AS}journalpostnummer")
                key = (int(jp.findtext(f"{AS}journalaar")), int(jp.findtext(f"{AS}journalsekvensnummer")))
                by_mappe.setdefault(el.findtext(f"{AS}systemID"), []).append((*key, int(nr.text), nr.sourceline))
    posts = next(sorted(p) for p in by_mappe.values() if len(p) >= 2)
    assert [p[2] for p in posts] == list(range(1, len(posts) + 1))  # as written: in creation order
    (a_aar, a_seq, a_nr, a_line), (b_aar, b_seq, b_nr, b_line) = posts[0], posts[1]
    _set(xml, a_line, f">{a_nr}<", f">{b_nr}<")
    _set(xml, b_line, f">{b_nr}<", f">{a_nr}<")
    found = _np06(validate(extract, tests={"NP.06"}), "warning")
    assert [f.message for f in found] == [
        f"journalpost {a_aar}/{a_seq} has journalpostnummer {b_nr} but was created before journalpost "
        f"{b_aar}/{b_seq} with journalpostnummer {a_nr}: journalpostnummer shows the order of the journalposts "
        "within the saksmappe (M015)"]


def _line_of_start(pkg: Path, sid: str) -> int:
    for _, el in etree.iterparse(str(pkg / "arkivstruktur.xml"), events=("end",), tag=f"{AS}registrering"):
        if el.findtext(f"{AS}systemID") == sid:
            return el.sourceline
    raise AssertionError(sid)


@pytest.mark.parametrize("name", ["loependeJournal.xml", "offentligJournal.xml"])
def test_journal_not_sorted_by_loepenummer_is_an_error(extract, name):
    path = extract / name
    text = path.read_text(encoding="utf-8")
    head, *entries = text.split("\n  <journalregistrering>")
    assert len(entries) == 5  # the last one, which carries the journal's end tag, stays last
    entries[0], entries[1] = entries[1], entries[0]
    path.write_text("\n  <journalregistrering>".join([head, *entries]), encoding="utf-8")
    report = validate(extract, tests={"NP.06"})
    found = _np06(report, "error")
    assert len(found) == 1 and found[0].location["file"] == name
    assert "is not sorted by løpenummer: journalpost 2018/1 follows 2018/2" in found[0].message
    assert report.exit_code == 1


def test_the_split_pass_finds_the_same(tmp_path, monkeypatch):
    """Numbers swapped between the two halves of arkivstruktur.xml: the same findings as one pass."""
    project = builders.synth_project(tmp_path, journals=30, entries=5, doc_kb=4)
    pkg = extract_project(load_project(project), tmp_path / "out").result.path
    posts = _numbered(pkg, "journalpost")
    by_year: dict[int, list[dict]] = {}
    for p in posts:
        by_year.setdefault(p["year"], []).append(p)
    year = max(by_year, key=lambda y: by_year[y][-1]["number_line"] - by_year[y][0]["number_line"])
    first, last = by_year[year][0], by_year[year][-1]  # the first and last of the year in the file
    assert first["number"] != last["number"]
    _swap_numbers(pkg, first, last, "journalsekvensnummer")
    one = _same_report(pkg, monkeypatch, 0.5)
    assert any(f[0] == "NP.06" and f[1] == "warning" for f in one["findings"])
