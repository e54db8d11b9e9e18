"""``verify DIR`` / ``validate DIR`` on the --out folder that package/deposit wrote (issue 20 point 5, first bullet).

Real package outputs: a SIP and an AIP built from a small extract written by noarkpack, a bag, and the NHA
deposit of examples/sykehus.  One package in the folder: it is used, and the first summary line says which.
Several: exit 2, listing them.  A folder that holds an extract stays an extract for validate.
"""

from __future__ import annotations

import shutil
import tomllib
from pathlib import Path

import pytest
from typer.testing import CliRunner

from noarkpack.cli import app
from noarkpack.nha import run_nha_package
from noarkpack.packaging import PackageMetadata, PackagingError, build_package, metadata_template
from noarkpack.packaging.locate import FoundReport, locate_package
from noarkpack.pipeline import validate_path, verify_path
from noarkpack.validation import Report

from .test_packaging import _tiny_extract

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


@pytest.fixture(scope="module")
def small(tmp_path_factory, schema_store) -> Path:
    return _tiny_extract(tmp_path_factory.mktemp("small"), schema_store)


@pytest.fixture(scope="module")
def meta() -> PackageMetadata:
    m = PackageMetadata.from_toml(tomllib.loads(metadata_template()))
    m.check()
    return m


@pytest.fixture(scope="module")
def sip_out(tmp_path_factory, small, meta, schema_store) -> Path:
    out = tmp_path_factory.mktemp("sip-out")
    build_package(small, out, profile="arkivverket-sip", metadata=meta, store=schema_store)
    return out


@pytest.fixture(scope="module")
def aip_out(tmp_path_factory, small, meta, schema_store) -> Path:
    out = tmp_path_factory.mktemp("aip-out")
    build_package(small, out, profile="arkivverket-aip", metadata=meta, store=schema_store)
    return out


@pytest.fixture(scope="module")
def bag_out(tmp_path_factory, small, meta, schema_store) -> Path:
    out = tmp_path_factory.mktemp("bag-parent") / "bag"
    build_package(small, out, profile="arkivverket-sip", metadata=meta, store=schema_store, bag=True)
    return out


@pytest.fixture(scope="module")
def nha_out(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("nha-out")
    run_nha_package(ROOT / "examples" / "sykehus", out)
    return out


def _one(folder: Path, pattern: str) -> Path:
    [p] = sorted(folder.glob(pattern))
    return p


def test_verify_and_validate_find_the_one_sip_in_the_out_folder(sip_out):
    tar = _one(sip_out, "*.tar")
    report = verify_path(sip_out)
    assert isinstance(report, FoundReport)
    assert report.summary_lines()[0] == f"{sip_out} holds one package, {tar.name}: verifying it"
    assert report.summary_lines()[1].startswith(f"Verified {tar}")
    assert report.exit_code == 0 and report.errors == 0
    assert report.path == str(tar) and report.to_json() == report.report.to_json()  # the tar's own report
    checked = validate_path(sip_out, identify_formats=False)
    assert isinstance(checked.report, Report)
    assert checked.summary_lines()[0] == f"{sip_out} holds one package, {tar.name}: validating it"
    assert checked.errors == 0 and checked.facts["version"] == "5.0"


def test_the_aip_out_folder_and_its_xml_alone(aip_out):
    tar = _one(aip_out, "*.tar")
    assert locate_package(aip_out).path == tar and locate_package(aip_out).kind == "dias-package"
    # the .xml given (as before) is the package: no note
    given = verify_path(tar.with_suffix(".xml"), validate_content=False)
    assert not isinstance(given, FoundReport) and given.exit_code == 0


def test_a_bag_is_verified_as_a_bag_and_validated_through_its_payload(bag_out):
    report = verify_path(bag_out, validate_content=False)
    assert not isinstance(report, FoundReport) and report.kind == "bag+dias-package" and report.exit_code == 0
    tar = _one(bag_out / "data", "*.tar")
    checked = validate_path(bag_out, identify_formats=False)
    assert checked.summary_lines()[0] == f"{bag_out} is a bag: validating its package data/{tar.name}"
    assert checked.errors == 0
    # the folder around the bag
    assert locate_package(bag_out.parent).path == bag_out
    assert locate_package(bag_out.parent, verb="validate").path == tar


def test_the_nha_out_folder_gives_its_one_deposit(nha_out):
    deposit = _one(nha_out, "epjark-*")
    report = verify_path(nha_out)
    assert report.summary_lines()[0] == f"{nha_out} holds one NHA deposit, {deposit.name}/: verifying it"
    assert report.exit_code == 0
    assert validate_path(nha_out).summary_lines()[0].endswith(": validating it")


def test_several_packages_are_listed_and_the_user_told_which_to_give(tmp_path, sip_out, aip_out, nha_out):
    both = tmp_path / "out"
    both.mkdir()
    for src in (sip_out, aip_out):
        for f in src.iterdir():
            shutil.copy2(f, both / f.name)
    shutil.copytree(_one(nha_out, "epjark-*"), both / _one(nha_out, "epjark-*").name)
    with pytest.raises(PackagingError) as err:
        verify_path(both)
    text = str(err.value)
    assert "the folder holds 3 packages" in text
    for name in [p.name for p in both.glob("*.tar")] + [_one(nha_out, "epjark-*").name + "/"]:
        assert name in text
    assert "give the one to verify" in text and "noarkpack verify " in text
    r = runner.invoke(app, ["verify", str(both)])
    assert r.exit_code == 2 and "3 packages" in r.output
    r = runner.invoke(app, ["validate", str(both)])
    assert r.exit_code == 2 and "give the one to validate" in r.output


def test_the_cli_says_which_package_in_one_line(sip_out):
    r = runner.invoke(app, ["verify", str(sip_out), "--no-content"])
    assert r.exit_code == 0, r.output
    lines = r.output.splitlines()
    assert lines[0].endswith(": verifying it") and lines[1].startswith("Verified ")


def test_an_extract_folder_stays_an_extract_for_validate(tmp_path, small, sip_out):
    mixed = tmp_path / "mixed"
    shutil.copytree(small, mixed / "avleveringspakke")
    for f in sip_out.iterdir():
        shutil.copy2(f, mixed / f.name)
    assert locate_package(mixed, verb="validate").path == mixed  # the extract, as before
    assert locate_package(mixed, verb="verify").path == _one(mixed, "*.tar")


def test_a_folder_without_packages_keeps_its_old_answer(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / ".noarkpack.partial-x").mkdir()  # an unfinished run is not a package
    with pytest.raises(PackagingError, match="not a package"):
        verify_path(empty)
