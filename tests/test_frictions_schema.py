"""An ADDML naming a Noark 5 version without a schema set of its own (issue 20 point 5, third bullet).

The extract is validated against the official set of the series the version belongs to (5.5.0 → v5.0,
3.0 → v3.1, …), said once in N5.03, instead of against v5.0 with a flood of pattern errors.  Mutations of
copies: Arkade's `Small` sample (whose ADDML once said "3.0": its own comment says so) and a small extract
written by noarkpack; the schema the extract ships is removed so that the store's set is the one used.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from noarkpack.validation import validate
from noarkpack.validation.schema_resolve import SCHEMA_SETS, schema_set_for

from .test_validation import SAMPLES, extract, replace_in, valid_extract  # noqa: F401  (fixtures)


@pytest.mark.parametrize("version, base, severity", [
    ("5.0", "5.0", ""), ("4.0", "4.0", ""), ("3.1", "3.1", ""),
    ("5.5", "5.0", "info"), ("5.5.0", "5.0", "info"), ("v4.0.1", "4.0", "info"), ("Noark 5 v4.0", "4.0", "info"),
    ("4", "4.0", "info"), ("3.0", "3.1", "info"), ("2.1", "3.1", "warning"),
    ("", "5.0", "warning"), ("ukjent", "5.0", "warning"), ("9.0", "5.0", "warning"),
])
def test_a_version_is_read_as_its_series(version, base, severity):
    got_base, note, got_severity = schema_set_for(version)
    assert (got_base, got_severity) == (base, severity)
    assert (note is None) == (version in SCHEMA_SETS)


def _small_without_its_schema(tmp_path: Path, version: str) -> Path:
    root = tmp_path / "small"
    shutil.copytree(SAMPLES / "arkade-small", root)
    (root / "arkivstruktur.xsd").unlink()  # listed in the ADDML, missing: the store's set is used
    text = (root / "arkivuttrekk.xml").read_text(encoding="utf-8")
    old = "<value>Noark 5</value>"
    i = text.index(old)
    j = text.index("<value>3.1</value>", i)
    (root / "arkivuttrekk.xml").write_text(text[:j] + f"<value>{version}</value>" + text[j + 18:], encoding="utf-8")
    return root


def _n5_03(report) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {"error": [], "warning": [], "info": []}
    for f in report.findings:
        if f.test == "N5.03":
            out[f.severity].append(f.message)
    return out


def test_a_3_0_extract_is_validated_against_v3_1_and_says_so_once(tmp_path, schema_store):
    report = validate(_small_without_its_schema(tmp_path, "3.0"), store=schema_store, identify_formats=False)
    found = _n5_03(report)
    assert report.facts["version"] == "3.0"
    assert found["info"] == ["Noark 5 version '3.0' in the ADDML has no schema set of its own; it belongs to v3.1, "
                             "whose official schemas are used where the extract ships none"]
    # only the missing schema is reported: arkivstruktur.xml is valid against v3.1
    assert found["error"] == ["schema arkivstruktur.xsd is not correctly documented in the ADDML or missing from the "
                              "extract; the installed official noark5-v3.1 version was used"]
    assert found["warning"] == []


def test_an_unknown_version_falls_back_on_v5_0_with_a_warning_and_the_flood_shows(tmp_path, schema_store):
    """The control: what the user got before for any version without a set (and still gets for a non-version)."""
    report = validate(_small_without_its_schema(tmp_path, "9.9"), store=schema_store, identify_formats=False)
    found = _n5_03(report)
    assert len(found["warning"]) == 1 and "is not a Noark 5 version" in found["warning"][0]
    assert "noark5-v5.0 version was used" in found["error"][0]
    assert len(found["error"]) > 3  # a v3.1 arkivstruktur.xml against v5.0: schema errors that say nothing


def test_a_5_5_0_extract_is_a_v5_0_extract(extract, schema_store):  # noqa: F811  (the fixture)
    (extract / "arkivstruktur.xsd").unlink()
    replace_in(extract / "arkivuttrekk.xml", "<value>5.0</value>", "<value>5.5.0</value>")
    report = validate(extract, store=schema_store, identify_formats=False)
    found = _n5_03(report)
    assert report.facts["version"] == "5.5.0"
    assert found["info"] == ["Noark 5 version '5.5.0' in the ADDML has no schema set of its own; it belongs to v5.0, "
                             "whose official schemas are used where the extract ships none"]
    assert found["error"] == ["schema arkivstruktur.xsd is not correctly documented in the ADDML or missing from the "
                              "extract; the installed official noark5-v5.0 version was used"]
    # N5.35 counts the v5.0 series' part, not v4.0's sakspart (Arkade's "Antall parter" for a 5.0 extract)
    n5_35 = [f.message for f in report.findings if f.test == "N5.35"]
    assert n5_35 and n5_35[0].startswith("parties (part): ")
