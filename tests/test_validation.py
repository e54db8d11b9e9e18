"""noarkpack.validation: Arkade's verdicts, mutation tests, reports.

Extracts are written in the test with noarkpack's own ExtractWriter from a
tiny JSON Lines source (two patients, three documents); the reference
samples are read from ../shared at test time, never copied into the repo.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import date, datetime
from pathlib import Path

import pytest
from lxml import etree

from noarkpack.errors import NoarkpackError
from noarkpack.noark5.settings import ArkivskaperInfo, ExtractSettings
from noarkpack.noark5.writer import ExtractWriter
from noarkpack.sources.jsonl import read_journals
from noarkpack.validation import ValidationError, catalogue, validate

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SAMPLES = SHARED / "reference" / "samples"

# Valid (mod-11) test fødselsnummer from the synthetic sets used elsewhere in the tests.
JOURNALS = [
    {"journal_id": "J1", "arkivskaper": "helse", "journalsted": "Sone nord", "journalansvarlig": "Kari Lie",
     "opprettet": "2014-02-03T09:00:00+01:00", "opprettet_av": "kari", "avsluttet": "2019-06-30T15:00:00+02:00",
     "avsluttet_av": "kari",
     "pasient": {"pasient_id": "P1", "fodselsnummer": "31129956634", "navn": "Åse Bjørnstad",
                 "fodselsdato": "1999-12-31", "dodsdato": "2019-06-01", "kjonn": "K"},
     "innslag": [
         {"innslag_id": "N1", "type": "notat", "tittel": "Tilsyn", "forfatter": "Per Ås",
          "opprettet": "2019-05-01T08:10:00+02:00", "arkivert": "2019-05-01T08:30:00+02:00", "arkivert_av": "per",
          "dokumenter": [{"fil": "n1.txt", "tittel": "Tilsyn"}],
          "endringer": [{"felt": "tittel", "tidligere": "Til", "ny": "Tilsyn", "dato": "2019-05-02T08:00:00",
                         "av": "per"}]},
         {"innslag_id": "B1", "type": "brev", "tittel": "Brev til pasient", "forfatter": "Per Ås",
          "opprettet": "2019-05-03T08:10:00+02:00", "arkivert": "2019-05-03T08:30:00+02:00", "arkivert_av": "per",
          "dokumenter": [{"fil": "b1.txt", "tittel": "Brev"}],
          "korrespondanse": {"type": "Utgående dokument", "dato": "2019-05-03",
                             "parter": [{"type": "Mottaker", "navn": "Åse Bjørnstad"}]},
          "skjerming": {"tilgangsrestriksjon": "Unntatt offentlighet", "hjemmel": "Offl. § 13",
                        "metadata": ["Skjerming tittel registrering - utvalgte ord"]}}]},
    {"journal_id": "J2", "arkivskaper": "helse", "journalsted": "Sone sør", "journalansvarlig": "Ola Nor",
     "opprettet": "2015-03-03T09:00:00+01:00", "opprettet_av": "ola", "avsluttet": "2020-01-10T15:00:00+01:00",
     "avsluttet_av": "ola",
     "pasient": {"pasient_id": "P2", "fodselsnummer": "01010012356", "navn": "Bo Berg",
                 "fodselsdato": "1900-01-01", "dodsdato": "2019-12-01", "kjonn": "M"},
     "innslag": [
         {"innslag_id": "N2", "type": "notat", "tittel": "Epikrise", "forfatter": "Ola Nor",
          "opprettet": "2019-11-01T08:10:00+01:00", "arkivert": "2019-11-01T08:30:00+01:00", "arkivert_av": "ola",
          "dokumenter": [{"fil": "sub/e2.txt", "tittel": "Epikrise"}]}]},
]


def _settings(docs: Path) -> ExtractSettings:
    return ExtractSettings(
        system_id="validation-test", system_name="Omsorg", arkiv_tittel="Arkiv",
        arkiv_opprettet=datetime(2005, 1, 1), arkiv_opprettet_av="a", arkiv_avsluttet=datetime(2024, 1, 1),
        arkiv_avsluttet_av="a", arkivdel_tittel="Del", periode_start=date(2005, 1, 1),
        periode_slutt=date(2023, 12, 31), arkivdel_opprettet=datetime(2005, 1, 1), arkivdel_opprettet_av="a",
        arkivdel_avsluttet=datetime(2024, 1, 1), arkivdel_avsluttet_av="a",
        arkivskapere=(ArkivskaperInfo("helse", "974123456", "Helse"),), documents_root=docs)


@pytest.fixture(scope="module")
def example_extract(tmp_path_factory, schema_store) -> Path:
    """The bundled example written by noarkpack."""
    import noarkpack

    from noarkpack.conversion import ConversionCache

    base = tmp_path_factory.mktemp("example")
    project = noarkpack.load_project(Path(__file__).resolve().parents[1] / "examples" / "omsorg")
    # its legacy documents are converted to PDF/A; the cache stays out of the repository
    with project.numbering() as numbering, \
            ExtractWriter(base, project.settings, store=schema_store, numbering=numbering,
                          conversion=ConversionCache(tmp_path_factory.mktemp("konvertert"))) as w:
        for j in project.journals():
            w.add(j)
    return base / "avleveringspakke"


def arkade_n529_warning(report) -> list:
    """The one warning every extract with PRONOM PUIDs has: what Arkade's N5.29 will report (arkade5 issue
    #175, docs/validation.md).  It is about Arkade, not about the extract; every other warning is."""
    return [f for f in report.findings if f.severity == "warning" and f.test == "N5.29" and "issue #175" in f.message]


def test_example_extract_has_no_errors_or_warnings(example_extract, schema_store):
    report = validate(example_extract, store=schema_store)
    assert report.errors == 0, [f.message for f in report.findings if f.severity == "error"][:5]
    # the only warning: Arkade will fail each of the PUIDs we write in dokumentobjekt/format
    [arkade] = arkade_n529_warning(report)
    formats = sum(int(f.message.rsplit(": ", 1)[1]) for f in report.findings
                  if f.test == "N5.29" and f.message.startswith(("format 'fmt/", "format 'x-fmt/")))
    assert arkade.message.startswith(f"{formats} document objects give a PRONOM PUID")
    assert report.warnings == 1, [f.message for f in report.findings if f.severity == "warning"][:5]
    # no restanser: every incoming or internal journalpost of the closed journals is avskrevet
    assert report.counts["NP.07"]["warning"] == 0
    assert [f.message for f in report.findings if f.test == "NP.07"] == \
        ["incoming and internal journalposts in closed mapper: 90; without avskrivning: 0"]


@pytest.fixture(scope="module")
def valid_extract(tmp_path_factory, schema_store) -> Path:
    """A small extract written by noarkpack, whose files the mutation tests name."""
    base = tmp_path_factory.mktemp("valid")
    docs = base / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "n1.txt").write_text("Tilsyn om morgenen. Alt vel.\n", encoding="utf-8")
    (docs / "b1.txt").write_text("Brev til pasienten om avslutning.\n", encoding="utf-8")
    (docs / "sub" / "e2.txt").write_text("Epikrise etter utskriving.\n", encoding="utf-8")
    src = base / "j.jsonl"
    src.write_text("".join(json.dumps(j, ensure_ascii=False) + "\n" for j in JOURNALS), encoding="utf-8")
    with ExtractWriter(base / "out", _settings(docs), store=schema_store) as w:
        for j in read_journals(src):
            w.add(j)
    return base / "out" / "avleveringspakke"


@pytest.fixture
def extract(valid_extract, tmp_path) -> Path:
    """A private copy of the valid extract, free to break."""
    dst = tmp_path / "avleveringspakke"
    shutil.copytree(valid_extract, dst)
    return dst


def ref_of(extract: Path, start: bytes) -> str:
    """referanseDokumentfil of the document whose content starts with ``start``.

    The extract gives documents neutral names (year/systemID), so tests find them by content.
    """
    for f in (extract / "DOKUMENT").rglob("*"):
        if f.is_file() and f.read_bytes().startswith(start):
            return f.relative_to(extract).as_posix()
    raise AssertionError(f"no document starting with {start!r}")


def n1_ref(extract: Path) -> str:
    """The note the source calls n1.txt."""
    return ref_of(extract, b"Tilsyn om morgenen")


def errors(report, test=None):
    return [f for f in report.findings if f.severity == "error" and (test is None or f.test == test)]


def failed(report) -> set[str]:
    return {t for t in report.ran if report.counts[t]["error"]}


def line_of(path: Path, needle: str) -> int:
    for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if needle in line:
            return i
    raise AssertionError(f"{needle!r} not in {path}")


def replace_in(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, count), encoding="utf-8")


# --------------------------------------------------------------------------- catalogue


def test_catalogue_has_every_arkade_test_and_ours():
    ids = set(catalogue.TESTS)
    expected = {f"N5.{n:02d}" for n in [*range(1, 31), *range(32, 49), 51, *range(59, 65)]}
    assert {i for i in ids if i.startswith("N5.")} == expected
    assert len(expected) == 54
    assert {"NP.01", "NP.02", "NP.03", "NP.04"} <= ids
    for t in catalogue.TESTS.values():
        assert t.severity in ("error", "warning", "info") and t.name and t.purpose


def test_docs_list_every_test():
    doc = (Path(__file__).resolve().parents[1] / "docs" / "validation.md").read_text(encoding="utf-8")
    for t in catalogue.TESTS:
        assert f"| {t} |" in doc, t


# --------------------------------------------------------------------------- valid extract


def test_noarkpack_extract_has_zero_errors(valid_extract, schema_store):
    report = validate(valid_extract, store=schema_store)
    assert errors(report) == [], "\n".join(report.summary_lines())
    assert report.exit_code == 0
    assert report.ran >= set(catalogue.TESTS) - {"NP.01"} or report.ran == set(catalogue.TESTS)
    # the parent folder is accepted too
    assert validate(valid_extract.parent, store=schema_store).exit_code == 0


def test_missing_path_raises_validation_error(tmp_path):
    with pytest.raises(ValidationError) as exc:
        validate(tmp_path / "nothing")
    assert isinstance(exc.value, NoarkpackError) and exc.value.exit_code == 2
    with pytest.raises(ValidationError):
        validate(tmp_path)  # a folder without an extract


# --------------------------------------------------------------------------- mutations


def test_flipped_byte_in_document_is_n5_30(extract, schema_store):
    ref = n1_ref(extract)
    doc = extract / ref
    data = bytearray(doc.read_bytes())
    data[0] ^= 0x01
    doc.write_bytes(bytes(data))
    report = validate(extract, store=schema_store)
    errs = errors(report, "N5.30")
    assert len(errs) == 1 and ref in errs[0].message
    loc = errs[0].location
    assert loc["file"] == "arkivstruktur.xml"
    assert loc["line"] == line_of(extract / "arkivstruktur.xml", "<sjekksum>")
    assert loc["systemID"]  # the dokumentbeskrivelse
    assert failed(report) == {"N5.30"}


def test_deleted_document_is_n5_32(extract, schema_store):
    b1 = ref_of(extract, b"Brev til pasienten")
    (extract / b1).unlink()
    report = validate(extract, store=schema_store)
    errs = errors(report, "N5.32")
    assert len(errs) == 1 and b1 in errs[0].message
    assert errs[0].location["line"] == line_of(extract / "arkivstruktur.xml", b1)
    assert {"N5.32", "N5.28"} <= failed(report)  # and the documented count no longer matches


def test_unreferenced_file_is_n5_33(extract, schema_store):
    (extract / "DOKUMENT" / "extra.txt").write_text("stray\n", encoding="utf-8")
    report = validate(extract, store=schema_store)
    errs = errors(report, "N5.33")
    assert [e.location["file"] for e in errs] == ["DOKUMENT/extra.txt"]
    assert failed(report) == {"N5.33", "N5.28"}


def test_duplicate_system_id_is_n5_47(extract, schema_store):
    path = extract / "arkivstruktur.xml"
    text = path.read_text(encoding="utf-8")
    sids = re.findall(r"<systemID>([^<]+)</systemID>", text)
    mappe_sid = re.search(r'<mappe xsi:type="saksmappe">\s*<systemID>([^<]+)<', text).group(1)
    reg_sid = re.search(r"<registrering[^>]*>\s*<systemID>([^<]+)<", text).group(1)
    assert mappe_sid in sids and reg_sid in sids
    path.write_text(text.replace(f"<systemID>{reg_sid}</systemID>", f"<systemID>{mappe_sid}</systemID>", 1),
                    encoding="utf-8")
    report = validate(extract, store=schema_store)
    errs = errors(report, "N5.47")
    assert len(errs) == 1 and mappe_sid in errs[0].message and "2 times" in errs[0].message
    assert errs[0].location["systemID"] == mappe_sid
    assert errs[0].location["line"] == line_of(path, f"<systemID>{mappe_sid}") + 0 or errs[0].location["line"] > 0
    assert "N5.02" in failed(report)  # edited after checksumming: honestly follows


def test_changed_documented_count_is_n5_16(extract, schema_store):
    path = extract / "arkivuttrekk.xml"
    text = path.read_text(encoding="utf-8")
    text2 = re.sub(r"(<value>registrering</value>.*?<property dataType=\"integer\" name=\"value\">\s*<value>)(\d+)",
                   lambda m: m.group(1) + str(int(m.group(2)) + 5), text, count=1, flags=re.S)
    assert text2 != text
    path.write_text(text2, encoding="utf-8")
    report = validate(extract, store=schema_store)
    errs = errors(report, "N5.16")
    assert len(errs) == 1 and errs[0].location["file"] == "arkivuttrekk.xml"
    assert failed(report) == {"N5.16"}


def test_edit_after_checksumming_is_n5_02(extract, schema_store):
    replace_in(extract / "arkivstruktur.xml", "<tittel>Del</tittel>", "<tittel>Delt</tittel>")
    report = validate(extract, store=schema_store)
    errs = errors(report, "N5.02")
    assert len(errs) == 1 and errs[0].location["file"] == "arkivstruktur.xml"
    assert failed(report) == {"N5.02"}


def test_empty_element_is_n5_63(extract, schema_store):
    path = extract / "arkivstruktur.xml"
    line = line_of(path, "<forfatter>Per Ås</forfatter>")
    replace_in(path, "<forfatter>Per Ås</forfatter>", "<forfatter></forfatter>")
    report = validate(extract, store=schema_store)
    errs = errors(report, "N5.63")
    assert len(errs) == 1 and "forfatter" in errs[0].message
    assert errs[0].location["line"] == line and errs[0].location["systemID"]


def test_reference_to_missing_file_is_n5_32(extract, schema_store):
    path = extract / "arkivstruktur.xml"
    ref = n1_ref(extract)
    line = line_of(path, ref)
    replace_in(path, f"<referanseDokumentfil>{ref}<", "<referanseDokumentfil>DOKUMENT/gone.txt<")
    report = validate(extract, store=schema_store)
    errs = errors(report, "N5.32")
    assert len(errs) == 1 and "gone.txt" in errs[0].message and errs[0].location["line"] == line
    assert "N5.33" in failed(report)  # n1.txt is now unreferenced


def test_schema_error_is_located(extract, schema_store):
    path = extract / "arkivstruktur.xml"
    line = line_of(path, "<saksstatus>Avsluttet</saksstatus>")
    replace_in(path, "<saksstatus>Avsluttet</saksstatus>", "<saksstatus>Avsluttet</saksstatus><bogus>x</bogus>")
    report = validate(extract, store=schema_store)
    errs = errors(report, "N5.03")
    assert errs and errs[0].location["file"] == "arkivstruktur.xml" and errs[0].location["line"] == line
    assert "bogus" in errs[0].message


def test_broken_xml_never_aborts(extract, schema_store):
    path = extract / "arkivstruktur.xml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: len(text) // 2], encoding="utf-8")  # truncated
    (extract / "endringslogg.xml").write_text("<endringslogg", encoding="utf-8")
    report = validate(extract, store=schema_store)
    assert {"N5.03", "N5.02"} <= failed(report)
    assert "N5.61" in report.ran and "N5.59" in report.ran  # the other tests still ran


def test_algorithm_is_honoured_and_case_insensitive(extract, schema_store):
    import hashlib

    path = extract / "arkivstruktur.xml"
    doc = extract / n1_ref(extract)
    md5 = hashlib.md5(doc.read_bytes()).hexdigest().upper()
    text = path.read_text(encoding="utf-8")
    text = re.sub("(" + re.escape(n1_ref(extract)) + r"</referanseDokumentfil>\s*<sjekksum>)[0-9a-f]+(</sjekksum>\s*<sjekksumAlgoritme>)SHA256",
                  lambda m: m.group(1) + md5 + m.group(2) + "MD5", text)
    path.write_text(text, encoding="utf-8")
    report = validate(extract, store=schema_store, tests={"N5.30"})
    assert errors(report) == []
    assert report.ran == {"N5.30"}


def test_skarp_is_accepted_with_a_warning(extract, schema_store):
    replace_in(extract / "arkivuttrekk.xml", "<value>skarpt</value>", "<value>skarp</value>", count=2)
    report = validate(extract, store=schema_store, tests={"N5.59", "N5.60"})
    assert errors(report) == []
    assert report.counts["N5.59"]["warning"] >= 1


def test_invalid_person_number_is_masked(extract, schema_store):
    path = extract / "arkivstruktur.xml"
    replace_in(path, "<epj:fodselsnummer>31129956634<", "<epj:fodselsnummer>31129956635<")
    report = validate(extract, store=schema_store, tests={"NP.02"})
    # kept as the source recorded it: a warning for the archivist, never an error that blocks a deposit
    assert errors(report, "NP.02") == []
    errs = [f for f in report.findings if f.test == "NP.02" and f.severity == "warning"]
    assert errs and all("3112995663" not in e.message for e in errs)
    assert all("3112995663" not in line for line in report.summary_lines())
    assert "3112995663" not in report.to_html() and "3112995663" not in json.dumps(report.to_json())


def test_public_journal_leak_is_np_03(extract, schema_store):
    path = extract / "offentligJournal.xml"
    replace_in(path, "<korrespondansepartNavn>*****</korrespondansepartNavn>",
               "<korrespondansepartNavn>Åse Bjørnstad</korrespondansepartNavn>")  # the patient, as mottaker
    report = validate(extract, store=schema_store, tests={"NP.03"})
    errs = errors(report, "NP.03")
    assert len(errs) == 1 and errs[0].location["file"] == "offentligJournal.xml"


def test_limit_keeps_counts(extract, schema_store):
    for i in range(5):
        (extract / "DOKUMENT" / f"stray{i}.txt").write_text("x\n", encoding="utf-8")
    report = validate(extract, store=schema_store, tests={"N5.33"}, limit=2)
    assert len(report.for_test("N5.33")) == 2
    assert report.counts["N5.33"]["error"] == 5 and report.errors == 5


def test_progress_callback(valid_extract, schema_store):
    seen = []
    validate(valid_extract, store=schema_store, progress=lambda stage, done, total: seen.append(stage))
    assert any(s == "arkivstruktur.xml" for s in seen) or seen == []


# --------------------------------------------------------------------------- Arkade's verdicts

# Failed tests in Arkade 5's own report on this extract (Arkaderapport-n5-guid.html in
# ../shared/reference/samples/arkade-sip-example: "N5.22, N5.45, N5.59, N5.60, N5.61, N5.62", each 1 deviation).
# SOURCES.md lists the same minus N5.45; Arkade's report shows N5.45 ("documented that the extract
# includes performed disposals, but none were found"), and so do we.
ARKADE_VERDICTS = [
    ("arkade-small", {"N5.22", "N5.45", "N5.59", "N5.60", "N5.61", "N5.62"}),
    # the counts are deliberately wrong and documents absent (SOURCES.md); N5.01/02/03 pass
    ("arkade-checksums-correct", {"N5.10", "N5.16", "N5.22", "N5.28", "N5.30", "N5.32", "N5.45",
                                  "N5.59", "N5.60", "N5.62"}),
]


@pytest.mark.parametrize("sample,expected", ARKADE_VERDICTS, ids=[s for s, _ in ARKADE_VERDICTS])
def test_arkade_verdicts(sample, expected, schema_store):
    report = validate(SAMPLES / sample, store=schema_store)
    arkade = {t for t in failed(report) if t.startswith("N5.")}
    assert arkade == expected, "\n".join(report.summary_lines())
    for t in ("N5.01", "N5.02", "N5.03"):
        assert report.status(t) == "passed", t


def test_arkade_small_details(schema_store):
    report = validate(SAMPLES / "arkade-small", store=schema_store)
    (e22,) = errors(report, "N5.22")
    assert "Journalført" in e22.message and e22.location["line"] == 263
    # 'skarp' read as sharp, with a warning (Arkade treats it as soft)
    assert report.counts["N5.59"]["warning"]
    infos = [f.message for f in report.findings if f.test == "N5.02" and f.severity == "info"]
    assert len(infos) == 3  # 3/3 checksums OK


def test_sip_tar_is_read_without_unpacking(schema_store, tmp_path):
    tar = SAMPLES / "arkade-sip-example" / "n5-guid.tar"
    report = validate(tar, store=schema_store, identify_formats=False)
    assert report.facts["version"] == "3.1"
    assert report.status("N5.28") == "passed" and report.status("N5.32") == "passed"
    assert report.status("N5.30") == "passed" and report.status("N5.03") == "passed"
    assert list(tmp_path.iterdir()) == []


# --------------------------------------------------------------------------- reports


def test_reports(extract, schema_store):
    (extract / "DOKUMENT" / "extra.txt").write_text("stray\n", encoding="utf-8")
    report = validate(extract, store=schema_store, limit=10)
    data = report.to_json()
    assert set(data) == {"findings", "summary"}
    f = data["findings"][0]
    assert set(f) == {"test", "severity", "message", "key", "location"}
    assert set(f["location"]) == {"file", "line", "systemID"}
    # the structure tests' and the journals' findings are made by tr(): their untranslated key is in the JSON
    mine = {"N5.01", "N5.02", "N5.28", "NP.04", "NP.05", "N5.59", "N5.60", "N5.61", "N5.62", "NP.09"}
    keyed = [x for x in data["findings"] if x["test"] in mine]
    assert keyed and all(x["key"] for x in keyed), [x for x in keyed if not x["key"]]
    assert data["summary"]["errors"] == report.errors == 2 and data["summary"]["exit_code"] == 1
    json.dumps(data)
    html = report.to_html()
    assert "N5.33" in html and "DOKUMENT/extra.txt" in html and "<script" not in html
    etree.fromstring(html.encode(), etree.HTMLParser())
    junit = etree.fromstring(report.to_junit().encode())
    cases = junit.findall(".//testcase")
    assert len(cases) == len(catalogue.TESTS)
    failures = {c.get("name").split()[0] for c in cases if c.find("failure") is not None}
    assert failures == {"N5.28", "N5.33"}
    lines = report.summary_lines()
    assert lines[-1].startswith("FAILED") and any("N5.33" in line for line in lines)
