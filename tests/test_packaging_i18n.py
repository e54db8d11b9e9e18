"""Packaging and verify speak the run's language: every finding and error carries its msgid key, the PK.* checks
have names, and verify keeps the key of the content validation's findings it merges (issue 20)."""

from __future__ import annotations

import importlib
import json
import tarfile
from pathlib import Path

import pytest

from noarkpack.findings import Finding
from noarkpack.locale import Text, language, tr
from noarkpack.packaging import PackageMetadata, PackagingError, VerifyReport, verify
from noarkpack.packaging.findings import CHECK_NAMES
from noarkpack.packaging.locate import locate_package

verify_module = importlib.import_module("noarkpack.packaging.verify")  # the module (the package exports the function)


def _broken_bag(folder: Path) -> Path:
    (folder / "data").mkdir(parents=True)
    (folder / "data" / "a.txt").write_text("hei")
    (folder / "data" / ".DS_Store").write_text("x")
    (folder / "bagit.txt").write_text("BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
    (folder / "manifest-sha256.txt").write_text("0" * 64 + "  data/a.txt\n" + "0" * 64 + "  data/b.txt\nzz  ../x\n")
    (folder / "bag-info.txt").write_text("Payload-Oxum: 3.7\nnolabel\n")
    return folder


def test_every_verify_finding_has_its_key_in_the_report_and_the_json(tmp_path):
    report = verify(_broken_bag(tmp_path / "bag"))
    assert {"PK.22", "PK.25", "PK.26", "PK.27", "PK.29", "PK.30", "PK.33"} <= report.tests()
    for f in report.findings:
        assert f.key, f
        assert f.message == tr(f.key, **f.message.params)  # English: the msgid filled in
    doc = json.loads(report.dumps())
    assert all(d["key"] for d in doc["findings"])
    assert {d["key"] for d in doc["findings"] if d["test"] == "PK.26"} == {"{path} is listed but missing from the bag"}


def test_the_summary_lines_are_made_through_tr(tmp_path):
    report = verify(_broken_bag(tmp_path / "bag"))
    head = report.summary_lines()[0]
    assert head.key == "Verified {path} ({kind}): INVALID: {errors} errors, {warnings} warnings"
    assert head.endswith(f": INVALID: {report.errors} errors, {report.warnings} warnings")
    assert report.summary_lines()[1].startswith("  error   PK.")


def test_every_pk_check_has_a_name_in_the_report():
    report = VerifyReport("x")
    for n in range(1, 37):
        assert report.check_name(f"PK.{n:02d}") == CHECK_NAMES[f"PK.{n:02d}"]
    assert report.check_name("PK.12") == "Documents against dokumentobjekt"
    assert report.check_name("XX.01") is None
    with language("nb"):  # the catalogue's bokmål where it is compiled, else the msgid: never None
        assert report.check_name("PK.13")


def test_the_html_report_names_the_pk_checks(tmp_path):
    html = verify(_broken_bag(tmp_path / "bag")).to_html()
    assert "Payload checksums" in html and "Listed files missing" in html


def test_merged_validation_findings_keep_their_key(tmp_path, monkeypatch):
    validation = pytest.importorskip("noarkpack.validation")
    made = tr("{count} things in {file}", count=2, file="a.xml")

    class Result:
        errors = 1
        findings = [Finding("N5.99", "error", made, {"file": "a.xml"}),
                    {"test": "NP.99", "severity": "warning", "message": "x in y", "key": "x in {where}",
                     "location": {}},
                    {"test": "NP.98", "severity": "info", "message": "plain", "location": {}}]

    monkeypatch.setattr(validation, "validate", lambda *a, **k: Result())
    report = VerifyReport(str(tmp_path / "p.tar"))
    verify_module._merge_validation(report, tmp_path / "p.tar")
    by_test = {f.test: f for f in report.findings}
    assert by_test["N5.99"].key == "{count} things in {file}" and by_test["N5.99"].message == "2 things in a.xml"
    assert by_test["NP.99"].key == "x in {where}" and by_test["NP.99"].message == "x in y"
    assert isinstance(by_test["NP.99"].message, Text)
    assert by_test["NP.98"].key is None and by_test["NP.98"].message == "plain"
    assert by_test["PK.18"].key == "content validated: {count} finding(s) from validate"


def test_errors_carry_their_key(tmp_path):
    with pytest.raises(PackagingError) as e:
        verify(tmp_path / "nope")
    assert e.value.message.key == "no such file or folder"
    with pytest.raises(PackagingError) as e:
        PackageMetadata().check()
    assert e.value.message.key == "the package metadata is incomplete: {problems}"
    assert e.value.hint.key == "`noarkpack package --metadata-template` prints a complete example"
    assert "at least one [[package.arkivskaper]] with 'navn' is required (ROLE=ARCHIVIST)" in e.value.message


def test_the_locate_note_and_error_are_whole_sentences(tmp_path):
    for name in ("one", "two"):
        with tarfile.open(tmp_path / f"{name}.tar", "w"):
            pass
        if name == "one":
            note = locate_package(tmp_path, verb="validate").note
            assert note.key == "{path} holds one package, {name}: validating it"
            assert note == f"{tmp_path} holds one package, one.tar: validating it"
    with pytest.raises(PackagingError) as e:
        locate_package(tmp_path)
    assert e.value.message.key == "the folder holds {count} packages ({names}): give the one to verify"
    assert e.value.hint == f"e.g. noarkpack verify {tmp_path / 'one.tar'}"
