"""The CLI edge: every command in README's table, one decorator for errors and exit codes, deposit --profile nha,
and the one report protocol (noarkpack.findings) that every report answers."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from noarkpack import cli
from noarkpack.findings import Finding, ReportLike, Tally

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()


def _commands() -> dict[str, object]:
    """Every command of the app, by its full name ("validate", "schemas install"), with its callback."""
    out = {}
    for c in cli.app.registered_commands:
        out[c.name or c.callback.__name__.replace("_", "-")] = c.callback
    for g in cli.app.registered_groups:
        for c in g.typer_instance.registered_commands:
            out[f"{g.name} {c.name or c.callback.__name__.replace('_', '-')}"] = c.callback
    return out


def _readme_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("| command | does | exit codes |", 1)[1].split("\n\n", 1)[0]
    names = []
    for row in re.findall(r"^\| `noarkpack ([^`]*)`", table, re.M):
        words = []
        for w in row.split():
            if not re.fullmatch(r"[a-z][a-z-]*", w):
                break
            words.append(w)
        names.append(" ".join(words))
    return names


def test_every_command_is_in_the_readme_table_and_every_row_is_a_command():
    commands = set(_commands())
    rows = _readme_commands()
    assert {"import", "analyse", "extract", "validate", "package", "verify", "deposit", "schemas install",
            "schemas list"} <= commands
    assert set(rows) == commands, (sorted(commands - set(rows)), sorted(set(rows) - commands))
    assert len(rows) == len(set(rows))


def test_every_command_goes_through_the_edge():
    for name, callback in _commands().items():
        assert getattr(callback, "__wrapped__", None) is not None, name


def test_an_unexpected_error_is_one_line_and_exit_2(monkeypatch, tmp_path):
    def boom(*a, **k):
        raise RuntimeError("secret detail")

    monkeypatch.setattr("noarkpack.pipeline.verify_path", boom)
    r = runner.invoke(cli.app, ["verify", str(tmp_path)], catch_exceptions=False)
    assert r.exit_code == 2
    assert r.output.strip() == "noarkpack: internal error: RuntimeError (run with --debug for details)"
    assert "secret detail" not in r.output


def test_progress_printer_shows_done_total_and_an_eta(monkeypatch, capsys):
    monkeypatch.setattr(cli.sys.stderr, "isatty", lambda: True, raising=False)
    monkeypatch.setitem(cli._state, "quiet", False)
    bar = cli.progress_printer()
    assert bar is not None
    bar("extract", 5, 10)
    bar("extract", 6, None)
    bar.done()
    err = capsys.readouterr().err
    assert "extract: 5/10" in err and "s left" in err and "extract: 6 (" in err
    from noarkpack.locale import language

    with language("nb"):  # the stage and the words in the run's language
        bar = cli.progress_printer()
        bar("extract", 5, 10)
        bar.done()
    err = capsys.readouterr().err
    assert "uttrekk: 5/10" in err and "s igjen" in err
    monkeypatch.setitem(cli._state, "quiet", True)
    assert cli.progress_printer() is None


def test_deposit_profile_nha(tmp_path):
    project = tmp_path / "sykehus"
    shutil.copytree(ROOT / "examples" / "sykehus", project, ignore=shutil.ignore_patterns(".noarkpack", "*.sqlite*"))
    r = runner.invoke(cli.app, ["deposit", str(project), "--profile", "nha", "--out", str(tmp_path / "out")],
                      catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert "Analysis of" in r.output and "NHA deposit:" in r.output and "packages:      12 (11 epj, 1 dok)" in r.output
    (deposit,) = (tmp_path / "out").iterdir()
    assert deposit.name.startswith("epjark-")
    r = runner.invoke(cli.app, ["verify", str(deposit), "--json", str(tmp_path / "v.json")], catch_exceptions=False)
    assert r.exit_code == 0, r.output
    assert json.loads((tmp_path / "v.json").read_text(encoding="utf-8"))["summary"]["kind"] == "nha-deposit"
    r = runner.invoke(cli.app, ["deposit", str(project), "--profile", "nha", "--bag", "--out", str(tmp_path / "o2")],
                      catch_exceptions=False)
    assert r.exit_code == 2 and "--bag is for the Arkivverket profiles" in r.output


def test_tally_is_a_count_that_iterates_over_its_findings():
    fs = [Finding("PK.12", "error", "a"), Finding("PK.02", "error", "b")]
    t = Tally(fs)
    assert t == 2 and isinstance(t, int) and len(t) == 2 and list(t) == fs and t[0] is fs[0]
    assert [f for f in t if f.test == "PK.12"] == fs[:1]
    assert f"{t}" == "2" and json.dumps({"errors": t}) == '{"errors": 2}'
    assert not Tally() and Tally() == 0


def _check(report) -> None:
    assert isinstance(report, ReportLike), type(report)
    assert isinstance(report.errors, int) and isinstance(report.warnings, int)
    assert report.exit_code in (0, 1)
    assert all(isinstance(line, str) for line in report.summary_lines())
    json.dumps(report.to_json(), default=str)
    assert "<html" in report.to_html().lower()


def test_every_report_answers_the_protocol(tmp_path):
    from noarkpack.nha import NhaReport
    from noarkpack.nha.findings import finding
    from noarkpack.packaging import VerifyReport
    from noarkpack.validation.report import Report

    v = Report("x", tests={"N5.01"})
    v.add("N5.01", "error", "m", file="f.xml", line=3)
    _check(v)
    assert v.errors == 1 and v.exit_code == 1

    vr = VerifyReport("p", kind="dias-package")
    vr.add("PK.12", "error", "checksum", file="a.tar", line=7)
    vr.add("PK.09", "warning", "w")
    _check(vr)
    assert type(vr.errors) is Tally and vr.errors == 1 and vr.warnings == 1
    assert vr.to_json()["findings"][0] == {"test": "PK.12", "severity": "error", "message": "checksum", "key": None,
                                           "location": {"file": "a.tar", "line": 7, "systemID": None}}
    assert vr.summary()["errors"] == 1

    nr = NhaReport("d")
    nr.extend([finding("NHA.05", "error", "bad", file="x.tar", member="m.xml", journal=None)])
    _check(nr)
    assert nr.kind == "nha-deposit" and nr.errors == 1
    assert nr.to_json()["findings"][0] == {"test": "NHA.05", "severity": "error", "message": "bad", "key": None,
                                           "location": {"file": "x.tar", "member": "m.xml"}}
    assert str(nr.findings[0]) == "NHA.05 error: bad [x.tar:m.xml]"


def test_analysis_and_nha_run_answer_the_protocol(tmp_path):
    from noarkpack.pipeline import analyse_project, package

    project = tmp_path / "sykehus"
    shutil.copytree(ROOT / "examples" / "sykehus", project, ignore=shutil.ignore_patterns(".noarkpack", "*.sqlite*"))
    a = analyse_project(project, show_identifiers=True, identify_formats=False)
    _check(a)
    assert a.errors == 0 and a.warnings == 2
    a.add("AN.11", "blocking", "missing", file="e.jsonl", line=2, record="journal 1", identifiers={"fil": "x"})
    a.findings.insert(0, a.findings.pop())
    assert a.errors == a.blocking == 1 and a.findings[0].code == "AN.11"
    assert a.to_json()["findings"][0] == {"code": "AN.11", "severity": "blocking", "message": "missing", "key": None,
                                          "location": {"file": "e.jsonl", "line": 2, "record": "journal 1"},
                                          "identifiers": {"fil": "x"}}

    run = package(ROOT / "examples" / "sykehus", tmp_path / "n", profile="nha")
    _check(run)
    assert run.errors == 0 and run.warnings == len(run.result.warnings) and run.exit_code == 0
    assert run.summary_lines()[0].startswith("NHA deposit: ")


def test_old_finding_paths_are_the_one_finding():
    from noarkpack.analysis import Finding as A
    from noarkpack.nha import Finding as N
    from noarkpack.packaging import Finding as P
    from noarkpack.validation import Finding as V

    assert A is N is P is V is Finding


@pytest.mark.parametrize("profile", ["x"])
def test_deposit_refuses_an_unknown_profile(tmp_path, profile):
    r = runner.invoke(cli.app, ["deposit", str(ROOT / "examples" / "omsorg"), "--profile", profile, "--out",
                                str(tmp_path / "o")], catch_exceptions=False)
    assert r.exit_code == 2 and "unknown profile" in r.output and not (tmp_path / "o").exists()


def test_import_report_answers_the_protocol(tmp_path):
    from noarkpack.pipeline import import_project
    from noarkpack.sources.import_report import ImportReport

    project = tmp_path / "omsorg"
    shutil.copytree(ROOT / "examples" / "omsorg", project, ignore=shutil.ignore_patterns(".noarkpack", "*.sqlite*"))
    report = import_project(project)
    assert type(report) is ImportReport
    _check(report)
    assert report.errors == 0 and report.exit_code == 0


def test_nha_package_reports_progress_in_the_one_shape(tmp_path):
    """The NHA builder takes the same progress callback as every other stage: (stage, done, total or None)."""
    from noarkpack.pipeline import package_nha

    project = tmp_path / "sykehus"
    shutil.copytree(ROOT / "examples" / "sykehus", project, ignore=shutil.ignore_patterns(".noarkpack", "*.sqlite*"))
    seen = []
    run = package_nha(project, tmp_path / "out", progress=lambda stage, done, total=None: seen.append((stage, done,
                                                                                                        total)))
    assert run.exit_code == 0 and seen
    assert {s for s, _, _ in seen} == {"journaler"} and all(t is None for _, _, t in seen)
    done = [d for _, d, _ in seen]
    assert done == sorted(set(done)) and done[0] >= 1  # journals read so far: only ever growing
