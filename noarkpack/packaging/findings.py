"""The report of ``verify``: its findings have the same shape as the validation report's.

A finding is ``{"test": "PK.08", "severity": "error"|"warning"|"info", "message": …,
"location": {"file": …, "line": …, "systemID": …}}``.  The PK.* ids are ours and are
documented in docs/packaging.md.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from typing import Any

from ..findings import ERROR, INFO, SEVERITIES, WARNING, Finding, Tally, finding_json

__all__ = ["ERROR", "INFO", "SEVERITIES", "WARNING", "Finding", "VerifyReport"]


@dataclass
class VerifyReport:
    """What ``verify`` found.  ``ok`` is True when no finding is an error."""

    path: str
    kind: str = "unknown"  # "dias-package" | "bag" | "bag+dias-package" ("nha-deposit": noarkpack.nha.NhaReport)
    findings: list[Finding] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)  # uuid, profile, files checked, bytes read…

    #: a finding's JSON object in this report (PK.*: the validation report's shape)
    finding_json = staticmethod(finding_json)

    def add(self, test: str, severity: str, message: str, *, file: str | None = None,
            line: int | None = None, systemID: str | None = None) -> Finding:
        assert severity in SEVERITIES, severity
        f = Finding(test, severity, message, {"file": file, "line": line, "systemID": systemID})
        self.findings.append(f)
        return f

    def extend(self, findings) -> None:
        self.findings.extend(findings)

    @property
    def errors(self) -> Tally:
        """How many errors: a count, iterable over the error findings (as the list it was)."""
        return Tally(f for f in self.findings if f.severity == ERROR)

    @property
    def warnings(self) -> Tally:
        """How many warnings: a count, iterable over the warning findings (as the list it was)."""
        return Tally(f for f in self.findings if f.severity == WARNING)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def verdict(self) -> str:
        """"valid", "valid-with-warning" or "invalid"."""
        if self.errors:
            return "invalid"
        return "valid-with-warning" if self.warnings else "valid"

    @property
    def exit_code(self) -> int:
        """0 no errors, 1 errors (2 is for "could not run": a PackagingError)."""
        return 0 if self.ok else 1

    def tests(self, severity: str | None = None) -> set[str]:
        return {f.test for f in self.findings if severity is None or f.severity == severity}

    def summary(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "kind": self.kind,
            "verdict": self.verdict,
            "errors": len(self.errors),
            "warnings": len(self.warnings),
            "info": sum(1 for f in self.findings if f.severity == INFO),
            **self.facts,
        }

    def summary_lines(self, limit: int = 20) -> list[str]:
        """A short terminal summary: the verdict and the first findings that are not info."""
        s = self.summary()
        lines = [f"Verified {self.path} ({self.kind}): {s['verdict'].upper()}: "
                 f"{s['errors']} errors, {s['warnings']} warnings"]
        shown = [f for f in self.findings if f.severity != INFO]
        for f in shown[:limit]:
            where = f.location.get("file") or ""
            lines.append(f"  {f.severity:7} {f.test:7} {f.message}" + (f" [{where}]" if where else ""))
        if len(shown) > limit:
            lines.append(f"  … and {len(shown) - limit} more (use --json for all)")
        return lines

    def to_json(self) -> dict[str, Any]:
        """The JSON document as a dict (as :meth:`noarkpack.validation.Report.to_json`)."""
        return {"findings": [self.finding_json(f) for f in self.findings], "summary": self.summary()}

    to_dict = to_json

    def dumps(self) -> str:
        return json.dumps(self.to_json(), ensure_ascii=False, indent=2, default=str)

    def to_html(self) -> str:
        rows = "\n".join(
            f"<tr class='{html.escape(f.severity)}'><td>{html.escape(f.test)}</td><td>{html.escape(f.severity)}</td>"
            f"<td>{html.escape(f.message)}</td><td>{html.escape(str(f.location.get('file') or ''))}</td></tr>"
            for f in self.findings)
        s = self.summary()
        return ("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>noarkpack verify</title></head>"
                f"<body><h1>noarkpack verify: {html.escape(s['verdict'])}</h1>"
                f"<p>{html.escape(str(s['path']))}: {s['errors']} errors, {s['warnings']} warnings</p>"
                "<table><tr><th>test</th><th>severity</th><th>message</th><th>file</th></tr>"
                f"{rows}</table></body></html>\n")
