"""The LoC BagIt conformance suite: verify's verdict equals the suite's expectation for every bag.

EXPECTED.tsv (../shared/reference/bagit-conformance) gives the suite's expectation
and bagit-python 1.9's verdicts.  Our verdict: "invalid" when any finding is an
error, otherwise valid.  Mapping of the suite's expectations:

* ``valid`` and ``valid-with-warning`` → valid (for the warning category we also
  require at least one warning finding: the suite says a validator SHOULD warn);
* ``invalid`` → invalid;
* ``invalid-on-windows-only`` → invalid: a deposit moves between platforms, so
  drive-letter, UNC and ``%HomeDrive%`` paths are refused everywhere.

Where bagit-python is wrong (v1.0 ``bagit-with-invalid-whitespace`` accepted; the
three warning bags it rejects on Linux), our verdict must still be the suite's.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from noarkpack.packaging import verify, verify_bag

SUITE = Path(__file__).resolve().parents[1].parent / "shared" / "reference" / "bagit-conformance"
VERDICT = {"valid": "valid", "valid-with-warning": "valid", "invalid": "invalid",
           "invalid-on-windows-only": "invalid"}


def _rows():
    with open(SUITE / "EXPECTED.tsv", encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f, delimiter="\t"))


ROWS = _rows()


@pytest.mark.parametrize("row", ROWS, ids=[f"{r['spec_version']}/{r['suite_category']}/{r['bag']}" for r in ROWS])
def test_verdict_matches_the_suite(row):
    bag = SUITE / row["spec_version"] / row["suite_category"] / row["bag"]
    report = verify_bag(bag)
    verdict = "invalid" if report.errors else "valid"
    assert verdict == VERDICT[row["suite_expects"]], [str(f) for f in report.findings]
    if row["suite_expects"] == "valid-with-warning":
        assert report.warnings, "the suite expects a warning"
    # verify() (the public entry point) says the same
    assert verify(bag, validate_content=False).ok == (verdict == "valid")


def test_we_disagree_with_bagit_python_exactly_where_it_is_wrong():
    differs = {f"{r['spec_version']}/{r['suite_category']}/{r['bag']}" for r in ROWS
               if VERDICT[r["suite_expects"]] != r["bagit_python_1_9_0_validate"]
               and r["suite_expects"] != "invalid-on-windows-only"}
    assert differs == {
        "v1.0/invalid/bagit-with-invalid-whitespace",
        "v0.97/warning/duplicate-file-with-different-case",
        "v0.97/warning/same-filename-listed-twice-with-different-normalization",
        "v0.97/warning/special-system-files",
    }


def test_per_file_reasons_even_when_the_oxum_fails():
    report = verify_bag(SUITE / "v0.97" / "invalid" / "corrupt-data-file")
    assert {"PK.27", "PK.29"} <= report.tests("error")  # bagit-python names only the Oxum
    report = verify_bag(SUITE / "v0.97" / "invalid" / "corrupt-tag-file")
    assert "PK.28" in report.tests("error")
