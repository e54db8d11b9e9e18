"""Findings of the NHA checks, in the shape of the validation report's findings.

``{"test": "NHA.05", "severity": "error"|"warning"|"info", "message": …,
"location": {"file": …, "line": …, "member": …, "journal": …}}``.  The NHA.* ids
are listed in docs/nha.md.  Messages never contain a fødselsnummer or a name:
records are named by their source keys (journalidentifikator) or file names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..packaging.findings import ERROR, INFO, SEVERITIES, WARNING
from ..packaging.findings import Finding as _Finding

__all__ = ["ERROR", "INFO", "SEVERITIES", "WARNING", "Finding", "finding"]


@dataclass
class Finding(_Finding):
    """A finding of the NHA checks: the shared shape, with NHA's own location keys (member, journal) kept."""

    def __post_init__(self) -> None:
        assert self.severity in SEVERITIES, self.severity
        assert self.test.startswith("NHA."), self.test

    def to_dict(self) -> dict[str, Any]:
        loc = {k: v for k, v in self.location.items() if v is not None}
        return {"test": self.test, "severity": self.severity, "message": self.message, "location": loc}

    to_json = to_dict  # type: ignore[assignment]

    def __str__(self) -> str:
        where = self.location.get("file")
        member = self.location.get("member")
        if member:
            where = f"{where}:{member}" if where else member
        line = self.location.get("line")
        if line:
            where = f"{where}:{line}"
        return f"{self.test} {self.severity}: {self.message}" + (f" [{where}]" if where else "")


def finding(test: str, severity: str, message: str, **location: Any) -> Finding:
    return Finding(test, severity, message, {k: v for k, v in location.items() if v is not None})
