"""Arkade 5's own test names (issue 20 point 3): every N5 id of our catalogue has them, in bokmål and English,
and the reports show them beside the id.

The names file is data copied from arkade5's ArkadeTestDisplayNames*.resx (the commit is named in it); the counts
are those of the research notes: 54 N5 ids (N5.01-N5.30, N5.32-N5.48, N5.51, N5.59-N5.64) and one variant
(N5.35 of a Noark 5.0 archive).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from noarkpack.validation import catalogue, validate

SAMPLES = Path(__file__).resolve().parents[2] / "shared" / "reference" / "samples"
ARKADE_N5 = ([f"N5.{i:02d}" for i in range(1, 31)] + [f"N5.{i:02d}" for i in range(32, 49)]
             + ["N5.51"] + [f"N5.{i:02d}" for i in range(59, 65)])


def test_names_file_holds_arkades_54_n5_tests_and_names_its_source():
    data = catalogue.arkade_names()
    assert len(ARKADE_N5) == 54
    assert sorted(data["tests"]) == ARKADE_N5
    for names in data["tests"].values():
        assert set(names) == {"nb", "en"} and all(v and v == v.strip() for v in names.values())
    assert data["version_variants"] == {"N5.35": {"5.0": {"nb": "Antall parter", "en": "Number of parties"}}}
    assert data["source"]["commit"] == "f31a5d4224d9f35a679e29647718069ff0e19579"
    assert data["source"]["repository"] == "https://github.com/arkivverket/arkade5"


def test_every_arkade_id_of_the_catalogue_has_its_name_and_ours_have_none():
    assert set(catalogue.ARKADE_IDS) == set(ARKADE_N5)
    for t in catalogue.ARKADE_IDS:
        assert catalogue.arkade_name(t) and catalogue.arkade_name(t, "en"), t
    for t in catalogue.TESTS:
        if not t.startswith("N5."):
            assert catalogue.arkade_name(t) is None
            assert catalogue.display_name(t) == catalogue.get(t).name


def test_names_as_arkade_prints_them():
    assert catalogue.arkade_name("N5.29") == "Antall av ulike dokumentformater"
    assert catalogue.arkade_name("N5.29", lang="en") == "Number of each different document format"
    assert catalogue.arkade_name("N5.09") == ("Antall klasser i det primære klassifikasjonssystemet uten "
                                              "underklasser, mapper eller registreringer")
    assert catalogue.arkade_name("N5.39", "en") == "Number of correspondance parties"  # Arkade's spelling
    assert catalogue.arkade_name("N5.35") == "Antall saksparter"
    assert catalogue.arkade_name("N5.35", version="5.0") == "Antall parter"
    assert catalogue.arkade_name("N5.35", version="4.0") == "Antall saksparter"
    with pytest.raises(ValueError):
        catalogue.arkade_name("N5.29", lang="de")


def test_reports_show_the_name_beside_the_id():
    report = validate(SAMPLES / "arkade-small", identify_formats=False)
    # the report speaks the current language (English in the tests) unless told otherwise
    assert report.lang == "en"
    lines = report.summary_lines()
    assert any(line.startswith("  N5.22 Number of each different journal status \u2014 failed") for line in lines), lines
    summary = report.summary()["tests"]
    assert summary["N5.22"]["arkade_name"] == "Number of each different journal status"
    assert summary["N5.22"]["name"] == catalogue.get("N5.22").name  # the key kept
    assert summary["N5.22"]["status"] == "failed"  # a code, in every language
    assert "arkade_name" not in summary["NP.01"]
    report.lang = "nb"
    lines = report.summary_lines()
    assert any(line.startswith("  N5.22 Antall av ulike journalstatuser \u2014 ") for line in lines), lines
    assert report.summary()["tests"]["N5.22"]["arkade_name"] == "Antall av ulike journalstatuser"
    html = report.to_html()
    assert "N5.29 Antall av ulike dokumentformater" in html
    report.lang = "en"
    assert report.summary()["tests"]["N5.29"]["arkade_name"] == "Number of each different document format"
    json.dumps(report.summary())
    report.lang = None  # back to the current language
    assert report.lang == "en"
