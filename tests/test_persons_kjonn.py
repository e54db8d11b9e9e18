"""NP.02, kjønn against the person number (issue 17, point 14): epj:kjonn must not contradict the sex
digit of a valid epj:fodselsnummer (its 9th digit: odd mann, even kvinne).

Mutation tests on a copy of a valid extract written by noarkpack: an epj:kjonn put against its number is
found at its line, without the number; ukjent and an invalid number are not judged."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from noarkpack.validation import validate

from .test_validation import line_of, replace_in, valid_extract  # noqa: F401  (the fixture)

NUMBER = "31129956634"  # P1 of the valid extract: kvinne, and its 9th digit (6) is even
KJONN_MSG = "epj:kjonn contradicts"


@pytest.fixture
def extract(valid_extract, tmp_path) -> Path:  # noqa: F811
    dst = tmp_path / "avleveringspakke"
    shutil.copytree(valid_extract, dst)
    return dst


def _kjonn_findings(report):
    return [f for f in report.findings if f.test == "NP.02" and KJONN_MSG in f.message]


def _p1_kjonn_line(path: Path) -> int:
    """The line of P1's epj:kjonn: the first epj:kjonn after its number."""
    lines = path.read_text(encoding="utf-8").splitlines()
    start = line_of(path, f"<epj:fodselsnummer>{NUMBER}<")
    return next(i for i, text in enumerate(lines[start - 1:], start) if "<epj:kjonn>" in text)


def _set_p1_kjonn(path: Path, value: str) -> int:
    line = _p1_kjonn_line(path)
    lines = path.read_text(encoding="utf-8").split("\n")
    assert "<epj:kjonn>kvinne</epj:kjonn>" in lines[line - 1]
    lines[line - 1] = lines[line - 1].replace("kvinne", value)
    path.write_text("\n".join(lines), encoding="utf-8")
    return line


def test_valid_extract_has_no_contradiction(extract, schema_store):
    report = validate(extract, store=schema_store, tests={"NP.02"})
    assert _kjonn_findings(report) == []
    assert report.counts["NP.02"]["warning"] == 0


def test_kjonn_against_the_number_is_found(extract, schema_store):
    path = extract / "arkivstruktur.xml"
    line = _set_p1_kjonn(path, "mann")
    report = validate(extract, store=schema_store, tests={"NP.02"})
    [f] = _kjonn_findings(report)
    assert f.severity == "warning"
    assert f.location["file"] == "arkivstruktur.xml" and f.location["line"] == line
    assert f.location["systemID"]  # located at the record, too
    shown = report.to_html() + "\n".join(report.summary_lines()) + str(report.to_json())
    assert NUMBER not in shown and "Bjørnstad" not in shown


def test_ukjent_never_contradicts(extract, schema_store):
    _set_p1_kjonn(extract / "arkivstruktur.xml", "ukjent")
    report = validate(extract, store=schema_store, tests={"NP.02"})
    assert _kjonn_findings(report) == []


def test_an_invalid_number_is_not_judged(extract, schema_store):
    path = extract / "arkivstruktur.xml"
    _set_p1_kjonn(path, "mann")
    # 31129956635: the last control digit wrong; its 9th digit would still say kvinne
    replace_in(path, f"<epj:fodselsnummer>{NUMBER}<", "<epj:fodselsnummer>31129956635<")
    report = validate(extract, store=schema_store, tests={"NP.02"})
    assert _kjonn_findings(report) == []
    assert [f for f in report.findings if f.test == "NP.02" and f.severity == "warning"]  # the invalid number
