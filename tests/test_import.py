"""noarkpack import: the legacy export → the staging database, through the mapping in noarkpack.toml.

Real files throughout: the bundled examples, and a small CSV project written per test and then broken in
every way the issue names (wrong encoding, bad dates, bad numbers, missing columns, missing files, a malformed
mapping).  A failed import must leave the database byte-for-byte as it was (compared by a dump digest).
"""

from __future__ import annotations

import dataclasses
import shutil
import sqlite3
from pathlib import Path

import pytest

from noarkpack.errors import ConfigError, NoarkpackError, SourceError
from noarkpack.pipeline import import_project
from noarkpack.project import load_project
from noarkpack.sources.importer import ImportRejected
from noarkpack.sources.jsonl import read_journals
from noarkpack.sources.staging import SCHEMA_VERSION, StagingError, dump_digest

ROOT = Path(__file__).resolve().parents[1]
OMSORG = ROOT / "examples" / "omsorg"
HELSESTASJON = ROOT / "examples" / "helsestasjon"


def copy_example(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".noarkpack", "*.sqlite*"))
    return dst


# -- the bundled examples ----------------------------------------------------------------------------


def test_omsorg_import_twice_gives_the_same_rows(tmp_path):
    project = load_project(OMSORG, database=tmp_path / "staging.sqlite")
    first = import_project(project)
    assert first.exit_code == 0 and first.rejected_total == 0
    assert first.counts["pasient"] == 46 and first.counts["pasientjournal"] == 89
    assert first.counts["innslag"] == 807 and first.counts["dokument"] == 488
    assert first.counts["korrespondansepart"] == 259 and first.counts["endring"] == 8
    assert first.counts["merknad"] == 13
    digest = dump_digest(tmp_path / "staging.sqlite", data_only=True)
    second = import_project(project)
    assert second.counts == first.counts
    assert dump_digest(tmp_path / "staging.sqlite", data_only=True) == digest
    # the import log keeps both runs
    with sqlite3.connect(tmp_path / "staging.sqlite") as c:
        assert c.execute("SELECT count(*) FROM import_run").fetchone()[0] == 2
        assert c.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


def test_omsorg_csv_export_holds_the_same_journals_as_the_json_lines(tmp_path):
    """The CSV export (Windows-1252, codes, joins) round-trips to the model, but for the planted defects."""
    project = load_project(OMSORG, database=tmp_path / "staging.sqlite")
    import_project(project)
    staged = list(project.journals())
    original = list(read_journals(OMSORG / "journals.jsonl"))
    assert [j.journal_id for j in staged] == [j.journal_id for j in original]
    differing = {}
    for a, b in zip(staged, original):
        da, db = dataclasses.asdict(a), dataclasses.asdict(b)
        for d in (da, db):
            d.pop("source_file"), d.pop("source_line")
        if da != db:
            differing[a.journal_id] = a, b
    # exactly the planted defects differ: an unmapped type code, a missing file, an invalid fødselsnummer
    assert set(differing) == {"J-4153", "J-4178", "J-4188"}, sorted(differing)
    a, b = differing["J-4153"]
    assert [i.type for i in a.innslag if i.type not in ("notat", "vedtak", "epikrise", "henvisning", "skjema",
                                                         "skannet", "brev")] == ["TLF"]
    a, b = differing["J-4188"]
    assert a.pasient.fodselsnummer != b.pasient.fodselsnummer
    a, b = differing["J-4178"]
    assert sum(len(i.dokumenter) for i in a.innslag) == sum(len(i.dokumenter) for i in b.innslag) + 1


def test_helsestasjon_json_lines_layout_is_adapted_by_the_mapping(tmp_path):
    project = load_project(HELSESTASJON, database=tmp_path / "staging.sqlite")
    report = import_project(project)
    assert report.exit_code == 0
    assert {k: report.counts[k] for k in ("pasient", "pasientjournal", "innslag", "dokument")} == \
        {"pasient": 4, "pasientjournal": 4, "innslag": 9, "dokument": 5}
    journals = {j.journal_id: j for j in project.journals()}
    j = journals["HS-9001"]
    assert j.pasient.kjonn == "M" and j.pasient.navn == "Ola Bråten" and j.arkivskaper == "helsestasjon"
    assert j.opprettet.isoformat() == "2012-03-12T10:00:00+01:00"  # local time, Europe/Oslo
    assert [len(i.dokumenter) for i in j.innslag] == [1, 0, 0, 1]
    assert j.innslag[0].dokumenter[0].fil == "2012/K-701 Hjemmebesøk nyfødt.txt"
    assert [i.type for i in j.innslag] == ["notat", "notat", "skjema", "notat"]
    assert not journals["HS-9004"].is_closed


def test_commands_import_automatically_or_say_what_to_run(tmp_path):
    proj = copy_example(HELSESTASJON, tmp_path / "hs")
    strict = load_project(proj, auto_import=False)
    with pytest.raises(StagingError) as e:
        list(strict.journals())
    assert f"noarkpack import {proj}" in str(e.value)
    # by default, reading imports first (the database is derived data, the import atomic)
    project = load_project(proj)
    assert len(list(project.journals())) == 4
    assert (proj / ".noarkpack" / "staging.sqlite").is_file()
    assert project.last_import is not None and project.last_import.exit_code == 0
    # a changed export makes the database stale: strict mode says so, default mode imports again
    export = proj / "eksport" / "konsultasjoner.jsonl"
    export.write_text(export.read_text(encoding="utf-8").replace("6-ukerskontroll", "6-ukers kontroll"),
                      encoding="utf-8")
    with pytest.raises(StagingError, match="changed since the last import"):
        list(load_project(proj, auto_import=False).journals())
    titles = [i.tittel for j in load_project(proj).journals() for i in j.innslag]
    assert "6-ukers kontroll" in titles


def test_a_database_of_another_version_says_how_to_upgrade(tmp_path):
    proj = copy_example(HELSESTASJON, tmp_path / "hs")
    project = load_project(proj, auto_import=False)
    import_project(project)
    db = project.database
    with sqlite3.connect(db) as c:
        c.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StagingError, match="newer than this noarkpack") as e:
        list(load_project(proj).journals())  # never replaced automatically
    assert "upgrade noarkpack" in str(e.value)
    with pytest.raises(StagingError, match="newer"):
        import_project(project)
    with sqlite3.connect(db) as c:
        c.execute("PRAGMA user_version = 0")
        c.execute("PRAGMA user_version = " + str(SCHEMA_VERSION - 1 if SCHEMA_VERSION > 1 else 0))
    if SCHEMA_VERSION > 1:
        with pytest.raises(StagingError, match="noarkpack import"):
            list(load_project(proj, auto_import=False).journals())


# -- a small CSV project, then broken -----------------------------------------------------------------

TOML = """\
[project]
name = "Testkommune"
documents = "dok"

[system]
id = "test-import"
name = "Testjournal"

[arkiv]
tittel = "Testarkiv"
opprettet = 2000-01-01T08:00:00+01:00
opprettet_av = "arkivar"
avsluttet = 2024-01-15T12:00:00+01:00
avsluttet_av = "arkivar"

[arkivdel]
tittel = "Pasientjournaler"
periode_start = 2000-01-01
periode_slutt = 2023-12-31
opprettet = 2000-01-01T08:00:00+01:00
opprettet_av = "arkivar"
avsluttet = 2024-01-15T12:00:00+01:00
avsluttet_av = "arkivar"

[[arkivskaper]]
key = "helse"
id = "964965226"
navn = "Testkommune, Helse og omsorg"

[import]
encoding = "windows-1252"
delimiter = ";"
date_format = "%d.%m.%Y"
datetime_format = "%d.%m.%Y %H:%M"

[import.values.kjonn]
M = "M"
K = "K"

[[import.file]]
path = "eksport/pasient.csv"
table = "pasient"
[import.file.columns]
pasient_id = "ID"
fodselsnummer = "FNR"
navn = "NAVN"
fodselsdato = "FODT"
kjonn = { column = "KJONN", values = "kjonn" }

[[import.file]]
path = "eksport/journal.csv"
table = "pasientjournal"
[import.file.columns]
journal_id = "JID"
pasient_id = "PID"
arkivskaper = { value = "helse" }
journalsted = "STED"
journalansvarlig = "ANSV"
opprettet = "OPPR"
opprettet_av = "OPPR_AV"
avsluttet = "AVSL"
avsluttet_av = "AVSL_AV"

[[import.file]]
path = "eksport/notat.csv"
table = "innslag"
[import.file.columns]
innslag_id = "NID"
journal_id = "JID"
type = { value = "notat" }
tittel = "TITTEL"
forfatter = "FORF"
opprettet = "SKREVET"
arkivert = "SIGNERT"
arkivert_av = "SIGN_AV"

[[import.file]]
path = "eksport/dokument.csv"
table = "dokument"
join = "innslag"
[import.file.columns]
innslag_id = "NID"
nr = "NR"
fil = "FIL"
tittel = "TITTEL"
"""

PASIENT = "ID;FNR;NAVN;FODT;KJONN\r\nP1;12043112345;Åse Ærlig;12.04.1931;K\r\nP2;;Bjørn Øverås;03.02.1940;M\r\n"
JOURNAL = ("JID;PID;STED;ANSV;OPPR;OPPR_AV;AVSL;AVSL_AV\r\n"
           "J1;P1;Sone nord;Kari Lie;01.03.2010 09:00;kari;30.06.2019 15:00;kari\r\n"
           "J2;P2;Sone sør;Per Ås;01.03.2011 09:00;per;30.06.2019 15:00;per\r\n")
NOTAT = ("NID;JID;TITTEL;FORF;SKREVET;SIGNERT;SIGN_AV\r\n"
         "N1;J1;Tilsyn;Per Ås;02.03.2010 08:00;02.03.2010 08:30;per\r\n"
         "N2;J1;Samtale med pårørende;Per Ås;03.03.2010 08:00;03.03.2010 08:30;per\r\n"
         "N3;J2;Tilsyn;Kari Lie;02.03.2011 08:00;02.03.2011 08:30;kari\r\n")
DOKUMENT = "NID;NR;FIL;TITTEL\r\nN1;1;notater\\n1.txt;Tilsyn\r\nN3;1;notater\\n3.txt;Tilsyn\r\n"


def write_project(root: Path, **files: str) -> Path:
    (root / "eksport").mkdir(parents=True)
    (root / "dok" / "notater").mkdir(parents=True)
    (root / "dok" / "notater" / "n1.txt").write_text("Tilsyn.\n", encoding="utf-8")
    (root / "dok" / "notater" / "n3.txt").write_text("Tilsyn.\n", encoding="utf-8")
    (root / "noarkpack.toml").write_text(files.pop("toml", TOML), encoding="utf-8")
    content = {"pasient": PASIENT, "journal": JOURNAL, "notat": NOTAT, "dokument": DOKUMENT}
    content.update(files)
    for name, text in content.items():
        data = text if isinstance(text, bytes) else text.encode("cp1252")
        (root / "eksport" / f"{name}.csv").write_bytes(data)
    return root


@pytest.fixture()
def good(tmp_path) -> Path:
    root = write_project(tmp_path / "proj")
    report = import_project(load_project(root))
    assert report.exit_code == 0, report.summary_lines()
    return root


def db_of(root: Path) -> Path:
    return root / ".noarkpack" / "staging.sqlite"


def test_small_project_imports(good):
    journals = list(load_project(good).journals())
    assert [j.journal_id for j in journals] == ["J1", "J2"]
    j1 = journals[0]
    assert j1.pasient.navn == "Åse Ærlig" and [i.innslag_id for i in j1.innslag] == ["N1", "N2"]
    assert j1.innslag[0].dokumenter[0].fil == "notater/n1.txt"  # Windows path normalised
    assert j1.innslag[1].tittel == "Samtale med pårørende"


def _fails(root: Path, exc: type, *expect: str) -> NoarkpackError:
    before = dump_digest(db_of(root))
    with pytest.raises(exc) as e:
        import_project(load_project(root))
    text = str(e.value)
    for x in expect:
        assert x in text, text
    assert dump_digest(db_of(root)) == before, "a failed import changed the database"
    assert not [p for p in db_of(root).parent.iterdir() if ".partial-" in p.name]
    assert "Ærlig" not in text and "12043112345" not in text
    return e.value


def test_wrong_encoding_is_an_error_with_file_and_line(good):
    # a UTF-8 file where the mapping says Windows-1252 (its letters would be garbled)
    (good / "eksport" / "notat.csv").write_bytes(NOTAT.encode("utf-8"))
    e = _fails(good, SourceError, "eksport/notat.csv:2", "the file is UTF-8, but the mapping says Windows-1252")
    assert e.line == 2  # the first line with a letter outside ASCII


def test_undecodable_bytes_are_an_error_with_file_and_line(good):
    toml = (good / "noarkpack.toml").read_text(encoding="utf-8")
    (good / "noarkpack.toml").write_text(toml.replace('encoding = "windows-1252"', 'encoding = "utf-8"'),
                                         encoding="utf-8")
    _fails(good, SourceError, "eksport/pasient.csv:2", "not UTF-8")


def test_missing_column_is_an_error_with_file_and_line(good):
    (good / "eksport" / "journal.csv").write_bytes(JOURNAL.replace("ANSV;", "ANSVARLIG;").encode("cp1252"))
    _fails(good, SourceError, "eksport/journal.csv:1", "'ANSV'", "journalansvarlig")


def test_missing_export_file_is_an_error(good):
    (good / "eksport" / "dokument.csv").unlink()
    _fails(good, SourceError, "eksport/dokument.csv", "does not exist")


@pytest.mark.parametrize("change, expect", [
    (('fil = "FIL"', 'fill = "FIL"'), "'fill' is not a field of dokument"),
    (('tittel = "TITTEL"\nforfatter', 'forfatter'), "required field innslag.tittel is not mapped"),
    (('values = "kjonn"', 'values = "sex"'), "value map 'sex'"),
    (('table = "dokument"', 'table = "dokumenter"'), "table must be one of"),
    (('datetime_format = "%d.%m.%Y %H:%M"', 'datetime_format = "dd.mm.yyyy"'), "has no % code"),
    (('join = "innslag"', 'join = "pasient"'), "join"),
])
def test_malformed_mapping_is_an_error_with_the_line(good, change, expect):
    toml = (good / "noarkpack.toml").read_text(encoding="utf-8")
    assert change[0] in toml
    bad = toml.replace(change[0], change[1], 1)
    (good / "noarkpack.toml").write_text(bad, encoding="utf-8")
    before = dump_digest(db_of(good))
    with pytest.raises(ConfigError) as e:
        import_project(load_project(good))
    assert expect in str(e.value) and "noarkpack.toml:" in str(e.value), str(e.value)
    line = bad.splitlines()[e.value.line - 1]
    assert e.value.line and ("[[import.file]]" in line or "=" in line or "[import]" in line)
    assert dump_digest(db_of(good)) == before


def test_bad_rows_are_rejected_with_file_line_and_reason(good):
    notat = NOTAT + ("N4;J1;Dato feil;Per Ås;31.02.2010 08:00;31.02.2010 08:30;per\r\n"   # bad date
                     "N5;J9;Ukjent journal;Per Ås;02.03.2010 08:00;02.03.2010 08:30;per\r\n"  # missing parent
                     "N6;J1;;Per Ås;02.03.2010 08:00;02.03.2010 08:30;per\r\n"  # required value missing
                     "N1;J1;Tilsyn igjen;Per Ås;02.03.2010 08:00;02.03.2010 08:30;per\r\n"  # key twice
                     "N7;J1;For få felt\r\n")
    dokument = DOKUMENT + "N2;to;notater\\n2.txt;Samtale\r\nN99;1;notater\\n9.txt;Ingen\r\n"  # bad number, no entry
    pasient = PASIENT + "P3;;Kari Nordmann;1.1.50;K\r\n"  # bad birth date
    root = write_project(good.parent / "bad", notat=notat, dokument=dokument, pasient=pasient)
    report = import_project(load_project(root))
    assert report.exit_code == 1
    got = {(r.file, r.line): r.reason for r in report.rejected}
    assert "is not a date-time in the expected format" in got[("eksport/notat.csv", 5)]
    assert "journal is not in the export" in got[("eksport/notat.csv", 6)]
    assert "innslag.tittel (column TITTEL) is missing" in got[("eksport/notat.csv", 7)]
    assert "occurs twice in the export (first at eksport/notat.csv:2)" in got[("eksport/notat.csv", 8)]
    assert "has 3 fields, the header 7" in got[("eksport/notat.csv", 9)]
    assert "dokument.nr (column LOPENR" in got[("eksport/dokument.csv", 4)] or \
        "is not a whole number" in got[("eksport/dokument.csv", 4)]
    assert "entry is not in the export" in got[("eksport/dokument.csv", 5)]
    assert "fodselsdato (column FODT) is not a date" in got[("eksport/pasient.csv", 4)]
    assert report.rejected_total == 8 and report.counts["rejected"] == 8
    # the good rows are in; rejections name records by key, never by name or number
    assert report.counts["innslag"] == 3 and report.counts["pasient"] == 2
    text = "\n".join(report.summary_lines())
    assert "Kari Nordmann" not in text and "Ærlig" not in text
    # every reason is a translated message whose key (its English msgid) is the same in every language
    keys = {(r["file"], r["line"]): r["key"] for r in report.to_json()["rejected"]}
    assert keys[("eksport/notat.csv", 7)] == "{field} is missing"
    assert keys[("eksport/pasient.csv", 4)] == "{field} is not a date in the expected format ({formats})"
    assert keys[("eksport/notat.csv", 9)] == "the row has {count} fields, the header {expected}"
    assert all(keys.values()), keys


def test_auto_import_with_rejected_rows_stops(tmp_path):
    root = write_project(tmp_path / "p", notat=NOTAT + "N4;J1;Dato feil;Per Ås;31.02.2010;x;per\r\n")
    with pytest.raises(ImportRejected) as e:
        list(load_project(root).journals())
    assert e.value.exit_code == 1 and "eksport/notat.csv:5" in str(e.value)
    assert "noarkpack import" in str(e.value)


def test_utf8_with_bom_and_comma_delimiter_and_auto_detection(tmp_path):
    toml = TOML.replace('encoding = "windows-1252"', 'encoding = "utf-8"').replace('delimiter = ";"\n', "")
    root = write_project(tmp_path / "p", toml=toml,
                         pasient=("\ufeff" + PASIENT.replace(";", ",")).encode("utf-8"),
                         journal=JOURNAL.replace(";", "\t").encode("utf-8"),
                         notat=NOTAT.encode("utf-8"), dokument=DOKUMENT.encode("utf-8"))
    report = import_project(load_project(root))
    assert report.exit_code == 0 and report.counts["pasientjournal"] == 2
    assert [j.pasient.navn for j in load_project(root).journals()] == ["Åse Ærlig", "Bjørn Øverås"]


def test_a_project_with_a_direct_json_lines_source_has_nothing_to_import(tmp_path):
    sykehus = ROOT / "examples" / "sykehus"
    if not (sykehus / "noarkpack.toml").is_file():
        pytest.skip("no JSON Lines example")
    with pytest.raises(ConfigError, match="nothing to import"):
        import_project(load_project(sykehus))
