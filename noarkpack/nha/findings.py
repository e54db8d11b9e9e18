"""Findings of the NHA checks, in the shape of the validation report's findings.

``{"test": "NHA.05", "severity": "error"|"warning"|"info", "message": …,
"location": {"file": …, "line": …, "member": …, "journal": …}}``.  The NHA.* ids
are listed in docs/nha.md.  Messages never contain a fødselsnummer or a name:
records are named by their source keys (journalidentifikator) or file names.

A finding is the one :class:`noarkpack.findings.Finding`; what is NHA's own is its location keys
(member, journal; a key without a value is left out) and :class:`NhaReport`, the report of the checks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..findings import ERROR, INFO, SEVERITIES, WARNING, Finding
from ..packaging.findings import VerifyReport

__all__ = ["ERROR", "INFO", "SEVERITIES", "WARNING", "Finding", "NhaReport", "finding", "finding_json"]


def finding(test: str, severity: str, message: str, **location: Any) -> Finding:
    """An NHA.* finding; the location keys without a value are left out."""
    assert severity in SEVERITIES, severity
    assert test.startswith("NHA."), test
    return Finding(test, severity, message, {k: v for k, v in location.items() if v is not None})


def finding_json(f: Finding) -> dict[str, Any]:
    """The JSON object of an NHA finding: its own location keys, those without a value left out."""
    loc = {k: v for k, v in f.location.items() if v is not None}
    return {"test": f.test, "severity": f.severity, "message": f.message, "location": loc}


@dataclass
class NhaReport(VerifyReport):
    """The NHA checks of a deposit folder as a report (``validate`` and ``verify`` of an NHA deposit)."""

    kind: str = "nha-deposit"

    finding_json = staticmethod(finding_json)
