"""Independent checks of a written extract (the spine's acceptance), used by several tests.

Everything here re-reads the extract from disk with tools other than the writer:
xmllint for schema validation, hashlib for checksums, lxml for counts.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from datetime import datetime, timezone
from pathlib import Path

from lxml import etree

from noarkpack.model.mapping import EPJ_NAMESPACE

AS = "{http://www.arkivverket.no/standarder/noark5/arkivstruktur}"
ADDML = "{http://www.arkivverket.no/standarder/addml}"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"

OFFICIAL = ("arkivstruktur.xsd", "metadatakatalog.xsd", "endringslogg.xsd", "loependeJournal.xsd",
            "offentligJournal.xsd")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def xmllint(xml: Path, xsd: Path) -> None:
    assert shutil.which("xmllint"), "xmllint is needed (Debian package libxml2-utils)"
    r = subprocess.run(["xmllint", "--noout", "--nonet", "--schema", str(xsd), str(xml)],
                       capture_output=True, text=True)
    assert r.returncode == 0, f"{xml.name} invalid against {xsd}:\n{r.stderr[-3000:]}"


def validate_with_xmllint(pkg: Path, schema_dir: Path, epj_xsd: Path, tmp: Path) -> None:
    """Every XML of the extract against the official XSDs of ``schema_dir`` (one schema set)."""
    for name in ("arkivstruktur", "endringslogg", "loependeJournal", "offentligJournal"):
        xml = pkg / f"{name}.xml"
        if xml.exists():
            xmllint(xml, schema_dir / f"{name}.xsd")
    # arkivstruktur once more with our virksomhetsspesifikke schema imported beside it, so the
    # content of virksomhetsspesifikkeMetadata (xs:anyType, lax) is checked against it too.
    driver = tmp / f"driver-{schema_dir.name}.xsd"
    driver.write_text(
        '<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:noarkpack:test-driver">'
        f'<xs:import namespace="http://www.arkivverket.no/standarder/noark5/arkivstruktur" '
        f'schemaLocation="{(schema_dir / "arkivstruktur.xsd").as_uri()}"/>'
        f'<xs:import namespace="{EPJ_NAMESPACE}" schemaLocation="{epj_xsd.as_uri()}"/>'
        "</xs:schema>", encoding="utf-8")
    xmllint(pkg / "arkivstruktur.xml", driver)


def addml_files(pkg: Path) -> dict[str, str]:
    """name → checksum of every file property with a checksum in arkivuttrekk.xml."""
    tree = etree.parse(str(pkg / "arkivuttrekk.xml"))
    out = {}
    for prop in tree.iter(f"{ADDML}property"):
        if prop.get("name") != "file":
            continue
        name = prop.find(f"{ADDML}properties/{ADDML}property[@name='name']/{ADDML}value").text
        value = prop.find(f".//{ADDML}property[@name='checksum']//{ADDML}property[@name='value']/{ADDML}value")
        algo = prop.find(f".//{ADDML}property[@name='checksum']//{ADDML}property[@name='algorithm']/{ADDML}value")
        if value is not None:
            assert algo.text == "SHA-256"
            assert name not in out, f"{name} has a checksum twice"
            out[name] = value.text
    return out


def addml_value(pkg: Path, name: str) -> str:
    tree = etree.parse(str(pkg / "arkivuttrekk.xml"))
    return tree.find(f".//{ADDML}property[@name='{name}']/{ADDML}value").text


def addml_counts(pkg: Path) -> dict[tuple[str, str], int]:
    tree = etree.parse(str(pkg / "arkivuttrekk.xml"))
    out = {}
    for obj in tree.iter(f"{ADDML}dataObject"):
        for occ in obj.findall(f"{ADDML}properties/{ADDML}property[@name='info']/{ADDML}properties/"
                               f"{ADDML}property[@name='numberOfOccurrences']"):
            element = occ.find(f"{ADDML}value").text
            value = occ.find(f".//{ADDML}property[@name='value']/{ADDML}value").text
            out[(obj.get("name"), element)] = int(value)
    return out


def count(xml: Path, local: str) -> int:
    n = 0
    for _, el in etree.iterparse(str(xml), events=("end",)):
        if etree.QName(el).localname == local:
            n += 1
        el.clear(keep_tail=True)
    return n


def _instant(text: str) -> datetime:
    dt = datetime.fromisoformat(text)
    return dt if dt.tzinfo is not None else dt.replace(tzinfo=timezone.utc)


def out_of_creation_order(numbers: list[tuple[int, int, str]]) -> list[tuple[int, int]]:
    """The (year, number) of each element whose year is not that of its opprettetDato, or that was created
    before an element with a lower number of its year (M011-M014); ``numbers``: (year, number, opprettetDato)."""
    bad = [(aar, seq) for aar, seq, dato in numbers if datetime.fromisoformat(dato).year != aar]
    latest: dict[int, datetime] = {}
    for aar, seq, dato in sorted(numbers, key=lambda n: (n[0], n[1])):
        t = _instant(dato)
        if aar in latest and t < latest[aar]:
            bad.append((aar, seq))
        latest[aar] = max(t, latest.get(aar, t))
    return bad


def journal_entries(xml: Path) -> list[tuple[int, int, str]]:
    """(journalaar, journalsekvensnummer, systemID) of each journalregistrering of a journal, in file order."""
    tree = etree.parse(str(xml))
    ns = tree.getroot().nsmap[None]
    return [(int(jp.findtext(f"{{{ns}}}journalaar")), int(jp.findtext(f"{{{ns}}}journalsekvensnummer")),
             jp.findtext(f"{{{ns}}}systemID"))
            for jp in tree.iter(f"{{{ns}}}journalpost")]


def check_extract(pkg: Path, *, official_dir: Path, epj_xsd: Path, tmp: Path,
                  also_schema_dirs: tuple[Path, ...] = (), identify: bool = True) -> dict:
    """All the spine's acceptance checks on one extract; returns a few figures."""
    assert pkg.name == "avleveringspakke" and pkg.is_dir()
    # 1. schema validity with an independent validator, against every given schema set
    for d in (official_dir, *also_schema_dirs):
        validate_with_xmllint(pkg, d, epj_xsd, tmp)
    xmllint(pkg / "arkivuttrekk.xml", pkg / "addml.xsd")
    # 2. the shipped XSDs are byte-identical to the official ones
    for name in OFFICIAL:
        if (pkg / name).exists():
            assert sha256(pkg / name) == sha256(official_dir / name), f"{name} differs from the official file"
    assert (pkg / "loependeJournal.xml").exists() == (pkg / "offentligJournal.xml").exists()
    # 3. ADDML checksums of every XML/XSD but arkivuttrekk.xml and addml.xsd
    listed = addml_files(pkg)
    expected = {p.name for p in pkg.iterdir() if p.suffix in (".xml", ".xsd")} - {"arkivuttrekk.xml", "addml.xsd"}
    assert set(listed) == expected
    for name, value in listed.items():
        assert value == sha256(pkg / name), f"ADDML checksum of {name}"
    # 4. documents: checksum, size, format, every file referenced, none missing
    refs = {}
    registreringer = mapper = journalposter = 0
    skjerming = vsm = kassert = skal_kasseres = False
    journaldatoer = []
    jp_numbers, sm_numbers, jp_ids = [], [], set()
    for _, el in etree.iterparse(str(pkg / "arkivstruktur.xml"), events=("end",)):
        tag = etree.QName(el).localname
        if tag == "dokumentobjekt":
            ref = el.findtext(f"{AS}referanseDokumentfil")
            f = pkg / ref
            assert f.is_file(), f"referanseDokumentfil {ref} missing"
            assert el.findtext(f"{AS}sjekksumAlgoritme") == "SHA256"
            assert el.findtext(f"{AS}sjekksum") == sha256(f), ref
            assert int(el.findtext(f"{AS}filstoerrelse")) == f.stat().st_size, ref
            refs[ref] = el.findtext(f"{AS}format")
            el.clear(keep_tail=True)
        elif tag == "registrering":
            registreringer += 1
            if el.get(XSI_TYPE) == "journalpost":
                journalposter += 1
                journaldatoer.append(el.findtext(f"{AS}journaldato"))
                jp_numbers.append((int(el.findtext(f"{AS}journalaar")), int(el.findtext(f"{AS}journalsekvensnummer")),
                                   el.findtext(f"{AS}opprettetDato")))
                jp_ids.add(el.findtext(f"{AS}systemID"))
        elif tag == "mappe":
            mapper += 1
            if el.findtext(f"{AS}saksaar"):
                sm_numbers.append((int(el.findtext(f"{AS}saksaar")), int(el.findtext(f"{AS}sakssekvensnummer")),
                                   el.findtext(f"{AS}opprettetDato")))
            el.clear(keep_tail=True)
        elif tag == "skjerming":
            skjerming = True
        elif tag == "virksomhetsspesifikkeMetadata":
            vsm = True
        elif tag == "utfoertKassasjon":
            kassert = True
        elif tag == "kassasjonsvedtak" and el.text == "Kasseres":
            skal_kasseres = True
    on_disk = {p.relative_to(pkg).as_posix() for p in (pkg / "DOKUMENT").rglob("*") if p.is_file()} \
        if (pkg / "DOKUMENT").exists() else set()
    assert on_disk == set(refs), f"unreferenced: {on_disk - set(refs)}; missing: {set(refs) - on_disk}"
    assert not any(p.name.endswith(".part") or p.name.startswith(".") for p in pkg.rglob("*"))
    if identify:
        import pygfried

        for ref, fmt in refs.items():
            assert pygfried.identify(str(pkg / ref)) == fmt, ref
    # 5. counts and flags equal the content
    counts = addml_counts(pkg)
    assert counts[("arkivstruktur", "mappe")] == mapper == count(pkg / "arkivstruktur.xml", "mappe")
    assert counts[("arkivstruktur", "registrering")] == registreringer
    assert counts[("endringslogg", "endring")] == count(pkg / "endringslogg.xml", "endring")
    # numbers in creation order (M011-M014), each once
    assert out_of_creation_order(jp_numbers) == [] and out_of_creation_order(sm_numbers) == []
    assert len({n[:2] for n in jp_numbers}) == len(jp_numbers) and len({n[:2] for n in sm_numbers}) == len(sm_numbers)
    # with sharp period separation the journals list exactly arkivstruktur's journalposts; with soft (mykt)
    # also those of journals still open at the end of the period (docs/mapping.md, "Open journals")
    sharp = addml_value(pkg, "inngaaendeSkille") == addml_value(pkg, "utgaaendeSkille") == "skarpt"
    if journalposter:
        entries = journal_entries(pkg / "loependeJournal.xml")
        assert [e[:2] for e in entries] == sorted({e[:2] for e in entries}), "journals not sorted by løpenummer"
        assert jp_ids <= {e[2] for e in entries}
        assert len(entries) == journalposter if sharp else len(entries) >= journalposter
        for j in ("loependeJournal", "offentligJournal"):
            assert journal_entries(pkg / f"{j}.xml") == entries
            assert counts[(j, "journalregistrering")] == len(entries) == count(pkg / f"{j}.xml", "journalregistrering")
            tree = etree.parse(str(pkg / f"{j}.xml"))
            ns = tree.getroot().nsmap[None]
            dates = [d.text for d in tree.iter(f"{{{ns}}}journaldato")]
            assert tree.findtext(f"{{{ns}}}journalhode/{{{ns}}}journalStartDato") == min(dates)
            assert tree.findtext(f"{{{ns}}}journalhode/{{{ns}}}journalSluttDato") == max(dates)
            if sharp:
                assert (min(dates), max(dates)) == (min(journaldatoer), max(journaldatoer))
    assert int(addml_value(pkg, "antallDokumentfiler")) == len(on_disk)
    assert addml_value(pkg, "inneholderSkjermetInformasjon") == str(skjerming).lower()
    assert addml_value(pkg, "inneholderVirksomhetsspesifikkeMetadata") == str(vsm).lower()
    assert addml_value(pkg, "omfatterDokumenterSomErKassert") == str(kassert).lower()
    assert addml_value(pkg, "inneholderDokumenterSomSkalKasseres") == str(skal_kasseres).lower()
    # 6. no empty elements anywhere
    for xml in pkg.glob("*.xml"):
        for _, el in etree.iterparse(str(xml), events=("end",)):
            if len(el) == 0:
                assert el.text is not None and el.text.strip(), f"empty element {el.tag} in {xml.name}"
    return {"mappe": mapper, "registrering": registreringer, "journalposter": journalposter,
            "dokumentfiler": len(on_disk)}
