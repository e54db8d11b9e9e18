"""The spine: closed journals → a complete Noark 5 v5.0 extract that the official schemas accept."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from noarkpack import ExtractWriter, load_project
from noarkpack.conversion import ConversionCache
from noarkpack.errors import DocumentError, ExtractError, ModelError
from noarkpack.formats import PDFA_PUIDS, is_archival
from noarkpack.model.mapping import EPJ_SCHEMA_FILE
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
                         epj_xsd=schemas_dir() / EPJ_SCHEMA_FILE, tmp=tmp, **kw)


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


def test_times_are_ordered_as_instants_even_in_the_dst_gap(tmp_path, docs):
    """02:45 on 2017-03-26 did not exist in Oslo: written with its offset it is 01:45Z, after 03:05 CEST
    (01:05Z). The model judges the order by instants, as the XML and the staged analysis do."""
    from datetime import datetime

    j = builders.journal("J1", "P1", docs)
    e = j.innslag[0]
    e.opprettet = datetime(2017, 3, 26, 2, 45, tzinfo=builders.OSLO)
    e.arkivert = datetime(2017, 3, 26, 3, 5, tzinfo=builders.OSLO)
    j.opprettet = datetime(2017, 3, 1, 9, tzinfo=builders.OSLO)
    with pytest.raises(ModelError, match="arkivert is before opprettet") as err:
        write(tmp_path / "out", builders.settings(docs), [j])
    assert "DST gap" in (err.value.hint or "")
    e.arkivert = datetime(2017, 3, 26, 3, 50, tzinfo=builders.OSLO)  # 01:50Z: after 01:45Z
    write(tmp_path / "ok", builders.settings(docs), [j])


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
def example_cache(tmp_path_factory) -> ConversionCache:
    """The example's conversions, cached outside the repository for this module."""
    return ConversionCache(tmp_path_factory.mktemp("konvertert"))


@pytest.fixture(scope="module")
def example_result(tmp_path_factory, example_cache):
    out = tmp_path_factory.mktemp("omsorg")
    project = load_project(EXAMPLE)
    with project.numbering() as numbering:  # the numbers of creation order (docs/mapping.md)
        return write(out, project.settings, project.journals(), conversion=example_cache, numbering=numbering)


@pytest.fixture(scope="module")
def example_extract(example_result) -> Path:
    return example_result.path


def test_example_extract_passes_every_check(example_extract, shared_dir, tmp_path):
    figures = checks(example_extract, shared_dir, tmp_path)
    assert figures["mappe"] >= 78 and figures["registrering"] >= 400 and figures["dokumentfiler"] >= 10


#: the example's legacy documents (generate.py, LEGACY): Siegfried's PUID of each original
EXAMPLE_LEGACY = sorted(["fmt/50", "fmt/50", "fmt/40", "fmt/4", "fmt/116", "fmt/18"])


def test_example_documents_are_archival_as_siegfried_sees_them(example_extract, example_result):
    """Issue 7: every document in the extract is identified by Siegfried as an approved PUID equal to its
    dokumentobjekt/format, and each converted document has its konvertering recorded."""
    import pygfried
    from lxml import etree

    AS = "{http://www.arkivverket.no/standarder/noark5/arkivstruktur}"
    objs = etree.parse(str(example_extract / "arkivstruktur.xml")).findall(f".//{AS}dokumentobjekt")
    assert len(objs) == example_result.dokumentfiler
    converted = []
    for o in objs:
        ref, fmt = o.findtext(f"{AS}referanseDokumentfil"), o.findtext(f"{AS}format")
        assert pygfried.identify(str(example_extract / ref)) == fmt, ref
        assert is_archival(fmt), (ref, fmt)
        k = o.find(f"{AS}konvertering")
        if k is None:
            continue
        converted.append(k.findtext(f"{AS}konvertertFraFormat"))
        assert ref.endswith(".pdf") and fmt in PDFA_PUIDS and o.findtext(f"{AS}formatDetaljer") == "PDF/A-2b"
        assert k.findtext(f"{AS}konvertertTilFormat") == fmt
        assert k.findtext(f"{AS}konvertertDato") and k.findtext(f"{AS}konvertertAv").startswith("noarkpack ")
        tool = k.findtext(f"{AS}konverteringsverktoey")
        assert tool.startswith("GPL Ghostscript " if k.findtext(f"{AS}konvertertFraFormat") == "fmt/18"
                               else "LibreOffice "), tool
    assert sorted(converted) == EXAMPLE_LEGACY
    assert example_result.converted == len(EXAMPLE_LEGACY) and not example_result.unconverted
    legacy = {".rtf", ".doc", ".gif", ".bmp"}
    assert not [p for p in (example_extract / "DOKUMENT").rglob("*") if p.suffix in legacy]


def test_example_extract_is_reproducible(example_extract, example_cache, tmp_path):
    project = load_project(EXAMPLE)
    with project.numbering() as numbering:
        write(tmp_path, project.settings, project.journals(), conversion=example_cache, numbering=numbering)
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
