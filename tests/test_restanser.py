"""Restanser (issue 17, points 3 and 10): every incoming or internal journalpost of a closed journal is avskrevet,
from the source or by the documented default, and validate's NP.07 finds one that is not.

Real extracts written by noarkpack's ExtractWriter from a small JSON Lines source, real schemas; the mutations edit a
copy of arkivstruktur.xml as a migration gone wrong would have left it.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from lxml import etree

from noarkpack.errors import ModelError
from noarkpack.model import noark5 as n5
from noarkpack.model.epj import Avskrivning, Journalinnslag
from noarkpack.model.identifiers import system_id
from noarkpack.model.mapping import DEFAULT_AVSKRIVNINGSMAATE, MappingContext, avskrivning
from noarkpack.noark5.writer import ExtractWriter
from noarkpack.pipeline import import_project
from noarkpack.project import load_project
from noarkpack.sources.jsonl import parse_journal, read_journals
from noarkpack.sources.staging import StagingDB, stage_journals
from noarkpack.validation import validate

from .test_import import TOML, write_project
from .test_validation import _settings

NS = {"n": "http://www.arkivverket.no/standarder/noark5/arkivstruktur"}
OSLO = ZoneInfo("Europe/Oslo")
SYSTEM = "validation-test"  # _settings' system id: the namespace of the systemIDs

INN = {"type": "Avsender", "navn": "Fjordvik legesenter"}


def _entry(iid, kind, title, day, korr=None, doc=None):
    e = {"innslag_id": iid, "type": kind, "tittel": title, "forfatter": "Per Ås",
         "opprettet": f"{day}T08:10:00+02:00", "arkivert": f"{day}T08:30:00+02:00", "arkivert_av": "per"}
    if korr is not None:
        e["korrespondanse"] = korr
    if doc is not None:
        e["dokumenter"] = [{"fil": doc, "tittel": title}]
    return e


JOURNALS = [
    {"journal_id": "J1", "arkivskaper": "helse", "journalsted": "Sone nord", "journalansvarlig": "Kari Lie",
     "opprettet": "2019-04-03T09:00:00+02:00", "opprettet_av": "kari", "avsluttet": "2019-06-30T15:00:00+02:00",
     "avsluttet_av": "kari",
     "pasient": {"pasient_id": "P1", "fodselsnummer": "31129956715", "navn": "Åse Bjørnstad",
                 "fodselsdato": "1999-12-31", "kjonn": "K"},
     "innslag": [
         # answered by the letter B1: the source says so
         _entry("H1", "henvisning", "Henvisning", "2019-05-01", {
             "type": "Inngående dokument", "dato": "2019-05-01", "parter": [INN],
             "avskrivning": {"innslag_id": "B1"}}, doc="h1.txt"),
         _entry("B1", "brev", "Svar på henvisning", "2019-05-03", {
             "type": "Utgående dokument", "dato": "2019-05-03",
             "parter": [{"type": "Mottaker", "navn": "Fjordvik legesenter"}]}),
         # the source says nothing: the default
         _entry("E1", "epikrise", "Epikrise", "2019-05-10", {
             "type": "Inngående dokument", "dato": "2019-05-10", "parter": [INN]}),
         # the source says how, when and by whom
         _entry("I1", "notat", "Oppfølging av fall", "2019-05-12", {
             "type": "Organinternt dokument for oppfølging", "dato": "2019-05-12",
             "parter": [{"type": "Intern mottaker", "navn": "Sykepleier natt"}],
             "avskrivning": {"maate": "Tatt til orientering", "dato": "2019-05-20", "av": "Randi Nyhus"}})]},
    {"journal_id": "J2", "arkivskaper": "helse", "journalsted": "Sone sør", "journalansvarlig": "Ola Nor",
     "opprettet": "2019-03-03T09:00:00+01:00", "opprettet_av": "ola", "avsluttet": "2020-01-10T15:00:00+01:00",
     "avsluttet_av": "ola",
     "pasient": {"pasient_id": "P2", "fodselsnummer": "01010012356", "navn": "Bo Berg",
                 "fodselsdato": "1900-01-01", "kjonn": "M"},
     "innslag": [
         _entry("S1", "skjema", "Søknad om plass", "2019-11-01", {
             "type": "Inngående dokument", "dato": "2019-11-01",
             "parter": [{"type": "Avsender", "navn": "Pårørende"}]}),
         _entry("N2", "notat", "Tilsyn", "2019-11-02", doc="n2.txt")]},
]


def _sid(journal: str, entry: str) -> str:
    return system_id(SYSTEM, "registrering", journal, entry)


@pytest.fixture(scope="module")
def restanse_extract(tmp_path_factory, schema_store) -> Path:
    base = tmp_path_factory.mktemp("restanser")
    docs = base / "docs"
    docs.mkdir()
    (docs / "h1.txt").write_text("Henvisning til hjemmesykepleie.\n", encoding="utf-8")
    (docs / "n2.txt").write_text("Tilsyn om kvelden.\n", encoding="utf-8")
    src = base / "j.jsonl"
    src.write_text("".join(json.dumps(j, ensure_ascii=False) + "\n" for j in JOURNALS), encoding="utf-8")
    with ExtractWriter(base / "out", _settings(docs), store=schema_store) as w:
        for j in read_journals(src):
            w.add(j)
    return base / "out" / "avleveringspakke"


@pytest.fixture
def extract(restanse_extract, tmp_path) -> Path:
    dst = tmp_path / "avleveringspakke"
    shutil.copytree(restanse_extract, dst)
    return dst


def _avskrivninger(folder: Path) -> dict[str, dict[str, str]]:
    """registrering systemID → its avskrivning's fields (only journalposts that have one)."""
    tree = etree.parse(str(folder / "arkivstruktur.xml"))
    out = {}
    for reg in tree.iterfind(".//n:registrering", NS):
        a = reg.find("n:avskrivning", NS)
        if a is not None:
            out[reg.findtext("n:systemID", namespaces=NS)] = {etree.QName(c).localname: c.text for c in a}
    return out


def _np07(report, severity=None):
    return [f for f in report.findings if f.test == "NP.07" and (severity is None or f.severity == severity)]


# --------------------------------------------------------------------------- the mapping


def _journal(**korr_by_id):
    j = parse_journal(JOURNALS[0], Path("j.jsonl"), 1)
    for i in j.innslag:
        if i.innslag_id in korr_by_id:
            i.korrespondanse.avskrivning = korr_by_id[i.innslag_id]
    return j


CTX = MappingContext(system=SYSTEM, arkivdel_systemID=system_id(SYSTEM, "arkivdel", "x"),
                     skjerming_tilgangsrestriksjon="Unntatt offentlighet", skjerming_hjemmel="Offl. § 13")


def _of(j, iid):
    return avskrivning(CTX, j, next(i for i in j.innslag if i.innslag_id == iid))


def test_the_default_is_tatt_til_etterretning_on_the_closing_date_by_who_closed_it():
    j = _journal()
    j.check()
    assert DEFAULT_AVSKRIVNINGSMAATE in n5.AVSKRIVNINGSMAATER
    assert _of(j, "E1") == [n5.Avskrivning(avskrivningsdato=date(2019, 6, 30), avskrevetAv="kari",
                                           avskrivningsmaate="Tatt til etterretning")]
    assert _of(j, "B1") == []  # an outgoing letter stands in no restanse


def test_an_answer_the_source_names_is_besvart_med_brev_with_a_reference():
    j = _journal()
    [a] = _of(j, "H1")
    assert (a.avskrivningsmaate, a.avskrivningsdato, a.avskrevetAv) == ("Besvart med brev", date(2019, 5, 3), "Per Ås")
    assert a.referanseAvskrivesAvJournalpost == _sid("J1", "B1")
    [a] = _of(j, "I1")
    assert (a.avskrivningsmaate, a.avskrivningsdato, a.avskrevetAv, a.referanseAvskrivesAvJournalpost) == \
        ("Tatt til orientering", date(2019, 5, 20), "Randi Nyhus", None)


def test_an_organinternt_dokument_uten_oppfoelging_gets_no_default():
    j = _journal()
    i = next(i for i in j.innslag if i.innslag_id == "E1")
    i.korrespondanse.type = "Organinternt dokument uten oppfølging"
    j.check()
    assert _of(j, "E1") == []


@pytest.mark.parametrize("avskr, message", [
    (Avskrivning(maate="Sak avsluttet"), "not an avskrivningsmaate"),
    (Avskrivning(innslag_id="X9"), "not in the journal"),
    (Avskrivning(innslag_id="E1"), "not another journalpost"),  # itself
    (Avskrivning(innslag_id="I1"), "not an outgoing letter"),  # an answer that is no letter needs its maate
    (Avskrivning(), "neither maate nor the answering entry"),
    (Avskrivning(maate="Tatt til etterretning", dato=date(2019, 7, 1)), "after the journal was closed"),
    (Avskrivning(maate="Tatt til etterretning", dato=date(2019, 5, 9)), "before the entry's journaldato"),
])
def test_a_source_avskrivning_that_cannot_be_true_stops_the_journal(avskr, message):
    j = _journal(E1=avskr)
    with pytest.raises(ModelError, match=message) as e:
        j.check()
    assert e.value.record == "journal J1, entry E1"


def test_an_answer_that_is_not_a_journalpost_is_refused():
    j = _journal(E1=Avskrivning(innslag_id="N9"))
    j.innslag.append(Journalinnslag(innslag_id="N9", type="notat", tittel="Notat", forfatter="Per Ås",
                                    opprettet=datetime(2019, 5, 11, 8, tzinfo=OSLO),
                                    arkivert=datetime(2019, 5, 11, 9, tzinfo=OSLO), arkivert_av="per"))
    with pytest.raises(ModelError, match="not another journalpost"):
        j.check()


# --------------------------------------------------------------------------- the sources


def test_json_lines_and_the_staging_database_keep_the_source_avskrivning(tmp_path):
    src = tmp_path / "j.jsonl"
    src.write_text("".join(json.dumps(j, ensure_ascii=False) + "\n" for j in JOURNALS), encoding="utf-8")
    journals = list(read_journals(src))
    stage_journals(tmp_path / "s.sqlite", journals)
    with StagingDB(tmp_path / "s.sqlite") as db:
        staged = list(db.journals())
    for before, after in zip(journals, staged):
        assert [i.korrespondanse for i in before.innslag] == [i.korrespondanse for i in after.innslag]
    h1 = journals[0].innslag[0].korrespondanse.avskrivning
    assert h1 == Avskrivning(innslag_id="B1")
    assert journals[0].innslag[3].korrespondanse.avskrivning == \
        Avskrivning(maate="Tatt til orientering", dato=date(2019, 5, 20), av="Randi Nyhus")


def test_the_import_maps_avskrivning_columns(tmp_path):
    toml = TOML.replace('arkivert_av = "SIGN_AV"\n', 'arkivert_av = "SIGN_AV"\n'
                        'korrespondanse_type = { column = "POST", values = { I = "Inngående dokument", '
                        'U = "Utgående dokument" } }\n'
                        'korrespondanse_dato = "POSTDATO"\n'
                        'avskrivning_maate = { column = "AVSKR", values = { BU = "Besvart med brev", '
                        'TO = "Tatt til orientering" } }\n'
                        'avskrivning_dato = "AVSKR_DATO"\navskrivning_av = "AVSKR_AV"\n'
                        'avskrivning_innslag = "SVAR_PAA"\n', 1)
    toml += ('\n[[import.file]]\npath = "eksport/part.csv"\ntable = "korrespondansepart"\njoin = "innslag"\n'
             '[import.file.columns]\ninnslag_id = "NID"\ntype = "ROLLE"\nnavn = "NAVN"\n')
    notat = ("NID;JID;TITTEL;FORF;SKREVET;SIGNERT;SIGN_AV;POST;POSTDATO;AVSKR;AVSKR_DATO;AVSKR_AV;SVAR_PAA\r\n"
             "N1;J1;Tilsyn;Per Ås;02.03.2010 08:00;02.03.2010 08:30;per;;;;;;\r\n"
             "N2;J1;Søknad;Per Ås;03.03.2010 08:00;03.03.2010 08:30;per;I;03.03.2010;BU;;;B2\r\n"
             "B2;J1;Svar;Per Ås;05.03.2010 08:00;05.03.2010 08:30;per;U;05.03.2010;;;;\r\n"
             "N3;J2;Klage;Kari Lie;02.03.2011 08:00;02.03.2011 08:30;kari;I;02.03.2011;TO;09.03.2011;Kari Lie;\r\n"
             "N4;J2;Melding;Kari Lie;03.03.2011 08:00;03.03.2011 08:30;kari;I;03.03.2011;;;;\r\n")
    part = ("NID;ROLLE;NAVN\r\nN2;Avsender;Pårørende\r\nB2;Mottaker;Pårørende\r\nN3;Avsender;Pårørende\r\n"
            "N4;Avsender;Fastlege\r\n")
    root = write_project(tmp_path / "proj", toml=toml, notat=notat, part=part)
    project = load_project(root)
    report = import_project(project)
    assert report.exit_code == 0, report.summary_lines()
    entries = {i.innslag_id: i for j in load_project(root).journals() for i in j.innslag}
    assert entries["N2"].korrespondanse.avskrivning == Avskrivning(maate="Besvart med brev", innslag_id="B2")
    assert entries["N3"].korrespondanse.avskrivning == Avskrivning(maate="Tatt til orientering",
                                                                    dato=date(2011, 3, 9), av="Kari Lie")
    assert entries["N4"].korrespondanse.avskrivning is None
    assert entries["N1"].korrespondanse is None
    from noarkpack.pipeline import analyse_project

    analysis = analyse_project(load_project(root), identify_formats=False)
    assert analysis.counts["avskrivning"] == {"from_source": 2, "default": 1}
    [an20] = [f for f in analysis.findings if f.code == "AN.20"]
    assert an20.severity == "info" and an20.location["record"] == "journal J2, entry N4"
    assert an20.location["file"] == "eksport/journal.csv"  # where the journal's row is, as for AN.10


# --------------------------------------------------------------------------- the extract


def test_the_extract_has_each_avskrivning(restanse_extract):
    got = _avskrivninger(restanse_extract)
    assert got == {
        _sid("J1", "H1"): {"avskrivningsdato": "2019-05-03", "avskrevetAv": "Per Ås",
                           "avskrivningsmaate": "Besvart med brev",
                           "referanseAvskrivesAvJournalpost": _sid("J1", "B1")},
        _sid("J1", "E1"): {"avskrivningsdato": "2019-06-30", "avskrevetAv": "kari",
                           "avskrivningsmaate": "Tatt til etterretning"},
        _sid("J1", "I1"): {"avskrivningsdato": "2019-05-20", "avskrevetAv": "Randi Nyhus",
                           "avskrivningsmaate": "Tatt til orientering"},
        _sid("J2", "S1"): {"avskrivningsdato": "2020-01-10", "avskrevetAv": "ola",
                           "avskrivningsmaate": "Tatt til etterretning"},
    }


@pytest.mark.parametrize("name", ["loependeJournal.xml", "offentligJournal.xml"])
def test_the_journals_show_how_each_was_avskrevet(restanse_extract, name):
    root = etree.parse(str(restanse_extract / name)).getroot()
    ns = {"j": root.nsmap[None]}
    shown = {jp.findtext("j:systemID", namespaces=ns): (jp.findtext("j:avskrivningsdato", namespaces=ns),
                                                        jp.findtext("j:avskrivningsmaate", namespaces=ns),
                                                        jp.findtext("j:referanseAvskrivesAvJournalpost", namespaces=ns))
             for jp in root.iterfind(".//j:journalpost", ns)}
    assert shown[_sid("J1", "H1")] == ("2019-05-03", "Besvart med brev", _sid("J1", "B1"))
    assert shown[_sid("J1", "E1")] == ("2019-06-30", "Tatt til etterretning", None)
    assert shown[_sid("J1", "B1")] == (None, None, None)


def test_the_extract_validates_without_restanser(restanse_extract, schema_store):
    report = validate(restanse_extract, store=schema_store)
    assert [f for f in report.findings if f.severity == "error"] == []
    assert _np07(report, "warning") == []
    assert [f.message for f in _np07(report, "info")] == \
        ["incoming and internal journalposts in closed mapper: 4; without avskrivning: 0"]
    n540 = {f.message for f in report.findings if f.test == "N5.40"}
    assert {"avskrivningsmaate 'Tatt til etterretning': 2", "avskrivningsmaate 'Besvart med brev': 1",
            "avskrivningsmaate 'Tatt til orientering': 1"} <= n540


# --------------------------------------------------------------------------- NP.07: mutations


def _text(folder: Path) -> str:
    return (folder / "arkivstruktur.xml").read_text(encoding="utf-8")


def _write(folder: Path, text: str) -> None:
    (folder / "arkivstruktur.xml").write_text(text, encoding="utf-8")


def _registrering_span(text: str, sid: str) -> tuple[int, int]:
    """The start and end offsets of the registrering whose systemID is ``sid``."""
    at = text.index(f"<systemID>{sid}</systemID>")
    start = text.rindex("<registrering", 0, at)
    return start, text.index("</registrering>", at)


def _drop_avskrivning(folder: Path, sid: str) -> int:
    """Remove the avskrivning of registrering ``sid``; returns the line of its start tag."""
    text = _text(folder)
    start, end = _registrering_span(text, sid)
    part = re.sub(r"\s*<avskrivning>.*?</avskrivning>", "", text[start:end], count=1, flags=re.DOTALL)
    assert part != text[start:end]
    _write(folder, text[:start] + part + text[end:])
    return text[:start].count("\n") + 1


def _mappe_after(text: str, sid: str) -> tuple[int, int]:
    """Offsets of the saksstatus element of the mappe holding registrering ``sid`` (it follows the registreringer)."""
    _, end = _registrering_span(text, sid)
    m = re.compile(r"<saksstatus>[^<]*</saksstatus>").search(text, end)
    return m.start(), m.end()


def test_a_removed_avskrivning_is_a_restanse(extract, schema_store):
    line = _drop_avskrivning(extract, _sid("J1", "E1"))
    report = validate(extract, store=schema_store)
    [f] = _np07(report, "warning")
    assert f.location["line"] == line and f.location["systemID"] == _sid("J1", "E1")
    assert "Inngående dokument" in f.message and "krav 3.2.9, 3.4.5" in f.message and "registreringsID E1" in f.message
    assert report.counts["NP.07"]["warning"] == 1
    assert any(f.message.endswith("without avskrivning: 1") for f in _np07(report, "info"))
    # the only other findings are the ADDML's checksum of the edited file
    assert {f.test for f in report.findings if f.severity == "error"} <= {"N5.02"}


def test_an_internal_document_for_follow_up_is_a_restanse_too(extract, schema_store):
    _drop_avskrivning(extract, _sid("J1", "I1"))
    [f] = _np07(validate(extract, store=schema_store, tests={"NP.07"}), "warning")
    assert "Organinternt dokument for oppfølging" in f.message


def test_a_mappe_closed_only_by_its_saksstatus_is_judged_when_it_ends(extract, schema_store):
    """saksstatus comes after the registreringer: the restanse waits for it."""
    sid = _sid("J2", "S1")
    _drop_avskrivning(extract, sid)
    text = _text(extract)
    start, _ = _registrering_span(text, sid)
    mappe = text.rindex("<mappe", 0, start)
    head = re.sub(r"\s*<avsluttetDato>[^<]*</avsluttetDato>\s*<avsluttetAv>[^<]*</avsluttetAv>", "",
                  text[mappe:start], count=1)
    assert head != text[mappe:start]
    _write(extract, text[:mappe] + head + text[start:])
    report = validate(extract, store=schema_store, tests={"NP.07"})
    assert [f.location["systemID"] for f in _np07(report, "warning")] == [sid]
    # and once the saksstatus says the mappe is open, it is no restanse of a closed mappe
    text = _text(extract)
    a, b = _mappe_after(text, sid)
    _write(extract, text[:a] + "<saksstatus>Under behandling</saksstatus>" + text[b:])
    assert _np07(validate(extract, store=schema_store, tests={"NP.07"}), "warning") == []


@pytest.mark.parametrize("void, judged", [("mappe", 1), ("journalpost", 3)])
def test_what_is_utgaar_stands_in_no_restanse(extract, schema_store, void, judged):
    sid = _sid("J1", "E1")
    _drop_avskrivning(extract, sid)
    text = _text(extract)
    if void == "mappe":
        a, b = _mappe_after(text, sid)
        text = text[:a] + "<saksstatus>Utgår</saksstatus>" + text[b:]
    else:
        start, end = _registrering_span(text, sid)
        text = text[:start] + text[start:end].replace("<journalstatus>Arkivert</journalstatus>",
                                                      "<journalstatus>Utgår</journalstatus>") + text[end:]
    _write(extract, text)
    report = validate(extract, store=schema_store, tests={"NP.07"})
    assert _np07(report, "warning") == []
    assert [f.message for f in _np07(report, "info")] == \
        [f"incoming and internal journalposts in closed mapper: {judged}; without avskrivning: 0"]


def test_np07_left_out_of_the_selection_reads_nothing(extract, schema_store):
    _drop_avskrivning(extract, _sid("J1", "E1"))
    report = validate(extract, store=schema_store, tests={"N5.40"})
    assert _np07(report) == [] and "NP.07" not in report.ran


# --------------------------------------------------------------------------- N5.29: what Arkade will say


def test_n529_warns_that_arkade_fails_every_puid(restanse_extract, tmp_path, schema_store):
    formats = [el.text for el in etree.parse(str(restanse_extract / "arkivstruktur.xml")).iterfind(".//n:format", NS)]
    puids = [f for f in formats if re.fullmatch(r"(x-)?fmt/\d+", f)]
    report = validate(restanse_extract, store=schema_store, tests={"N5.29"})
    warnings = [f for f in report.findings if f.test == "N5.29" and f.severity == "warning"]
    if not puids:
        assert warnings == []
        return
    [w] = warnings
    assert w.message.startswith(f"{len(puids)} document objects give a PRONOM PUID as format")
    assert "issue #175" in w.message and "Format-misforhold" in w.message
    assert [f for f in report.findings if f.test == "N5.29" and f.severity == "error"] == []
    # a format written as the file extension is what Arkade compares: no longer counted
    folder = tmp_path / "x"
    shutil.copytree(restanse_extract, folder)
    text = _text(folder)
    _write(folder, text.replace(f"<format>{puids[0]}</format>", "<format>txt</format>", 1))
    report = validate(folder, store=schema_store, tests={"N5.29"})
    counted = [f for f in report.findings if f.test == "N5.29" and f.severity == "warning"]
    left = len(puids) - 1
    assert [f.message.split(" a PRONOM")[0] for f in counted] == \
        ([] if not left else ["1 document object gives"] if left == 1 else [f"{left} document objects give"])
