"""``validate`` gives the same findings and summaries as recorded: behaviour kept through refactoring.

The recorded reports (tests/golden/validation/*.json) were made by the code before the validation
package was reorganised (issue 22); a refactoring must leave every finding, count, status and summary
line as it was.  Each case is validated in full (every test), on:

- the bundled example's extract (examples/omsorg, written by noarkpack),
- Arkade's samples in ../shared/reference/samples (read there, never copied),
- each mutation of tests/test_validation.py, applied to the same small extract.

Run time and paths are left out of the comparison (they differ per run), and so are the message keys (issue 20:
tested with the messages).  The reports are in English (the tests' language): Arkade's English test names.  When a change of behaviour
is intended, record anew with ``NOARKPACK_RECORD_GOLDEN=1 pytest tests/test_validation_golden.py``
and say why in the commit.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

from noarkpack.validation import validate

from .test_validation import (
    SAMPLES,
    line_of,  # noqa: F401  (kept importable beside the mutations it serves)
    n1_ref,
    ref_of,
    replace_in,
)

GOLDEN = Path(__file__).parent / "golden" / "validation"
RECORD = os.environ.get("NOARKPACK_RECORD_GOLDEN") == "1"
_SECONDS = re.compile(r" in \d+(?:\.\d+)? s:")


def _normalised(report, root: str) -> dict:
    """The report as JSON, without run time and without the paths of this run."""
    data = json.loads("".join(report.iter_json()))
    for f in data["findings"]:
        f.pop("key", None)  # the message keys (issue 20) are tested where the messages are made
    summary = data["summary"]
    summary.pop("seconds", None)
    summary.pop("path", None)
    summary.pop("extract", None)
    lines = [_SECONDS.sub(" in - s:", line).replace(root, "<PATH>") for line in report.summary_lines()]
    text = json.dumps({"findings": data["findings"], "summary": summary, "summary_lines": lines},
                      ensure_ascii=False, indent=1, sort_keys=True)
    return json.loads(text.replace(root, "<PATH>"))


def _compare(name: str, report, root: Path) -> None:
    got = _normalised(report, str(root))
    path = GOLDEN / f"{name}.json"
    if RECORD:
        GOLDEN.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(got, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8")
        return
    assert path.is_file(), f"no recorded report {path}: record with NOARKPACK_RECORD_GOLDEN=1"
    want = json.loads(path.read_text(encoding="utf-8"))
    assert got["summary_lines"] == want["summary_lines"]
    assert got["summary"] == want["summary"]
    assert len(got["findings"]) == len(want["findings"])
    for i, (g, w) in enumerate(zip(got["findings"], want["findings"], strict=True)):
        assert g == w, f"finding {i}"


# --------------------------------------------------------------------------- mutations


def _flipped_byte(extract: Path) -> None:
    doc = extract / n1_ref(extract)
    data = bytearray(doc.read_bytes())
    data[0] ^= 0x01
    doc.write_bytes(bytes(data))


def _deleted_document(extract: Path) -> None:
    (extract / ref_of(extract, b"Brev til pasienten")).unlink()


def _unreferenced_file(extract: Path) -> None:
    (extract / "DOKUMENT" / "extra.txt").write_text("stray\n", encoding="utf-8")


def _duplicate_system_id(extract: Path) -> None:
    path = extract / "arkivstruktur.xml"
    text = path.read_text(encoding="utf-8")
    mappe_sid = re.search(r'<mappe xsi:type="saksmappe">\s*<systemID>([^<]+)<', text).group(1)
    reg_sid = re.search(r"<registrering[^>]*>\s*<systemID>([^<]+)<", text).group(1)
    path.write_text(text.replace(f"<systemID>{reg_sid}</systemID>", f"<systemID>{mappe_sid}</systemID>", 1),
                    encoding="utf-8")


def _changed_documented_count(extract: Path) -> None:
    path = extract / "arkivuttrekk.xml"
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"(<value>registrering</value>.*?<property dataType=\"integer\" name=\"value\">\s*<value>)(\d+)",
                  lambda m: m.group(1) + str(int(m.group(2)) + 5), text, count=1, flags=re.S)
    path.write_text(text, encoding="utf-8")


def _edit_after_checksumming(extract: Path) -> None:
    replace_in(extract / "arkivstruktur.xml", "<tittel>Del</tittel>", "<tittel>Delt</tittel>")


def _empty_element(extract: Path) -> None:
    replace_in(extract / "arkivstruktur.xml", "<forfatter>Per Ås</forfatter>", "<forfatter></forfatter>")


def _reference_to_missing_file(extract: Path) -> None:
    ref = n1_ref(extract)
    replace_in(extract / "arkivstruktur.xml", f"<referanseDokumentfil>{ref}<",
               "<referanseDokumentfil>DOKUMENT/gone.txt<")


def _schema_error(extract: Path) -> None:
    replace_in(extract / "arkivstruktur.xml", "<saksstatus>Avsluttet</saksstatus>",
               "<saksstatus>Avsluttet</saksstatus><bogus>x</bogus>")


def _broken_xml(extract: Path) -> None:
    path = extract / "arkivstruktur.xml"
    text = path.read_text(encoding="utf-8")
    path.write_text(text[: len(text) // 2], encoding="utf-8")
    (extract / "endringslogg.xml").write_text("<endringslogg", encoding="utf-8")


def _md5_upper_case(extract: Path) -> None:
    path = extract / "arkivstruktur.xml"
    ref = n1_ref(extract)
    md5 = hashlib.md5((extract / ref).read_bytes()).hexdigest().upper()
    text = path.read_text(encoding="utf-8")
    text = re.sub("(" + re.escape(ref) + r"</referanseDokumentfil>\s*<sjekksum>)[0-9a-f]+(</sjekksum>\s*"
                  r"<sjekksumAlgoritme>)SHA256", lambda m: m.group(1) + md5 + m.group(2) + "MD5", text)
    path.write_text(text, encoding="utf-8")


def _skarp(extract: Path) -> None:
    replace_in(extract / "arkivuttrekk.xml", "<value>skarpt</value>", "<value>skarp</value>", count=2)


def _invalid_person_number(extract: Path) -> None:
    replace_in(extract / "arkivstruktur.xml", "<epj:fodselsnummer>31129956634<", "<epj:fodselsnummer>31129956635<")


def _public_journal_leak(extract: Path) -> None:
    # the letter's mottaker is the patient, whose name offentligJournal masks
    replace_in(extract / "offentligJournal.xml", "<korrespondansepartNavn>*****</korrespondansepartNavn>",
               "<korrespondansepartNavn>Åse Bjørnstad</korrespondansepartNavn>")


def _stray_files(extract: Path) -> None:
    for i in range(5):
        (extract / "DOKUMENT" / f"stray{i}.txt").write_text("x\n", encoding="utf-8")


MUTATIONS: dict[str, tuple[Callable[[Path], None], int | None]] = {
    "unchanged": (lambda extract: None, None),
    "flipped-byte": (_flipped_byte, None),
    "deleted-document": (_deleted_document, None),
    "unreferenced-file": (_unreferenced_file, None),
    "duplicate-system-id": (_duplicate_system_id, None),
    "changed-documented-count": (_changed_documented_count, None),
    "edit-after-checksumming": (_edit_after_checksumming, None),
    "empty-element": (_empty_element, None),
    "reference-to-missing-file": (_reference_to_missing_file, None),
    "schema-error": (_schema_error, None),
    "broken-xml": (_broken_xml, None),
    "md5-upper-case": (_md5_upper_case, None),
    "skarp": (_skarp, None),
    "invalid-person-number": (_invalid_person_number, None),
    "public-journal-leak": (_public_journal_leak, None),
    "stray-files-limit-2": (_stray_files, 2),
}


@pytest.mark.parametrize("name", list(MUTATIONS))
def test_mutation_report_is_as_recorded(name, valid_extract, tmp_path, schema_store):
    mutate, limit = MUTATIONS[name]
    extract = tmp_path / "avleveringspakke"
    shutil.copytree(valid_extract, extract)
    mutate(extract)
    report = validate(extract, store=schema_store, limit=limit)
    _compare(f"mutation-{name}", report, tmp_path)


@pytest.mark.parametrize("sample", ["arkade-small", "arkade-checksums-correct", "arkade-sip-example/n5-guid.tar"])
def test_arkade_sample_report_is_as_recorded(sample, schema_store):
    report = validate(SAMPLES / sample, store=schema_store)
    _compare("sample-" + sample.replace("/", "-"), report, SAMPLES)


def test_example_extract_report_is_as_recorded(example_extract, schema_store):
    report = validate(example_extract, store=schema_store)
    _compare("example-omsorg", report, example_extract.parent)


# the fixtures of tests/test_validation.py, shared rather than written twice
from .test_validation import example_extract, valid_extract  # noqa: E402,F401
