"""README.md stays true: its library snippet runs, and its two commands are the ones CI uses."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_library_snippet_runs(tmp_path):
    section = README.split("## The library", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    # a copy of the example: the snippet writes the staging database and the cache of converted documents
    # into the project folder, never into the repository
    shutil.copytree(ROOT / "examples" / "omsorg", tmp_path / "examples" / "omsorg",
                    ignore=shutil.ignore_patterns(".noarkpack", "*.sqlite*"))
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    numbers = [int(n) for n in r.stdout.split()]
    assert len(numbers) == 4 and numbers[0] > 0 and numbers[2] > 0
    assert (tmp_path / "out-lib" / "avleveringspakke" / "arkivstruktur.xml").is_file()
    assert len(list((tmp_path / "examples" / "omsorg" / ".noarkpack" / "konvertert").glob("*.pdf"))) == 6


def test_ci_runs_the_readme_test_command():
    commands = re.findall(r"```sh\n(.*?)```", README, re.S)
    assert len(commands) == 2, "README gives exactly two commands"
    test_command = commands[1].strip()
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test_command in ci.splitlines()
