"""Fuzzing the readers: no input makes them fail with anything but a noarkpack error or a finding."""

from __future__ import annotations

import io
import json
import shutil
import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from noarkpack import ExtractWriter
from noarkpack.errors import NoarkpackError
from noarkpack.sources.jsonl import parse_journal, read_journals
from noarkpack.validation import validate
from noarkpack.validation.addml import read_addml

from . import builders

EXAMPLE_LINE = json.loads(
    (Path(__file__).resolve().parents[1] / "examples" / "sykehus" / "journals.jsonl")
    .read_text(encoding="utf-8").splitlines()[0])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=20)


@given(json_values)
def test_any_json_line_is_a_journal_or_a_source_error(value):
    try:
        parse_journal(value, Path("j.jsonl"), 1)
    except NoarkpackError:
        pass


def _mutations(obj):
    """A real journal with one key removed, retyped or replaced."""
    keys = st.sampled_from(sorted(obj))
    return st.tuples(keys, json_values)


@given(_mutations(EXAMPLE_LINE))
def test_a_real_journal_with_one_field_broken(mutation):
    key, value = mutation
    obj = dict(EXAMPLE_LINE)
    obj[key] = value
    try:
        j = parse_journal(obj, Path("j.jsonl"), 7)
        j.check()
    except NoarkpackError as e:
        assert "j.jsonl:7" in str(e)


@given(st.binary(max_size=400))
def test_any_bytes_as_a_source_file(data):
    with tempfile.TemporaryDirectory() as tmp:
        p = Path(tmp) / "j.jsonl"
        p.write_bytes(data)
        try:
            for _ in read_journals(p):
                pass
        except NoarkpackError:
            pass


ADDML = (Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "noark5" / "examples"
         / "synthetic-v5.0" / "arkivuttrekk.xml").read_bytes()


@given(st.binary(max_size=300) | st.builds(lambda i, b: ADDML[:i] + b + ADDML[i + len(b):],
                                           st.integers(0, len(ADDML)), st.binary(min_size=1, max_size=8)))
def test_addml_reader_never_crashes(data):
    info = read_addml(io.BytesIO(data))
    assert info is not None


_BASE: dict[str, Path] = {}


def _valid_extract() -> Path:
    if "x" not in _BASE:
        base = Path(tempfile.mkdtemp(prefix="noarkpack-fuzz-"))
        docs = base / "docs"
        docs.mkdir()
        with ExtractWriter(base / "out", builders.settings(docs)) as w:
            w.add(builders.journal("J1", "P1", docs))
        _BASE["x"] = base / "out" / "avleveringspakke"
    return _BASE["x"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(["arkivstruktur.xml", "arkivuttrekk.xml", "endringslogg.xml", "loependeJournal.xml"]),
       st.floats(0, 1), st.binary(min_size=1, max_size=16))
def test_validate_survives_any_corruption(name, where, junk):
    with tempfile.TemporaryDirectory() as tmp:
        pkg = Path(tmp) / "avleveringspakke"
        shutil.copytree(_valid_extract(), pkg)
        data = (pkg / name).read_bytes()
        i = int(where * len(data))
        (pkg / name).write_bytes(data[:i] + junk + data[i + len(junk):])
        report = validate(pkg, identify_formats=False)
        assert report.exit_code in (0, 1)
