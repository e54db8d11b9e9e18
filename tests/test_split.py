"""Fellesarkiv: one extract per arkivskaper, each complete and valid on its own (the spine's checks)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from noarkpack.model.mapping import EPJ_SCHEMA_FILE
from noarkpack.pipeline import extract_project, import_project
from noarkpack.project import load_project
from noarkpack.resources import schemas_dir

from .extract_checks import check_extract

ROOT = Path(__file__).resolve().parents[1]
OMSORG = ROOT / "examples" / "omsorg"


def _load(tmp_path: Path):
    """The example with its staging database and its cache of converted documents in ``tmp_path``."""
    project = load_project(OMSORG, database=tmp_path / "staging.sqlite")
    project.conversion = replace(project.conversion, cache=tmp_path / "konvertert")
    return project


def test_split_by_arkivskaper_gives_complete_valid_extracts(tmp_path, shared_dir):
    project = _load(tmp_path)
    import_project(project)
    runs = extract_project(project, tmp_path / "out", split_by="arkivskaper")
    assert [r.arkivskaper for r in runs] == ["helse", "legevakt"]
    ref = shared_dir / "reference" / "noark5"
    figures = {}
    for r in runs:
        pkg = tmp_path / "out" / r.arkivskaper / "avleveringspakke"
        assert r.result.path == pkg
        figures[r.arkivskaper] = check_extract(pkg, official_dir=ref, also_schema_dirs=(ref / "v5.0-2020",),
                                               epj_xsd=schemas_dir() / EPJ_SCHEMA_FILE, tmp=tmp_path)
        # only this arkivskaper in the extract
        text = (pkg / "arkivstruktur.xml").read_text(encoding="utf-8")
        other = {"helse": "999999972", "legevakt": "999999980"}[r.arkivskaper]
        assert f"<arkivskaperID>{other}</arkivskaperID>" not in text
    assert figures["helse"]["mappe"] == 64 and figures["legevakt"]["mappe"] == 23
    # the legacy documents are converted once (before the split) and land in their arkivskaper's extract
    assert runs[0].conversion.converted == 6 and not runs[0].conversion.failures
    assert [r.result.converted for r in runs] == [5, 1]
    # the open journals are counted with their reason, in the extract of their arkivskaper
    helse = runs[0]
    assert sorted(helse.excluded) == [("J-4178", "journalen er ikke avsluttet"),
                                      ("J-4188", "journalen er ikke avsluttet")]
    assert helse.excluded_by_reason == {"journalen er ikke avsluttet": 2} and runs[1].excluded == []
    assert sorted(j for j, _ in helse.result.skipped) == ["J-4178", "J-4188"]


def test_unsplit_extract_applies_the_selection(tmp_path):
    project = _load(tmp_path)
    run = extract_project(project, tmp_path / "out")
    assert run.result.mappe == 87 and len(run.excluded) == 2
    assert run.result.converted == 6 and run.result.dokumentfiler == 476
    # a stricter cut-off leaves more out, each with its reason
    from datetime import date

    project.selection = replace(project.selection, closed_before=date(2019, 1, 1))
    run = extract_project(project, tmp_path / "out2")
    reasons = run.excluded_by_reason
    assert reasons["journalen er ikke avsluttet"] == 2 and sum(reasons.values()) == 89 - run.result.mappe
    assert len(reasons) == 2
