"""Conversion dates that are true and stable (issue 17).

konvertertDato is the date of the *first* conversion of a document's content, kept with the converted file in
the conversion cache, so a second extract on the same machine and cache is byte-identical; konvertertAv is the
system that converted; the converted file's dokumentobjekt was made by that conversion, and the original keeps
its own author and dates.  The extract test runs LibreOffice on one small RTF letter.
"""

from __future__ import annotations

import json
import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest
from lxml import etree

from noarkpack import documents, pipeline
from noarkpack._version import __version__
from noarkpack.conversion import CONVERTED_BY, ConversionCache, ConversionRecord
from noarkpack.hashing import sha256_file
from noarkpack.model.mapping import KONVERTERINGSKOMMENTAR
from noarkpack.project import load_project

from . import conversion_project as cp

AS = "{http://www.arkivverket.no/standarder/noark5/arkivstruktur}"


@pytest.fixture(autouse=True)
def fresh_memory(monkeypatch):
    """Each extract starts as a new command does: no identification cache in memory."""
    monkeypatch.setattr(documents, "_cache", None)
    monkeypatch.setattr(documents, "_store", None)
    monkeypatch.setattr(documents, "_waiter", None)


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_two_extracts_with_a_conversion_are_byte_identical_and_dated_by_the_first_conversion(tmp_path):
    assert shutil.which("soffice"), "LibreOffice is needed (see README)"
    root = cp.write_project(tmp_path / "proj")
    project = load_project(root)
    first = pipeline.extract_project(project, tmp_path / "out1")
    assert first.result.converted == 1 and not first.result.unconverted
    second = pipeline.extract_project(load_project(root), tmp_path / "out2")
    assert second.result.converted == 1
    a, b = _files(tmp_path / "out1" / "avleveringspakke"), _files(tmp_path / "out2" / "avleveringspakke")
    assert a.keys() == b.keys()
    assert [name for name in a if a[name] != b[name]] == []

    # The konvertering is the cache's record of the first conversion.
    sha = sha256_file(root / "dok" / "brev.rtf")
    record = json.loads((root / ".noarkpack" / "konvertert" / f"{sha}.json").read_text(encoding="utf-8"))
    assert record["converted_by"] == CONVERTED_BY == f"noarkpack {__version__}"
    made = datetime.fromisoformat(record["converted_at"])
    assert made.tzinfo is not None and abs(datetime.now(timezone.utc) - made).total_seconds() < 600
    tree = etree.fromstring(a["arkivstruktur.xml"])
    [obj] = tree.iter(f"{AS}dokumentobjekt")
    [k] = obj.findall(f"{AS}konvertering")
    assert datetime.fromisoformat(k.findtext(f"{AS}konvertertDato")) == made
    assert k.findtext(f"{AS}konvertertAv") == CONVERTED_BY
    assert k.findtext(f"{AS}konverteringsverktoey").startswith("LibreOffice ")
    assert k.findtext(f"{AS}konverteringskommentar") == KONVERTERINGSKOMMENTAR
    # The PDF/A's dokumentobjekt was made by the conversion (M600/M601) ...
    assert obj.findtext(f"{AS}opprettetDato") == k.findtext(f"{AS}konvertertDato")
    assert obj.findtext(f"{AS}opprettetAv") == CONVERTED_BY
    # ... and the original's facts stay on the dokumentbeskrivelse and the registrering.
    db = obj.getparent()
    reg = db.getparent()
    assert datetime.fromisoformat(db.findtext(f"{AS}opprettetDato")) == datetime.fromisoformat(cp.WRITTEN)
    assert [f.text for f in db.findall(f"{AS}forfatter")] == [cp.AUTHOR]
    assert db.findtext(f"{AS}opprettetAv") == cp.SIGNER  # who registered it, not the author (M601)
    assert datetime.fromisoformat(reg.findtext(f"{AS}opprettetDato")) == datetime.fromisoformat(cp.WRITTEN)
    assert datetime.fromisoformat(reg.findtext(f"{AS}arkivertDato")) == datetime.fromisoformat(cp.SIGNED)
    assert [f.text for f in reg.findall(f"{AS}forfatter")] == [cp.AUTHOR]

    # Another project sharing the cache gets the same record: the date belongs to the content.
    other = tmp_path / "other"
    shutil.copytree(root, other, ignore=shutil.ignore_patterns(".noarkpack"))
    cache = (root / ".noarkpack" / "konvertert").as_posix()
    with open(other / "noarkpack.toml", "a", encoding="utf-8") as f:
        f.write(f'\n[conversion]\ncache = "{cache}"\n')
    third = pipeline.extract_project(load_project(other), tmp_path / "out3")
    assert third.conversion is None  # nothing converted again
    obj3 = next(etree.parse(str(tmp_path / "out3" / "avleveringspakke" / "arkivstruktur.xml"))
                .iter(f"{AS}dokumentobjekt"))
    assert obj3.findtext(f"{AS}konvertering/{AS}konvertertDato") == k.findtext(f"{AS}konvertertDato")


def _entry(folder: Path, record: dict, mtime: float) -> str:
    """A cache entry written by hand (as an older noarkpack would have left it); returns its key."""
    sha = record["source_sha256"]
    folder.mkdir(parents=True, exist_ok=True)
    pdf = folder / f"{sha}.pdf"
    pdf.write_bytes(b"%PDF-1.7 converted earlier\n")
    os.utime(pdf, (mtime, mtime))
    (folder / f"{sha}.json").write_text(json.dumps(record), encoding="utf-8")
    return sha


def test_an_older_cache_entry_gets_its_date_and_system_once_and_keeps_them(tmp_path):
    folder = tmp_path / "cache"
    made = datetime(2023, 4, 5, 6, 7, 8, tzinfo=timezone.utc).timestamp()
    sha = _entry(folder, {"source_sha256": "a" * 64, "source_puid": "fmt/355", "output_puid": "fmt/477",
                          "tool": "LibreOffice 7.4.7.2", "output_name": f"{'a' * 64}.pdf"}, made)
    out, rec = ConversionCache(folder).get(sha)
    assert out == folder / f"{sha}.pdf"
    assert rec.converted_datetime() == datetime.fromtimestamp(made, timezone.utc)  # when the file was made
    assert rec.converted_by == "noarkpack"  # made by noarkpack, version unknown
    stored = json.loads((folder / f"{sha}.json").read_text(encoding="utf-8"))
    assert stored["converted_at"] == rec.converted_at and stored["converted_by"] == "noarkpack"
    # Kept: the file's time no longer matters, a new cache object reads the same record.
    os.utime(out, (made + 86400, made + 86400))
    assert ConversionCache(folder).get(sha)[1] == rec
    assert ConversionRecord.from_json(stored) == rec


def test_an_older_cache_entry_keeps_the_date_it_has(tmp_path):
    folder = tmp_path / "cache"
    sha = _entry(folder, {"source_sha256": "b" * 64, "source_puid": "fmt/355", "output_puid": "fmt/477",
                          "tool": "LibreOffice 7.4.7.2", "converted_at": "2024-11-25T12:00:00+01:00",
                          "output_name": f"{'b' * 64}.pdf", "a_field_of_a_newer_noarkpack": 1}, 0)
    _, rec = ConversionCache(folder).get(sha)
    assert rec.converted_at == "2024-11-25T12:00:00+01:00" and rec.converted_by == "noarkpack"
    assert json.loads((folder / f"{sha}.json").read_text(encoding="utf-8"))["converted_at"] == rec.converted_at


def test_a_damaged_or_foreign_cache_entry_is_not_used(tmp_path):
    folder = tmp_path / "cache"
    good = {"source_sha256": "c" * 64, "source_puid": "fmt/355", "output_puid": "fmt/477", "tool": "x",
            "converted_at": "2024-11-25T12:00:00+01:00", "converted_by": "noarkpack 0.1.0"}
    sha = _entry(folder, {**good, "output_name": "../elsewhere.pdf"}, 0)
    assert ConversionCache(folder).get(sha) is None  # an output outside the cache folder
    (folder / f"{sha}.json").write_text(json.dumps({**good, "source_sha256": "d" * 64,
                                                    "output_name": f"{sha}.pdf"}), encoding="utf-8")
    assert ConversionCache(folder).get(sha) is None  # the record of another source
    (folder / f"{sha}.json").write_text("{", encoding="utf-8")
    assert ConversionCache(folder).get(sha) is None
