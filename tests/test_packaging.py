"""DIAS SIP/AIP packaging: schema-valid metadata, checksums, determinism, atomicity, BagIt.

The extract comes from examples/omsorg when that project is complete, otherwise
from a tiny JSON Lines project written here.  Schema validation uses xmllint with
an XML catalog that maps the XLink (and xml:) imports to local files: never the
network.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import tomllib
import uuid
from datetime import date, datetime
from pathlib import Path

import pytest
from lxml import etree

import noarkpack
from noarkpack.noark5.settings import ArkivskaperInfo, ExtractSettings
from noarkpack.noark5.writer import ExtractWriter
from noarkpack.packaging import (
    PackageMetadata,
    PackageMetadataError,
    PackagingError,
    build_package,
    decode_path,
    encode_path,
    metadata_template,
    verify,
)
from noarkpack.packaging import dias as dias_module
from noarkpack.packaging.bagit import PayloadFile, write_bag_tags

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
METS = "{http://arkivverket.no/standarder/METS}"
LOCMETS = "{http://www.loc.gov/METS/}"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"

TINY_JOURNALS = [
    {"journal_id": "J1", "arkivskaper": "omsorg", "journalsted": "Sone nord", "journalansvarlig": "Kari Lie",
     "opprettet": "2014-02-03T09:00:00+01:00", "opprettet_av": "kari", "avsluttet": "2019-06-30T15:00:00+02:00",
     "avsluttet_av": "kari",
     "pasient": {"pasient_id": "P1", "fodselsnummer": "31129956715", "navn": "Åse Bjørnstad",
                 "fodselsdato": "1999-12-31", "dodsdato": "2019-06-01", "kjonn": "K"},
     "innslag": [
         {"innslag_id": "N1", "type": "notat", "tittel": "Tilsyn", "forfatter": "Per Ås",
          "opprettet": "2019-05-01T08:10:00+02:00", "arkivert": "2019-05-01T08:30:00+02:00", "arkivert_av": "per",
          "dokumenter": [{"fil": "n1.txt", "tittel": "Tilsyn"}, {"fil": "Ærøy notat.txt", "tittel": "Notat"}]},
         {"innslag_id": "N2", "type": "notat", "tittel": "Samtale", "forfatter": "Per Ås",
          "opprettet": "2019-05-02T08:10:00+02:00", "arkivert": "2019-05-02T08:30:00+02:00", "arkivert_av": "per",
          "dokumenter": [{"fil": "n2.txt", "tittel": "Samtale"}]},
         {"innslag_id": "B1", "type": "brev", "tittel": "Brev til pasient", "forfatter": "Per Ås",
          "opprettet": "2019-05-03T08:10:00+02:00", "arkivert": "2019-05-03T08:30:00+02:00", "arkivert_av": "per",
          "korrespondanse": {"type": "Utgående dokument", "dato": "2019-05-03",
                             "parter": [{"type": "Mottaker", "navn": "Åse Bjørnstad"}]},
          "dokumenter": [{"fil": "b1.txt", "tittel": "Brev"}]}]},
]


# ------------------------------------------------------------------------------------------
# fixtures


def _tiny_extract(root: Path, store) -> Path:
    from noarkpack.sources.jsonl import read_journals

    docs = root / "docs"
    docs.mkdir()
    (docs / "n1.txt").write_text("Tilsyn kl. 08: pasienten sov godt.\n", encoding="utf-8")
    (docs / "Ærøy notat.txt").write_text("Notat fra Ærøy.\n", encoding="utf-8")
    (docs / "n2.txt").write_text("Samtale med pårørende.\n", encoding="utf-8")
    (docs / "b1.txt").write_text("Brev til pasienten.\n", encoding="utf-8")
    src = root / "journals.jsonl"
    src.write_text("\n".join(json.dumps(j, ensure_ascii=False) for j in TINY_JOURNALS) + "\n", encoding="utf-8")
    settings = ExtractSettings(
        system_id="noarkpack-test", system_name="Omsorg", arkiv_tittel="Pasientarkiv",
        arkiv_opprettet=datetime(2005, 1, 1), arkiv_opprettet_av="arkivar",
        arkiv_avsluttet=datetime(2024, 1, 1), arkiv_avsluttet_av="arkivar", arkivdel_tittel="Journaler",
        periode_start=date(2005, 1, 1), periode_slutt=date(2023, 12, 31),
        arkivdel_opprettet=datetime(2005, 1, 1), arkivdel_opprettet_av="arkivar",
        arkivdel_avsluttet=datetime(2024, 1, 1), arkivdel_avsluttet_av="arkivar",
        arkivskapere=(ArkivskaperInfo("omsorg", "974123456", "Eksempel kommune, omsorg"),), documents_root=docs)
    out = root / "extract"
    with ExtractWriter(out, settings, store=store) as w:
        for j in read_journals(src):
            w.add(j)
    return out / "avleveringspakke"


def _example_extract(root: Path, store) -> Path | None:
    from noarkpack.conversion import ConversionCache

    try:
        project = noarkpack.load_project(REPO / "examples" / "omsorg")
    except Exception:
        return None
    out = root / "omsorg"
    # the example's legacy documents are converted to PDF/A (cache in the test's folder, not the repository)
    with project.numbering() as numbering, \
            ExtractWriter(out, project.settings, store=store, conversion=ConversionCache(root / "konvertert"),
                          numbering=numbering) as w:  # numbers in creation order (docs/mapping.md)
        for j in project.journals():
            w.add(j)
    return out / "avleveringspakke"


@pytest.fixture(scope="module")
def extract(tmp_path_factory, schema_store) -> Path:
    root = tmp_path_factory.mktemp("extract")
    return _example_extract(root, schema_store) or _tiny_extract(root, schema_store)


@pytest.fixture(scope="module")
def metadata() -> PackageMetadata:
    meta = PackageMetadata.from_toml(tomllib.loads(metadata_template()))
    meta.check()
    return meta


class StandInReport:
    """What build_package needs of a validation report (noarkpack.validation.Report has more)."""

    def to_json(self):
        return {"findings": [], "summary": {"errors": 0}}

    def to_html(self):
        return "<!DOCTYPE html><html><body><p>0 errors</p></body></html>\n"


def tiny_bag(tmp: Path, store):
    """A bag (Arkivverket's SIP profile) around a SIP of :func:`_tiny_extract`, built under ``tmp/root/bag``
    with the metadata template's values; the build result (its ``tar`` is the SIP inside the bag)."""
    (tmp / "src").mkdir()
    extract = _tiny_extract(tmp / "src", store)
    meta = PackageMetadata.from_toml(tomllib.loads(metadata_template()))
    return build_package(extract, tmp / "root" / "bag", profile="arkivverket-sip", metadata=meta, store=store,
                         bag=True, validation_report=StandInReport())


@pytest.fixture(scope="module")
def sip(tmp_path_factory, extract, metadata, schema_store):
    out = tmp_path_factory.mktemp("sip")
    return build_package(extract, out, profile="arkivverket-sip", metadata=metadata, store=schema_store,
                         validation_report=StandInReport())


@pytest.fixture(scope="module")
def aip(tmp_path_factory, extract, metadata, schema_store):
    out = tmp_path_factory.mktemp("aip")
    return build_package(extract, out, profile="arkivverket-aip", metadata=metadata, store=schema_store)


@pytest.fixture(scope="module")
def catalog(tmp_path_factory, schema_store) -> Path:
    """An XML catalog: the XLink import → the store's pinned xlink.xsd, xml: → a minimal xml.xsd."""
    d = tmp_path_factory.mktemp("catalog")
    xml_xsd = d / "xml.xsd"
    xml_xsd.write_text(
        '<?xml version="1.0"?>\n<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" '
        'targetNamespace="http://www.w3.org/XML/1998/namespace">\n'
        '  <xs:attribute name="lang" type="xs:string"/>\n  <xs:attribute name="space" type="xs:NCName"/>\n'
        '  <xs:attribute name="base" type="xs:anyURI"/>\n  <xs:attribute name="id" type="xs:ID"/>\n'
        "</xs:schema>\n", encoding="utf-8")
    xlink = schema_store.path("dias", "xlink.xsd").resolve().as_uri()
    cat = d / "catalog.xml"
    cat.write_text(
        '<?xml version="1.0"?>\n<catalog xmlns="urn:oasis:names:tc:entity:xmlns:xml:catalog">\n'
        f'  <system systemId="http://www.loc.gov/standards/xlink/xlink.xsd" uri="{xlink}"/>\n'
        f'  <uri name="http://www.loc.gov/standards/xlink/xlink.xsd" uri="{xlink}"/>\n'
        f'  <system systemId="http://www.w3.org/2007/08/xml.xsd" uri="{xml_xsd.as_uri()}"/>\n'
        f'  <uri name="http://www.w3.org/2007/08/xml.xsd" uri="{xml_xsd.as_uri()}"/>\n'
        "</catalog>\n", encoding="utf-8")
    return cat


def xmllint(catalog: Path, xsd: Path, doc: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, XML_CATALOG_FILES=str(catalog))
    return subprocess.run(["xmllint", "--nonet", "--noout", "--schema", str(xsd), str(doc)],
                          capture_output=True, text=True, env=env)


def members(tar: Path) -> dict[str, bytes]:
    """name (below the package folder) → bytes, for the small test packages."""
    out = {}
    with tarfile.open(tar) as t:
        for m in t.getmembers():
            if m.isfile():
                out[m.name.split("/", 1)[1]] = t.extractfile(m).read()
    return out


def mets_files(data: bytes, ns: str = METS) -> dict[str, etree._Element]:
    root = etree.fromstring(data)
    return {f.find(f"{ns}FLocat").get(XLINK_HREF)[len("file:"):]: f for f in root.iter(f"{ns}file")}


# ------------------------------------------------------------------------------------------
# layout and schema validity


def test_sip_layout_is_arkade_s(sip, extract):
    assert sip.tar.name == f"{sip.uuid}.tar" and sip.description.name == f"{sip.uuid}.xml"
    assert sip.description.parent == sip.tar.parent
    with tarfile.open(sip.tar) as t:
        names = t.getnames()
    assert all(n == sip.uuid or n.startswith(sip.uuid + "/") for n in names)
    m = members(sip.tar)
    for required in ("dias-mets.xml", "dias-mets.xsd", "log.xml", "administrative_metadata/arkivuttrekk.xml",
                     "administrative_metadata/addml.xsd", "administrative_metadata/dias-premis.xml",
                     "administrative_metadata/dias-premis.xsd",
                     "administrative_metadata/repository_operations/validation-report.json",
                     "administrative_metadata/repository_operations/validation-report.html"):
        assert required in m, required
    assert f"{sip.uuid}/descriptive_metadata" in names
    assert not any(n.startswith("descriptive_metadata/") for n in m)  # SIP: empty
    # content/ is the extract byte for byte, and documentfile-formatinfo.csv beside it as in Arkade's SIP
    extract_files = {p.relative_to(extract).as_posix(): p.read_bytes() for p in extract.rglob("*") if p.is_file()}
    content = {k[len("content/"):]: v for k, v in m.items() if k.startswith("content/")}
    assert content.pop("documentfile-formatinfo.csv").startswith(b"Filnavn,Format-ID,")
    assert content == extract_files
    assert m["administrative_metadata/arkivuttrekk.xml"] == extract_files["arkivuttrekk.xml"]


def test_aip_has_descriptive_metadata(aip):
    m = members(aip.tar)
    for name in ("ead.xml", "ead.xsd", "eac-cpf.xml", "eac-cpf.xsd"):
        assert f"descriptive_metadata/{name}" in m
    assert etree.fromstring(m["dias-mets.xml"]).get("TYPE") == "AIP"


@pytest.mark.parametrize("which", ["sip", "aip"])
def test_metadata_documents_are_valid_against_dias_schemas(which, request, tmp_path, catalog, schema_store):
    pkg = request.getfixturevalue(which)
    with tarfile.open(pkg.tar) as t:
        t.extractall(tmp_path, filter="data")
    root = tmp_path / pkg.uuid
    dias = schema_store.set_dir("dias")
    checks = [(dias / "DIAS_METS.xsd", root / "dias-mets.xml"),
              (dias / "DIAS_PREMIS.xsd", root / "administrative_metadata" / "dias-premis.xml"),
              (dias / "DIAS_PREMIS.xsd", root / "log.xml"),
              (dias / "submissionDescription.xsd", pkg.description)]
    if which == "aip":
        checks += [(dias / "ead3.xsd", root / "descriptive_metadata" / "ead.xml"),
                   (dias / "cpf.xsd", root / "descriptive_metadata" / "eac-cpf.xml")]
    for xsd, doc in checks:
        r = xmllint(catalog, xsd, doc)
        assert r.returncode == 0, f"{doc.name} against {xsd.name}:\n{r.stderr}"


def test_dias_mets_never_mixes_file_and_filegrp(sip):
    root = etree.fromstring(members(sip.tar)["dias-mets.xml"])
    for grp in root.iter(f"{METS}fileGrp"):
        kinds = {etree.QName(c).localname for c in grp if isinstance(c.tag, str)}
        assert not {"file", "fileGrp"} <= kinds
    grps = root.findall(f"{METS}fileSec/{METS}fileGrp")
    assert [g.get("USE") for g in grps] == ["FILES", "ArchiveExtraction"]
    assert grps[1].get("VERSDATE")


def test_header_agents_and_alt_record_ids_as_arkade_writes_them(sip, metadata):
    root = etree.fromstring(members(sip.tar)["dias-mets.xml"])
    assert root.get("OBJID") == f"UUID:{sip.uuid}"
    assert root.get("LABEL") == metadata.label
    assert root.get("PROFILE") == "http://xml.ra.se/METS/RA_METS_eARD.xml"
    agents = [(a.get("ROLE"), a.get("OTHERROLE"), a.get("TYPE"), a.get("OTHERTYPE"), a.findtext(f"{METS}name"))
              for a in root.iter(f"{METS}agent")]
    assert ("ARCHIVIST", None, "ORGANIZATION", None, metadata.arkivskapere[0].navn) in agents
    assert ("ARCHIVIST", None, "INDIVIDUAL", None, metadata.arkivskapere[0].kontaktperson) in agents
    assert ("OTHER", "SUBMITTER", "ORGANIZATION", None, metadata.avleverer.navn) in agents
    assert ("OTHER", "PRODUCER", "ORGANIZATION", None, metadata.produsent.navn) in agents
    assert ("IPOWNER", None, "ORGANIZATION", None, metadata.eiere[0].navn) in agents
    assert ("PRESERVATION", None, "ORGANIZATION", None, "Arkivverket") in agents
    assert ("ARCHIVIST", None, "OTHER", "SOFTWARE", metadata.arkivskapende_system.navn) in agents
    assert ("OTHER", "PRODUCER", "OTHER", "SOFTWARE", metadata.uttrekkssystem.navn) in agents
    assert ("CREATOR", None, "OTHER", "SOFTWARE", "noarkpack") in agents
    alt = {a.get("TYPE"): a.text for a in root.iter(f"{METS}altRecordID")}
    assert alt["SUBMISSIONAGREEMENT"] == metadata.avtalenummer
    assert alt["STARTDATE"] == "2005-01-01" and alt["ENDDATE"] == "2023-12-31"
    assert alt["DELIVERYTYPE"] == "Fagsystem" and alt["PROJECTNAME"]
    sd = etree.parse(str(sip.description)).getroot()
    sd_alt = {a.get("TYPE") for a in sd.iter(f"{LOCMETS}altRecordID")}
    assert "PROJECTNAME" not in sd_alt and "SUBMISSIONAGREEMENT" in sd_alt
    assert sd.find(f"{LOCMETS}metsHdr").get("RECORDSTATUS") == "NEW"


# ------------------------------------------------------------------------------------------
# checksums


def test_every_checksum_is_the_file_s_sha256_and_every_content_file_is_listed(sip, extract):
    m = members(sip.tar)
    listed = mets_files(m["dias-mets.xml"])
    assert set(listed) == set(m) - {"dias-mets.xml"}
    for href, f in listed.items():
        assert f.get("CHECKSUMTYPE") == "SHA-256"
        assert f.get("CHECKSUM") == hashlib.sha256(m[href]).hexdigest(), href
        assert int(f.get("SIZE")) == len(m[href]), href
        assert f.get("CREATED")
    content = {p.relative_to(extract).as_posix() for p in extract.rglob("*") if p.is_file()}
    assert {h[len("content/"):] for h in listed if h.startswith("content/")} == content | {"documentfile-formatinfo.csv"}
    # the submission description: the tar and dias-mets.xml
    sd = mets_files(sip.description.read_bytes(), LOCMETS)
    tar_bytes = sip.tar.read_bytes()
    assert sd[f"{sip.uuid}.tar"].get("CHECKSUM") == hashlib.sha256(tar_bytes).hexdigest() == sip.tar_sha256
    assert int(sd[f"{sip.uuid}.tar"].get("SIZE")) == len(tar_bytes)
    assert sd[f"{sip.uuid}/dias-mets.xml"].get("CHECKSUM") == hashlib.sha256(m["dias-mets.xml"]).hexdigest()


def test_recorded_checksums_are_reused_not_recomputed(extract, metadata, schema_store, tmp_path, monkeypatch):
    calls: list[str] = []
    real = dias_module.sha256_file

    def counting(path):
        calls.append(Path(path).relative_to(extract).as_posix())
        return real(path)

    monkeypatch.setattr(dias_module, "sha256_file", counting)
    r = build_package(extract, tmp_path, profile="arkivverket-sip", metadata=metadata, store=schema_store)
    # Documents (arkivstruktur.xml) and XML files (the ADDML) carry their checksums;
    # only the ADDML itself and addml.xsd (which the ADDML does not list) are hashed, once each.
    assert sorted(calls) == sorted(r.hashed)
    assert len(calls) == len(set(calls))
    assert set(calls) <= {"arkivuttrekk.xml", "addml.xsd"}
    docs = [p for p in extract.rglob("*") if p.is_file() and p.parent != extract]
    assert docs and not any(p.relative_to(extract).as_posix() in calls for p in docs)
    assert r.reused_checksums == r.content_files - len(calls)


def test_an_extract_result_spares_reading_the_addml(extract, metadata, schema_store, tmp_path, monkeypatch):
    from noarkpack.noark5.writer import ExtractFile, ExtractResult
    from noarkpack.packaging import inventory

    files = {p.name: ExtractFile(p.name, hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_size)
             for p in extract.iterdir() if p.is_file() and p.name != "arkivuttrekk.xml"}
    monkeypatch.setattr(inventory, "addml_checksums", lambda *a: pytest.fail("the ADDML was read"))
    r = build_package(extract, tmp_path, profile="arkivverket-sip", metadata=metadata, store=schema_store,
                      extract_result=ExtractResult(path=extract, files=files))
    assert r.hashed == ["arkivuttrekk.xml"]


def test_a_document_changed_after_extraction_is_refused(extract, metadata, schema_store, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(extract, copy)
    doc = next(p for p in sorted(copy.rglob("*")) if p.is_file() and p.parent != copy)  # a document
    doc.write_bytes(doc.read_bytes() + b"more")
    with pytest.raises(PackagingError, match="extract again"):
        build_package(copy, tmp_path / "out", profile="arkivverket-sip", metadata=metadata, store=schema_store)


# ------------------------------------------------------------------------------------------
# determinism and atomicity


def test_packaging_twice_gives_the_same_tar(extract, metadata, schema_store, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1709290800")  # the package time fixed on purpose (noarkpack.clock)
    a = build_package(extract, tmp_path / "a", profile="arkivverket-sip", metadata=metadata, store=schema_store)
    b = build_package(extract, tmp_path / "b", profile="arkivverket-sip", metadata=metadata, store=schema_store)
    assert a.uuid == b.uuid
    assert hashlib.sha256(a.tar.read_bytes()).hexdigest() == hashlib.sha256(b.tar.read_bytes()).hexdigest()
    assert a.description.read_bytes() == b.description.read_bytes()
    # a different metadata value gives another package
    other = PackageMetadata(**{**metadata.__dict__, "pakkenummer": "2"})
    c = build_package(extract, tmp_path / "c", profile="arkivverket-sip", metadata=other, store=schema_store)
    assert c.uuid != a.uuid


def test_tar_is_pax_sorted_with_fixed_owner_modes_and_times(sip):
    with open(sip.tar, "rb") as f:
        head = f.read(512)
    assert head[257:263] == b"ustar\x00"  # POSIX
    with tarfile.open(sip.tar) as t:
        ms = t.getmembers()
    names = [m.name for m in ms]
    assert names == sorted(names, key=lambda n: n.split("/"))
    assert {(m.uid, m.gid, m.uname, m.gname) for m in ms} == {(0, 0, "", "")}
    assert {m.mode for m in ms if m.isdir()} == {0o755} and {m.mode for m in ms if m.isfile()} == {0o644}
    assert len({m.mtime for m in ms}) == 1
    assert all(m.isfile() or m.isdir() for m in ms)


def test_given_uuid_is_used(extract, metadata, schema_store, tmp_path):
    u = uuid.UUID("0b7a4b8e-6b1e-4d1a-9f6a-3c2f7a1e9d10")
    r = build_package(extract, tmp_path, profile="arkivverket-sip", metadata=PackageMetadata(**{**metadata.__dict__,
                                                                                                "uuid": u}),
                      store=schema_store)
    assert r.uuid == str(u) and r.tar.name == f"{u}.tar"


def test_an_interrupted_run_leaves_no_final_file_and_a_rerun_succeeds(extract, metadata, schema_store, tmp_path,
                                                                     monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1709290800")  # reruns identical byte for byte (noarkpack.clock)
    out = tmp_path / "out"

    def boom(stage, done, total):
        if stage == "tar" and done > 0:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        build_package(extract, out, profile="arkivverket-sip", metadata=metadata, store=schema_store, progress=boom)
    assert not list(out.glob("*.tar")) and not list(out.glob("*.xml"))
    assert not any(p.name.startswith(".") for p in out.iterdir())  # temporary files removed too
    r = build_package(extract, out, profile="arkivverket-sip", metadata=metadata, store=schema_store)
    assert verify(r.tar, store=schema_store, validate_content=False).ok
    # a third run over the existing package replaces it with identical bytes
    r2 = build_package(extract, out, profile="arkivverket-sip", metadata=metadata, store=schema_store)
    assert r2.tar_sha256 == r.tar_sha256
    assert sorted(p.name for p in out.iterdir()) == sorted([r.tar.name, r.description.name])


def test_interrupted_bag_leaves_nothing_under_the_bag_name(extract, metadata, schema_store, tmp_path):
    bag = tmp_path / "bag"

    def boom(stage, done, total):
        if stage == "tar":
            raise RuntimeError("disk full")

    with pytest.raises(RuntimeError):
        build_package(extract, bag, profile="arkivverket-sip", metadata=metadata, store=schema_store, bag=True,
                      progress=boom)
    assert not bag.exists()
    assert list(tmp_path.iterdir()) == []
    build_package(extract, bag, profile="arkivverket-sip", metadata=metadata, store=schema_store, bag=True)
    assert (bag / "bagit.txt").is_file()


# ------------------------------------------------------------------------------------------
# metadata


def test_metadata_template_is_complete_and_round_trips():
    text = metadata_template()
    meta = PackageMetadata.from_toml(tomllib.loads(text))
    assert meta.problems() == []
    assert meta.arkivskapere[0].kontaktperson == "Kari Nordmann"
    assert meta.periode_start == date(2005, 1, 1)


def test_metadata_check_lists_every_problem():
    with pytest.raises(PackageMetadataError) as e:
        PackageMetadata(pakkestatus="BOGUS").check()
    msg = str(e.value)
    for part in ("arkivskaper", "avleverer", "mottaker", "arkivskapende_system", "avtalenummer", "periode_start",
                 "pakkestatus"):
        assert part in msg


def test_metadata_from_toml_rejects_typos_and_takes_project_defaults():
    with pytest.raises(PackageMetadataError, match="unknown key 'avtalenumer'"):
        PackageMetadata.from_toml({"package": {"avtalenumer": "x"}})
    with pytest.raises(PackageMetadataError, match="kontakt"):
        PackageMetadata.from_toml({"package": {"avleverer": {"navn": "A", "kontakt": "B"}}})
    cfg = {"system": {"name": "Omsorg", "version": "7"}, "arkivdel": {"periode_start": date(2001, 1, 1),
                                                                         "periode_slutt": date(2010, 12, 31)},
           "arkivskaper": [{"key": "k", "id": "1", "navn": "Kommunen"}],
           "package": {"avtalenummer": "A1", "mottaker": "Arkivverket", "avleverer": {"navn": "Kommunen"}}}
    meta = PackageMetadata.from_toml(cfg)
    meta.check()
    assert meta.arkivskapende_system.navn == "Omsorg" and meta.arkivskapere[0].navn == "Kommunen"
    assert meta.effective_label == "Omsorg (2001 - 2010)"


def test_unknown_profile_and_missing_metadata_fail_before_any_work(extract, schema_store, tmp_path):
    with pytest.raises(PackagingError, match="unknown profile"):
        build_package(extract, tmp_path, profile="eark", metadata=PackageMetadata(), store=schema_store)
    with pytest.raises(PackageMetadataError):
        build_package(extract, tmp_path, profile="arkivverket-sip", metadata=PackageMetadata(), store=schema_store)
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------------------------------
# BagIt


def test_bag_is_valid_for_bagit_python_and_reuses_the_tar_checksum(extract, metadata, schema_store, tmp_path):
    import bagit

    bag_dir = tmp_path / "bag"
    r = build_package(extract, bag_dir, profile="arkivverket-sip", metadata=metadata, store=schema_store, bag=True,
                      bag_algorithms=("sha256", "sha512"))
    assert r.bag == bag_dir and r.tar.parent == bag_dir / "data"
    bag = bagit.Bag(str(bag_dir))
    bag.validate()  # raises on any problem
    assert (bag_dir / "bagit.txt").read_text() == "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
    info = bag.info
    assert info["External-Identifier"] == r.uuid
    assert info["Source-Organization"] == metadata.avleverer.navn
    size = r.tar_size + r.description.stat().st_size
    assert info["Payload-Oxum"] == f"{size}.2"
    assert info["Bagging-Date"] and info["Bag-Size"]
    manifest = (bag_dir / "manifest-sha256.txt").read_text()
    assert f"{r.tar_sha256}  data/{r.uuid}.tar" in manifest
    assert f"{r.tar_sha512}  data/{r.uuid}.tar" in (bag_dir / "manifest-sha512.txt").read_text()
    assert {p.name for p in bag_dir.iterdir()} >= {"tagmanifest-sha256.txt", "tagmanifest-sha512.txt"}
    report = verify(bag_dir, store=schema_store)
    assert report.ok, [str(f) for f in report.errors]
    assert report.kind == "bag+dias-package"


def test_bag_needs_an_empty_target(extract, metadata, schema_store, tmp_path):
    (tmp_path / "x").write_text("x")
    with pytest.raises(PackagingError, match="new or empty"):
        build_package(extract, tmp_path, profile="arkivverket-sip", metadata=metadata, store=schema_store, bag=True)


def test_percent_encoding_of_manifest_paths(tmp_path):
    assert encode_path("data/a%b\r\nc") == "data/a%25b%0D%0Ac"
    assert decode_path("data/a%25b%0d%0Ac") == "data/a%b\r\nc"
    assert decode_path("data/a%25b", (0, 97)) == "data/a%25b"  # older bags: literal
    bag = tmp_path / "bag"
    (bag / "data").mkdir(parents=True)
    names = ["data/100% sure.txt", "data/line\nbreak.txt", "data/Ærøy.txt"]
    payload = []
    for n in names:
        data = n.encode()
        (bag / n).write_bytes(data)
        payload.append(PayloadFile(n, len(data), {"sha256": hashlib.sha256(data).hexdigest()}))
    write_bag_tags(bag, payload, bag_info=[("Payload-Oxum", f"{sum(p.size for p in payload)}.3")])
    manifest = (bag / "manifest-sha256.txt").read_text()
    assert "data/100%25 sure.txt" in manifest and "data/line%0Abreak.txt" in manifest and "Ærøy" in manifest
    report = verify(bag)
    assert report.ok, [str(f) for f in report.findings]


def test_package_times_are_true_extract_time_and_package_time(extract, metadata, schema_store, tmp_path,
                                                               monkeypatch):
    """Issue 17, point 13: the package says when it was made (now, or SOURCE_DATE_EPOCH on purpose); the extract's
    files keep the extract's own time (the newest file, or [package] uttrekksdato)."""
    from datetime import datetime, timezone

    from lxml import etree

    fixed = PackageMetadata(**{**metadata.__dict__, "uttrekksdato": datetime(2024, 3, 1, 11, 0, tzinfo=timezone.utc)})
    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    before = int(datetime.now(timezone.utc).timestamp())
    r = build_package(extract, tmp_path / "now", profile="arkivverket-sip", metadata=fixed, store=schema_store)
    after = int(datetime.now(timezone.utc).timestamp())
    with tarfile.open(r.tar) as t:
        mtimes = {m.mtime for m in t.getmembers()}
        mets = etree.fromstring(t.extractfile(f"{r.uuid}/dias-mets.xml").read())
        premis = t.extractfile(f"{r.uuid}/log.xml").read()
    assert len(mtimes) == 1 and before <= mtimes.pop() <= after
    hdr = mets.find("{http://arkivverket.no/standarder/METS}metsHdr")
    made = datetime.fromisoformat(hdr.get("CREATEDATE"))
    assert before <= made.timestamp() <= after
    created = {f.get("CREATED") for f in mets.iter("{http://arkivverket.no/standarder/METS}file")}
    assert "2024-03-01T11:00:00+00:00" in {datetime.fromisoformat(c).astimezone(timezone.utc).isoformat()
                                           for c in created}
    assert hdr.get("CREATEDATE").encode() in premis  # the packaging event is dated when it happened

    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1709290800")  # 2024-03-01T11:00:00Z
    a = build_package(extract, tmp_path / "a", profile="arkivverket-sip", metadata=fixed, store=schema_store)
    b = build_package(extract, tmp_path / "b", profile="arkivverket-sip", metadata=fixed, store=schema_store)
    assert a.tar_sha256 == b.tar_sha256 and a.uuid == b.uuid == r.uuid
    with tarfile.open(a.tar) as t:
        assert {m.mtime for m in t.getmembers()} == {1709290800}
