"""Screening covers what is confidential, and no more (issue 17 point 5; docs/mapping.md, "Skjerming").

What the extract of examples/omsorg screens, where it says so (M502, M025), and validate's NP.03/NP.10 finding
each defect when it is put back into a copy of that extract (mutation tests).
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest
from lxml import etree

from noarkpack.model import screening as sk
from noarkpack.noark5.writer import ExtractWriter
from noarkpack.sources.jsonl import read_journals
from noarkpack.validation import validate

from . import test_validation as _tv
from .test_validation import JOURNALS, _settings, replace_in

#: the bundled example's extract, the fixture of tests/test_validation.py (written once per module)
example_extract = _tv.example_extract

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "omsorg"
LJ = "{http://www.arkivverket.no/standarder/noark5/loependeJournal}"
OJ = "{http://www.arkivverket.no/standarder/noark5/offentligJournal}"
AS = "{http://www.arkivverket.no/standarder/noark5/arkivstruktur}"


# --------------------------------------------------------------------------- the rules


def test_institutions_are_internal_parties_or_match_a_pattern():
    patterns = ("* HF", "* legesenter *")
    assert sk.is_institution("Intern mottaker", "Per Ås", ())  # the organisation's own (M087 'Intern …')
    assert sk.is_institution("Mottaker", "St. Olavs  hospital hf", patterns)
    assert sk.is_institution("Avsender", "Fjordvik legesenter v/ lege Kari Holm", patterns)
    assert not sk.is_institution("Mottaker", "Åse Bjørnstad", patterns)
    assert not sk.is_institution("Kopimottaker", "St. Olavs hospital HF", ())  # unknown: masked


def test_only_the_screened_names_are_replaced_in_a_title():
    names = ["Åse Bjørnstad"]
    assert sk.mask_names("Brev til Åse Bjørnstad om vedtak", names) == "Brev til ***** om vedtak"
    assert sk.mask_names("Samtale med Åse, datter av Bjørnstad", names) == "Samtale med *****, datter av *****"
    assert sk.mask_names("Vedtak om hjemmesykepleie", names) == "Vedtak om hjemmesykepleie"
    assert sk.mask_names("Bjørnstadveien 4", names) == "Bjørnstadveien 4"  # whole words only
    # M502: selected words, or all but the first line, never a whole title; a temporary screening hides all
    assert sk.public_title("Vedtak om hjemmesykepleie", [sk.TITTEL_REG_ORD], names) == "Vedtak om hjemmesykepleie"
    assert sk.public_title("Vedtak\nfor Åse Bjørnstad", [sk.TITTEL_REG_LINJE], names) == "Vedtak *****"
    assert sk.public_title("Vedtak", [sk.MIDLERTIDIG], names) == sk.MASK
    assert sk.public_title("Vedtak om hjemmesykepleie", [], names) is None


# --------------------------------------------------------------------------- the example's extract


def _lj_records(extract: Path):
    for rec in etree.parse(str(extract / "loependeJournal.xml")).iter(f"{LJ}journalregistrering"):
        jp = rec.find(f"{LJ}journalpost")
        parts = [(p.findtext(f"{LJ}korrespondanseparttype"), p.findtext(f"{LJ}korrespondansepartNavn"),
                  p.findtext(f"{LJ}skjermingMetadata")) for p in jp.iter(f"{LJ}korrespondansepart")]
        yield rec, jp, parts


def _example_party_names() -> list[tuple[str, str]]:
    with open(EXAMPLE / "eksport" / "MOTTAKER.csv", encoding="windows-1252", newline="") as f:
        return [(r["ROLLE"], r["NAVN"]) for r in csv.DictReader(f, delimiter=";")]


def test_journals_say_which_names_are_screened_by_role(example_extract):
    for _rec, jp, parts in _lj_records(example_extract):
        value = jp.findtext(f"{LJ}skjermingMetadata")
        assert value != sk.NAVN_PART
        if value in (sk.NAVN_AVSENDER, sk.NAVN_MOTTAKER):
            assert any(sk.name_value(t) == value for t, _n, _m in parts), value
        for t, _n, m in parts:
            assert m in (None, sk.name_value(t))


def test_arkivstruktur_places_the_values_where_m502_says(example_extract):
    tree = etree.parse(str(example_extract / "arkivstruktur.xml"))
    for reg in tree.iter(f"{AS}registrering"):
        values = [v.text for v in reg.findall(f"{AS}skjerming/{AS}skjermingMetadata")]
        assert sk.NAVN_PART not in values
        types = [p.findtext(f"{AS}korrespondanseparttype") for p in reg.findall(f"{AS}korrespondansepart")]
        for role in (sk.NAVN_AVSENDER, sk.NAVN_MOTTAKER):
            if role in values:
                assert any(sk.name_value(t) == role for t in types)
    with_merknad = [m for m in tree.iter(f"{AS}mappe") if m.find(f"{AS}merknad") is not None]
    assert len(with_merknad) == 12
    for m in with_merknad:
        assert sk.MERKNAD in [v.text for v in m.findall(f"{AS}skjerming/{AS}skjermingMetadata")]


def test_public_journal_shows_institutions_and_masks_persons(example_extract):
    public = (example_extract / "offentligJournal.xml").read_text(encoding="utf-8")
    patterns = ("* HF", "* HF, *", "* legesenter *", "* legekontor *", "* kommune, *", "* barneverntjeneste",
                "Hjemmetjenesten *", "Statsforvalteren i *")
    shown = masked = 0
    for role, name in _example_party_names():
        if role == "INT" or sk.is_institution("Mottaker", name, patterns):
            shown += f"<korrespondansepartNavn>{name}<" in public
        else:
            masked += 1
            assert f">{name}<" not in public
    assert shown and masked
    assert "<korrespondansepartNavn>St. Olavs hospital HF</korrespondansepartNavn>" in public
    assert "<korrespondansepartNavn>Fysio- og ergoterapitjenesten</korrespondansepartNavn>" in public
    # no title masked as a whole: none of the example's titles names a person
    titles = [e.text for e in etree.parse(str(example_extract / "offentligJournal.xml")).iter(f"{OJ}offentligTittel")]
    assert not any(sk.wholly_masked(t) for t in titles)
    assert "<offentligTittel>Bekymringsmelding til barneverntjenesten</offentligTittel>" in public


def test_example_has_no_screening_findings(example_extract, schema_store):
    report = validate(example_extract, store=schema_store, tests={"NP.03", "NP.10"})
    assert report.errors == 0 and report.warnings == 0, [f.message for f in report.findings][:5]
    assert "screening metadata that does not fit what it screens: 0" in [f.message for f in report.for_test("NP.10")]


def _write(tmp_path: Path, journals: list, institusjoner: tuple[str, ...], store) -> Path:
    """An extract of ``journals`` (tests/test_validation.py's small source, changed), with these patterns."""
    from dataclasses import replace

    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    for name in ("n1.txt", "b1.txt", "sub/e2.txt"):
        (docs / name).write_text("Tekst.\n", encoding="utf-8")
    src = tmp_path / "j.jsonl"
    src.write_text("".join(json.dumps(j, ensure_ascii=False) + "\n" for j in journals), encoding="utf-8")
    settings = replace(_settings(docs), skjerming_institusjoner=institusjoner)
    with ExtractWriter(tmp_path / "out", settings, store=store) as w:
        for j in read_journals(src):
            w.add(j)
    return tmp_path / "out" / "avleveringspakke"


def test_a_letter_to_a_person_with_a_copy_to_a_hospital(tmp_path, schema_store):
    """Per party: the patient masked in the title and as mottaker, the hospital shown, internal units shown."""
    journals = json.loads(json.dumps(JOURNALS))
    b1 = journals[0]["innslag"][1]
    b1["tittel"] = "Brev til Åse Bjørnstad om vedtak"
    b1["korrespondanse"]["parter"] += [{"type": "Kopimottaker", "navn": "St. Olavs hospital HF"},
                                      {"type": "Intern mottaker", "navn": "Hjemmetjenesten"}]
    del b1["skjerming"]
    extract = _write(tmp_path, journals, ("* HF",), schema_store)
    [(_rec, jp, parts)] = list(_lj_records(extract))
    assert jp.findtext(f"{LJ}offentligTittel") == "Brev til ***** om vedtak"
    assert jp.findtext(f"{LJ}skjermingMetadata") == sk.TITTEL_REG_ORD
    assert parts == [("Mottaker", "Åse Bjørnstad", sk.NAVN_MOTTAKER), ("Kopimottaker", "St. Olavs hospital HF", None),
                     ("Intern mottaker", "Hjemmetjenesten", None)]
    public = (extract / "offentligJournal.xml").read_text(encoding="utf-8")
    assert "Åse" not in public and "St. Olavs hospital HF" in public and "Hjemmetjenesten" in public
    report = validate(extract, store=schema_store, tests={"NP.03", "NP.10"})
    assert report.errors == 0 and report.warnings == 0, [f.message for f in report.findings][:5]
    # and the leak of the name in the title is found
    replace_in(extract / "offentligJournal.xml", "Brev til ***** om vedtak", "Brev til Åse Bjørnstad om vedtak")
    report = validate(extract, store=schema_store, tests={"NP.03"})
    assert report.counts["NP.03"]["error"] == 1


# --------------------------------------------------------------------------- mutations of the example's extract


@pytest.fixture
def copy(example_extract, tmp_path) -> Path:
    dst = tmp_path / "avleveringspakke"
    shutil.copytree(example_extract, dst)
    return dst


def _np10(extract: Path, schema_store) -> list[str]:
    report = validate(extract, store=schema_store, tests={"NP.10"})
    return [f.message for f in report.findings if f.test == "NP.10" and f.severity == "warning"]


def _edit(path: Path, edit) -> None:
    """Parse ``path``, let ``edit(root)`` change it, write it back (UTF-8, with its declaration)."""
    tree = etree.parse(str(path))
    edit(tree.getroot())
    tree.write(str(path), xml_declaration=True, encoding="UTF-8")


def test_unscreened_merknad_is_np_10(copy, schema_store):
    replace_in(copy / "arkivstruktur.xml", "<skjermingMetadata>Skjerming merknadstekst</skjermingMetadata>", "")
    found = _np10(copy, schema_store)
    assert len(found) == 1 and "Skjerming merknadstekst" in found[0]


def test_part_i_sak_on_a_journalpost_is_np_10(copy, schema_store):
    def edit(root):
        v = next(e for e in root.iter(f"{LJ}skjermingMetadata") if e.getparent().tag == f"{LJ}journalpost")
        v.text = sk.NAVN_PART
    _edit(copy / "loependeJournal.xml", edit)
    found = _np10(copy, schema_store)
    assert any("part i sak" in m and "journalpost" in m for m in found)
    assert any("not one of its registrering's" in m for m in found)


def test_part_i_sak_on_a_registrering_is_np_10(copy, schema_store):
    replace_in(copy / "arkivstruktur.xml", f"<skjermingMetadata>{sk.TITTEL_REG_ORD}</skjermingMetadata>",
               f"<skjermingMetadata>{sk.NAVN_PART}</skjermingMetadata>")
    found = _np10(copy, schema_store)
    assert any("part i sak" in m and "on a registrering" in m for m in found)


def test_sender_screened_on_an_outgoing_letter_is_np_10(copy, schema_store):
    """The issue's defect: loependeJournal's first value, 'Skjerming navn avsender', on a letter with no avsender."""
    def edit(root):
        for jp in root.iter(f"{LJ}journalpost"):
            types = [t.text for t in jp.iter(f"{LJ}korrespondanseparttype")]
            v = jp.find(f"{LJ}skjermingMetadata")
            if v is not None and v.text == sk.NAVN_MOTTAKER and "Avsender" not in types:
                v.text = sk.NAVN_AVSENDER
                return
        raise AssertionError("no outgoing letter with a screened mottaker")
    _edit(copy / "loependeJournal.xml", edit)
    found = _np10(copy, schema_store)
    assert any("has no avsender" in m for m in found)


def test_role_of_a_screened_party_is_np_10(copy, schema_store):
    def edit(root):
        part = next(p for p in root.iter(f"{LJ}korrespondansepart")
                    if p.findtext(f"{LJ}skjermingMetadata") == sk.NAVN_MOTTAKER)
        part.find(f"{LJ}skjermingMetadata").text = sk.NAVN_AVSENDER
    _edit(copy / "loependeJournal.xml", edit)
    assert any("of type 'Mottaker' has skjermingMetadata" in m for m in _np10(copy, schema_store))


def test_title_masked_as_a_whole_is_np_10(copy, schema_store):
    for name in ("loependeJournal.xml", "offentligJournal.xml"):
        replace_in(copy / name, "<offentligTittel>Vedtak om hjemmesykepleie</offentligTittel>",
                   "<offentligTittel>*****</offentligTittel>")
    found = _np10(copy, schema_store)
    assert len([m for m in found if "whole title replaced by asterisks" in m]) == 1
    replace_in(copy / "loependeJournal.xml", "<offentligTittel>*****</offentligTittel>",
               "<offentligTittel>Vedtak om hjemmesykepleie</offentligTittel>")
    found = _np10(copy, schema_store)  # offentligJournal alone
    assert len([m for m in found if "whole title replaced by asterisks" in m]) == 1


def test_the_patients_name_in_a_public_title_is_np_03(copy, schema_store):
    rec = next(etree.parse(str(copy / "loependeJournal.xml")).iter(f"{LJ}journalregistrering"))
    title = rec.findtext(f"{LJ}saksmappe/{LJ}tittel")
    public = rec.findtext(f"{LJ}saksmappe/{LJ}offentligTittel")
    assert sk.MASK in public and title != public
    replace_in(copy / "offentligJournal.xml", f"<offentligTittel>{public}</offentligTittel>",
               f"<offentligTittel>{title}</offentligTittel>")
    report = validate(copy, store=schema_store, tests={"NP.03"})
    assert report.counts["NP.03"]["error"] >= 1
    assert all(title not in f.message for f in report.findings)  # never a name in a message


def test_a_screened_party_shown_in_the_public_journal_is_np_03(copy, schema_store):
    lj = etree.parse(str(copy / "loependeJournal.xml"))
    jp_lj, name = next((jp, p.findtext(f"{LJ}korrespondansepartNavn")) for jp in lj.iter(f"{LJ}journalpost")
                       for p in jp.iter(f"{LJ}korrespondansepart") if p.findtext(f"{LJ}skjermingMetadata"))
    sid = jp_lj.findtext(f"{LJ}systemID")

    def edit(root):
        jp = next(j for j in root.iter(f"{OJ}journalpost") if j.findtext(f"{OJ}systemID") == sid)
        next(n for n in jp.iter(f"{OJ}korrespondansepartNavn") if n.text == sk.MASK).text = name
    _edit(copy / "offentligJournal.xml", edit)
    report = validate(copy, store=schema_store, tests={"NP.03"})
    [leak] = [f for f in report.findings if f.severity == "error"]
    assert leak.location["systemID"] == sid and name not in leak.message


def test_institusjoner_must_be_a_list_of_patterns(tmp_path):
    from noarkpack import load_project
    from noarkpack.errors import ConfigError

    text = (EXAMPLE / "noarkpack.toml").read_text(encoding="utf-8")
    start = text.index("institusjoner = [")
    end = text.index("]", start) + 1
    (tmp_path / "noarkpack.toml").write_text(text[:start] + 'institusjoner = "* HF"' + text[end:], encoding="utf-8")
    with pytest.raises(ConfigError, match="institusjoner"):
        load_project(tmp_path)
    assert load_project(EXAMPLE).settings.skjerming_institusjoner[:2] == ("* HF", "* HF, *")


def test_part_i_sak_on_an_entry_stays_on_the_saksmappe(tmp_path, schema_store):
    """M502: "Skjerming navn part i sak" is the saksmappe's.  On a journalpost the source asked to screen the
    entry's parties: every one is masked, the hospital too; a plain registrering inherits its saksmappe's."""
    journals = json.loads(json.dumps(JOURNALS))
    n1, b1 = journals[0]["innslag"]
    n1["skjerming"] = {"tilgangsrestriksjon": "Unntatt offentlighet", "hjemmel": "Offl. § 13",
                       "metadata": [sk.NAVN_PART]}
    b1["skjerming"]["metadata"] = [sk.NAVN_PART]
    b1["korrespondanse"]["parter"].append({"type": "Kopimottaker", "navn": "St. Olavs hospital HF"})
    extract = _write(tmp_path, journals, ("* HF",), schema_store)
    tree = etree.parse(str(extract / "arkivstruktur.xml"))
    regs = {r.findtext(f"{AS}registreringsID"): r for r in tree.iter(f"{AS}registrering")}
    assert regs["N1"].find(f"{AS}skjerming") is None
    assert [v.text for v in regs["B1"].iter(f"{AS}skjermingMetadata")] == [sk.NAVN_MOTTAKER]
    public = (extract / "offentligJournal.xml").read_text(encoding="utf-8")
    assert "St. Olavs" not in public
    report = validate(extract, store=schema_store, tests={"NP.03", "NP.10"})
    assert report.errors == 0 and report.warnings == 0, [f.message for f in report.findings][:5]


def test_an_internal_unit_masked_in_the_public_journal_is_np_10(copy, schema_store):
    """The issue's 'masks every party name (… internal units too)': the public journal masks one."""
    replace_in(copy / "offentligJournal.xml",
               "<korrespondansepartNavn>Fysio- og ergoterapitjenesten</korrespondansepartNavn>",
               "<korrespondansepartNavn>*****</korrespondansepartNavn>")
    found = _np10(copy, schema_store)
    assert len(found) == 1 and "internal korrespondansepart" in found[0]


def test_without_the_journal_s_marks_every_party_of_a_screened_role_counts(copy, schema_store):
    """Someone else's journals may not mark parties: arkivstruktur.xml's role values decide then (NP.03)."""
    lj = etree.parse(str(copy / "loependeJournal.xml"))
    jp_lj, name = next((jp, p.findtext(f"{LJ}korrespondansepartNavn")) for jp in lj.iter(f"{LJ}journalpost")
                       for p in jp.iter(f"{LJ}korrespondansepart")
                       if p.findtext(f"{LJ}skjermingMetadata") == sk.NAVN_MOTTAKER)
    sid = jp_lj.findtext(f"{LJ}systemID")

    def unmark(root):
        for v in list(root.iter(f"{LJ}skjermingMetadata")):
            if v.getparent().tag == f"{LJ}korrespondansepart":
                v.getparent().remove(v)

    def show(root):
        jp = next(j for j in root.iter(f"{OJ}journalpost") if j.findtext(f"{OJ}systemID") == sid)
        next(n for n in jp.iter(f"{OJ}korrespondansepartNavn") if n.text == sk.MASK).text = name
    _edit(copy / "loependeJournal.xml", unmark)
    report = validate(copy, store=schema_store, tests={"NP.03"})
    assert report.errors == 0
    _edit(copy / "offentligJournal.xml", show)
    report = validate(copy, store=schema_store, tests={"NP.03"})
    assert [f.location["systemID"] for f in report.findings if f.severity == "error"] == [sid]


def test_sender_or_recipient_screened_on_a_mappe_is_np_10(copy, schema_store):
    replace_in(copy / "arkivstruktur.xml", f"<skjermingMetadata>{sk.NAVN_PART}</skjermingMetadata>",
               f"<skjermingMetadata>{sk.NAVN_PART}</skjermingMetadata>\n"
               f"          <skjermingMetadata>{sk.NAVN_MOTTAKER}</skjermingMetadata>")
    found = _np10(copy, schema_store)
    assert len(found) == 1 and "on a mappe" in found[0]


def test_a_title_that_is_only_a_name_may_be_masked_whole(tmp_path, schema_store):
    """The writer masks a first name standing alone; validate then sees no word left (no NP.10)."""
    journals = json.loads(json.dumps(JOURNALS))
    journals[0]["innslag"][1]["tittel"] = "Åse"
    extract = _write(tmp_path, journals, (), schema_store)
    [(_rec, jp, _parts)] = list(_lj_records(extract))
    assert jp.findtext(f"{LJ}offentligTittel") == sk.MASK
    report = validate(extract, store=schema_store, tests={"NP.03", "NP.10"})
    assert report.errors == 0 and report.warnings == 0, [f.message for f in report.findings][:5]
