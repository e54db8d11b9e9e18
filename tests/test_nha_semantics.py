"""Issue 17, points 10, 11 and 14 on examples/sykehus: del 5's code lists, a true revision history, three-state
hidden flags — and `verify` finds each defect when it is put back into a copy of the deposit (mutation tests)."""

from __future__ import annotations

import io
import re
import shutil
import tarfile
from datetime import date, datetime
from pathlib import Path

import pytest
from lxml import etree

from noarkpack.model.epj import Journalinnslag, Pasient, Pasientjournal
from noarkpack.model.identifiers import validate_person_number
from noarkpack.nha import run_nha_package, verify_deposit
from noarkpack.nha.codes import (
    ICD9_OID,
    ICD10_OID,
    REVISJONSTYPER,
    Komponenttyper,
    diagnosis_code,
    pasient_id_type,
)
from noarkpack.nha.xml import person_name
from noarkpack.sources.jsonl import read_journals
from noarkpack.sources.staging import StagingDB, stage_journals

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "sykehus"
TODAY = date(2025, 6, 30)
NS_DOK = "{http://eisi.helsedir.no/anno2014/nha-epj-1.80/epj_dokument}"
NS_SAK = "{http://eisi.helsedir.no/anno2014/nha-epj-1.80/epj_sak}"
NS_BASIS = "{http://eisi.helsedir.no/anno2014/nha-epj-1.80/datatyper/basis}"
NS_REV = "{http://eisi.helsedir.no/anno2014/nha-epj-1.80/datatyper/revisjonsinfo}"
NS_PERSON = "{http://eisi.helsedir.no/anno2014/nha-epj-1.80/datatyper/person}"
NS_STAMME = "{http://eisi.helsedir.no/anno2014/nha-epj-1.80/datatyper/stamme}"
SEMANTIC = {"NHA.17", "NHA.18", "NHA.19", "NHA.20", "NHA.21"}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return run_nha_package(EXAMPLE, tmp_path_factory.mktemp("nha-sem"))


def _members(built, journal_id: str) -> dict[str, bytes]:
    [p] = [p for p in built.epj_packages if p.journal_id == journal_id]
    with tarfile.open(built.path / p.file) as t:
        return {m.name: t.extractfile(m).read() for m in t.getmembers() if m.isfile()}


def _docs(built, journal_id: str, *, entries_only: bool = True) -> list[etree._Element]:
    """The journal's EPJ dokumenter: its entries (and with ``entries_only=False`` its Journalopplysninger)."""
    docs = [etree.fromstring(v) for k, v in sorted(_members(built, journal_id).items()) if "/dokumenter/" in k
            and k.endswith(".xml")]
    return [d for d in docs if not entries_only
            or not d.findtext(f"{NS_STAMME}komponent_ID").endswith("/journalopplysninger")]


def _revisions(el) -> list[tuple[str, str, str, str]]:
    """(code, time, registrar name, signer name) of each direct Arkivert_revisjonsinfo."""
    out = []
    for r in el.findall(f"{{{el.nsmap[None]}}}Arkivert_revisjonsinfo"):
        out.append((r.findtext(f"{NS_BASIS}revisjonstype/{NS_BASIS}code"), r.findtext(f"{NS_REV}revisjonstidspunkt"),
                    r.findtext(f"{NS_PERSON}registrert_av_tjenesteyter/{NS_PERSON}fullt_navn"),
                    r.findtext(f"{NS_PERSON}signert_av_person/{NS_PERSON}fullt_navn")))
    return out


def _semantic(path: Path) -> set[str]:
    return {f.test for f in verify_deposit(path, today=TODAY) if f.test in SEMANTIC}


# ------------------------------------------------------------------------------------------ the code lists


def test_pasient_id_type_codes_of_del5() -> None:
    fnr = "14032111840"
    assert pasient_id_type(fnr, validate_person_number(fnr)) == ("FNR", None)
    code, merknad = pasient_id_type(fnr[:10] + "9", None)  # a wrong control digit: typed by its form
    assert code == "FNR" and "kontrollsifrene" in merknad and fnr[:10] not in merknad
    assert pasient_id_type("54032111840", None)[0] == "DNR"  # first digit > 3
    assert pasient_id_type("14432111840", None)[0] == "HNR"  # third digit > 3
    assert pasient_id_type(None, None) == ("HNR", None)  # the hospital's own number
    assert pasient_id_type("12-34", None)[0] == "HNR"


@pytest.mark.parametrize("kode, oid, expected", [
    ("I21.9", ICD10_OID, "I219"), ("i21.9", ICD10_OID, "I219"), ("I48", ICD10_OID, "I48"),
    ("Hjertesvikt", ICD10_OID, None), ("410.9", ICD9_OID, "410.9"), ("4109x", ICD9_OID, None),
    ("Hjertesvikt", "0", None), ("123.4", "0", "123.4"), ("", ICD10_OID, None),
])
def test_diagnosis_code_form(kode: str, oid: str, expected: str | None) -> None:
    assert diagnosis_code(kode, oid) == expected


def test_komponenttype_oids_are_stable_and_described() -> None:
    a = Komponenttyper("sys", "Kliniaktiv EPJ 4.2", {"notat": {"betegnelse": "Journalnotat"}})
    b = Komponenttyper("sys", None)
    assert a.oid("dokument", "notat") == b.oid("dokument", "notat")
    assert re.fullmatch(r"2\.25\.[1-9][0-9]*", a.oid("dokument", "notat"))
    assert a.oid("dokument", "notat") != a.oid("dokument", "epikrise") != a.oid("sak")
    [t] = [t for t in a.of_kind("dokument") if t["name"] == "notat"]
    assert t["betegnelse"] == "Journalnotat" and t["antall"] == 3 and "Kliniaktiv EPJ 4.2" in t["beskrivelse"]
    c = Komponenttyper("sys", None, {"notat": {"oid": "2.16.578.1.1"}})
    assert c.oid("dokument", "notat") == "2.16.578.1.1"


def test_person_name_never_a_login() -> None:
    assert person_name("kari.moen", {"kari.moen": "Kari Moen"}) == ("kari.moen", "Kari Moen")
    assert person_name("Lege Erik Lunde", {}) == (None, "Lege Erik Lunde")
    assert person_name("arkiv.sfj", {}) == ("arkiv.sfj", "")


# ------------------------------------------------------------------------------------------ the example deposit


def test_example_deposit_has_none_of_the_defects(built) -> None:
    assert _semantic(built.path) == set()
    for p in built.epj_packages:
        with tarfile.open(built.path / p.file) as t:
            for m in t.getmembers():
                if not m.name.endswith(".xml"):
                    continue
                doc = etree.fromstring(t.extractfile(m).read())
                for el in doc.iter(f"{NS_STAMME}komponenttype"):
                    assert re.fullmatch(r"[0-9]+(\.[0-9]+)+", el.text)
                for el in doc.iter(f"{NS_PERSON}fullt_navn"):
                    assert el.text and " " in el.text  # names from [nha.brukere] or the source, no login
                for el in doc.iter(f"{NS_BASIS}revisjonstype"):
                    assert el.findtext(f"{NS_BASIS}code") in REVISJONSTYPER


def test_scanned_paper_is_one_scan_dated_by_the_scan(built) -> None:
    # SFJ-1004: paper journal pages of 1958 and 1962, scanned into the EPJ on 2003-05-12
    for doc in _docs(built, "SFJ-1004"):
        [(code, when, registrar, signer)] = _revisions(doc)
        assert code == "05" and when.startswith("2003-05-12") and registrar == "Per Dahl" and signer is None
        merknad = doc.findtext(f"{NS_DOK}Arkivert_revisjonsinfo/{NS_REV}merknad")
        assert "Dr. med. Sverre Aune" in merknad and ("1958-09-12" in merknad or "1962-02-20" in merknad)
        for frag in doc.iter(f"{NS_DOK}Arkivert_EPJ_fragment"):
            assert frag.find(f"{NS_DOK}Arkivert_revisjonsinfo") is None  # no invented events on the files


def test_notes_are_registered_then_signed_by_their_author(built) -> None:
    revs = sorted(_revisions(d) for d in _docs(built, "SFJ-1001"))
    assert [[r[0] for r in x] for x in revs] == [["01", "11"], ["01", "11"]]
    signers = {r[3] for x in revs for r in x if r[0] == "11"}
    assert signers == {"Erik Lunde", "Hanne Vik"}  # the authors' user ids, named by [nha.brukere]


def test_journal_opening_logged_only_when_opened_in_the_epj(built) -> None:
    def sak(jid: str):
        [data] = [v for k, v in _members(built, jid).items() if "/journal/" in k]
        return etree.fromstring(data).find(f"{NS_SAK}Arkivert_EPJ_sak")

    # opened on paper in 1958 and 1989, before Kliniaktiv EPJ came into use (1994): no EPJ registration
    assert _revisions(sak("SFJ-1004")) == [] and _revisions(sak("SFJ-1016")) == []
    [(code, when, registrar, signer)] = _revisions(sak("SFJ-1001"))
    assert code == "01" and when.startswith("2006-02-01") and registrar == "Kari Moen"  # closing is not logged


def test_hidden_flags_three_states_through_staging(tmp_path) -> None:
    journals = list(read_journals(EXAMPLE / "journals.jsonl"))
    flags = {j.journal_id: (j.pasient.skjult_adresse, j.pasient.skjult_navn) for j in journals}
    assert flags["SFJ-1004"] == (None, None) and flags["SFJ-1002"] == (True, False)
    assert flags["SFJ-1001"] == (False, False)
    db = tmp_path / "staging.sqlite"
    stage_journals(db, journals)
    with StagingDB(db) as s:
        back = {j.journal_id: (j.pasient.skjult_adresse, j.pasient.skjult_navn) for j in s.journals()}
    assert back == flags


def test_unrecorded_flags_are_not_written(tmp_path, built) -> None:
    data = _members(built, "SFJ-1004")
    [pi] = [v for k, v in data.items() if k.count("/") == 1]
    assert b"hemmelig_" not in pi
    [pi1] = [v for k, v in _members(built, "SFJ-1001").items() if k.count("/") == 1]
    assert b"<hemmelig_adresse>false</hemmelig_adresse>" in pi1


# ------------------------------------------------------------------------------------------ mutation tests


def _copy(built, tmp_path) -> Path:
    copy = tmp_path / built.path.name
    shutil.copytree(built.path, copy)
    return copy


def _rewrite(copy: Path, built, journal_id: str, where: str, old: bytes, new: bytes) -> None:
    """Replace ``old`` by ``new`` in the first member of the journal's epj tar whose name contains ``where``."""
    [p] = [p for p in built.epj_packages if p.journal_id == journal_id]
    src = copy / p.file
    with tarfile.open(src) as t:
        members = [(m, t.extractfile(m).read() if m.isfile() else None) for m in t.getmembers()]
    done = False
    with tarfile.open(src, "w", format=tarfile.PAX_FORMAT) as t:
        for m, data in members:
            if data is not None and not done and where in m.name and old in data:
                data, done = data.replace(old, new, 1), True
                m.size = len(data)
            t.addfile(m, io.BytesIO(data) if data is not None else None)
    assert done, (where, old)


def _avlxml(copy: Path, old: str, new: str) -> None:
    [avl] = copy.glob("avlxml*.xml")
    text = avl.read_text(encoding="utf-8")
    assert old in text
    avl.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_mutation_wrong_pasient_id_type(built, tmp_path) -> None:
    copy = _copy(built, tmp_path)
    _rewrite(copy, built, "SFJ-1001", ".xml", b"<pasient_ID_type>FNR<", b"<pasient_ID_type>f\xc3\xb8dselsnummer<")
    assert _semantic(copy) == {"NHA.17"}


def test_mutation_icd10_with_a_dot(built, tmp_path) -> None:
    copy = _copy(built, tmp_path)
    _avlxml(copy, "<diagnosekode>I219</diagnosekode>", "<diagnosekode>I21.9</diagnosekode>")
    [f] = [f for f in verify_deposit(copy, today=TODAY) if f.test == "NHA.18"]
    assert f.severity == "error" and "SFJ-1001" in f.message and "I21.9" not in f.message


def test_mutation_text_in_diagnosekode(built, tmp_path) -> None:
    copy = _copy(built, tmp_path)
    _avlxml(copy, "<diagnosetekst>Hjertesvikt (fritekst fra papirjournal)</diagnosetekst>",
            "<diagnosekode>Hjertesvikt</diagnosekode><diagnosetekst>Hjertesvikt (fritekst fra papirjournal)"
            "</diagnosetekst><diagnosekodeverk>0</diagnosekodeverk>")
    [f] = [f for f in verify_deposit(copy, today=TODAY) if f.test == "NHA.18"]
    assert f.severity == "error" and "SFJ-1004" in f.message and "text" in f.message


@pytest.mark.parametrize("old, new", [
    (b"<basis:code>11</basis:code>", b"<basis:code>99</basis:code>"),
    (b"<basis:codeSystem>2.16.578.1.12.4.1.1.9252<", b"<basis:codeSystem>2.16.578.1.12.4.1.1.9251<"),
])
def test_mutation_revision_type_not_in_the_code_list(built, tmp_path, old: bytes, new: bytes) -> None:
    copy = _copy(built, tmp_path)
    _rewrite(copy, built, "SFJ-1001", "/dokumenter/", old, new)
    assert _semantic(copy) == {"NHA.19"}


def test_mutation_komponenttype_free_text(built, tmp_path) -> None:
    copy = _copy(built, tmp_path)
    _rewrite(copy, built, "SFJ-1001", "/dokumenter/", b"<stamme:komponenttype>2.25.", b"<stamme:komponenttype>notat x")
    assert _semantic(copy) == {"NHA.20"}


def test_mutation_login_as_full_name(built, tmp_path) -> None:
    copy = _copy(built, tmp_path)
    _rewrite(copy, built, "SFJ-1001", "/journal/", b"<person:fullt_navn>Kari Moen<",
             b"<person:fullt_navn>innskriving.sfj<")
    assert _semantic(copy) == {"NHA.21"}


def test_build_warns_on_a_code_outside_its_system(tmp_path) -> None:
    """A source code that is not a code of its system is deposited as text, with a warning (never as a code)."""
    from noarkpack.model.epj import Diagnose, Dokumentfil
    from noarkpack.model.selection import SelectionRules
    from noarkpack.nha import NhaMetadata, build_deposit

    md = NhaMetadata.from_toml(__import__("tomllib").loads((EXAMPLE / "noarkpack.toml").read_text(encoding="utf-8")))
    t = datetime(2000, 1, 2, 10)
    js = []
    for n in (1, 2):
        j = Pasientjournal(f"J{n}", "sfj", "Medisinsk avdeling", "Hanne Vik", t, "kari.moen", t, "kari.moen",
                           Pasient(f"P{n}", "Test Testesen", "U", fodselsdato=date(1920, 1, 1),
                                   dodsdato=date(2001, 1, 1)),
                           [Journalinnslag(f"J{n}-1", "notat", "Notat", "Hanne Vik", t, t, "hanne.vik",
                                           dokumenter=[Dokumentfil("2006/SFJ-1001/SFJ-1001-N1.pdf", "Notat")])],
                           diagnoser=[Diagnose(kode="21.9", tekst="Infarkt")])
        js.append(j)
    result = build_deposit(js, tmp_path, metadata=md, documents_root=EXAMPLE / "dokumenter",
                           rules=SelectionRules(profile="nha", today=TODAY))
    assert {f.test for f in result.warnings} >= {"NHA.18"}
    text = result.avlxml.read_text(encoding="utf-8")
    assert "<diagnosekode>" not in text and "<diagnosetekst>Infarkt (21.9)</diagnosetekst>" in text
    assert _semantic(result.path) == set()


def test_journalansvarlig_and_diagnoses_reach_the_epj(built) -> None:
    ns_bb = "{http://eisi.helsedir.no/anno2014/nha-epj-1.80/element/basisbruk}"
    docs = _docs(built, "SFJ-1010", entries_only=False)
    [opp] = [d for d in docs if d.findtext(f"{NS_STAMME}komponent_ID") == "SFJ-1010/journalopplysninger"]
    assert [r[0] for r in _revisions(opp)] == ["07"]  # compiled by the extraction: no invented registration
    assert opp.findtext(f".//{ns_bb}id") == "Overlege Hanne Vik"
    codes = [(e.findtext(f"{NS_BASIS}code"), e.findtext(f"{NS_BASIS}codeSystem"))
             for e in opp.iter(f"{ns_bb}arkivert_CV_elementverdi")]
    assert codes == [("N185", ICD10_OID), ("E119", ICD10_OID)]  # E11.9 has no date: still in the EPJ
    [opp4] = [d for d in _docs(built, "SFJ-1004", entries_only=False) if "journalopplysninger" in d.findtext(f"{NS_STAMME}komponent_ID")]
    [cv] = opp4.iter(f"{ns_bb}arkivert_CV_elementverdi")
    assert cv.find(f"{NS_BASIS}code") is None and "Hjertesvikt" in cv.findtext(f"{NS_BASIS}originalText")


def test_mutation_icd10_with_a_dot_in_the_epj(built, tmp_path) -> None:
    copy = _copy(built, tmp_path)
    _rewrite(copy, built, "SFJ-1001", "/dokumenter/", b"<basis:code>I219</basis:code>", b"<basis:code>I21.9</basis:code>")
    assert _semantic(copy) == {"NHA.18"}


def test_hidden_flags_three_states_through_an_import_mapping(tmp_path) -> None:
    """[import]: a CSV column left empty stays NULL in the staging database (not false); a recorded value stays."""
    from noarkpack.pipeline import import_project
    from noarkpack.project import load_project

    omsorg = ROOT / "examples" / "omsorg"
    project = load_project(omsorg, database=tmp_path / "staging.sqlite")
    import_project(project)
    staged = {j.pasient.pasient_id: j.pasient.skjult_adresse for j in project.journals()}
    original = {j.pasient.pasient_id: j.pasient.skjult_adresse for j in read_journals(omsorg / "journals.jsonl")}
    assert staged == original
    assert set(staged.values()) >= {True, None}  # one hidden address; nothing recorded elsewhere, never false


def test_every_nha_check_is_catalogued_and_documented() -> None:
    from noarkpack.nha.findings import CATALOGUE

    used = set()
    for f in (ROOT / "noarkpack" / "nha").glob("*.py"):
        used |= set(re.findall(r'"(NHA\.\d\d)"', f.read_text(encoding="utf-8")))
    documented = set(re.findall(r"^\| (NHA\.\d\d) \|", (ROOT / "docs" / "nha.md").read_text(encoding="utf-8"),
                                re.MULTILINE))
    assert used <= set(CATALOGUE) == documented


def test_nha_texts_carry_their_key(tmp_path) -> None:
    """Check names, findings and errors are tr() texts: a script matches on the key in either language."""
    from noarkpack.errors import ConfigError
    from noarkpack.nha.findings import CATALOGUE, NhaReport
    from noarkpack.nha.metadata import NhaMetadata
    from noarkpack.nha.verify import verify_deposit

    name = NhaReport(str(tmp_path)).check_name("NHA.05")
    assert name == CATALOGUE["NHA.05"] and name.key == "every checksum is the tar's SHA-256"
    assert NhaReport(str(tmp_path)).check_name("NHA.99") is None
    (f,) = verify_deposit(tmp_path / "absent")
    assert f.test == "NHA.01" and f.key == "the deposit folder does not exist or is not a folder"
    with pytest.raises(ConfigError) as e:
        NhaMetadata.from_toml({"nha": {}})
    assert e.value.message.key == "the [nha.{name}] table is missing" and e.value.hint.key == "see docs/nha.md"
