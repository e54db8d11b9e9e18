"""examples/legacydb/make_siard.py (issue 18 point 7): a SQLite database written as SIARD 2.2 reads back
through noarkpack's SIARD reader with the same rows; its metadata.xml is valid against the official SIARD 2.2
metadata.xsd (read from SIARD Suite's sample.siard in ../shared, never copied); its output is reproducible."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sqlite3
import subprocess
import sys
import zipfile
from datetime import date
from pathlib import Path

import pytest
import xmlschema
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from noarkpack.sources.siard import SiardArchive, inspect_siard, load_into_sqlite
from noarkpack.sources.siard_values import unescape

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "examples" / "legacydb" / "make_siard.py"
SAMPLE = ROOT.parent / "shared" / "reference" / "samples" / "siard" / "sample.siard"

_spec = importlib.util.spec_from_file_location("make_siard", SCRIPT)
make_siard = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(make_siard)

#: a note as a Windows-1252 system stored it, decoded: curly quotes, dash, euro, guillemets, æøå
NOTE_1252 = "Pasienten «Åse» fikk 2 mg – “akutt” – pris 120 €; følges opp.".encode("cp1252").decode("cp1252")
#: text that needs SIARD's \u escapes: a backslash, control characters, CR, leading/double/trailing spaces
NEEDS_ESCAPES = "  C:\\journal\\notat\x01\x1f tab\there\r\nend  \x7f\x85 ok \U0001F600 "


def _build(path: Path) -> None:
    con = sqlite3.connect(path)
    con.executescript("""
        CREATE TABLE pasient (id INTEGER PRIMARY KEY, kjonn VARCHAR(1), fodt DATE, aktiv BOOLEAN, vekt REAL);
        CREATE TABLE kode (kode VARCHAR(10) PRIMARY KEY, tekst VARCHAR(100)) WITHOUT ROWID;
        CREATE TABLE notat (id INTEGER PRIMARY KEY, pasient_id INTEGER NOT NULL REFERENCES pasient(id),
                            kode VARCHAR(10) REFERENCES kode(kode), skrevet TIMESTAMP, tekst TEXT,
                            rtf CLOB, skann BLOB);
    """)
    con.executemany("INSERT INTO pasient VALUES (?, ?, ?, ?, ?)",
                    [(1, "K", "1950-02-03", 1, 61.5), (2, "M", "1948-12-24", 0, None), (3, None, None, None, 80.25)])
    con.executemany("INSERT INTO kode VALUES (?, ?)", [("B01", "Besøk"), ("T", "Telefon – «kort»"), ("X", "")])
    big = bytes((i * 7 + 3) % 256 for i in range(300_000))
    long_text = ("Lang journaltekst med æøå og € " * 400)  # > 4000 bytes: a LOB file
    rtf = r"{\rtf1\ansi\ansicpg1252 Pasient \'e6\'f8\'e5 {\b fet} tekst\par}"
    con.executemany("INSERT INTO notat VALUES (?, ?, ?, ?, ?, ?, ?)", [
        (1, 1, "B01", "2001-05-06 10:11:12", NOTE_1252, rtf, b"%PDF-1.4 small"),
        (2, 1, "T", "2001-05-07T08:00:00", NEEDS_ESCAPES, None, big),
        (3, 2, None, None, long_text, rtf * 300, b""),
        (4, 3, "X", "2002-01-01 00:00:00.5", "", None, None),
    ])
    con.commit()
    con.close()


def _sqlite_rows(path: Path, table: str) -> list[dict]:
    con = sqlite3.connect(path)
    con.row_factory = sqlite3.Row
    order = "kode" if table == "kode" else "id"
    rows = [dict(r) for r in con.execute(f"SELECT * FROM {table} ORDER BY {order}")]
    con.close()
    return rows


@pytest.fixture
def made(tmp_path) -> tuple[Path, Path]:
    db = tmp_path / "legacy.sqlite"
    _build(db)
    out = tmp_path / "legacy.siard"
    make_siard.write_siard(db, out, schema="legacy", archival=date(2026, 12, 1),
                           xsd_from=SAMPLE if SAMPLE.exists() else None)
    return db, out


def test_round_trip_gives_the_same_rows(made):
    db, out = made
    with SiardArchive(out) as a:
        assert [t.qualified for t in a.tables()] == ["legacy.kode", "legacy.notat", "legacy.pasient"]
        for table in ("pasient", "kode", "notat"):
            got = list(a.rows("legacy", table))
            want = _sqlite_rows(db, table)
            if table == "notat":
                # xs:dateTime needs the "T"; both forms are ISO 8601 and the mapping's "iso" reads either
                for r in want:
                    r["skrevet"] = r["skrevet"] and r["skrevet"].replace(" ", "T", 1)
            assert got == want, table
    notes = {r["id"]: r for r in SiardArchive(out).rows("legacy", "notat")}
    assert notes[2]["tekst"] == NEEDS_ESCAPES and notes[1]["tekst"] == NOTE_1252
    assert notes[3]["skann"] == b"" and notes[4]["tekst"] == "" and notes[4]["skann"] is None


def test_large_lobs_are_files_with_length_and_md5_small_ones_inline(made):
    _, out = made
    with zipfile.ZipFile(out) as z:
        names = z.namelist()
        xml = z.read("content/schema0/table1/table1.xml").decode()
    assert "content/schema0/table1/lob6/record1.bin" in names  # notat.skann (column 6, 0-based), row 1
    assert "content/schema0/table1/lob4/record2.txt" in names  # notat.tekst, the long note
    assert "content/schema0/table1/lob5/record2.txt" in names  # notat.rtf repeated
    big = bytes((i * 7 + 3) % 256 for i in range(300_000))
    assert f'file="content/schema0/table1/lob6/record1.bin" length="300000" digestType="MD5" ' \
           f'digest="{hashlib.md5(big).hexdigest().upper()}"' in xml
    assert "<c7>25504446" in xml  # the small scan inline, hex
    assert "<c5>\\u0020\\u0020C:\\u005Cjournal" in xml and "\\u000D" in xml and "end \\u0020\\u007F" in xml


def test_metadata_is_valid_siard_2_2_and_tables_match_their_xsd(made):
    if not SAMPLE.exists():
        pytest.skip(f"SIARD 2.2 metadata.xsd comes from {SAMPLE}")
    _, out = made
    with zipfile.ZipFile(out) as z, zipfile.ZipFile(SAMPLE) as ref:
        assert z.read("header/metadata.xsd") == ref.read("header/metadata.xsd")  # copied byte for byte
        schema = xmlschema.XMLSchema(ref.read("header/metadata.xsd").decode())
        metadata = z.read("header/metadata.xml").decode()
        schema.validate(metadata)
        assert "header/siardversion/2.2/" in z.namelist()
        for n in range(3):
            xsd = etree.XMLSchema(etree.fromstring(z.read(f"content/schema0/table{n}/table{n}.xsd")))
            doc = etree.fromstring(z.read(f"content/schema0/table{n}/table{n}.xml"))
            assert xsd.validate(doc), xsd.error_log
    cat = inspect_siard(out)
    notat = cat.table("legacy", "notat")
    assert [(c.name, c.type) for c in notat.columns] == [
        ("id", "BIGINT"), ("pasient_id", "BIGINT"), ("kode", "VARCHAR(10)"), ("skrevet", "TIMESTAMP"),
        ("tekst", "CLOB"), ("rtf", "CLOB"), ("skann", "BLOB")]
    assert notat.lob_columns == ("tekst", "rtf", "skann") and notat.primary_key == ("id",) and notat.rows == 4
    pasient = cat.table("legacy", "pasient")
    assert [c.type for c in pasient.columns] == ["BIGINT", "VARCHAR(1)", "DATE", "BOOLEAN", "DOUBLE PRECISION"]
    assert "<referencedTable>pasient</referencedTable>" in metadata and "<dataOwner>" in metadata


def test_output_is_reproducible_and_the_cli_works(made, tmp_path):
    db, out = made
    again = tmp_path / "again.siard"
    env = dict(os.environ, SOURCE_DATE_EPOCH="1796083200")  # 2026-12-01
    args = [sys.executable, str(SCRIPT), str(db), str(again), "--schema", "legacy"]
    if SAMPLE.exists():
        args += ["--xsd-from", str(SAMPLE)]
    run = subprocess.run(args, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert again.read_bytes() == out.read_bytes()
    assert [p.name for p in tmp_path.iterdir() if "partial" in p.name] == []


def test_load_into_sqlite_of_the_written_archive(made, tmp_path):
    db, out = made
    loaded = tmp_path / "loaded.sqlite"
    load_into_sqlite(out, loaded)
    con = sqlite3.connect(loaded)
    assert con.execute('SELECT count(*) FROM "legacy.notat" n JOIN "legacy.pasient" p ON n.pasient_id = p.id '
                       "WHERE p.aktiv = 1").fetchone()[0] == 2
    assert con.execute('SELECT typeof(skann), length(skann) FROM "legacy.notat" WHERE id = 2').fetchone() == (
        "blob", 300_000)
    con.close()


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(exclude_categories=("Cs",)), max_size=60))
def test_any_text_survives_siard_escaping_and_an_xml_parser(text):
    """The writer's escaping and the reader's unescaping are inverse through a real XML parse (lxml), for any
    text: control characters, CR, backslashes, runs of spaces, non-BMP characters."""
    xml = f'<c1 xmlns="urn:x">{make_siard.siard_escape(text)}</c1>'.encode("utf-8")
    parsed = etree.fromstring(xml).text or ""
    assert unescape(parsed) == text
