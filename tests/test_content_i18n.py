"""Issue 20: every finding the content tests (N5.04–N5.64, NP.01–NP.03, NP.06–NP.08, NP.10) make is a
translated text that carries its msgid (``Finding.key``), on the bundled example and Arkade's samples."""

from __future__ import annotations

import pytest

from noarkpack.locale import placeholders
from noarkpack.validation import validate
from noarkpack.validation.content import TESTS

from .test_validation import SAMPLES, example_extract  # noqa: F401


def _unkeyed(report) -> list[str]:
    return [str(f) for f in report.findings if f.test in TESTS and f.key is None]


def test_example_content_findings_carry_their_key(example_extract, schema_store):  # noqa: F811
    report = validate(example_extract, store=schema_store)
    assert any(f.test in TESTS for f in report.findings)
    assert _unkeyed(report) == []
    for f in report.findings:
        if f.test in TESTS:
            assert "" not in placeholders(f.key), f.key  # named placeholders only


@pytest.mark.parametrize("sample", ["arkade-small", "arkade-checksums-correct"])
def test_sample_content_findings_carry_their_key(sample, schema_store):
    report = validate(SAMPLES / sample, store=schema_store)
    assert _unkeyed(report) == []
