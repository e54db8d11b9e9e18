"""The report of ``verify``: its findings have the same shape as the validation report's.

A finding is ``{"test": "PK.08", "severity": "error"|"warning"|"info", "message": …,
"location": {"file": …, "line": …, "systemID": …}}``.  The PK.* ids are ours and are
documented in docs/packaging.md.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from ..findings import ERROR, INFO, SEVERITIES, WARNING, Finding, Tally, finding_json
from ..locale import N_, current, tr

__all__ = ["ERROR", "INFO", "SEVERITIES", "WARNING", "CHECK_NAMES", "Finding", "VerifyReport"]

#: what each PK.* check checks (docs/packaging.md has the full table); translated where shown (``tr(name)``)
CHECK_NAMES = {
    "PK.01": N_("Unsafe member names"),
    "PK.02": N_("Link members"),
    "PK.03": N_("Special file members"),
    "PK.04": N_("Members occurring twice"),
    "PK.05": N_("Over-long member names"),
    "PK.06": N_("The tar against the submission description"),
    "PK.07": N_("dias-mets.xml against the submission description"),
    "PK.08": N_("Files against dias-mets.xml"),
    "PK.09": N_("Files listed in dias-mets.xml but missing"),
    "PK.10": N_("Files not listed in dias-mets.xml"),
    "PK.11": N_("XML and XSD files against the ADDML"),
    "PK.12": N_("Documents against dokumentobjekt"),
    "PK.13": N_("Package layout"),
    "PK.14": N_("Package identity"),
    "PK.15": N_("DIAS schemas"),
    "PK.16": N_("Unreadable files"),
    "PK.17": N_("Not checked"),
    "PK.18": N_("Content validation"),
    "PK.19": N_("documentfile-formatinfo.csv"),
    "PK.20": N_("bagit.txt"),
    "PK.21": N_("Payload manifests"),
    "PK.22": N_("Manifest lines"),
    "PK.23": N_("Unsafe manifest paths"),
    "PK.24": N_("Paths listed twice"),
    "PK.25": N_("Payload files missing from a manifest"),
    "PK.26": N_("Listed files missing"),
    "PK.27": N_("Payload checksums"),
    "PK.28": N_("Tag manifests"),
    "PK.29": N_("Payload-Oxum"),
    "PK.30": N_("bag-info.txt"),
    "PK.31": N_("fetch.txt"),
    "PK.32": N_("Non-canonical manifest paths"),
    "PK.33": N_("Operating-system junk files"),
    "PK.34": N_("Links and special files in the bag"),
    "PK.35": N_("Payload files differing only in Unicode normalisation"),
    "PK.36": N_("Names differing only in letter case"),
}

#: a severity as the terminal summary shows it
SEVERITY_LABELS = {ERROR: N_("error"), WARNING: N_("warning"), INFO: N_("info")}


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
        counts = dict(path=self.path, kind=self.kind, errors=s["errors"], warnings=s["warnings"])
        if s["verdict"] == "invalid":
            head = tr("Verified {path} ({kind}): INVALID: {errors} errors, {warnings} warnings", **counts)
        elif s["verdict"] == "valid-with-warning":
            head = tr("Verified {path} ({kind}): VALID-WITH-WARNING: {errors} errors, {warnings} warnings", **counts)
        else:
            head = tr("Verified {path} ({kind}): VALID: {errors} errors, {warnings} warnings", **counts)
        lines = [head]
        shown = [f for f in self.findings if f.severity != INFO]
        labels = {s: tr(label) for s, label in SEVERITY_LABELS.items()}
        width = max(len(label) for label in labels.values())  # 7 in English ("warning")
        for f in shown[:limit]:
            where = f.location.get("file") or ""
            label = labels.get(f.severity, f.severity)
            lines.append(f"  {label:{width}} {f.test:7} {f.message}" + (f" [{where}]" if where else ""))
        if len(shown) > limit:
            lines.append(tr("  … and {count} more (use --json for all)", count=len(shown) - limit))
        return lines

    def to_json(self) -> dict[str, Any]:
        """The JSON document as a dict (as :meth:`noarkpack.validation.Report.to_json`)."""
        return {"findings": [self.finding_json(f) for f in self.findings], "summary": self.summary()}

    to_dict = to_json

    def dumps(self) -> str:
        return json.dumps(self.to_json(), ensure_ascii=False, indent=2, default=str)

    def check_name(self, test: str) -> str | None:
        """A check's name for the HTML report, in the current language: what a PK.* check checks, Arkade's (or
        our) name of an N5/NP test, else None."""
        if test in CHECK_NAMES:
            return tr(CHECK_NAMES[test])
        if test.startswith(("N5.", "NP.")):
            from ..validation import catalogue  # the validation run verify merges (packaging sits above it)

            if test in catalogue.TESTS:
                lang = current() if current() in catalogue.LANGUAGES else "en"
                return catalogue.arkade_name(test, lang, self.facts.get("version")) or tr(catalogue.get(test).name)
        return None

    def to_html(self, first: int = 20, top: int = 3) -> str:
        """A self-contained HTML report (templates/verify-report.html.j2): the verdict, the checks with errors or
        warnings (their counts and first ``top`` findings; issue 23), what was checked, then each check's first
        ``first`` findings, those with infos only folded."""

        from ..resources import html_environment

        env = html_environment()
        checks: dict[str, dict] = {}  # in the order of their first finding
        for f in self.findings:
            c = checks.get(f.test)
            if c is None:
                c = checks[f.test] = {"id": f.test, "name": self.check_name(f.test), "findings": [],
                                      "counts": {s: 0 for s in SEVERITIES}}
            c["counts"][f.severity] += 1
            if len(c["findings"]) < first:
                c["findings"].append(f)
        for c in checks.values():
            c["findings"].sort(key=lambda f: SEVERITIES.index(f.severity))  # errors first (a stable sort)
            c["top"] = [f for f in c["findings"] if f.severity != INFO][:top]
            c["more"] = sum(c["counts"].values()) - len(c["findings"])
        attention = sorted((c for c in checks.values() if c["counts"][ERROR] or c["counts"][WARNING]),
                           key=lambda c: (not c["counts"][ERROR], list(checks).index(c["id"])))
        quiet = [c for c in checks.values() if not (c["counts"][ERROR] or c["counts"][WARNING])]
        s = self.summary()
        facts = [(k, v) for k, v in s.items() if k not in ("path", "verdict", "errors", "warnings", "info")
                 and isinstance(v, (str, int, float)) and not isinstance(v, bool)]
        return env.get_template("verify-report.html.j2").render(summary=s, checks=checks, attention=attention,
                                                                quiet=quiet, facts=facts)
