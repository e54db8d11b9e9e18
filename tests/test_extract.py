"""The spine: closed journals → a complete Noark 5 v5.0 extract that the official schemas accept."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from noarkpack import ExtractWriter, load_project
from noarkpack.errors import DocumentError, ExtractError, ModelError
from noarkpack.resources import schemas_dir

from . import builders
from .extract_checks import check_extract

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "omsorg"


@pytest.fixture()
def docs(tmp_path: Path) -> Path:
    d = tmp_path / "docs"
    d.mkdir()
    return d


def write(out: Path, settings, journals, **kw):
    with ExtractWriter(out, settings, **kw) as w:
        for j in journals:
            w.add(j)
    return w.result


def checks(pkg: Path, shared_dir: Path, tmp: Path, **kw) -> dict:
    ref = shared_dir / "reference" / "noark5"
    return check_extract(pkg, official_dir=ref, also_schema_dirs=(ref / "v5.0-2020",),
                         epj_xsd=schemas_dir() / "noarkpack-epj-1.0.xsd", tmp=tmp, **kw)


def test_small_extract_is_complete_and_valid(tmp_path, docs, shared_dir):
    journals = [builders.journal("J1", "P1", docs), builders.journal("J2", "P1", docs, arkivskaper="legevakt"),
                builders.journal("J3", "P2", docs, entries=5)]
    r = write(tmp_path / "out", builders.settings(docs), journals)
    assert (r.mappe, r.registrering, r.journals) == (3, 11, 3)
    figures = checks(tmp_path / "out" / "avleveringspakke", shared_dir, tmp_path)
    assert figures["mappe"] == 3 and figures["dokumentfiler"] == r.dokumentfiler == 7


def test_extract_without_journalposts_has_no_journals(tmp_path, docs, shared_dir):
    journals = [builders.journal("J1", "P1", docs, korrespondanse_every=0)]
    write(tmp_path / "out", builders.settings(docs), journals)
    pkg = tmp_path / "out" / "avleveringspakke"
    assert not (pkg / "loependeJournal.xml").exists() and not (pkg / "loependeJournal.xsd").exists()
    checks(pkg, shared_dir, tmp_path)


def test_open_journal_is_skipped_with_reason(tmp_path, docs):
    journals = [builders.journal("J1", "P1", docs), builders.journal("J2", "P2", docs, closed=False)]
    r = write(tmp_path / "out", builders.settings(docs), journals)
    assert r.journals == 1
    assert [jid for jid, _ in r.skipped] == ["J2"]
    assert "avsluttet" in r.skipped[0][1]


def test_open_journal_refused_leaves_nothing(tmp_path, docs):
    s = builders.settings(docs, open_journals="refuse")
    journals = [builders.journal("J1", "P1", docs), builders.journal("J2", "P2", docs, closed=False)]
    with pytest.raises(ModelError) as e:
        write(tmp_path / "out", s, journals)
    assert "journal J2" in str(e.value)
    assert list((tmp_path / "out").iterdir()) == []  # no partial folder, nothing under the final name


def test_missing_document_fails_cleanly(tmp_path, docs):
    j = builders.journal("J1", "P1", docs)
    (docs / j.innslag[0].dokumenter[0].fil).unlink()
    with pytest.raises(DocumentError) as e:
        write(tmp_path / "out", builders.settings(docs), [j])
    assert "J1-0" in str(e.value) and "not found" in str(e.value)
    assert "Bjørnstad" not in str(e.value) and j.pasient.fodselsnummer not in str(e.value)
    assert list((tmp_path / "out").iterdir()) == []


def test_patients_must_be_consecutive(tmp_path, docs):
    journals = [builders.journal("J1", "P1", docs), builders.journal("J2", "P2", docs),
                builders.journal("J3", "P1", docs)]
    with pytest.raises(ModelError, match="not consecutive"):
        write(tmp_path / "out", builders.settings(docs), journals)
    assert not (tmp_path / "out" / "avleveringspakke").exists()


def test_no_journals_is_an_error(tmp_path, docs):
    with pytest.raises(ExtractError, match="no closed journal"):
        write(tmp_path / "out", builders.settings(docs), [])


def test_existing_target_is_not_overwritten_unless_asked(tmp_path, docs):
    journals = [builders.journal("J1", "P1", docs)]
    write(tmp_path / "out", builders.settings(docs), journals)
    with pytest.raises(ExtractError, match="already exists"):
        write(tmp_path / "out", builders.settings(docs), journals)
    write(tmp_path / "out", builders.settings(docs), journals, overwrite=True)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["avleveringspakke"]


def test_stale_partial_output_is_cleaned(tmp_path, docs):
    stale = tmp_path / "out" / ".avleveringspakke.partial-deadbeef"
    (stale / "DOKUMENT").mkdir(parents=True)
    write(tmp_path / "out", builders.settings(docs), [builders.journal("J1", "P1", docs)])
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["avleveringspakke"]


def test_unknown_arkivskaper_is_refused(tmp_path, docs):
    with pytest.raises(ModelError, match="not declared"):
        write(tmp_path / "out", builders.settings(docs), [builders.journal("J1", "P1", docs, arkivskaper="x")])


def test_invalid_fodselsnummer_is_kept_as_recorded(tmp_path, docs, shared_dir):
    j = builders.journal("J1", "P1", docs)
    j.pasient = dataclasses.replace(j.pasient, fodselsnummer="12043112345")
    write(tmp_path / "out", builders.settings(docs), [j])
    pkg = tmp_path / "out" / "avleveringspakke"
    text = (pkg / "arkivstruktur.xml").read_text(encoding="utf-8")
    assert "<epj:fodselsnummer>12043112345</epj:fodselsnummer>" in text
    assert "<epj:identifikatortype>" not in text  # only set for a valid number
    checks(pkg, shared_dir, tmp_path)


# -- the bundled example --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def example_extract(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("omsorg")
    project = load_project(EXAMPLE)
    write(out, project.settings, project.journals())
    return out / "avleveringspakke"


def test_example_extract_passes_every_check(example_extract, shared_dir, tmp_path):
    figures = checks(example_extract, shared_dir, tmp_path)
    assert figures["mappe"] >= 78 and figures["registrering"] >= 400 and figures["dokumentfiler"] >= 10


def test_example_extract_is_reproducible(example_extract, tmp_path):
    project = load_project(EXAMPLE)
    write(tmp_path, project.settings, project.journals())
    again = tmp_path / "avleveringspakke"
    for f in sorted(example_extract.rglob("*")):
        if f.is_file():
            assert f.read_bytes() == (again / f.relative_to(example_extract)).read_bytes(), f.name


def test_example_public_journal_masks_names(example_extract):
    import json

    names = set()
    with open(EXAMPLE / "journals.jsonl", encoding="utf-8") as f:
        for line in f:
            j = json.loads(line)
            names.add(j["pasient"]["navn"])
            if j["pasient"].get("fodselsnummer"):
                names.add(j["pasient"]["fodselsnummer"])
    public = (example_extract / "offentligJournal.xml").read_text(encoding="utf-8")
    assert "*****" in public
    leaked = [n for n in names if n in public]
    assert not leaked, f"{len(leaked)} identifiers appear in offentligJournal.xml"
