"""Findings and the validation report: JSON, HTML, JUnit XML and a terminal summary.

A :class:`Finding` is one thing a test says about the extract, with a severity
and a location (file, line, systemID).  The :class:`Report` keeps, per test,
at most ``limit`` findings but counts all of them, so the verdict (exit code,
error counts) never depends on the display limit.
"""

from __future__ import annotations

import html
import time
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from . import catalogue

SEVERITIES = ("error", "warning", "info")


@dataclass(frozen=True)
class Finding:
    test: str
    severity: str  #: "error" | "warning" | "info"
    message: str
    location: dict = field(default_factory=dict)  #: {"file", "line", "systemID"} (values may be None)

    def to_json(self) -> dict:
        return {"test": self.test, "severity": self.severity, "message": self.message,
                "location": {"file": self.location.get("file"), "line": self.location.get("line"),
                             "systemID": self.location.get("systemID")}}

    def where(self) -> str:
        loc = self.location
        text = loc.get("file") or ""
        if loc.get("line"):
            text += f":{loc['line']}"
        if loc.get("systemID"):
            text += f" (systemID {loc['systemID']})"
        return text


class Report:
    """Everything the validation found, plus per-test counts and run facts."""

    def __init__(self, path: str, *, tests: set[str] | None = None, limit: int | None = None) -> None:
        self.path = path
        self.selected = set(tests) if tests is not None else set(catalogue.TESTS)
        self.limit = limit
        self.findings: list[Finding] = []
        # per test: {"error": n, "warning": n, "info": n}; counts include findings over the limit
        self.counts: dict[str, dict[str, int]] = defaultdict(lambda: {s: 0 for s in SEVERITIES})
        self.ran: set[str] = set()
        self.facts: dict[str, Any] = {}  # version, extract root, bytes read, ...
        self.started = time.time()
        self.seconds = 0.0

    # -- adding ----------------------------------------------------------------

    def wants(self, test: str) -> bool:
        return test in self.selected

    def add(self, test: str, severity: str, message: str, *, file: str | None = None,
            line: int | None = None, systemID: str | None = None) -> None:
        if test not in self.selected:
            return
        assert severity in SEVERITIES, severity
        self.ran.add(test)
        c = self.counts[test]
        c[severity] += 1
        if self.limit is not None and sum(c.values()) > self.limit:
            return
        self.findings.append(Finding(test, severity, message,
                                     {"file": file, "line": line, "systemID": systemID}))

    def mark_ran(self, test: str) -> None:
        if test in self.selected:
            self.ran.add(test)

    def absorb(self, findings: list[tuple], counts: dict[str, dict[str, int]], ran: set[str]) -> None:
        """Append what another report found later in the same pass (the split validation pass).

        ``findings`` are the other report's kept findings in order (as :meth:`part` gives them),
        ``counts`` all it counted: the result is the report one pass over both parts would have
        made, limit included.
        """
        kept: dict[str, int] = defaultdict(int)
        for f in self.findings:
            kept[f.test] += 1
        for test, severity, message, location in findings:
            if test not in self.selected:
                continue
            if self.limit is None or kept[test] < self.limit:
                self.findings.append(Finding(test, severity, message, location))
                kept[test] += 1
        for test, c in counts.items():
            mine = self.counts[test]
            for severity, n in c.items():
                mine[severity] += n
        self.ran |= ran & self.selected

    def part(self) -> tuple[list[tuple], dict[str, dict[str, int]], set[str]]:
        """What :meth:`absorb` takes, in a form that pickles (and fast: findings as tuples)."""
        return ([(f.test, f.severity, f.message, f.location) for f in self.findings],
                {t: dict(c) for t, c in self.counts.items()}, set(self.ran))

    # -- reading -----------------------------------------------------------------

    def _total(self, severity: str) -> int:
        return sum(c[severity] for c in self.counts.values())

    @property
    def errors(self) -> int:
        return self._total("error")

    @property
    def warnings(self) -> int:
        return self._total("warning")

    @property
    def infos(self) -> int:
        return self._total("info")

    @property
    def exit_code(self) -> int:
        return 1 if self.errors else 0

    def status(self, test: str) -> str:
        if test not in self.ran:
            return "not run"
        c = self.counts[test]
        if c["error"]:
            return "failed"
        if c["warning"]:
            return "passed with warnings"
        return "passed"

    def for_test(self, test: str) -> list[Finding]:
        return [f for f in self.findings if f.test == test]

    def test_ids(self) -> list[str]:
        """Selected tests in catalogue order."""
        return [t for t in catalogue.TESTS if t in self.selected]

    def _test_summary(self, test: str) -> dict:
        info = catalogue.get(test)
        c = self.counts[test]
        shown = sum(1 for f in self.findings if f.test == test)
        return {"name": info.name, "status": self.status(test), "errors": c["error"],
                "warnings": c["warning"], "infos": c["info"],
                "not_shown": sum(c.values()) - shown}

    def summary(self) -> dict:
        return {
            "path": self.path,
            **self.facts,
            "errors": self.errors,
            "warnings": self.warnings,
            "infos": self.infos,
            "exit_code": self.exit_code,
            "limit": self.limit,
            "seconds": round(self.seconds, 3),
            "tests": {t: self._test_summary(t) for t in self.test_ids()},
        }

    def portable(self, name: str = "content") -> Report:
        """A copy that says nothing of this machine or run (no absolute path, no timing).

        For a report put inside a package: the same content then gives the
        same report, byte for byte, and the package stays reproducible.
        """
        import copy

        r = copy.copy(self)
        r.path = name
        r.facts = {k: (name if k == "extract" else v) for k, v in self.facts.items()}
        r.seconds = 0.0
        return r

    # -- rendering ---------------------------------------------------------------

    def to_json(self) -> dict:
        return {"findings": [f.to_json() for f in self.findings], "summary": self.summary()}

    def summary_lines(self) -> list[str]:
        """A short terminal summary: verdict, then failed/warning tests with their first finding."""
        lines = []
        version = self.facts.get("version")
        lines.append(f"Validated {self.path}" + (f" (Noark 5 v{version})" if version else "")
                     + f" in {self.seconds:.1f} s: {len(self.ran)} tests run")
        for t in self.test_ids():
            st = self.status(t)
            if st in ("failed", "passed with warnings"):
                c = self.counts[t]
                first = next((f for f in self.findings if f.test == t and f.severity != "info"), None)
                detail = f": {first.message}" if first else ""
                if first and first.where():
                    detail += f" [{first.where()}]"
                lines.append(f"  {t} {st} ({c['error']} errors, {c['warning']} warnings){detail}")
        verdict = "FAILED" if self.errors else "PASSED"
        lines.append(f"{verdict}: {self.errors} errors, {self.warnings} warnings")
        return lines

    def to_junit(self) -> str:
        """JUnit XML: one testcase per selected test id; errors become a <failure>."""
        def esc(s: str) -> str:
            return html.escape(s, quote=True)

        cases = []
        failures = skipped = 0
        for t in self.test_ids():
            info = catalogue.get(t)
            c = self.counts[t]
            name = esc(f"{t} {info.name}")
            body = ""
            if t not in self.ran:
                skipped += 1
                body = "<skipped/>"
            elif c["error"]:
                failures += 1
                errs = [f for f in self.findings if f.test == t and f.severity == "error"]
                text = "\n".join(f"{f.where()}: {f.message}" for f in errs)
                first = errs[0].message if errs else f"{c['error']} errors"
                body = (f'<failure message="{esc(first)}" type="{t}">'
                        f"{esc(text)}\n({c['error']} errors in all)</failure>")
            out = [f for f in self.findings if f.test == t and f.severity != "error"]
            if out:
                body += "<system-out>" + esc("\n".join(f"{f.severity}: {f.where()}: {f.message}" for f in out)) + "</system-out>"
            cases.append(f'  <testcase classname="noarkpack.validate.{info.kind}" name="{name}" time="0">{body}</testcase>')
        head = (f'<?xml version="1.0" encoding="UTF-8"?>\n'
                f'<testsuites name="noarkpack validate" tests="{len(cases)}" failures="{failures}">\n'
                f'<testsuite name="{esc(self.path)}" tests="{len(cases)}" failures="{failures}" errors="0" '
                f'skipped="{skipped}" time="{self.seconds:.3f}">\n')
        return head + "\n".join(cases) + "\n</testsuite>\n</testsuites>\n"

    def to_html(self, first: int = 20) -> str:
        """A self-contained HTML report (templates/validation-report.html.j2)."""
        import jinja2

        from ..resources import templates_dir

        env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir())),
                                 autoescape=True, trim_blocks=True, lstrip_blocks=True)
        template = env.get_template("validation-report.html.j2")
        tests = []
        for t in self.test_ids():
            info = catalogue.get(t)
            fs = self.for_test(t)
            fs.sort(key=lambda f: SEVERITIES.index(f.severity))
            tests.append({"info": info, "status": self.status(t), "counts": self.counts[t],
                          "findings": fs[:first], "more": sum(self.counts[t].values()) - min(len(fs), first)})
        return template.render(report=self, summary=self.summary(), tests=tests)


__all__ = ["Finding", "Report", "SEVERITIES"]
