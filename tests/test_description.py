"""The extract's description in the SIP (issue 17, point 8): where it is, that it is listed, what it says."""

from __future__ import annotations

import csv
import hashlib
import re
import shutil
import tarfile
from pathlib import Path

import pytest
from lxml import etree, html

from noarkpack.packaging.description import DESCRIPTION
from noarkpack.pipeline import extract_project, package, verify_path
from noarkpack.project import load_project

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "omsorg"
METS = "http://arkivverket.no/standarder/METS"
XLINK = "http://www.w3.org/1999/xlink"
HREF = f"administrative_metadata/{DESCRIPTION}"


def _tar(out: Path) -> Path:
    (tar,) = out.glob("*.tar")
    return tar


def _members(tar: Path) -> dict[str, bytes]:
    with tarfile.open(tar) as t:
        return {m.name.split("/", 1)[1]: t.extractfile(m).read() for m in t.getmembers()
                if m.isfile() and not m.name.split("/", 1)[1].startswith("content/DOKUMENT/")}


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    dst = tmp_path_factory.mktemp("desc") / "omsorg"
    shutil.copytree(EXAMPLE, dst, ignore=shutil.ignore_patterns(".noarkpack", "*.sqlite*"))
    return dst


@pytest.fixture(scope="module")
def sip(project, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("desc-sip") / "sip"
    run = package(project, out, profile="arkivverket-sip")
    assert run.exit_code == 0
    return _tar(out)


@pytest.fixture(scope="module")
def bare_sip(project, tmp_path_factory) -> Path:
    """The SIP of an extract folder packaged without its project: the run's facts are unknown."""
    tmp = tmp_path_factory.mktemp("desc-bare")
    extract_project(load_project(project), tmp / "x")
    out = tmp / "sip"
    run = package(tmp / "x" / "avleveringspakke", out, profile="arkivverket-sip",
                  metadata_file=project / "noarkpack.toml")
    assert run.exit_code == 0
    return _tar(out)


def _text(data: bytes) -> str:
    doc = html.document_fromstring(data.decode("utf-8"))
    for el in doc.xpath("//style"):
        el.drop_tree()
    return " ".join(" ".join(doc.find("body").itertext()).split())


def test_the_description_is_listed_in_dias_mets_with_its_checksum(sip):
    files = _members(sip)
    assert HREF in files
    mets = etree.fromstring(files["dias-mets.xml"])
    listed = {f.find(f"{{{METS}}}FLocat").get(f"{{{XLINK}}}href"): f for f in mets.iter(f"{{{METS}}}file")}
    entry = listed[f"file:{HREF}"]
    assert entry.get("CHECKSUMTYPE") == "SHA-256"
    assert entry.get("CHECKSUM") == hashlib.sha256(files[HREF]).hexdigest()
    assert int(entry.get("SIZE")) == len(files[HREF])
    assert verify_path(sip).exit_code == 0


def test_the_description_is_self_contained_html_in_bokmaal(sip):
    data = _members(sip)[HREF]
    doc = html.document_fromstring(data.decode("utf-8"))
    assert doc.get("lang") == "nb"
    assert doc.find(".//h1").text_content() == "Beskrivelse av uttrekket"
    # no outside assets: no link, script, image or remote reference
    assert not doc.xpath("//link|//script|//img|//iframe|//@src")
    assert not re.search(rb"https?://", data)


def test_the_description_gives_the_run_s_facts(sip):
    text = _text(_members(sip)[HREF])
    assert "Omsorgsjournal 7.4" in text
    assert "Fjordvik kommune, Helse og omsorg" in text and "Fjordvik interkommunale legevakt" in text
    assert "2005-01-01 – 2023-12-31" in text
    assert "Utgående periodeskille mykt" in text
    assert "Pasientjournaler (mappe, saksmappe) 87" in text
    assert "Registreringer (journalinnslag) 786" in text
    assert "av dem journalposter (korrespondanse) 247" in text
    assert "Dokumentfiler 476" in text
    # the journals left out, with their reason and count, and the selection rules
    assert "journalen er ikke avsluttet 2" in text and "Utelatt i alt 2" in text
    assert "closed_before 2024-01-01" in text
    # conversions per original format and tool
    assert "fmt/50 fmt/477 LibreOffice" in text and "Konvertert i alt 6" in text
    assert "ukjent" not in text.lower()


def test_packaged_without_its_project_the_run_s_facts_are_unknown(bare_sip):
    text = _text(_members(bare_sip)[HREF])
    assert "Pasientjournaler (mappe, saksmappe) 87" in text
    assert "Utvalgsreglene er ukjente" in text
    assert "Hvor mange journaler som ble utelatt, og hvorfor, er ukjent" in text
    assert "Utelatt i alt" not in text


@pytest.mark.parametrize("which", ["sip", "bare_sip"])
def test_no_patient_name_or_number_in_the_description(which, request):
    text = _text(_members(request.getfixturevalue(which))[HREF])
    with open(EXAMPLE / "eksport" / "PASIENT.csv", encoding="utf-8-sig", newline="") as fh:
        patients = list(csv.DictReader(fh, delimiter=";"))
    assert patients
    words = set(re.findall(r"\w+", text))
    for p in patients:
        for value in (p["FODSELSNR"], p["PAS_ID"], f"{p['FORNAVN']} {p['ETTERNAVN']}"):
            assert not value.strip() or value not in text
        assert not p["ETTERNAVN"] or p["ETTERNAVN"] not in words
