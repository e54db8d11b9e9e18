"""Issue 18 points 4, 9 and 10 on a file export: one wide tab-separated Latin-1 file that repeats the patient and
the journal on every entry row, patients keyed by fødselsnummer, the note itself a text column and a scan as
base64 — the export a new user meets first.

* rows that repeat a key with the same mapped values are one record; differing values are rejected naming the
  fields (never the values);
* a record key that is a fødselsnummer is masked in every message, report and log;
* the note column becomes the entry's document through the content store; empty and undecodable contents are
  counted by the analysis.
"""

from __future__ import annotations

import base64
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

from noarkpack.pipeline import analyse_project, import_project
from noarkpack.project import load_project
from noarkpack.sources.staging import dump_digest

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "legacydb"
NOARKPACK = [sys.executable, "-m", "noarkpack.cli"]

HEAD = """[project]
name = "Wide export"
documents = "dokumenter"
[system]
id = "wide-test"
name = "Wide"
version = "1"
[arkiv]
tittel = "Wide"
opprettet = 2003-01-01T08:00:00+01:00
opprettet_av = "arkivleder"
avsluttet = 2009-06-30T12:00:00+02:00
avsluttet_av = "arkivleder"
[arkivdel]
tittel = "Wide"
periode_start = 2003-01-01
periode_slutt = 2008-12-31
opprettet = 2003-01-01T08:00:00+01:00
opprettet_av = "arkivleder"
avsluttet = 2009-06-30T12:00:00+02:00
avsluttet_av = "arkivleder"
utgaaende_skille = "mykt"
[[arkivskaper]]
key = "helse"
id = "999999980"
navn = "Helse"
[selection]
profile = "municipal"
[import]
encoding = "iso-8859-1"
delimiter = "\\t"
date_format = "%d.%m.%Y"
datetime_format = "%d.%m.%Y %H:%M"
"""
MAPPING = """
[[import.file]]
path = "wide.tsv"
table = "pasient"
[import.file.columns]
pasient_id = "FNR"
fodselsnummer = "FNR"
navn = "NAVN"
kjonn = "KJONN"

[[import.file]]
path = "wide.tsv"
table = "pasientjournal"
[import.file.columns]
journal_id = "JNR"
pasient_id = "FNR"
arkivskaper = { value = "helse" }
journalsted = "AVD"
journalansvarlig = "LEGE"
opprettet = "JOPPR"
opprettet_av = "LEGE"
avsluttet = "JAVSL"
avsluttet_av = "LEGE"

[[import.file]]
path = "wide.tsv"
table = "innslag"
[import.file.columns]
journal_id = "JNR"
innslag_id = "NR"
type = { value = "notat" }
tittel = "TITTEL"
forfatter = "LEGE"
opprettet = "SKREVET"
arkivert = "SKREVET"
arkivert_av = "LEGE"

[[import.file]]
path = "wide.tsv"
table = "dokument"
[import.file.columns]
journal_id = "JNR"
innslag_id = "NR"
tittel = "TITTEL"
innhold = { column = "NOTAT", format = "text" }

[[import.file]]
path = "wide.tsv"
table = "dokument"
[import.file.columns]
journal_id = "JNR"
innslag_id = "NR"
tittel = { value = "Skannet side" }
innhold = { column = "SKANN", format = "bytes", encoding = "base64" }
"""
COLS = ["FNR", "NAVN", "KJONN", "JNR", "AVD", "LEGE", "JOPPR", "JAVSL", "NR", "TITTEL", "SKREVET", "NOTAT", "SKANN"]
FNR1, FNR2 = "12043810276", "02115121564"  # invented, valid control digits (examples/legacydb/generate.py)


def _tiff() -> bytes:
    import importlib.util

    spec = importlib.util.spec_from_file_location("gen", EXAMPLE / "generate.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod.tiff_page(1)


def write(tmp: Path, rows: list[list[str]]) -> Path:
    root = tmp / "wide"
    root.mkdir()
    (root / "noarkpack.toml").write_text(HEAD + MAPPING, encoding="utf-8")
    lines = ["\t".join(COLS)] + ["\t".join(r) for r in rows]
    (root / "wide.tsv").write_bytes(("\r\n".join(lines) + "\r\n").encode("latin-1"))
    return root


def rows(scan: str = "") -> list[list[str]]:
    p1 = [FNR1, "Ragnhild Solstad", "K", "J1", "Medisin", "lunde", "02.03.2004 09:15", "15.07.2008 10:00"]
    p2 = [FNR2, "Torbjørn Ås", "M", "J2", "Kirurgi", "haugen", "12.09.2005 13:00", "20.01.2006 12:00"]
    return [p1 + ["1", "Innkomst", "02.03.2004 09:30", "Innlagt med pustebesvær.", ""],
            p1 + ["2", "Tilsyn", "03.03.2004 10:00", "Bedre i dag, går i gangen.", scan],
            p1 + ["3", "Epikrise", "09.03.2004 14:00", "Utskrevet til hjemmet. Blodtrykk 135/85.", ""],
            p2 + ["1", "Innkomst", "12.09.2005 13:30", "Kneprotese høyre side.", ""],
            p2 + ["2", "Telefon", "14.09.2005 10:00", "", ""]]  # a note that is empty: no document


def test_a_denormalised_export_is_one_record_per_key_and_notes_become_documents(tmp_path):
    scan = base64.b64encode(_tiff()).decode("ascii")
    root = write(tmp_path, rows(scan))
    report = import_project(load_project(root))
    assert report.rejected_total == 0, [(r.line, r.reason) for r in report.rejected]
    assert report.counts["pasient"] == 2 and report.counts["pasientjournal"] == 2 and report.counts["innslag"] == 5
    merged = {(f.table, f.path): f.rows_merged for f in report.files}
    assert merged[("pasient", "wide.tsv")] == 3 and merged[("pasientjournal", "wide.tsv")] == 3
    assert report.counts["dokument"] == 5  # four notes and the scan; the empty note gives none
    store = root / ".noarkpack" / "content"
    assert sorted(p.suffix for p in store.rglob("*.*")) == [".tif", ".txt", ".txt", ".txt", ".txt"]
    texts = {p.read_text(encoding="utf-8") for p in store.rglob("*.txt")}
    assert "Kneprotese høyre side." in texts  # Latin-1 in the file, UTF-8 in the store
    a = analyse_project(load_project(root))
    c = a.counts["contents"]
    # empty: the note of line 6, and the scan column of every row but line 3
    assert c == {"documents_from_source": 5, "documents_from_files": 0, "contents_empty": 5,
                 "contents_undecodable": 0}
    empty = sorted((f.location["line"], "NOTAT" in f.message) for f in a.findings if f.code == "AN.22")
    assert empty == [(2, False), (4, False), (5, False), (6, False), (6, True)]
    # the extract holds the notes as plain text and the scan as TIFF
    from noarkpack.pipeline import extract_project

    run = extract_project(load_project(root), tmp_path / "out")
    assert run.result.dokumentfiler == 5
    xml = (tmp_path / "out" / "avleveringspakke" / "arkivstruktur.xml").read_text(encoding="utf-8")
    assert xml.count("<format>x-fmt/111</format>") == 4 and xml.count("<format>fmt/353</format>") == 1
    # again: the same store, the same staging rows
    digest = dump_digest(root / ".noarkpack" / "staging.sqlite", data_only=True)
    import_project(load_project(root))
    assert dump_digest(root / ".noarkpack" / "staging.sqlite", data_only=True) == digest
    assert len(list(store.rglob("*.*"))) == 5


def test_a_repeated_key_with_differing_values_is_rejected_naming_the_fields_and_masking_the_fnr(tmp_path):
    data = rows()
    data[2][1] = "Ragnhild Solstad-Berg"  # the patient's name differs on the third row
    data[2][5] = "vik"  # and the journal's doctor
    root = write(tmp_path, data)
    report = import_project(load_project(root))
    got = {(r.table, r.line): r for r in report.rejected}
    r = got[("pasient", 4)]
    assert "occurs twice in the export (first at wide.tsv:2), with different values in: navn" in r.reason
    r = got[("pasientjournal", 4)]
    assert "with different values in: journalansvarlig, opprettet_av, avsluttet_av" in r.reason
    text = json.dumps(report.to_json(), ensure_ascii=False) + "\n".join(report.summary_lines())
    assert FNR1 not in text and "Solstad-Berg" not in text and "Ragnhild" not in text
    assert "patient (key masked: wide.tsv line 4)" == got[("pasient", 4)].record
    # the CLI and the analysis never print it either; --show-identifiers is for the analysis's own identifiers
    for cmd in (["import", str(root)], ["analyse", str(root)]):
        p = subprocess.run([*NOARKPACK, *cmd], capture_output=True, text=True)
        assert FNR1 not in p.stdout + p.stderr, cmd
        assert p.returncode == 1
    with sqlite3.connect(root / ".noarkpack" / "staging.sqlite") as c:
        assert not c.execute("SELECT 1 FROM rejected WHERE record LIKE ? OR reason LIKE ?",
                             (f"%{FNR1}%", f"%{FNR1}%")).fetchall()


def test_a_key_that_holds_a_person_number_is_masked_even_from_another_column(tmp_path):
    data = rows()
    for r in data:
        r[3] = f"{r[0]}-1"  # journals keyed "fnr-1"
    data[4][10] = "ikke en dato"
    data[3][7] = data[4][7] = ""  # the second journal is still open: AN.03 names it
    root = write(tmp_path, data)
    report = import_project(load_project(root))
    (r,) = [r for r in report.rejected if r.table == "innslag"]
    assert r.record == "journal (key masked: wide.tsv line 6), entry 2"
    assert FNR2 not in json.dumps(report.to_json())
    # the analysis names journals and patients by masked keys too; --show-identifiers puts them in identifiers
    a = analyse_project(load_project(root))
    text = json.dumps(a.to_json(), ensure_ascii=False)
    assert FNR1 not in text and FNR2 not in text
    (open_,) = [f for f in a.findings if f.code == "AN.03"]
    assert open_.location["record"] == "journal (key masked: wide.tsv line 5)"
    shown = analyse_project(load_project(root), show_identifiers=True)
    (open_,) = [f for f in shown.findings if f.code == "AN.03"]
    assert open_.identifiers["record_keys"] == [f"{FNR2}-1"]


def test_text_that_is_not_its_declared_encoding_is_a_rejected_row_naming_column_and_row(tmp_path):
    root = write(tmp_path, rows())
    toml = root / "noarkpack.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace(
        'innhold = { column = "SKANN", format = "bytes", encoding = "base64" }',
        'innhold = { column = "SKANN", format = "bytes", encoding = "hex" }'), encoding="utf-8")
    data = rows()
    data[1][12] = "not hex at all"
    (root / "wide.tsv").write_bytes(("\r\n".join(["\t".join(COLS)] + ["\t".join(r) for r in data]) + "\r\n")
                                    .encode("latin-1"))
    report = import_project(load_project(root))
    (r,) = report.rejected
    assert (r.file, r.line, r.table) == ("wide.tsv", 3, "dokument")
    assert "dokument.innhold (column SKANN) is not hex text" in r.reason
    a = analyse_project(load_project(root))
    assert a.counts["contents"]["contents_undecodable"] == 1


def test_model_and_writer_messages_mask_keys_that_are_person_numbers():
    from noarkpack.model.identifiers import message_key

    assert message_key(FNR1) == "(key masked)" and message_key(f"{FNR1}-1") == "(key masked)"
    assert message_key("P-17") == "P-17" and message_key("120438102761") == "120438102761"  # 12 digits: no fnr
    assert message_key("P-17", also="P-17") == "(key masked)"  # the key is the record's own person number
