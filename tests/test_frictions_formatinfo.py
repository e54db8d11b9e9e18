"""documentfile-formatinfo.csv in our SIPs/AIPs, as Arkade's SIP has it (issue 20 point 5, second bullet).

Compared with Arkade's real SIP (../shared/reference/samples/arkade-sip-example/n5-guid.tar, read there): the
same file names and places, the same header per place, UTF-8 without a BOM, commas, CRLF.  The rows come from
the identifications the extraction recorded (dokumentobjekt/format), not from a second pass over the documents.
"""

from __future__ import annotations

import csv
import io
import tarfile
import tomllib
from pathlib import Path

import pytest
from lxml import etree

import noarkpack.documents as documents
from noarkpack.packaging import PackageMetadata, build_package, metadata_template, verify

from .test_packaging import _tiny_extract

SAMPLE = Path(__file__).resolve().parents[2] / "shared" / "reference" / "samples" / "arkade-sip-example" / "n5-guid.tar"
NAME = "documentfile-formatinfo.csv"
N5 = "{http://www.arkivverket.no/standarder/noark5/arkivstruktur}"


def _members(tar: Path) -> dict[str, bytes]:
    with tarfile.open(tar) as t:
        return {m.name.split("/", 1)[1]: t.extractfile(m).read() for m in t if m.isfile()}


@pytest.fixture(scope="module")
def small(tmp_path_factory, schema_store) -> Path:
    return _tiny_extract(tmp_path_factory.mktemp("small"), schema_store)


@pytest.fixture(scope="module")
def built(tmp_path_factory, small, schema_store):
    meta = PackageMetadata.from_toml(tomllib.loads(metadata_template()))
    calls: list[Path] = []
    real = documents.identify

    def counting(path, **kw):
        calls.append(Path(path))
        return real(path, **kw)

    mp = pytest.MonkeyPatch()
    mp.setattr(documents, "identify", counting)
    try:
        result = build_package(small, tmp_path_factory.mktemp("sip"), profile="arkivverket-sip", metadata=meta,
                               store=schema_store)
    finally:
        mp.undo()
    return result, calls


def test_both_copies_are_where_arkade_puts_them_with_its_headers_and_bytes(built):
    result, _ = built
    ours = _members(result.tar)
    arkade = _members(SAMPLE)
    for place in ("administrative_metadata", "content"):
        mine, theirs = ours[f"{place}/{NAME}"], arkade[f"{place}/{NAME}"]
        assert mine.split(b"\r\n", 1)[0] == theirs.split(b"\r\n", 1)[0]  # the header, byte for byte
        for data in (mine, theirs):
            assert not data.startswith(b"\xef\xbb\xbf") and data.endswith(b"\r\n")
            assert b"\n" not in data.replace(b"\r\n", b"")
        mine.decode("utf-8")


def test_one_row_per_document_with_the_format_the_extraction_recorded(built, small):
    result, _ = built
    ours = _members(result.tar)
    recorded = {}
    for _, el in etree.iterparse(str(small / "arkivstruktur.xml"), tag=f"{N5}dokumentobjekt"):
        recorded[el.findtext(f"{N5}referanseDokumentfil")] = el.findtext(f"{N5}format")
    documents_in_extract = {p.relative_to(small).as_posix() for p in (small / "DOKUMENT").rglob("*") if p.is_file()}
    assert set(recorded) == documents_in_extract
    admin = list(csv.reader(io.StringIO(ours[f"administrative_metadata/{NAME}"].decode("utf-8"), newline="")))
    content = list(csv.reader(io.StringIO(ours[f"content/{NAME}"].decode("utf-8"), newline="")))
    assert len(admin) == len(content) == len(recorded) + 1
    for a, c in zip(admin[1:], content[1:], strict=True):
        filnavn, ext, puid, name, version, feil = a
        assert (filnavn, puid, name, version, feil) == tuple(c)
        assert puid == recorded[filnavn] and ext == Path(filnavn).suffix
        assert name  # PRONOM's name (one file per format asked), else formatDetaljer
        assert feil == ""
    assert [r[0] for r in admin[1:]] == sorted(recorded, key=lambda r: r.split("/"))


def test_no_second_identification_pass(built, small):
    _, calls = built
    recorded = {el.findtext(f"{N5}format") for _, el in
                etree.iterparse(str(small / "arkivstruktur.xml"), tag=f"{N5}dokumentobjekt")}
    assert 0 < len(calls) <= len(recorded)  # one file per distinct format, never every document


def test_verify_accepts_ours_and_arkades(built):
    result, _ = built
    report = verify(result.tar, validate_content=False)
    assert report.exit_code == 0 and not [f for f in report.findings if f.test == "PK.19"], report.findings
    arkade = verify(SAMPLE, validate_content=False)
    assert not [f for f in arkade.findings if f.test == "PK.19"]


def test_verify_says_when_rows_and_documents_disagree(built, tmp_path):
    result, _ = built
    broken = tmp_path / result.tar.name
    with tarfile.open(result.tar) as src, tarfile.open(broken, "w", format=tarfile.PAX_FORMAT) as dst:
        for m in src:
            data = src.extractfile(m).read() if m.isfile() else None
            if m.name.endswith(f"/content/{NAME}"):
                lines = data.split(b"\r\n")
                lines[1] = b"DOKUMENT/1999/borte.pdf" + lines[1][lines[1].index(b","):]
                data = b"\r\n".join(lines)
                m.size = len(data)
            dst.addfile(m, io.BytesIO(data) if data is not None else None)
    (tmp_path / result.description.name).write_bytes(result.description.read_bytes())
    report = verify(broken, validate_content=False)
    pk19 = [f.message for f in report.findings if f.test == "PK.19"]
    assert any("names DOKUMENT/1999/borte.pdf, which the package does not hold" in m for m in pk19), pk19
    assert any("1 document file(s) have no row" in m for m in pk19), pk19
