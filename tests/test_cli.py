"""The command line: exit codes, one clear line for bad input, and no identifying data on the screen."""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from noarkpack.cli import app

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "omsorg"
runner = CliRunner()


def run(*args: str):
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, result.stdout + (result.stderr if result.stderr_bytes is not None else "")


@pytest.fixture(scope="module")
def example_copy(tmp_path_factory) -> Path:
    """A private copy of the example project (commands may write caches or databases into it)."""
    dst = tmp_path_factory.mktemp("cli") / "omsorg"
    shutil.copytree(EXAMPLE, dst, ignore=shutil.ignore_patterns(".noarkpack", "*.sqlite*"))
    return dst


def _bad_cases(tmp: Path) -> list[tuple[str, list[str], str]]:
    (tmp / "file.txt").write_text("not a project", encoding="utf-8")
    (tmp / "rnd").mkdir()
    (tmp / "rnd" / "arkivstruktur.xml").write_bytes(os.urandom(4000))
    (tmp / "badtoml").mkdir()
    (tmp / "badtoml" / "noarkpack.toml").write_text("[project\nname = 1\n", encoding="utf-8")
    (tmp / "notable").mkdir()
    (tmp / "notable" / "noarkpack.toml").write_text('[project]\nname = "x"\nsource = "j.jsonl"\n', encoding="utf-8")
    (tmp / "empty").mkdir()
    return [
        ("missing project folder", ["extract", str(tmp / "nope"), "--out", str(tmp / "o1")], "does not exist"),
        ("a file where a folder is expected", ["extract", str(tmp / "file.txt"), "--out", str(tmp / "o2")],
         "noarkpack.toml"),
        ("malformed noarkpack.toml", ["extract", str(tmp / "badtoml"), "--out", str(tmp / "o3")], "TOML"),
        ("noarkpack.toml without tables", ["extract", str(tmp / "notable"), "--out", str(tmp / "o4")], "missing"),
        ("folder without noarkpack.toml", ["extract", str(tmp / "empty"), "--out", str(tmp / "o5")],
         "noarkpack.toml"),
        ("validate a missing path", ["validate", str(tmp / "nope")], "nope"),
        ("verify a missing path", ["verify", str(tmp / "nope")], "nope"),
        ("verify a folder with no package", ["verify", str(tmp / "rnd")], "not a package"),
        ("package without --out", ["package", str(tmp / "empty")], "--out"),
        ("unknown package profile", ["package", str(EXAMPLE), "--profile", "x", "--out", str(tmp / "o6")], "profile"),
    ]


def test_bad_input_gives_one_clear_line_and_exit_2(tmp_path):
    for name, args, expect in _bad_cases(tmp_path):
        code, out = run(*args)
        assert code == 2, (name, code, out)
        lines = [line for line in out.strip().splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("noarkpack: error:"), (name, out)
        assert expect in lines[0], (name, lines[0])
        assert "Traceback" not in out


def test_random_bytes_named_arkivstruktur_are_findings_not_a_crash(tmp_path):
    (tmp_path / "arkivstruktur.xml").write_bytes(os.urandom(4000))
    code, out = run("validate", str(tmp_path), "--no-identify")
    assert code == 1 and "FAILED" in out and "Traceback" not in out


def test_debug_shows_the_traceback(tmp_path):
    r = subprocess.run([sys.executable, "-m", "noarkpack.cli", "--debug", "extract", str(tmp_path / "nope"),
                        "--out", str(tmp_path / "o")], capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" in r.stderr and "noarkpack: error:" in r.stderr


def test_full_disk_is_one_clear_line(example_copy, tmp_path, monkeypatch):
    import noarkpack.documents as documents

    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp_path / "out"))

    monkeypatch.setattr(documents, "copy_and_hash", full)
    monkeypatch.setattr("noarkpack.noark5.writer.copy_and_hash", full)
    code, out = run("extract", str(example_copy), "--out", str(tmp_path / "out"))
    assert code == 2 and "the disk is full" in out
    assert not (tmp_path / "out" / "avleveringspakke").exists()
    assert not any(p.name.startswith(".avleveringspakke") for p in (tmp_path / "out").iterdir())


def _identifiers() -> set[str]:
    """Every fødselsnummer and name of the example."""
    found: set[str] = set()
    text = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in EXAMPLE.rglob("*.jsonl"))
    for line in text.splitlines():
        if not line.strip():
            continue
        j = json.loads(line)
        p = j.get("pasient", {})
        for key in ("fodselsnummer", "navn"):
            if p.get(key):
                found.add(p[key])
    found |= set(re.findall(r"\b\d{11}\b", text))
    return found


def test_no_identifying_data_on_screen(tmp_path):
    """import, analyse, extract, validate, package, verify and deposit on the example print none of its
    fødselsnummer or names (nor do the default analysis reports)."""
    # its own copy: the module's shared one may hold conversions made by an earlier test (the extract of
    # test_full_disk_is_one_clear_line converts before its copies fail), and this test counts new ones
    example_copy = tmp_path / "omsorg"
    shutil.copytree(EXAMPLE, example_copy, ignore=shutil.ignore_patterns(".noarkpack", "*.sqlite*"))
    ids = _identifiers()
    assert len(ids) > 40
    outputs = []
    for args in (["import", str(example_copy)],
                 ["analyse", str(example_copy), "--json", str(tmp_path / "a.json"), "--html", str(tmp_path / "a.html")],
                 ["extract", str(example_copy), "--out", str(tmp_path / "x")],
                 ["validate", str(tmp_path / "x" / "avleveringspakke")],
                 ["package", str(example_copy), "--out", str(tmp_path / "p")],
                 ["verify", str(tmp_path / "p")],
                 ["deposit", str(example_copy), "--out", str(tmp_path / "d")]):
        code, out = run(*args)
        assert code == 0, (args, out)
        outputs.append(out)
    screen = "\n".join(outputs)
    screen += (tmp_path / "a.json").read_text(encoding="utf-8") + (tmp_path / "a.html").read_text(encoding="utf-8")
    leaked = sorted(i for i in ids if i in screen)
    assert not leaked, f"{len(leaked)} identifiers on screen"
    # the example's six legacy documents are converted (into the copy's own cache, which package reuses)
    assert re.search(r"converted to PDF/A:\s+6 \(\d new", outputs[2]), outputs[2]
    assert len(list((example_copy / ".noarkpack" / "konvertert").glob("*.pdf"))) == 6


def test_package_twice_gives_the_same_tar(example_copy, tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1709290800")  # the package time fixed on purpose (noarkpack.clock)
    digests = []
    for n in (1, 2):
        code, out = run("package", str(example_copy), "--out", str(tmp_path / f"p{n}"))
        assert code == 0, out
        (tar,) = (tmp_path / f"p{n}").glob("*.tar")
        digests.append(re.search(r"SHA-256: ([0-9a-f]{64})", out).group(1))
        import hashlib

        assert hashlib.sha256(tar.read_bytes()).hexdigest() == digests[-1]
    assert digests[0] == digests[1]


def test_validate_writes_json_html_and_junit(example_copy, tmp_path):
    code, _ = run("extract", str(example_copy), "--out", str(tmp_path / "x"))
    assert code == 0
    code, out = run("validate", str(tmp_path / "x"), "--json", str(tmp_path / "r.json"),
                    "--html", str(tmp_path / "r.html"), "--junit", str(tmp_path / "r.junit.xml"))
    assert code == 0, out
    data = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert set(data) >= {"findings", "summary"}
    assert all({"test", "severity", "message", "location"} <= set(f) for f in data["findings"])
    assert "<html" in (tmp_path / "r.html").read_text(encoding="utf-8").lower()
    from lxml import etree

    suite = etree.parse(str(tmp_path / "r.junit.xml")).getroot()
    assert suite.xpath("count(//testcase)") >= 54


def test_schemas_install_refuses_an_empty_source(tmp_path, monkeypatch):
    monkeypatch.setenv("NOARKPACK_SCHEMA_DIR", str(tmp_path / "store"))
    (tmp_path / "empty").mkdir()
    code, out = run("schemas", "install", "--from", str(tmp_path / "empty"), "--no-download")
    assert code == 2 and "missing" in out


def test_nha_package_verify_and_validate(tmp_path):
    code, out = run("package", str(ROOT / "examples" / "sykehus"), "--profile", "nha", "--out", str(tmp_path / "n"))
    assert code == 0, out
    (deposit,) = (tmp_path / "n").iterdir()
    for cmd in ("verify", "validate"):
        code, out = run(cmd, str(deposit), "--json", str(tmp_path / f"{cmd}.json"))
        assert code == 0, out
        data = json.loads((tmp_path / f"{cmd}.json").read_text(encoding="utf-8"))
        assert data["summary"]["errors"] == 0
    tar = sorted(deposit.glob("*.tar"))[0]
    data = bytearray(tar.read_bytes())
    data[len(data) // 2] ^= 0xFF
    tar.write_bytes(bytes(data))
    code, out = run("verify", str(deposit))
    assert code == 1 and "INVALID" in out


def test_relative_paths_work(example_copy, tmp_path, monkeypatch):
    """Archivists type relative paths: every command must take them."""
    monkeypatch.chdir(example_copy.parent)
    name = example_copy.name
    for args in (["extract", name, "--out", "rel-x"], ["validate", "rel-x"], ["validate", "rel-x/avleveringspakke"],
                 ["package", name, "--out", "rel-p"], ["verify", "rel-p"],
                 ["package", "rel-x", "--out", "rel-p2", "--metadata", f"{name}/noarkpack.toml"]):
        code, out = run(*args)
        assert code == 0, (args, out)


def test_help_shows_the_standards_brackets():
    """Option help names TOML tables as users write them ([package]); no markup may eat the brackets."""
    code, out = run("package", "--help")
    assert code == 0
    assert "[package] table" in " ".join(out.split())
