"""Who did what (issue 17): a registrering's opprettetAv is who registered it (M601), never its author, who
stays in forfatter (M024); the logging fields carry the source's user ids (docs/mapping.md, "Who did what").

An entry's registrar comes from its optional ``opprettet_av`` (JSON Lines, or a column in the [import]
mapping); where the source lacks it, the signer (``arkivert_av``) stands for them.
"""

from __future__ import annotations

import json

from lxml import etree

from noarkpack.noark5.writer import ExtractWriter
from noarkpack.project import load_project
from noarkpack.sources.jsonl import read_journals

from . import builders
from .test_import import NOTAT, TOML, write_project

AS = "{http://www.arkivverket.no/standarder/noark5/arkivstruktur}"


def _journal(entries: list[dict]) -> dict:
    return {"journal_id": "J1", "arkivskaper": "helse", "journalsted": "Sone nord", "journalansvarlig": "Kari Lie",
            "opprettet": "2014-02-03T09:00:00+01:00", "opprettet_av": "kari.lie",
            "avsluttet": "2019-06-30T15:00:00+02:00", "avsluttet_av": "kari.lie",
            "pasient": {"pasient_id": "P1", "fodselsnummer": "31129956715", "navn": "Åse Bjørnstad",
                        "fodselsdato": "1999-12-31", "kjonn": "K"},
            "innslag": entries}


def _entry(iid: str, **extra) -> dict:
    return {"innslag_id": iid, "type": "henvisning", "tittel": "Henvisning fra fastlege", "forfatter": "Per Ås",
            "opprettet": "2019-05-01T08:10:00+02:00", "arkivert": "2019-05-01T09:30:00+02:00",
            "arkivert_av": "nina.haga", "dokumenter": [{"fil": f"{iid}.txt", "tittel": "Henvisning",
                                                         "format": "x-fmt/111"}], **extra}


def test_registrering_and_dokumentbeskrivelse_are_created_by_the_registrar_not_the_author(tmp_path, schema_store):
    docs = tmp_path / "docs"
    docs.mkdir()
    for iid in ("H1", "H2"):
        (docs / f"{iid}.txt").write_text("Henvisning.\n", encoding="utf-8")
    src = tmp_path / "j.jsonl"
    src.write_text(json.dumps(_journal([_entry("H1"), _entry("H2", opprettet_av="sekretaer.lie")]),
                              ensure_ascii=False) + "\n", encoding="utf-8")
    [journal] = read_journals(src)
    assert [i.opprettet_av for i in journal.innslag] == [None, "sekretaer.lie"]
    with ExtractWriter(tmp_path / "out", builders.settings(docs), store=schema_store, identify_formats=False) as w:
        w.add(journal)
    tree = etree.parse(str(tmp_path / "out" / "avleveringspakke" / "arkivstruktur.xml"))
    regs = list(tree.iter(f"{AS}registrering"))
    assert len(regs) == 2
    for reg, registrar in zip(regs, ("nina.haga", "sekretaer.lie"), strict=True):
        db = reg.find(f"{AS}dokumentbeskrivelse")
        obj = db.find(f"{AS}dokumentobjekt")
        assert reg.findtext(f"{AS}opprettetAv") == registrar
        assert db.findtext(f"{AS}opprettetAv") == registrar
        assert [f.text for f in reg.findall(f"{AS}forfatter")] == ["Per Ås"]
        assert [f.text for f in db.findall(f"{AS}forfatter")] == ["Per Ås"]
        # signing froze the entry and its file: the signer, whoever registered the entry
        assert reg.findtext(f"{AS}arkivertAv") == "nina.haga"
        assert db.findtext(f"{AS}tilknyttetAv") == "nina.haga"
        assert obj.findtext(f"{AS}opprettetAv") == "nina.haga"


def test_the_import_mapping_reads_an_entrys_registrar(tmp_path):
    toml = TOML.replace('arkivert_av = "SIGN_AV"\n', 'arkivert_av = "SIGN_AV"\nopprettet_av = "REG_AV"\n', 1)
    assert toml != TOML
    lines = NOTAT.split("\r\n")
    notat = "\r\n".join([lines[0] + ";REG_AV", lines[1] + ";sekr", lines[2] + ";", lines[3] + ";sekr", ""])
    root = write_project(tmp_path / "proj", toml=toml, notat=notat)
    entries = {i.innslag_id: i for j in load_project(root).journals() for i in j.innslag}
    assert {k: (i.opprettet_av, i.registrert_av) for k, i in entries.items()} == {
        "N1": ("sekr", "sekr"), "N2": (None, "per"), "N3": ("sekr", "sekr")}


def test_without_a_registrar_column_the_signer_registers(tmp_path):
    root = write_project(tmp_path / "proj")
    entries = [i for j in load_project(root).journals() for i in j.innslag]
    assert entries and all(i.opprettet_av is None and i.registrert_av == i.arkivert_av for i in entries)
    assert {i.forfatter for i in entries} >= {"Per Ås"}  # the author stays the author
