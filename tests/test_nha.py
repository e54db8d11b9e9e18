"""NHA (EPJARK) deposit: build examples/sykehus, check it with independent tools, verify, tamper, reject.

Acceptance (issue 6): every XML valid against ../shared/reference/nha with xmllint; checksums equal
`sha256sum`; package count equals tar count; each epj tar has pasientinfo, journal and at least one
dokument; verify accepts the deposit and rejects it after one byte of a tar changes; a living
patient's journal never reaches the deposit.
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
import shutil
import subprocess
import tarfile
from datetime import date, datetime
from pathlib import Path

import pytest
from lxml import etree

from noarkpack.errors import ConfigError, DocumentError
from noarkpack.model.epj import Dokumentfil, Journalinnslag, Pasient, Pasientjournal
from noarkpack.model.selection import SelectionRules
from noarkpack.nha import NhaError, NhaMetadata, build_deposit, is_nha_deposit, run_nha_package, verify_deposit

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "sykehus"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
NS_AVL = "{http://www.arkivverket.no/standarder/nha/avlxml}"
NS_PL = "{http://schema.arkivverket.no/epjark/epjpakkeliste}"
LIVING = {"SFJ-1006", "SFJ-1015"}  # living patients (no death date, young, recent contact)
NOT_DEPOSITED = LIVING | {"SFJ-1007", "SFJ-1011"}  # died 2021 (too recent); open journal


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("nha")
    result = run_nha_package(EXAMPLE, out)
    return result


@pytest.fixture(scope="module")
def unpacked(built, tmp_path_factory) -> Path:
    """All tars unpacked side by side (for xmllint), read by tarfile from our own, verified output."""
    dest = tmp_path_factory.mktemp("unpacked")
    for p in built.packages:
        with tarfile.open(built.path / p.file) as t:
            t.extractall(dest, filter="data")
    return dest


def _source_identities() -> tuple[set[str], set[str]]:
    numbers, names = set(), set()
    for line in (EXAMPLE / "journals.jsonl").read_text(encoding="utf-8").splitlines():
        p = json.loads(line)["pasient"]
        names.add(p["navn"])
        names.update(p["navn"].split())
        if p.get("fodselsnummer"):
            numbers.add(p["fodselsnummer"])
    return numbers, names


def _xmllint(schema: Path, files: list[Path]) -> None:
    assert files
    r = subprocess.run(["xmllint", "--noout", "--nonet", "--schema", str(schema), *map(str, files)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr[-3000:]


# ------------------------------------------------------------------------------------------ acceptance


def test_layout_and_summary(built) -> None:
    d = built.path
    assert d.name == "epjark-2.16.578.1.39.100.11.9999.1"
    assert is_nha_deposit(d)
    names = sorted(p.name for p in d.iterdir())
    assert "epjpakkeliste.xml" in names and "avlxml.xml" in names
    assert not [p for p in d.parent.iterdir() if p.name.startswith(".")], "temporary folder left behind"
    s = built.summary()
    assert s["journals"] == 12 and s["excluded"] == 4
    # one epj package per patient (SFJ-1013 and SFJ-1014 are one patient's) with its document files; one dok
    # package: the deposit's documentation (NHA's example package list: one dok beside the epj packages)
    assert s["epj_packages"] == 11 and s["dok_packages"] == 1
    assert s["documents"] == 25


def test_every_xml_valid_with_xmllint(built, unpacked, shared_dir: Path) -> None:
    ref = shared_dir / "reference" / "nha"
    _xmllint(ref / "avlxml" / "v3" / "avlxml.xsd", [built.avlxml])
    _xmllint(ref / "epjark" / "epjpakkeliste.xsd", [built.pakkeliste])
    epj = [unpacked / p.uuid for p in built.epj_packages]
    _xmllint(ref / "epj-1.80" / "pasientinfo.xsd", [f for e in epj for f in e.glob("*.xml")])
    _xmllint(ref / "epj-1.80" / "epj_sak.xsd", [f for e in epj for f in (e / "journal").glob("*.xml")])
    _xmllint(ref / "epj-1.80" / "epj_dokument.xsd", [f for e in epj for f in (e / "dokumenter").glob("*.xml")])


def test_checksums_equal_sha256sum(built) -> None:
    tars = sorted(built.path.glob("*.tar"))
    r = subprocess.run(["sha256sum", *[t.name for t in tars]], cwd=built.path, capture_output=True, text=True,
                       check=True)
    actual = {line.split()[1].lstrip("*"): line.split()[0] for line in r.stdout.splitlines()}
    listed = {}
    for pk in etree.parse(str(built.pakkeliste)).getroot().iter(f"{NS_PL}pakke"):
        listed[pk.findtext(f"{NS_PL}filReferanse")] = pk.findtext(f"{NS_PL}sjekksum")
    assert listed == actual
    assert all(re.fullmatch(r"[0-9a-f]{64}", v) for v in listed.values())


def test_package_count_equals_tar_count(built) -> None:
    root = etree.parse(str(built.pakkeliste)).getroot()
    pakker = list(root.iter(f"{NS_PL}pakke"))
    tars = list(built.path.glob("*.tar"))
    assert len(pakker) == len(tars) == len(built.packages)
    for pk in pakker:
        assert re.fullmatch(UUID + r"\.tar", pk.findtext(f"{NS_PL}filReferanse"))
        assert pk.findtext(f"{NS_PL}pakketype") in ("epj", "dok")


def test_each_epj_tar_has_pasientinfo_journal_and_dokument(built) -> None:
    for p in built.epj_packages:
        with tarfile.open(built.path / p.file, mode="r|") as t:
            members = [(m.name, m.type, m.uid, m.gid, m.mode, m.mtime) for m in t]
        names = [m[0] for m in members]
        u = re.escape(p.uuid)
        assert sum(bool(re.fullmatch(u + "/" + UUID + r"\.xml", n)) for n in names) == 1
        assert sum(bool(re.fullmatch(u + "/journal/" + UUID + r"\.xml", n)) for n in names) == 1
        assert sum(bool(re.fullmatch(u + "/dokumenter/" + UUID + r"\.xml", n)) for n in names) >= 1
        assert names == sorted(names)
        for name, typ, uid, gid, mode, mtime in members:
            assert name == p.uuid or name.startswith(p.uuid + "/")
            assert typ in (tarfile.REGTYPE, tarfile.DIRTYPE)
            assert (uid, gid) == (0, 0) and mode in (0o644, 0o755)
            assert mtime == members[0][5]


def test_verify_accepts_the_deposit(built) -> None:
    findings = verify_deposit(built.path, today=date(2025, 6, 30))
    errors = [f for f in findings if f.severity == "error"]
    assert errors == []
    # the one deliberately wrong fødselsnummer (SFJ-1009) is a warning, not an error
    assert {f.test for f in findings if f.severity == "warning"} == {"NHA.13"}


def test_verify_rejects_one_changed_byte(built, tmp_path) -> None:
    copy = tmp_path / built.path.name
    shutil.copytree(built.path, copy)
    dok = copy / built.dok_packages[0].file
    data = bytearray(dok.read_bytes())
    pos = 512 * 3 + 100  # inside the first document file's content, not a header
    data[pos] ^= 0x01
    dok.write_bytes(bytes(data))
    findings = verify_deposit(copy, today=date(2025, 6, 30))
    errors = [f for f in findings if f.severity == "error"]
    assert [f.test for f in errors] == ["NHA.05"]
    assert errors[0].location["file"] == dok.name


def test_verify_rejects_a_changed_header_byte(built, tmp_path) -> None:
    copy = tmp_path / built.path.name
    shutil.copytree(built.path, copy)
    epj = copy / built.epj_packages[0].file
    data = bytearray(epj.read_bytes())
    data[512 + 10] ^= 0x20  # the name of the second member
    epj.write_bytes(bytes(data))
    tests = {f.test for f in verify_deposit(copy, today=date(2025, 6, 30)) if f.severity == "error"}
    assert "NHA.05" in tests


def test_living_patients_never_reach_the_deposit(built, unpacked) -> None:
    excluded = {e.journal_id: e.reason for e in built.excluded}
    assert set(excluded) == NOT_DEPOSITED
    for jid in LIVING:
        assert excluded[jid] == "pasienten er ikke død etter NHAs regel"
    assert "10 år" in excluded["SFJ-1007"]
    listed = {el.text for el in etree.parse(str(built.avlxml)).getroot().iter(f"{NS_AVL}journalidentifikator")}
    assert listed == set(built.included)
    assert not listed & NOT_DEPOSITED
    ns = "{http://eisi.helsedir.no/anno2014/nha-epj-1.80/epj_sak}"
    saker = {el.text for f in unpacked.glob("*/journal/*.xml")
             for el in etree.parse(str(f)).getroot().iterfind(f"{ns}Arkivert_EPJ_sak/"
                                                              "{*}komponent_ID")}
    assert saker == set(built.included)  # each deposited journal is one EPJ sak
    # and nothing of theirs sits in any tar: no document file of a living patient
    living_names = {"Henrik Vassbotn", "Leif Sandnes", "Ragnhild Eide", "Solveig Rønning"}
    for f in unpacked.glob("*/*.xml"):
        assert not any(n in f.read_text(encoding="utf-8") for n in living_names)


def test_living_patient_unit(tmp_path, tiny_docs) -> None:
    """Library level: a living patient's closed journal beside a deceased one; only the deceased goes in."""
    dead = _journal("D-1", died=date(2001, 1, 1))
    alive = _journal("A-1", died=None, born=date(1980, 1, 1))
    result = build_deposit([alive, dead], tmp_path, metadata=_metadata(), documents_root=tiny_docs,
                           rules=SelectionRules(profile="nha", today=date(2025, 1, 1)))
    assert result.included == ["D-1"]
    assert [e.journal_id for e in result.excluded] == ["A-1"]
    assert b"A-1" not in result.avlxml.read_bytes()
    assert not [f for f in verify_deposit(result.path, today=date(2025, 1, 1)) if f.severity == "error"]


# ------------------------------------------------------------------------------------------ content


def _avl_journals(built) -> dict[str, etree._Element]:
    root = etree.parse(str(built.avlxml)).getroot()
    return {pj.findtext(f"{NS_AVL}journalidentifikator"): pj for pj in root.iter(f"{NS_AVL}pasientjournal")}


def _pasientinfo(built, unpacked, jid: str) -> etree._Element:
    p = next(p for p in built.epj_packages if p.journal_id == jid)
    (f,) = list((unpacked / p.uuid).glob("*.xml"))
    return etree.parse(str(f)).getroot()


def test_avlxml_content(built) -> None:
    js = _avl_journals(built)
    root = etree.parse(str(built.avlxml)).getroot()
    assert root.findtext(f"{NS_AVL}avleveringsidentifikator") == "2.16.578.1.39.100.11.9999.1"
    assert root.findtext(f"{NS_AVL}avtale/{NS_AVL}avtaleidentifikator") == "2.16.578.1.39.100.11.9999"
    assert root.findtext(f"{NS_AVL}avtale/{NS_AVL}virksomhet/{NS_AVL}organisasjonsnummer") == "999999999"
    j1 = js["SFJ-1001"]
    assert j1.findtext(f"{NS_AVL}kjonn") == "K" and j1.findtext(f"{NS_AVL}morsdato") == "2009-11-02"
    assert j1.findtext(f"{NS_AVL}forstekontakt") == "2006-02-01"
    assert j1.findtext(f"{NS_AVL}sistekontakt") == "2006-02-10"
    assert j1.findtext(f"{NS_AVL}diagnose/{NS_AVL}diagnosekodeverk") == "2.16.578.1.12.4.1.1.7110"
    # dødsdato ukjent -> sikkermors
    assert js["SFJ-1005"].findtext(f"{NS_AVL}sikkermors") == "true"
    assert js["SFJ-1005"].find(f"{NS_AVL}morsdato") is None
    # ICD-9 and an unknown code system
    assert js["SFJ-1008"].findtext(f"{NS_AVL}diagnose/{NS_AVL}diagnosekodeverk") == "2.16.578.1.12.4.1.1.7120"
    # ICD-10 in the form of NHA's 7110 table (NHAREG ICD10norNew.sql): without the dot
    assert j1.findtext(f"{NS_AVL}diagnose/{NS_AVL}diagnosekode") == "I219"
    assert js["SFJ-1008"].findtext(f"{NS_AVL}diagnose/{NS_AVL}diagnosekode") == "410.9"  # 7120 keeps its dot
    # a diagnosis the source holds as text only: diagnosetekst, never diagnosekode (nor a code system)
    d4 = js["SFJ-1004"].find(f"{NS_AVL}diagnose")
    assert d4.find(f"{NS_AVL}diagnosekode") is None and d4.find(f"{NS_AVL}diagnosekodeverk") is None
    assert d4.findtext(f"{NS_AVL}diagnosetekst") == "Hjertesvikt (fritekst fra papirjournal)"
    assert all(re.fullmatch(r"[A-Z][0-9]{2}[0-9A-Z]{0,2}|[0-9]{3}\.[0-9]", e.text)
               for e in root.iter(f"{NS_AVL}diagnosekode"))
    # the rule that stood in for the ten years after death, where the death date is unknown
    assert "kode 2" in js["SFJ-1004"].findtext(f"{NS_AVL}merknad")
    assert "kode 4" in js["SFJ-1005"].findtext(f"{NS_AVL}merknad")
    assert js["SFJ-1001"].find(f"{NS_AVL}merknad") is None  # morsdato shows it
    # an invalid number: deposited as recorded, explained in merknad
    assert "kontrollsifrene" in js["SFJ-1009"].findtext(f"{NS_AVL}merknad")
    # no fødselsnummer: the internal patient number; born > 110 years ago, no death date
    assert js["SFJ-1004"].findtext(f"{NS_AVL}fodselsnummer") == "P-504"
    # lagringsenhet names the journal's packages
    files = {p.file for p in built.packages if p.journal_id == "SFJ-1001"}
    assert {e.text for e in j1.iter(f"{NS_AVL}lagringsenhet")} == files


def test_hidden_flags_and_identifier_kinds_carried(built, unpacked) -> None:
    ns = "{http://eisi.helsedir.no/anno2014/nha-epj-1.80/pasientinfo}"

    def info(jid):
        el = _pasientinfo(built, unpacked, jid).find(f"{ns}Arkivert_pasientinfo")
        return {c.tag.split("}")[1]: c.text for c in el if c.text and c.text.strip()}

    assert info("SFJ-1002")["hemmelig_adresse"] == "true"
    assert info("SFJ-1016")["hemmelig_adresse"] == "true"
    assert info("SFJ-1008")["hemmelig_navn"] == "true"
    assert info("SFJ-1001")["hemmelig_adresse"] == "false"  # the source recorded "no"
    # the source recorded nothing (a 1958 paper journal): no flag, never "false"
    assert "hemmelig_adresse" not in info("SFJ-1004") and "hemmelig_navn" not in info("SFJ-1004")
    # del 5 pasient_ID_type codes (Avleveringsdokumentasjon.xsd): FNR, DNR, FHN, HNR, DUF
    assert info("SFJ-1003")["pasient_ID_type"] == "DNR"
    assert info("SFJ-1005")["pasient_ID_type"] == "HNR"
    assert info("SFJ-1001")["pasient_ID_type"] == "FNR"
    assert info("SFJ-1009")["pasient_ID_type"] == "FNR"  # invalid number: kept as recorded, typed by its form
    assert info("SFJ-1004")["pasient_ID_type"] == "HNR"  # the hospital's own patient number
    assert built.identifiers["D-nummer/1964"] == 1 and built.identifiers["H-nummer/1964"] == 1
    assert built.identifiers["ugyldig"] == 1


def test_documents_referenced_through_eldok(built, unpacked) -> None:
    ns_bb = "{http://eisi.helsedir.no/anno2014/nha-epj-1.80/element/basisbruk}"
    n = 0
    for p in built.epj_packages:
        for f in (unpacked / p.uuid / "dokumenter").glob("*.xml"):
            for uri in etree.parse(str(f)).getroot().iter(f"{ns_bb}dokumentinnhold"):
                target = (f.parent / uri.text).resolve()
                assert target.is_file() and target.read_bytes().startswith(b"%PDF-")
                assert target.parent == f.parent.resolve()  # in the journal's own package: no cross-tar link
                n += 1
            fmts = {e.text for e in etree.parse(str(f)).getroot().iter(f"{ns_bb}format_dokumentinnhold")}
            assert fmts <= {"fmt/477"}
    assert n == built.documents


def test_no_identifying_data_in_messages(built, tmp_path) -> None:
    numbers, names = _source_identities()
    copy = tmp_path / built.path.name
    shutil.copytree(built.path, copy)
    avl = next(copy.glob("avlxml*.xml"))
    avl.write_text(avl.read_text(encoding="utf-8").replace("<morsdato>2009-11-02</morsdato>", ""),
                   encoding="utf-8")
    findings = verify_deposit(copy, today=date(2025, 6, 30))
    assert "NHA.12" in {f.test for f in findings if f.severity == "error"}
    texts = [f.message for f in findings] + [f.message for f in built.warnings] + \
            [e.reason for e in built.excluded]
    for t in texts:
        assert not any(n in t for n in numbers), t
        assert not any(len(n) > 3 and n in t for n in names), t


def test_deterministic(tmp_path, monkeypatch) -> None:
    # byte for byte when the time is fixed on purpose (SOURCE_DATE_EPOCH; issue 17 point 13: the real time otherwise)
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1751241600")  # 2025-06-30T00:00:00Z
    first = run_nha_package(EXAMPLE, tmp_path / "a")
    again = run_nha_package(EXAMPLE, tmp_path / "b")
    assert [(p.file, p.sha256) for p in again.packages] == [(p.file, p.sha256) for p in first.packages]
    assert again.avlxml.read_bytes() == first.avlxml.read_bytes()
    assert again.pakkeliste.read_bytes() == first.pakkeliste.read_bytes()
    assert b"<pakketDato>2025-06-30</pakketDato>" in first.pakkeliste.read_bytes()


def test_package_dates_are_the_real_date_unless_fixed(tmp_path, monkeypatch) -> None:
    """pakketDato, generertdato and the tars' member times say when the deposit was made (issue 17, point 13)."""
    import tarfile
    from datetime import datetime, timezone

    monkeypatch.delenv("SOURCE_DATE_EPOCH", raising=False)
    before = int(datetime.now(timezone.utc).timestamp())
    result = run_nha_package(EXAMPLE, tmp_path / "now")
    after = int(datetime.now(timezone.utc).timestamp())
    today = datetime.now(timezone.utc).date().isoformat()
    assert f"<pakketDato>{today}</pakketDato>".encode() in result.pakkeliste.read_bytes()
    assert re.search(rb"generertdato[^>]*>([^<]+)<", result.avlxml.read_bytes()).group(1) == today.encode()
    with tarfile.open(result.path / result.packages[0].file) as tar:
        assert all(before <= m.mtime <= after for m in tar.getmembers())
    # a broken SOURCE_DATE_EPOCH stops the build before anything is written
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(ConfigError, match="SOURCE_DATE_EPOCH"):
        run_nha_package(EXAMPLE, tmp_path / "bad")
    assert not (tmp_path / "bad").exists() or not any((tmp_path / "bad").iterdir())


def test_refuses_to_overwrite(built) -> None:
    with pytest.raises(NhaError):
        run_nha_package(EXAMPLE, built.path.parent)


def test_avlxml_v4_draft(tmp_path, shared_dir: Path) -> None:
    result = run_nha_package(EXAMPLE, tmp_path, avlxml_version="4")
    _xmllint(shared_dir / "reference" / "nha" / "avlxml" / "v4-draft" / "avlxml.xsd", [result.avlxml])
    root = etree.parse(str(result.avlxml)).getroot()
    assert root.findtext(f"{NS_AVL}avlxmlversjon") == "4.0"
    assert root.findtext(f"{NS_AVL}avtale/{NS_AVL}virksomhet/{NS_AVL}spesialisthelsetjeneste") == "true"
    # v4 requires diagnosedato: the undated diagnoses are left out, each with a warning
    assert {w.location["journal"] for w in result.warnings if w.test == "NHA.15"} == {"SFJ-1004", "SFJ-1010"}
    assert not [f for f in verify_deposit(result.path, today=date(2025, 6, 30)) if f.severity == "error"]


# ------------------------------------------------------------------------------------------ verify: tampering


def _copy(built, tmp_path) -> Path:
    copy = tmp_path / built.path.name
    shutil.copytree(built.path, copy)
    return copy


def test_verify_count_mismatch(built, tmp_path) -> None:
    copy = _copy(built, tmp_path)
    (copy / built.dok_packages[0].file).unlink()
    tests = {f.test for f in verify_deposit(copy, today=date(2025, 6, 30)) if f.severity == "error"}
    assert tests == {"NHA.04"}  # the document files are in the epj packages: their references still resolve


def test_verify_names_the_avlxml_line_of_an_unlisted_lagringsenhet(built, tmp_path) -> None:
    """NHA.11 on a journal's lagringsenhet points at the AVLXML list's file and line (the workbench links it)."""
    copy = _copy(built, tmp_path)
    avl = next(copy.glob("avlxml*.xml"))
    listed = built.epj_packages[0].file
    data = avl.read_bytes()
    assert listed.encode() in data
    other = "00000000-0000-4000-8000-000000000000.tar"  # a well-formed package name that is not in the list
    avl.write_bytes(data.replace(listed.encode(), other.encode(), 1))
    hits = [f for f in verify_deposit(copy, today=date(2025, 6, 30))
            if f.test == "NHA.11" and f.severity == "error" and "journal" in f.location]
    assert len(hits) == 1
    line = data[:data.index(listed.encode())].count(b"\n") + 1
    assert hits[0].location["file"] == avl.name and 0 < hits[0].location["line"] <= line


def _evil_tar(path: Path, top: str, kind: str) -> None:
    with tarfile.open(path, "w", format=tarfile.PAX_FORMAT) as t:
        d = tarfile.TarInfo(top)
        d.type = tarfile.DIRTYPE
        t.addfile(d)
        ti = tarfile.TarInfo(f"{top}/../../etc/evil" if kind == "dotdot" else f"{top}/link")
        if kind == "dotdot":
            ti.size = 4
            t.addfile(ti, io.BytesIO(b"evil"))
        elif kind == "symlink":
            ti.type, ti.linkname = tarfile.SYMTYPE, "/etc/passwd"
            t.addfile(ti)
        elif kind == "hardlink":
            ti.type, ti.linkname = tarfile.LNKTYPE, f"{top}"
            t.addfile(ti)
        elif kind == "absolute":
            ti = tarfile.TarInfo("/tmp/evil")
            ti.size = 4
            t.addfile(ti, io.BytesIO(b"evil"))
        elif kind == "device":
            ti.type = tarfile.CHRTYPE
            t.addfile(ti)
        elif kind == "duplicate":
            for _ in range(2):
                x = tarfile.TarInfo(f"{top}/same.pdf")
                x.size = 1
                t.addfile(x, io.BytesIO(b"x"))


@pytest.mark.parametrize("kind", ["dotdot", "symlink", "hardlink", "absolute", "device", "duplicate"])
def test_verify_unsafe_members(built, tmp_path, kind: str) -> None:
    copy = _copy(built, tmp_path)
    target = copy / built.dok_packages[0].file
    _evil_tar(target, built.dok_packages[0].uuid, kind)
    findings = verify_deposit(copy, today=date(2025, 6, 30))
    assert "NHA.06" in {f.test for f in findings if f.severity == "error"}
    assert not (tmp_path / "etc").exists()


def test_verify_bad_epj_layout_and_invalid_xml(built, tmp_path) -> None:
    copy = _copy(built, tmp_path)
    p = built.epj_packages[0]
    src = copy / p.file
    with tarfile.open(src) as t:
        members = [(m, t.extractfile(m).read() if m.isfile() else None) for m in t.getmembers()]
    with tarfile.open(src, "w", format=tarfile.PAX_FORMAT) as t:
        for m, data in members:
            if "/journal/" in m.name:
                continue  # drop the EPJ sak
            if data is not None and m.name.count("/") == 1:
                data = data.replace(b"<pasient_ID_type>", b"<pasient_ID_typ>").replace(
                    b"</pasient_ID_type>", b"</pasient_ID_typ>")
                m.size = len(data)
            t.addfile(m, io.BytesIO(data) if data is not None else None)
    findings = verify_deposit(copy, today=date(2025, 6, 30))
    errors = {(f.test, f.location.get("file")) for f in findings if f.severity == "error"}
    assert ("NHA.07", p.file) in errors and ("NHA.08", p.file) in errors and ("NHA.05", p.file) in errors


def test_verify_schema_invalid_lists(built, tmp_path) -> None:
    copy = _copy(built, tmp_path)
    pl = copy / "epjpakkeliste.xml"
    pl.write_text(pl.read_text(encoding="utf-8").replace("<pakketype>epj</pakketype>", "<pakketype>xyz</pakketype>", 1),
                  encoding="utf-8")
    avl = next(copy.glob("avlxml*.xml"))
    avl.write_text(avl.read_text(encoding="utf-8").replace("<kjonn>K</kjonn>", "<kjonn>F</kjonn>", 1),
                   encoding="utf-8")
    tests = {f.test for f in verify_deposit(copy, today=date(2025, 6, 30)) if f.severity == "error"}
    assert {"NHA.02", "NHA.03"} <= tests


def test_verify_entities_are_not_resolved(built, tmp_path) -> None:
    copy = _copy(built, tmp_path)
    pl = copy / "epjpakkeliste.xml"
    text = pl.read_text(encoding="utf-8")
    text = text.replace("<?xml version='1.0' encoding='UTF-8'?>",
                        "<?xml version='1.0' encoding='UTF-8'?>\n"
                        "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>")
    text = text.replace("<ansvarligPerson>Arkivar Tone Fjellstad", "<ansvarligPerson>&e;", 1)
    pl.write_text(text, encoding="utf-8")
    findings = verify_deposit(copy, today=date(2025, 6, 30))
    assert not any("root:" in f.message for f in findings)


def test_verify_not_a_folder(tmp_path) -> None:
    findings = verify_deposit(tmp_path / "missing")
    assert [f.test for f in findings] == ["NHA.01"]


# ------------------------------------------------------------------------------------------ config & errors


def _metadata(**changes) -> NhaMetadata:
    md = NhaMetadata.from_toml({
        "avleveringsidentifikator": "2.16.578.1.39.100.11.1.2", "avleveringsbeskrivelse": "Test",
        "arkivskaper": "Testsykehuset HF", "system_id": "test",
        "avtale": {"identifikator": "2.16.578.1.39.100.11.1", "dato": date(2024, 1, 1), "beskrivelse": "Avtale"},
        "avleverer": {"navn": "Testsykehuset HF", "organisasjonsnummer": "999999999"},
        "pakkeliste": {"ansvarlig_person": "A", "kontaktinformasjon": "a@b.example",
                       "lagringsenhet_beskrivelse": "sftp", "klar_for_overforing": date(2025, 1, 1)},
    })
    return dataclasses.replace(md, **changes)


@pytest.fixture
def tiny_docs(tmp_path) -> Path:
    src = next((EXAMPLE / "dokumenter").rglob("*.pdf"))
    d = tmp_path / "docs"
    d.mkdir()
    shutil.copy(src, d / "a.pdf")
    return d


def _journal(jid: str, *, died: date | None, born: date = date(1920, 1, 1), fil: str = "a.pdf") -> Pasientjournal:
    return Pasientjournal(
        journal_id=jid, arkivskaper="x", journalsted="Medisinsk avdeling", journalansvarlig="Lege",
        opprettet=datetime(2000, 1, 1, 9), opprettet_av="u", avsluttet=datetime(2000, 2, 1, 9), avsluttet_av="u",
        pasient=Pasient(pasient_id=f"P-{jid}", navn="Testa Testesen", kjonn="U", fodselsdato=born, dodsdato=died),
        innslag=[Journalinnslag(innslag_id="I-1", type="epikrise", tittel="Epikrise", forfatter="Lege",
                                opprettet=datetime(2000, 1, 10, 9), arkivert=datetime(2000, 1, 10, 10),
                                arkivert_av="u", dokumenter=[Dokumentfil(fil=fil, tittel="Epikrise")])])


@pytest.mark.parametrize(("table", "key"), [
    ("", "avleveringsidentifikator"), ("avtale", "identifikator"), ("avleverer", "organisasjonsnummer"),
    ("pakkeliste", "klar_for_overforing"),
])
def test_metadata_required_keys(table: str, key: str) -> None:
    cfg = {
        "avleveringsidentifikator": "2.16.578.1.39.100.11.1.2", "avleveringsbeskrivelse": "Test",
        "arkivskaper": "T", "system_id": "t",
        "avtale": {"identifikator": "2.16.578.1.39.100.11.1", "dato": date(2024, 1, 1), "beskrivelse": "A"},
        "avleverer": {"navn": "T", "organisasjonsnummer": "999999999"},
        "pakkeliste": {"ansvarlig_person": "A", "kontaktinformasjon": "a", "lagringsenhet_beskrivelse": "s",
                       "klar_for_overforing": date(2025, 1, 1)},
    }
    (cfg[table] if table else cfg).pop(key)
    with pytest.raises(ConfigError) as e:
        NhaMetadata.from_toml(cfg)
    assert key.split("_")[0] in str(e.value)


@pytest.mark.parametrize(("field", "value", "words"), [
    ("avleveringsidentifikator", "AVL-1", "OID"),
    ("avtaleidentifikator", "", "never invents"),
    ("organisasjonsnummer", "12345678", "9-digit"),
    ("avlxml_version", "5", "avlxml_version"),
])
def test_metadata_check_messages(field: str, value: str, words: str) -> None:
    with pytest.raises(ConfigError) as e:
        _metadata(**{field: value}).check()
    assert words in str(e.value)


def test_error_leaves_nothing_behind(tmp_path, tiny_docs) -> None:
    out = tmp_path / "out"
    with pytest.raises(DocumentError) as e:
        build_deposit([_journal("D-1", died=date(2001, 1, 1)), _journal("D-2", died=date(2001, 1, 1), fil="nope.pdf")],
                      out, metadata=_metadata(), documents_root=tiny_docs,
                      rules=SelectionRules(profile="nha", today=date(2025, 1, 1)))
    assert "Testa" not in str(e.value)
    assert list(out.iterdir()) == []


def test_no_qualifying_journal(tmp_path, tiny_docs) -> None:
    with pytest.raises(NhaError, match="no journal qualifies"):
        build_deposit([_journal("A-1", died=None, born=date(1990, 1, 1))], tmp_path / "o", metadata=_metadata(),
                      documents_root=tiny_docs, rules=SelectionRules(profile="nha", today=date(2025, 1, 1)))
    assert list((tmp_path / "o").iterdir()) == []


def test_municipal_profile_refused(tmp_path, tiny_docs) -> None:
    with pytest.raises(ConfigError, match="nha"):
        build_deposit([], tmp_path, metadata=_metadata(), documents_root=tiny_docs, rules=SelectionRules())


def test_deposit_list_can_take_nha_tooling_name():
    import tomllib

    from noarkpack.nha.metadata import NhaMetadata

    cfg = tomllib.loads((Path(__file__).resolve().parents[1] / "examples" / "sykehus" / "noarkpack.toml")
                        .read_text(encoding="utf-8"))
    cfg["nha"]["avlxml_filnavn"] = "avlxml-{avleveringsidentifikator}.xml"
    md = NhaMetadata.from_toml(cfg)
    md.check()
    assert md.avlxml_name == f"avlxml-{md.avleveringsidentifikator}.xml"


def test_verify_finds_kjonn_against_the_number(built, tmp_path) -> None:
    """NHA.13 (issue 17, point 14): an avlxml kjonn that contradicts a valid fodselsnummer's sex digit is a
    warning for that journal; U and the invalid number of SFJ-1009 are not judged; never the number."""
    copy = tmp_path / built.path.name
    shutil.copytree(built.path, copy)
    [avl] = sorted(copy.glob("avlxml*.xml"))
    text = avl.read_text(encoding="utf-8")
    found = re.findall(r"<journalidentifikator>(SFJ-\d+)</journalidentifikator>.*?<kjonn>([MKU])</kjonn>",
                       text, flags=re.DOTALL)
    assert found

    def flipped(jid: str, to: str) -> str:
        return re.sub(rf"(<journalidentifikator>{jid}</journalidentifikator>.*?<kjonn>)[MKU](</kjonn>)",
                      rf"\g<1>{to}\g<2>", text, count=1, flags=re.DOTALL)

    def kjonn_findings():
        return [f for f in verify_deposit(copy, today=date(2025, 6, 30))
                if f.test == "NHA.13" and "kjonn" in f.message]

    assert kjonn_findings() == []
    kjonn = dict(found)
    assert kjonn["SFJ-1012"] == "M"
    text = flipped("SFJ-1012", "K")
    text = flipped("SFJ-1002", "U")  # on top of the first change: ukjent never contradicts
    text = re.sub(r"(<journalidentifikator>SFJ-1009</journalidentifikator>.*?<kjonn>)K(</kjonn>)", r"\g<1>M\g<2>",
                  text, count=1, flags=re.DOTALL)  # an invalid number is not judged
    avl.write_text(text, encoding="utf-8")
    [f] = kjonn_findings()
    assert f.severity == "warning" and "SFJ-1012" in f.message
    number = json.loads([line for line in (ROOT / "examples" / "sykehus" / "journals.jsonl").read_text(
        encoding="utf-8").splitlines() if "SFJ-1012" in line][0])["pasient"]["fodselsnummer"]
    assert number not in f.message


def test_dok_package_is_the_deposit_documentation(built, unpacked, shared_dir: Path) -> None:
    """del 5's deposit-level documentation, generated from the deposit, valid against del 5's schemas."""
    ref = shared_dir / "reference" / "nha" / "epj-standard-del5-2015"
    [dok] = built.dok_packages
    top = unpacked / dok.uuid
    names = sorted(str(p.relative_to(top)) for p in top.rglob("*.xml"))
    assert names[:2] == ["avleveringsdokumentasjon.xml", "bestandsopplysninger.xml"]
    schema = etree.XMLSchema(etree.parse(str(ref / "Bestandsopplysninger.xsd")))
    best = etree.parse(str(top / "bestandsopplysninger.xml"))
    assert schema.validate(best), schema.error_log
    text = etree.tostring(best, encoding="unicode")
    assert "12 pasientjournaler (11 pasienter)" in text
    numbers, persons = _source_identities()
    assert not any(n in text for n in numbers) and not any(w in text for w in persons if len(w) > 3)
    schema = etree.XMLSchema(etree.parse(str(ref / "Avleveringsdokumentasjon.xsd")))
    root = etree.parse(str(top / "avleveringsdokumentasjon.xml")).getroot()
    parts = [c.tag.split("}")[1] for c in root]
    assert parts == ["Avleveringsoversikt"] * 11 + ["Oppdateringsinfo", "Avleveringsbeskrivelse"]  # one per patient
    for part in root:  # the schema declares the parts as global elements, not the whole
        assert schema.validate(etree.ElementTree(part)), schema.error_log
    xsd = {"sakstype": "saksbeskrivelse.xsd", "dokumenttype": "dokumentbeskrivelse.xsd",
           "fragmenttype": "fragmentbeskrivelse.xsd"}
    oids = set()
    for f in sorted((top / "uttrekksbeskrivelse").glob("*.xml")):
        schema = etree.XMLSchema(etree.parse(str(ref / "uttrekksbeskrivelse" / xsd[f.name.split("-")[0]])))
        doc = etree.parse(str(f))
        assert schema.validate(doc), (f.name, schema.error_log)
        oids |= {e.text for e in doc.getroot().iter("{http://eisi.helsedir.no/nha/uttrekksbeskrivelse}komponenttype")}
    # every komponenttype used in the epj packages is described
    used = set()
    for p in built.epj_packages:
        for f in (unpacked / p.uuid).rglob("*.xml"):
            used |= {e.text for e in etree.parse(str(f)).getroot().iter(
                "{http://eisi.helsedir.no/anno2014/nha-epj-1.80/datatyper/stamme}komponenttype")}
    assert used and used <= oids


def test_one_patient_two_journals_is_one_epj_with_two_saker(built, unpacked) -> None:
    """del 5: an Arkivert_EPJ belongs to one patient; its Arkivert_EPJ_sak (1..n) organise its documents."""
    [p] = [p for p in built.epj_packages if "SFJ-1014" in p.journal_ids]
    assert p.journal_ids == ("SFJ-1013", "SFJ-1014")
    ns = "{http://eisi.helsedir.no/anno2014/nha-epj-1.80/epj_sak}"
    [sak] = (unpacked / p.uuid / "journal").glob("*.xml")
    root = etree.parse(str(sak)).getroot()
    assert root.findtext(f"{ns}EPJ_ID") == p.uuid
    assert [s.findtext("{*}komponent_ID") for s in root.iterfind(f"{ns}Arkivert_EPJ_sak")] == ["SFJ-1013", "SFJ-1014"]
    assert len(list((unpacked / p.uuid).glob("*.xml"))) == 1  # one pasientinfo
    js = _avl_journals(built)  # the list keeps one entry per journal, both naming the patient's package
    assert [e.text for e in js["SFJ-1013"].iter(f"{NS_AVL}lagringsenhet")] == [p.file]
    assert [e.text for e in js["SFJ-1014"].iter(f"{NS_AVL}lagringsenhet")] == [p.file]


def test_a_patients_journals_must_be_together(tmp_path, tiny_docs) -> None:
    a1, b, a2 = _journal("A-1", died=date(2001, 1, 1)), _journal("B-1", died=date(2001, 1, 1)), \
        _journal("A-2", died=date(2001, 1, 1))
    a2.pasient = dataclasses.replace(a2.pasient, pasient_id=a1.pasient.pasient_id)  # A's second journal
    with pytest.raises(NhaError, match="next to each other"):
        build_deposit([a1, b, a2], tmp_path, metadata=_metadata(), documents_root=tiny_docs,
                      rules=SelectionRules(profile="nha", today=date(2025, 1, 1)))
    assert not list(tmp_path.iterdir()) or not [p for p in tmp_path.iterdir() if p.name.startswith("epjark")]
