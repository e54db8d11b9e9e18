"""SIARD 2.1/2.2 as a source (issue 18 point 5): the three SIARD Suite archives in ../shared/reference read
with exactly the rows their metadata.xml states and every LOB with its recorded length and digest; damaged
copies of them fail with one clear SourceError and leave no database behind."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
import zipfile
from pathlib import Path

import pytest
from lxml import etree

from noarkpack.errors import SourceError
from noarkpack.sources.siard import SiardArchive, inspect_siard, load_into_sqlite
from noarkpack.sources.siard_values import unescape

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "reference" / "samples" / "siard"
SAMPLE = SAMPLES / "sample.siard"
SFDBOE = SAMPLES / "sfdboe_2_1.siard"
SQL2008 = SAMPLES / "sql2008_2_1.siard"
MD = "{http://www.bar.admin.ch/xmlns/siard/2/metadata.xsd}"
TB = "{http://www.bar.admin.ch/xmlns/siard/2/table.xsd}"

pytestmark = pytest.mark.skipif(not SAMPLE.exists(), reason=f"SIARD samples not found at {SAMPLES}")

#: sql2008_2_1.siard keeps three LOBs outside the ZIP (column/field lobFolder "../lobs/…"); the same LOBs
#: (same length and MD5 in the table XML) are inside sample.siard, so a test can lay out the external folder
EXTERNAL_LOBS = {
    "lobs/record0.txt": "content/schema0/table0/lob2/record0.txt",
    "lobs/field/record0.flac": "content/schema0/table1/lob2/field2/record0.bin",
    "lobs/field/field/record0.txt": "content/schema0/table1/lob4/field1/field1/record0.txt",
}


def _with_external_lobs(tmp_path: Path) -> Path:
    """sql2008_2_1.siard in tmp_path/archive/ with its external LOB folder where metadata.xml puts it."""
    target = tmp_path / "archive" / SQL2008.name
    target.parent.mkdir()
    shutil.copy(SQL2008, target)
    with zipfile.ZipFile(SAMPLE) as z:
        for rel, member in EXTERNAL_LOBS.items():
            out = target.parent / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(z.read(member))
    return target


def _metadata(path: Path):
    with zipfile.ZipFile(path) as z:
        return etree.fromstring(z.read("header/metadata.xml"))


def _expected(path: Path) -> dict[str, tuple[int, list[tuple[int, str, int, str]]]]:
    """Straight from the archive, without the reader: per table, metadata's rows and every LOB reference
    (row number, element path, length, digest) in its table XML."""
    out = {}
    root = _metadata(path)
    with zipfile.ZipFile(path) as z:
        for s in root.iter(f"{MD}schema"):
            for t in s.iter(f"{MD}table"):
                name = f"{s.findtext(f'{MD}name')}.{t.findtext(f'{MD}name')}"
                folder = f"content/{s.findtext(f'{MD}folder')}/{t.findtext(f'{MD}folder')}"
                xml = etree.fromstring(z.read(f"{folder}/{t.findtext(f'{MD}folder')}.xml"))
                lobs = []
                for n, row in enumerate(xml.iter(f"{TB}row"), start=1):
                    for el in row.iter():
                        if el.get("file") is not None:
                            assert el.get("digestType") == "MD5"
                            lobs.append((n, el.getroottree().getpath(el), int(el.get("length")), el.get("digest")))
                out[name] = (int(t.findtext(f"{MD}rows")), lobs)
    return out


def _lob_values(row: dict) -> list:
    return [v for v in row.values() if isinstance(v, (bytes, str)) and len(v) > 0]


@pytest.mark.parametrize("which", ["sample", "sfdboe", "sql2008"])
def test_every_table_reads_with_metadata_row_count_and_every_lob_with_its_length_and_md5(which, tmp_path):
    path = {"sample": SAMPLE, "sfdboe": SFDBOE, "sql2008": None}[which] or _with_external_lobs(tmp_path)
    expected = _expected(path)
    lob_total = 0
    with SiardArchive(path) as archive:
        assert {t.qualified for t in archive.tables()} == set(expected)
        for t in archive.tables():
            rows_expected, lobs = expected[t.qualified]
            lob_columns = [lf.name for lf in t.leaves if lf.is_lob]
            got_lobs = []
            n = 0
            for n, row in enumerate(archive.rows(t.schema, t.name), start=1):
                for name in lob_columns:
                    if row[name] is not None:
                        got_lobs.append((n, row[name]))
            assert n == rows_expected, t.qualified
            # every referenced LOB came back with its recorded length (characters for CLOB/XML, table.xsd
            # clobType) and MD5 over its bytes; inline LOB values are also in got_lobs, hence >=
            assert len(got_lobs) >= len(lobs)
            for row_no, _path, length, digest in lobs:
                candidates = [v for r, v in got_lobs if r == row_no]
                assert any(len(v) == length and hashlib.md5(v if isinstance(v, bytes) else v.encode()).hexdigest()
                           == digest.lower() for v in candidates), (t.qualified, row_no, _path)
            lob_total += len(lobs)
    assert lob_total == {"sample": 19, "sfdboe": 4, "sql2008": 8}[which]


def test_the_samples_hold_what_sources_md_says():
    """The counts SOURCES.md gives, so a replaced sample file is noticed."""
    rows = {t.qualified: t.rows for t in SiardArchive(SFDBOE).tables()}
    assert rows["OE.PRODUCT_DESCRIPTIONS"] == 8640 and rows["OE.INVENTORIES"] == 1112
    assert sum(rows.values()) == 11352
    cat = inspect_siard(SAMPLE)
    assert cat.kind == "siard" and cat.details["siard_version"] == "2.2"
    assert [(t.name, t.rows) for t in cat.schemas[0].tables] == [("TSIMPLE", 4), ("TCOMPLEX", 2)]


def test_values_undo_escapes_and_decode_hex_and_types():
    with SiardArchive(SQL2008) as a:
        t = a.meta.table("TESTSCHEMA", "TESTSIMPLETABLE")
    with SiardArchive(SAMPLE) as a:
        first = next(a.rows("SampleSchema", "TSIMPLE", check_count=False))
    assert first["CNCHAR"] == " "  # "\u0020"
    assert "[\\]" in first["CVARCHAR"]  # "[\u005C]"
    assert first["CBINARY"] == b"\x00" and first["CVARBINARY"] == bytes(range(256))
    assert first["CINTEGER"] == 12345678 and first["CBIGINT"] == 12345678901234567
    assert first["CNUMERIC"] == "493824.36"  # DECIMAL with a scale stays exact text
    assert first["CDOUBLE"] == 3.14159265359 and first["CBOOLEAN"] == 1
    assert first["CDATE"] == "2016-08-16"
    assert len(first["CCLOB"]) == 2_000_000 and len(first["CBLOB"]) == 1000
    assert t.leaves[2].lob_folders == ("../lobs/",)


def test_unescape():
    assert unescape("ABC\\u0014DEF\\u005CGHI \\u0020JKL") == "ABC\x14DEF\\GHI  JKL"
    assert unescape("\\uD83D\\uDE00 ok") == "\U0001F600 ok"
    assert unescape("no escapes \\ here") == "no escapes \\ here"


def test_udt_columns_flatten_and_arrays_become_json():
    cat = inspect_siard(SAMPLE)
    complex_ = cat.table("SampleSchema", "TCOMPLEX")
    names = [c.name for c in complex_.columns]
    assert names == ["CID", "CDISTINCT", "CUDTS.TABLEID", "CUDTS.TRANSCRIPTION", "CUDTS.SOUND", "CARRAY",
                     "CUDTC.ID", "CUDTC.NESTEDROW.TABLEID", "CUDTC.NESTEDROW.TRANSCRIPTION",
                     "CUDTC.NESTEDROW.SOUND"]
    assert complex_.lob_columns == ("CUDTS.TRANSCRIPTION", "CUDTS.SOUND", "CUDTC.NESTEDROW.TRANSCRIPTION",
                                    "CUDTC.NESTEDROW.SOUND")
    assert complex_.primary_key == ("CID",)
    with SiardArchive(SAMPLE) as a:
        rows = list(a.rows("SampleSchema", "TCOMPLEX"))
    assert rows[0]["CARRAY"] == '["element 0,1", null, "element 0,3", "element 0,4"]'
    assert rows[0]["CDISTINCT"] == 987654321 and rows[1]["CDISTINCT"] is None
    assert len(rows[1]["CUDTS.SOUND"]) == 20_000_000  # nested lob2/field2/record1.bin


def test_inspect_gives_metadata_row_counts_for_every_sample():
    for path in (SAMPLE, SFDBOE, SQL2008):
        cat = inspect_siard(path)
        expected = {name: rows for name, (rows, _) in _expected(path).items()}
        got = {f"{s.name}.{t.name}": t.rows for s in cat.schemas for t in s.tables}
        assert got == expected
        assert cat.details["siard_version"] in ("2.1", "2.2") and cat.location == str(path)
    oe = inspect_siard(SFDBOE)
    assert oe.details["database_product"].startswith("Oracle")
    assert oe.table("OE", "PRODUCT_INFORMATION").lob_columns == ("PICTURE",)
    assert oe.table("HR", "COUNTRIES").primary_key == ("COUNTRY_ID",)


def test_load_into_sqlite_writes_every_table_as_schema_dot_table(tmp_path):
    db = tmp_path / "sfdboe.sqlite"
    seen = []
    load_into_sqlite(SFDBOE, db, progress=lambda stage, done, total=None: seen.append((stage, done, total)))
    con = sqlite3.connect(db)
    names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    expected = _expected(SFDBOE)
    assert names == set(expected)
    for name, (rows, _) in expected.items():
        assert con.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] == rows
    # national characters survive; integer keys are integers, so joins compare as numbers
    assert con.execute('SELECT count(*) FROM "OE.PRODUCT_DESCRIPTIONS" WHERE LANGUAGE_ID = \'RU\'').fetchone()[0] > 0
    assert con.execute('SELECT typeof(EMPLOYEE_ID), typeof(SALARY) FROM "HR.EMPLOYEES"').fetchone() == (
        "integer", "text")
    assert con.execute('SELECT count(*) FROM "HR.EMPLOYEES" e JOIN "HR.DEPARTMENTS" d '
                       "ON e.DEPARTMENT_ID = d.DEPARTMENT_ID").fetchone()[0] == 106
    con.close()
    assert seen[-1] == ("siard", 11352, 11352)
    assert [p.name for p in tmp_path.iterdir()] == ["sfdboe.sqlite"]


def test_load_into_sqlite_keeps_lobs_as_blob_and_text(tmp_path):
    db = tmp_path / "sample.sqlite"
    load_into_sqlite(SAMPLE, db)
    con = sqlite3.connect(db)
    blob, clob = con.execute('SELECT CBLOB, CCLOB FROM "SampleSchema.TSIMPLE" WHERE CINTEGER = 12345678').fetchone()
    assert isinstance(blob, bytes) and hashlib.md5(blob).hexdigest() == "cbecbdb0fdd5cec1e242493b6008cc79"
    assert isinstance(clob, str) and len(clob) == 2_000_000
    sound = con.execute('SELECT "CUDTS.SOUND" FROM "SampleSchema.TCOMPLEX" WHERE CID = 1987654321').fetchone()[0]
    assert hashlib.md5(sound).hexdigest() == "d1c7f9dd72fe6a50813ac4f0c87121bc"
    con.close()


# -- damaged archives (issue 18 point 11): one SourceError each, nothing left behind ----------------------

def _rewrite(src: Path, dst: Path, *, drop: str | None = None, replace: dict[str, bytes] | None = None,
             stored_zip64: bool = False) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename == drop:
                continue
            data = (replace or {}).get(info.filename, zin.read(info.filename))
            if stored_zip64:
                info.compress_type = zipfile.ZIP_STORED
                with zout.open(info, "w", force_zip64=True) as f:
                    f.write(data)
            else:
                zout.writestr(info, data)
    return dst


def test_stored_entries_with_zip64_headers_read_the_same(tmp_path):
    """SIARD allows stored (uncompressed) entries and ZIP64; the samples are deflated, so make a copy."""
    copy = _rewrite(SFDBOE, tmp_path / "stored.siard", stored_zip64=True)
    with zipfile.ZipFile(copy) as z:
        assert {i.compress_type for i in z.infolist()} == {zipfile.ZIP_STORED}
    with SiardArchive(SFDBOE) as a, SiardArchive(copy) as b:
        for t in a.tables():
            assert list(a.rows(t.schema, t.name)) == list(b.rows(t.schema, t.name))


def _fails(path: Path, tmp_path: Path, *words: str) -> SourceError:
    db = tmp_path / "out.sqlite"
    with pytest.raises(SourceError) as e:
        load_into_sqlite(path, db)
    text = str(e.value)
    for w in words:
        assert w in text, text
    assert not db.exists()
    assert not list(tmp_path.glob("out.sqlite*")), "a partial database was left behind"
    return e.value


def test_truncated_zip(tmp_path):
    bad = tmp_path / "truncated.siard"
    bad.write_bytes(SAMPLE.read_bytes()[: SAMPLE.stat().st_size // 2])
    err = _fails(bad, tmp_path, "not a readable ZIP", "truncated.siard")
    assert err.hint and "again" in err.hint


def test_a_lob_file_missing_from_the_zip(tmp_path):
    bad = _rewrite(SAMPLE, tmp_path / "nolob.siard", drop="content/schema0/table0/lob9/record2.bin")
    _fails(bad, tmp_path, "lob9/record2.bin is missing", "row 3", "column CBLOB", "table0.xml")


def test_an_external_lob_missing(tmp_path):
    path = _with_external_lobs(tmp_path)
    (path.parent / "lobs/field/record0.flac").unlink()
    _fails(path, tmp_path, "record0.flac does not exist", "CUDTS.SOUND", "lobFolder")


def test_a_digest_mismatch(tmp_path):
    with zipfile.ZipFile(SAMPLE) as z:
        data = bytearray(z.read("content/schema0/table0/lob9/record0.bin"))
    data[500] ^= 0xFF  # same length, other bytes
    bad = _rewrite(SAMPLE, tmp_path / "digest.siard", replace={"content/schema0/table0/lob9/record0.bin": bytes(data)})
    _fails(bad, tmp_path, "MD5 digest does not match", "row 1", "column CBLOB")


def test_a_length_mismatch_in_an_external_lob(tmp_path):
    path = _with_external_lobs(tmp_path)
    lob = path.parent / "lobs/record0.txt"
    lob.write_bytes(lob.read_bytes()[:-10])
    _fails(path, tmp_path, "holds 1999990 character(s), the table records length 2000000", "column CCLOB")


def test_malformed_table_xml(tmp_path):
    member = "content/schema1/table4/table4.xml"
    with zipfile.ZipFile(SFDBOE) as z:
        data = z.read(member)
    bad = _rewrite(SFDBOE, tmp_path / "xml.siard", replace={member: data[: len(data) // 2]})
    _fails(bad, tmp_path, "OE.PRODUCT_DESCRIPTIONS", "not well-formed", "table4.xml")


def test_row_count_differs_from_metadata(tmp_path):
    member = "content/schema0/table1/table1.xml"
    with zipfile.ZipFile(SAMPLE) as z:
        data = z.read(member).decode()
    first_row_end = data.index("</row>") + len("</row>")
    bad = _rewrite(SAMPLE, tmp_path / "rows.siard",
                   replace={member: (data[: data.index("<row>")] + data[first_row_end:]).encode()})
    _fails(bad, tmp_path, "holds 1 row(s), metadata.xml says 2")


def test_not_a_siard_and_unknown_table(tmp_path):
    plain = tmp_path / "plain.zip"
    with zipfile.ZipFile(plain, "w") as z:
        z.writestr("hello.txt", "hi")
    _fails(plain, tmp_path, "header/metadata.xml is missing")
    with SiardArchive(SAMPLE) as a, pytest.raises(SourceError, match="no table SampleSchema.NOPE"):
        list(a.rows("SampleSchema", "NOPE"))


def test_a_bad_lob_can_be_a_rejected_row_instead_of_an_error(tmp_path):
    """rows(on_bad_lob=…): the importer's way to reject the row and go on (issue 18 point 5)."""
    with zipfile.ZipFile(SAMPLE) as z:
        data = bytearray(z.read("content/schema0/table0/lob9/record0.bin"))
    data[0] ^= 0xFF
    bad = _rewrite(SAMPLE, tmp_path / "digest.siard", replace={"content/schema0/table0/lob9/record0.bin": bytes(data)},
                   drop="content/schema0/table0/lob5/record3.txt")
    seen = []
    with SiardArchive(bad) as a:
        rows = list(a.rows("SampleSchema", "TSIMPLE", on_bad_lob=lambda n, col, err: seen.append((n, col, str(err)))))
    assert len(rows) == 4
    assert [(n, col) for n, col, _ in seen] == [(1, "CBLOB"), (4, "CNCLOB")]
    assert "MD5 digest does not match" in seen[0][2] and "record3.txt is missing" in seen[1][2]
    assert rows[0]["CBLOB"] is None and rows[3]["CNCLOB"] is None and rows[1]["CBLOB"] is not None


def test_a_fraction_in_a_decimal_without_scale_stays_text_and_a_bad_integer_is_an_error(tmp_path):
    member = "content/schema0/table2/table2.xml"  # HR.EMPLOYEES: c8 SALARY DECIMAL(8, 2), c10 MANAGER_ID DECIMAL(6)
    with zipfile.ZipFile(SFDBOE) as z:
        data = z.read(member).decode()
    first = data.index("<c1>100</c1>")
    fixed = data[:first] + data[first:].replace("<c1>100</c1>", "<c1>100.5</c1>", 1)
    with SiardArchive(_rewrite(SFDBOE, tmp_path / "dec.siard", replace={member: fixed.encode()})) as a:
        row = next(a.rows("HR", "EMPLOYEES", check_count=False))
    assert row["EMPLOYEE_ID"] == "100.5"
    member = "content/schema0/table0/table0.xml"  # SampleSchema.TSIMPLE: c14 CINTEGER INTEGER
    with zipfile.ZipFile(SAMPLE) as z:
        data = z.read(member).decode()
    bad = _rewrite(SAMPLE, tmp_path / "int.siard", replace={member: data.replace("<c14>12345678</c14>", "<c14>x1</c14>").encode()})
    err = _fails(bad, tmp_path, "column CINTEGER (INTEGER)", "not an integer", "row 1")
    assert "x1" not in str(err)


def test_lob_locations_follow_the_dilcis_note(tmp_path):
    """DILCIS "SIARD LOB location" (2024-08-01): no column lobFolder → inside, even with a database lobFolder;
    otherwise database + column folder + file, relative to the SIARD file (SIARD Suite's "../" reading first,
    the note's own "./Northwind_lobs/" example second)."""
    from noarkpack.sources.siard_meta import Leaf

    copy = tmp_path / "Northwind.siard"
    shutil.copy(SAMPLE, copy)
    with SiardArchive(copy) as a:
        t = a.meta.table("SampleSchema", "TSIMPLE")
        plain = Leaf("C", ("c3",), "BLOB", "binary", True)
        a.meta.lob_folder = "./Northwind_lobs/"
        assert a.lob_location("content/schema0/table0/lob9/record1.bin", plain, t) == (
            "zip", ["content/schema0/table0/lob9/record1.bin"])
        assert a.lob_location("lob9/record1.bin", plain, t) == ("zip", ["content/schema0/table0/lob9/record1.bin"])
        outside = Leaf("C", ("c4",), "BLOB", "binary", True, lob_folders=("s0_t2_c4/",))
        kind, paths = a.lob_location("seg_0/t2_c4_r1.bin", outside, t)
        assert kind == "file" and str(tmp_path / "Northwind_lobs/s0_t2_c4/seg_0/t2_c4_r1.bin") in paths
        a.meta.lob_folder = None
        suite = Leaf("C", ("c4",), "BLOB", "binary", True, lob_folders=("../lobs/",))
        assert a.lob_location("record0.txt", suite, t) == ("file", [str(tmp_path / "lobs/record0.txt"),
                                                                   str(tmp_path.parent / "lobs/record0.txt")])
