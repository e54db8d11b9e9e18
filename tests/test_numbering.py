"""Issue 17: saksmapper and journalposts are numbered in the order they were created (M011-M014), the journals
are sorted by løpenummer (krav 6.4.30), and journals open at the end of the period are dealt with as the
declared period separation requires (STD 070 "Periodisering", "Journalrapporter")."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from lxml import etree

from noarkpack import ExtractWriter
from noarkpack.errors import ExtractError, ModelError
from noarkpack.model.epj import Journalinnslag, Korrespondanse, Korrespondansepart
from noarkpack.model.identifiers import system_id
from noarkpack.model.mapping import EPJ_NAMESPACE
from noarkpack.noark5.journals import SortedRuns
from noarkpack.noark5.numbering import Numbering
from noarkpack.pipeline import extract_project
from noarkpack.project import load_project
from noarkpack.resources import schemas_dir
from noarkpack.validation import validate

from . import builders
from .extract_checks import AS, XSI_TYPE, addml_value, check_extract, journal_entries, out_of_creation_order

OSLO = builders.OSLO


@pytest.fixture()
def docs(tmp_path: Path) -> Path:
    d = tmp_path / "docs"
    d.mkdir()
    return d


def _journal(jid: str, pid: str, docs: Path, opened: datetime, letters: list[datetime], *, closed: bool = True,
             letter_date: date | None = None):
    """A journal opened at ``opened`` with one incoming letter (a journalpost) written at each of ``letters``."""
    j = builders.journal(jid, pid, docs, entries=1, korrespondanse_every=0)
    j.opprettet = opened
    j.innslag[0].opprettet, j.innslag[0].arkivert = opened, opened + timedelta(minutes=5)
    for n, t in enumerate(letters):
        j.innslag.append(Journalinnslag(
            innslag_id=f"{jid}-brev-{n}", type="henvisning", tittel=f"Brev {n}", forfatter="Per Ås", opprettet=t,
            arkivert=t + timedelta(minutes=20), arkivert_av="per.as",
            korrespondanse=Korrespondanse("Inngående dokument", letter_date or (t + timedelta(days=2)).date(),
                                          [Korrespondansepart("Avsender", "St. Olavs hospital HF")])))
    if not closed:
        j.avsluttet = j.avsluttet_av = None
    else:
        j.avsluttet = max([opened, *letters]) + timedelta(days=1)
    return j


def _journals(docs: Path):
    """Three patients, in patient order: not the order in which their journals and letters were created.
    P3's letter was written on 2018-12-31 23:30 and is dated (journaldato) 2019-01-02."""
    return [
        _journal("J1", "P1", docs, datetime(2018, 9, 1, 9, tzinfo=OSLO),
                 [datetime(2018, 11, 5, 10, tzinfo=OSLO), datetime(2019, 3, 1, 10, tzinfo=OSLO)]),
        _journal("J2", "P2", docs, datetime(2018, 2, 1, 9, tzinfo=OSLO),
                 [datetime(2018, 4, 2, 10, tzinfo=OSLO), datetime(2019, 1, 15, 10, tzinfo=OSLO)]),
        _journal("J3", "P3", docs, datetime(2018, 5, 1, 9, tzinfo=OSLO),
                 [datetime(2018, 12, 31, 23, 30, tzinfo=OSLO)], letter_date=date(2019, 1, 2)),
    ]


def _write(out: Path, settings, journals, numbering=None):
    with ExtractWriter(out, settings, numbering=numbering) as w:
        for j in journals:
            w.add(j)
    return w.result


def _numbers(pkg: Path) -> dict[str, tuple[int, int]]:
    """systemID → (year, number) of every saksmappe and journalpost of arkivstruktur.xml."""
    out = {}
    for _, el in etree.iterparse(str(pkg / "arkivstruktur.xml"), events=("end",), tag=(f"{AS}registrering", f"{AS}mappe")):
        if el.tag == f"{AS}mappe":
            out[el.findtext(f"{AS}systemID")] = (int(el.findtext(f"{AS}saksaar")), int(el.findtext(f"{AS}sakssekvensnummer")))
        elif el.get(XSI_TYPE) == "journalpost":
            out[el.findtext(f"{AS}systemID")] = (int(el.findtext(f"{AS}journalaar")),
                                                 int(el.findtext(f"{AS}journalsekvensnummer")))
    return out


def _checks(pkg: Path, shared_dir: Path, tmp: Path) -> dict:
    ref = shared_dir / "reference" / "noark5"
    return check_extract(pkg, official_dir=ref, epj_xsd=schemas_dir() / "noarkpack-epj-1.0.xsd", tmp=tmp,
                         identify=False)


def _warnings(report) -> list[str]:
    """Warnings other than the note every extract with PRONOM PUIDs carries about Arkade's N5.29."""
    return [f.message for f in report.findings if f.severity == "warning" and f.test != "N5.29"]


def test_numbers_follow_creation_not_the_order_added(tmp_path, docs, shared_dir):
    journals = _journals(docs)
    with Numbering.build(journals) as numbering:
        _write(tmp_path / "out", builders.settings(docs), journals, numbering)
    pkg = tmp_path / "out" / "avleveringspakke"
    _checks(pkg, shared_dir, tmp_path)  # creation order, journals sorted, counts (extract_checks)
    # saksmapper of 2018 by creation: J2 (February), J3 (May), J1 (September)
    tree = etree.parse(str(pkg / "arkivstruktur.xml"))
    ids = {m.findtext(f"{AS}mappeID"): m.findtext(f"{AS}virksomhetsspesifikkeMetadata//{{{EPJ_NAMESPACE}}}journalID")
           for m in tree.iter(f"{AS}mappe")}
    assert ids == {"2018/1": "J2", "2018/2": "J3", "2018/3": "J1"}
    # the letter written on 2018-12-31 is journalpost 2018/n though dated 2019-01-02 (M013: the year it was created)
    letter = next(r for r in tree.iter(f"{AS}registrering") if r.findtext(f"{AS}registreringsID") == "J3-brev-0")
    assert (letter.findtext(f"{AS}journalaar"), letter.findtext(f"{AS}journaldato")) == ("2018", "2019-01-02")
    assert letter.findtext(f"{AS}journalsekvensnummer") == "3"  # after 2018-04-02 (J2) and 2018-11-05 (J1)
    assert [e[:2] for e in journal_entries(pkg / "loependeJournal.xml")] == [(2018, 1), (2018, 2), (2018, 3),
                                                                            (2019, 1), (2019, 2)]
    report = validate(pkg)
    assert report.errors == 0 and _warnings(report) == [], report.summary_lines()


def test_without_a_numbering_the_order_added_is_kept(tmp_path, docs):
    """The writer's fallback numbers in the order journals are added (per year of creation)."""
    _write(tmp_path / "out", builders.settings(docs), _journals(docs))
    numbered = _numbered(tmp_path / "out" / "avleveringspakke")
    assert out_of_creation_order(numbered["saksmappe"]) == [(2018, 2), (2018, 3)]  # J2, J3 before J1 (2018/1)
    assert out_of_creation_order(numbered["journalpost"]) == [(2018, 2), (2019, 2)]
    assert (2018, 3) in [n[:2] for n in numbered["journalpost"]]  # the letter of 2018-12-31: 2018 all the same


def _numbered(pkg: Path) -> dict[str, list[tuple[int, int, str]]]:
    """(year, number, opprettetDato) of the saksmapper and of the journalposts of arkivstruktur.xml."""
    out: dict[str, list] = {"saksmappe": [], "journalpost": []}
    for _, el in etree.iterparse(str(pkg / "arkivstruktur.xml"), events=("end",), tag=(f"{AS}registrering", f"{AS}mappe")):
        if el.tag == f"{AS}mappe":
            out["saksmappe"].append((int(el.findtext(f"{AS}saksaar")), int(el.findtext(f"{AS}sakssekvensnummer")),
                                     el.findtext(f"{AS}opprettetDato")))
        elif el.get(XSI_TYPE) == "journalpost":
            out["journalpost"].append((int(el.findtext(f"{AS}journalaar")),
                                       int(el.findtext(f"{AS}journalsekvensnummer")), el.findtext(f"{AS}opprettetDato")))
    return out


def test_any_subset_in_any_order_gets_the_numbers_of_the_whole(tmp_path, docs):
    journals = _journals(docs)
    with Numbering.build(reversed(journals)) as numbering:
        _write(tmp_path / "all", builders.settings(docs), journals, numbering)
        _write(tmp_path / "some", builders.settings(docs), journals[1:2], numbering)
    whole, part = _numbers(tmp_path / "all" / "avleveringspakke"), _numbers(tmp_path / "some" / "avleveringspakke")
    assert part and all(whole[sid] == n for sid, n in part.items())


def test_a_journal_missing_from_the_numbering_is_an_error(tmp_path, docs):
    journals = _journals(docs)
    with Numbering.build(journals[:2]) as numbering, pytest.raises(ExtractError, match="not in the numbering"):
        _write(tmp_path / "out", builders.settings(docs), journals, numbering)
    assert not (tmp_path / "out" / "avleveringspakke").exists()


def test_a_journal_key_twice_is_an_error(docs):
    journals = _journals(docs)
    with pytest.raises(ModelError, match="journal_id occurs twice") as e:
        Numbering.build([*journals, journals[0]])
    assert e.value.record == "journal J1"


def test_split_extracts_keep_the_numbers_of_the_whole(tmp_path):
    """--split-by arkivskaper: each journal has the same numbers in its arkivskaper's extract as in the whole."""
    project = builders.synth_project(tmp_path, journals=24, entries=5, doc_kb=1)  # a letter in each
    whole = _numbers(extract_project(load_project(project), tmp_path / "whole").result.path)
    runs = extract_project(load_project(project), tmp_path / "split", split_by="arkivskaper")
    assert len(runs) == 2
    seen = {}
    gaps = False  # numbered per extract, each would run 1, 2, 3 … within a year: the test could not tell
    for run in runs:
        seen.update(_numbers(run.result.path))
        per_year: dict[int, set[int]] = {}
        for year, n, _created in _numbered(run.result.path)["saksmappe"]:
            per_year.setdefault(year, set()).add(n)
        gaps = gaps or any(ns != set(range(1, len(ns) + 1)) for ns in per_year.values())
    assert seen == whole and len(whole) == 48
    assert gaps


# -- open journals and the period separation -------------------------------------------------------------


def _with_open(docs: Path):
    """Two closed journals and, between them, one still open: letters of 2019 and one of 2024 (after the period)."""
    journals = _journals(docs)[:2]
    journals.insert(1, _journal("J9", "P9", docs, datetime(2018, 6, 1, 9, tzinfo=OSLO),
                                [datetime(2018, 7, 1, 10, tzinfo=OSLO), datetime(2024, 2, 1, 10, tzinfo=OSLO)],
                                closed=False))
    return journals


def test_open_journal_with_mykt_lists_its_journalposts_of_the_period(tmp_path, docs, shared_dir):
    journals = _with_open(docs)
    with Numbering.build(journals) as numbering:
        r = _write(tmp_path / "out", builders.settings(docs), journals, numbering)
    assert [j for j, _ in r.skipped] == ["J9"] and r.open_at_end == 1
    assert (r.journalposter, r.journalregistreringer, r.utgaaende_skille) == (4, 5, "mykt")
    pkg = tmp_path / "out" / "avleveringspakke"
    assert addml_value(pkg, "utgaaendeSkille") == "mykt" and addml_value(pkg, "inngaaendeSkille") == "skarpt"
    _checks(pkg, shared_dir, tmp_path)
    j9 = [system_id("test-system", "registrering", "J9", f"J9-brev-{n}") for n in (0, 1)]
    text = (pkg / "arkivstruktur.xml").read_text(encoding="utf-8")
    assert ">J9<" not in text and j9[0] not in text  # not in arkivstruktur.xml
    entries = journal_entries(pkg / "loependeJournal.xml")
    assert [e[:2] for e in entries] == [(2018, 1), (2018, 2), (2018, 3), (2019, 1), (2019, 2)]
    # J9's letter of 2018-07-01, between J2's (April) and J1's (November); the one of 2024 is after the period
    assert entries[1][2] == j9[0] and j9[1] not in {e[2] for e in entries}
    # its saksmappe (opened 2018-06-01, between J2 and J1) keeps its number: 2018/2 is missing in arkivstruktur
    assert [m[:2] for m in _numbered(pkg)["saksmappe"]] == [(2018, 3), (2018, 1)]
    report = validate(pkg)
    assert report.errors == 0 and _warnings(report) == [], report.summary_lines()


def test_open_journal_with_declared_skarpt_is_an_error(tmp_path, docs):
    journals = _with_open(docs)
    with Numbering.build(journals) as numbering, pytest.raises(ModelError, match="sharp period separation") as e:
        _write(tmp_path / "out", builders.settings(docs, utgaaende_skille="skarpt"), journals, numbering)
    assert e.value.record == "journal J9" and "mykt" in e.value.hint
    assert not (tmp_path / "out" / "avleveringspakke").exists()


def test_without_open_journals_the_separation_is_skarpt(tmp_path, docs):
    r = _write(tmp_path / "out", builders.settings(docs), [builders.journal("J1", "P1", docs)])
    assert r.utgaaende_skille == "skarpt" and r.open_at_end == 0
    assert addml_value(tmp_path / "out" / "avleveringspakke", "utgaaendeSkille") == "skarpt"


def test_journal_closed_after_the_period_counts_as_open(tmp_path, docs):
    j = _journal("J9", "P9", docs, datetime(2018, 6, 1, 9, tzinfo=OSLO), [datetime(2018, 7, 1, 10, tzinfo=OSLO)])
    j.avsluttet = datetime(2024, 1, 20, 12, tzinfo=OSLO)
    journals = [_journals(docs)[0], j]
    with Numbering.build(journals) as numbering, ExtractWriter(tmp_path / "out", builders.settings(docs),
                                                              numbering=numbering) as w:
        w.add(journals[0])
        w.leave_out(j, "avsluttet etter skjæringsdatoen")  # as the selection's on_excluded
        w.leave_out(_journals(docs)[1], "pasienten er ikke død etter NHAs regel")  # closed in the period: listed only
    r = w.result
    assert [j for j, _ in r.skipped] == ["J9", "J2"] and r.open_at_end == 1
    assert r.journalregistreringer == r.journalposter + 1


# -- the external sort of the journals -------------------------------------------------------------------


def test_sorted_runs_merge_many_runs_in_order(tmp_path):
    keys = [(y, n) for y in (2017, 2018, 2019) for n in range(1, 301)]
    random.Random(17).shuffle(keys)
    runs = SortedRuns(tmp_path / "spool", budget=2000, fan_in=3)
    for aar, seq in keys:
        runs.add((aar, seq), f"<lj>{aar}/{seq}</lj>".encode(), f"<oj>{aar}/{seq}</oj>".encode())
    assert len(list((tmp_path / "spool").glob("run-*.bin"))) > 3  # spilled to several runs
    out = list(runs.sorted())
    assert [k for k, _, _ in out] == sorted(keys)
    assert all(lj == f"<lj>{k[0]}/{k[1]}</lj>".encode() and oj == f"<oj>{k[0]}/{k[1]}</oj>".encode()
               for k, lj, oj in out)
