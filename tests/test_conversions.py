"""NP.08 (validation/content/conversions.py): a converted file's dokumentobjekt is not older than its conversion.

Mutation tests: a konvertering put into the small extract of tests/test_validation.py, dated before and after
its dokumentobjekt's opprettetDato; and an extract with a real conversion (LibreOffice, one RTF letter) into
which the old defect is put back: the converted file's dokumentobjekt claiming the original's date.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from noarkpack import load_project
from noarkpack.conversion import ConversionCache
from noarkpack.noark5.writer import ExtractWriter
from noarkpack.validation import validate

from . import conversion_project as cp
from .test_validation import line_of, valid_extract  # noqa: F401 - the small extract's fixture

KONVERTERING = ("<konvertering><konvertertDato>{when}</konvertertDato><konvertertAv>noarkpack 0.1.0</konvertertAv>"
                "<konvertertFraFormat>fmt/355</konvertertFraFormat><konvertertTilFormat>x-fmt/111"
                "</konvertertTilFormat></konvertering>")


@pytest.fixture
def small(valid_extract, tmp_path) -> Path:  # noqa: F811 - the imported fixture
    """A private copy of tests/test_validation.py's small extract, free to change."""
    dst = tmp_path / "avleveringspakke"
    shutil.copytree(valid_extract, dst)
    return dst


def _convert_first_object(extract: Path, *whens: str) -> Path:
    """Give the first dokumentobjekt konvertering elements dated ``whens`` (its opprettetDato is
    2019-05-01T08:30:00+02:00, when the entry was signed)."""
    path = extract / "arkivstruktur.xml"
    text = path.read_text(encoding="utf-8")
    m = re.search(r"<dokumentobjekt>.*?<opprettetDato>([^<]+)</opprettetDato>.*?</filstoerrelse>", text, re.S)
    assert m and m.group(1) == "2019-05-01T08:30:00+02:00", m and m.group(1)
    added = "".join(KONVERTERING.format(when=w) for w in whens)
    path.write_text(text[:m.end()] + added + text[m.end():], encoding="utf-8")
    return path


def _np08(report, severity: str = "warning"):
    return [f for f in report.findings if f.test == "NP.08" and f.severity == severity]


def test_a_conversion_before_the_object_was_made_is_not_reported(small, schema_store):
    _convert_first_object(small, "2019-05-01T08:29:00+02:00", "2019-05-01T06:30:00Z")  # the same instant
    report = validate(small, store=schema_store, tests={"NP.08", "N5.03"})
    assert _np08(report) == [] and report.errors == 0, [f.message for f in report.findings][:5]
    assert [f.message for f in _np08(report, "info")] == ["converted document objects checked: 1"]


def test_an_object_older_than_its_conversion_is_np08(small, schema_store):
    path = _convert_first_object(small, "2019-05-01T08:00:00+02:00", "2024-02-01T10:00:00+01:00")
    report = validate(small, store=schema_store)
    [w] = _np08(report)
    assert "2019-05-01T08:30:00+02:00" in w.message and "2024-02-01T10:00:00+01:00" in w.message
    assert w.location["file"] == "arkivstruktur.xml"
    assert w.location["line"] == line_of(path, "2024-02-01T10:00:00+01:00")
    assert w.location["systemID"]  # the dokumentobjekt's
    assert "NP.08" not in {f.test for f in report.findings if f.severity == "error"}


@pytest.mark.parametrize(("when", "reported"), [("2019-05-01T20:00:00", False), ("2019-05-02T08:00:00", True)])
def test_without_an_offset_only_a_certain_order_is_reported(small, schema_store, when, reported):
    _convert_first_object(small, when)  # 06:30 UTC against a local time in an unknown zone (±14 h)
    report = validate(small, store=schema_store, tests={"NP.08"})
    assert bool(_np08(report)) is reported


@pytest.fixture(scope="module")
def converted_extract(tmp_path_factory, schema_store) -> Path:
    """An extract whose one document was converted from RTF to PDF/A by LibreOffice."""
    base = tmp_path_factory.mktemp("converted")
    project = load_project(cp.write_project(base / "proj"))
    with ExtractWriter(base / "out", project.settings, store=schema_store,
                       conversion=ConversionCache(base / "konvertert")) as w:
        for j in project.journals():
            w.add(j)
    assert w.result.converted == 1
    return base / "out" / "avleveringspakke"


def test_the_converted_extract_is_clean(converted_extract, schema_store):
    report = validate(converted_extract, store=schema_store)
    others = [f.message for f in report.findings if f.severity != "info" and f.test != "N5.29"]
    assert report.errors == 0 and others == [], others[:5]
    # the one warning every extract with PRONOM PUIDs has: what Arkade's N5.29 will say (docs/validation.md)
    assert [f.test for f in report.findings if f.severity == "warning"] == ["N5.29"]
    assert [f.message for f in _np08(report, "info")] == ["converted document objects checked: 1"]


def test_the_originals_date_on_the_converted_object_is_np08(converted_extract, schema_store, tmp_path):
    copy = tmp_path / "avleveringspakke"
    shutil.copytree(converted_extract, copy)
    path = copy / "arkivstruktur.xml"
    text = path.read_text(encoding="utf-8")
    # the defect put back: the PDF/A's dokumentobjekt claims the signed original's date
    m = re.search(r"(<dokumentobjekt>.*?<opprettetDato>)([^<]+)(</opprettetDato>)", text, re.S)
    assert m and m.group(2) != cp.SIGNED
    path.write_text(text[:m.start(2)] + cp.SIGNED + text[m.end(2):], encoding="utf-8")
    report = validate(copy, store=schema_store)
    [w] = _np08(report)
    assert cp.SIGNED in w.message and m.group(2) in w.message
