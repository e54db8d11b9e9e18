"""Fuzzing the import: no CSV row and no mapping makes it fail with anything but a noarkpack error."""

from __future__ import annotations

import tempfile
import tomllib
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from noarkpack.errors import NoarkpackError
from noarkpack.pipeline import import_project
from noarkpack.project import load_project

from .test_import import NOTAT, TOML, write_project

FUZZ = settings(max_examples=int(__import__("os").environ.get("NOARKPACK_FUZZ_EXAMPLES", "30")), deadline=None, suppress_health_check=[HealthCheck.too_slow])
cell = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=20)


def _import(root: Path) -> None:
    try:
        import_project(load_project(root, auto_import=False))
    except NoarkpackError:
        pass


@FUZZ
@given(st.lists(st.lists(cell, min_size=0, max_size=9), min_size=1, max_size=5))
def test_any_csv_rows(rows):
    text = NOTAT + "".join(";".join(r) + "\r\n" for r in rows)
    with tempfile.TemporaryDirectory() as tmp:
        try:
            data = text.encode("cp1252")
        except UnicodeEncodeError:
            data = text.encode("utf-8")  # not Windows-1252: the import must say so, not crash
        _import(write_project(Path(tmp) / "p", notat=data))


def _toml_value():
    return st.recursive(st.none().map(lambda _: "") | st.booleans() | st.integers(-5, 5) | cell,
                        lambda c: st.lists(c, max_size=3) | st.dictionaries(cell, c, max_size=3), max_leaves=6)


def _dump(obj, prefix=""):
    """A small TOML writer for the mutated mapping (inline tables and arrays where needed)."""
    import json

    def val(v):
        if isinstance(v, bool):
            return "true" if v else "false"
        if isinstance(v, (int, float)):
            return str(v)
        if isinstance(v, str):
            return json.dumps(v, ensure_ascii=False)
        if isinstance(v, list):
            return "[" + ", ".join(val(x) for x in v) + "]"
        if isinstance(v, dict):
            return "{" + ", ".join(f"{json.dumps(k, ensure_ascii=False)} = {val(x)}" for k, x in v.items()) + "}"
        return json.dumps(str(v))

    return "\n".join(f"{json.dumps(k, ensure_ascii=False)} = {val(v)}" for k, v in obj.items())


IMPORT = tomllib.loads(TOML)["import"]
KEYS = [("encoding",), ("delimiter",), ("date_format",), ("datetime_format",), ("values",),
        ("file", 0, "path"), ("file", 0, "table"), ("file", 0, "columns"), ("file", 2, "columns", "tittel"),
        ("file", 3, "join"), ("file", 1, "columns", "arkivskaper")]


@FUZZ
@given(st.sampled_from(KEYS), _toml_value())
def test_any_mapping_value(path, value):
    import copy

    table = copy.deepcopy(IMPORT)
    node = table
    for k in path[:-1]:
        node = node[k]
    node[path[-1]] = value
    head = TOML.split("[import]")[0]
    text = head + "[import]\n" + _dump({k: v for k, v in table.items() if k != "file"})
    for f in table["file"]:
        text += "\n\n[[import.file]]\n" + _dump(f)
    with tempfile.TemporaryDirectory() as tmp:
        _import(write_project(Path(tmp) / "p", toml=text))


def test_the_fuzzed_mapping_form_is_a_working_mapping(tmp_path):
    """The written-back mapping imports cleanly when nothing is changed: the fuzz starts from a good file."""
    head = TOML.split("[import]")[0]
    text = head + "[import]\n" + _dump({k: v for k, v in IMPORT.items() if k != "file"})
    for f in IMPORT["file"]:
        text += "\n\n[[import.file]]\n" + _dump(f)
    report = import_project(load_project(write_project(tmp_path / "p", toml=text), auto_import=False))
    assert report.exit_code == 0 and report.counts["innslag"] == 3
