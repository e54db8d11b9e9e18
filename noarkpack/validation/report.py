"""Findings and the validation report: JSON, HTML, JUnit XML and a terminal summary.

A :class:`~noarkpack.findings.Finding` is one thing a test says about the extract, with a severity
and a location (file, line, systemID).  The :class:`Report` keeps, per test,
at most ``limit`` findings but counts all of them, so the verdict (exit code,
error counts) never depends on the display limit.

Without a limit a report may hold a finding for every registrering of a large
extract (N5.21 lists each one without a dokumentbeskrivelse).  The findings are
kept in a :class:`FindingList`: the first few thousand in memory, the rest
spooled to a temporary file, and the JSON is written as a stream
(:meth:`Report.iter_json`), so memory does not grow with their number.
"""

from __future__ import annotations

import html
import json
import os
import pickle
import re
import tempfile
import time
from collections import Counter, defaultdict
from typing import Any, Iterable, Iterator

from ..findings import SEVERITIES, Finding, finding_json
from ..locale import N_, current, language, tr
from ..locale import check as _check_language
from . import catalogue

# characters XML 1.0 does not allow (a message may quote bytes from a broken extract)
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _listed(shown: int, total: int, errors: bool) -> str:
    """How many of a testcase's findings (its errors, or its warnings and infos) its JUnit text lists, out of
    how many."""
    if errors:
        if shown >= total:
            return tr("{total} errors in all", total=total)
        return tr("the first {shown} of {total} errors are listed; all are in the JSON report (--json, no --limit)",
                  shown=shown, total=total)
    if shown >= total:
        return tr("{total} warnings and infos in all", total=total)
    return tr("the first {shown} of {total} warnings and infos are listed; all are in the JSON report "
              "(--json, no --limit)", shown=shown, total=total)


#: a test's status (a code: the JSON's "status") → its label for a person (translated where shown)
STATUS_LABELS = {"failed": N_("failed"), "passed with warnings": N_("passed with warnings"), "passed": N_("passed"),
                 "not run": N_("not run")}


def status_label(status: str) -> str:
    """The label of a test ``status`` in the current language."""
    return tr(STATUS_LABELS[status])


class FindingList:
    """Findings in the order they were added, in little memory however many there are.

    The first ``MEMORY`` stay in memory; the rest go to a temporary file in pickled blocks of
    ``BLOCK``, each read back with its own ``pread`` (two iterations may run at once).  Pickles
    (for the split validation pass) carry the spooled blocks as bytes.
    """

    MEMORY = 5_000
    BLOCK = 2_000

    def __init__(self) -> None:
        self._head: list[Finding] = []
        self._tail: list[tuple] = []  # after the head: not yet written to the spool
        self._blocks: list[tuple[int, int]] = []  # (offset, length) in the spool
        self._fd: int | None = None
        self._end = 0
        self._n = 0

    def append(self, f: Finding) -> None:
        self._n += 1
        if not self._blocks and not self._tail and len(self._head) < self.MEMORY:
            self._head.append(f)
            return
        self._tail.append((f.test, f.severity, f.message, f.location))
        if len(self._tail) >= self.BLOCK:
            self._spool()

    def _spool(self) -> None:
        data = pickle.dumps(self._tail, protocol=pickle.HIGHEST_PROTOCOL)
        if self._fd is None:
            fd, name = tempfile.mkstemp(prefix="noarkpack-findings-")
            os.unlink(name)  # anonymous: gone when closed, or when the process ends
            self._fd = fd
        view = memoryview(data)
        while view:
            view = view[os.pwrite(self._fd, view, self._end + len(data) - len(view)):]
        self._blocks.append((self._end, len(data)))
        self._end += len(data)
        self._tail = []

    def _read(self, offset: int, length: int) -> bytes:
        return _pread_all(self._fd, length, offset)

    def __len__(self) -> int:
        return self._n

    def __iter__(self) -> Iterator[Finding]:
        yield from self._head
        yield from _from_blocks(self._fd, list(self._blocks))
        for t in list(self._tail):
            yield Finding(*t)

    def __getstate__(self) -> dict:
        return {"head": [(f.test, f.severity, f.message, f.location) for f in self._head],
                "blocks": [self._read(o, n) for o, n in self._blocks],
                "tail": list(self._tail)}

    def __setstate__(self, state: dict) -> None:
        self.__init__()
        for t in state["head"]:
            self.append(Finding(*t))
        for data in state["blocks"]:
            for t in pickle.loads(data):
                self.append(Finding(*t))
        for t in state["tail"]:
            self.append(Finding(*t))

    def spill(self, path: str | os.PathLike) -> SpilledFindings:
        """The findings for another process, in a small pickle: the spooled blocks are copied to ``path``.

        The split validation pass hands its child's findings over this way; unpickled, they are
        read from ``path`` block by block (a plain pickle would bring every block into memory at once).
        """
        if self._fd is not None:
            with open(path, "wb") as out:
                offset = 0
                while offset < self._end:
                    data = os.pread(self._fd, min(1 << 20, self._end - offset), offset)
                    if not data:
                        raise OSError("the findings' spool file is shorter than written")
                    out.write(data)
                    offset += len(data)
        return SpilledFindings(os.fspath(path), [(f.test, f.severity, f.message, f.location) for f in self._head],
                               list(self._blocks), list(self._tail), self._n)

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:  # noqa: BLE001 - interpreter shutdown
            pass


class SpilledFindings:
    """Findings another process wrote with :meth:`FindingList.spill`: iterated in order, one block at a time."""

    def __init__(self, path: str, head: list[tuple], blocks: list[tuple[int, int]], tail: list[tuple], n: int) -> None:
        self.path, self.head, self.blocks, self.tail, self.n = path, head, blocks, tail, n

    def __len__(self) -> int:
        return self.n

    def __iter__(self) -> Iterator[Finding]:
        for t in self.head:
            yield Finding(*t)
        if self.blocks:
            fd = os.open(self.path, os.O_RDONLY)
            try:
                yield from _from_blocks(fd, self.blocks)
            finally:
                os.close(fd)
        for t in self.tail:
            yield Finding(*t)


def _from_blocks(fd: int | None, blocks: list[tuple[int, int]]) -> Iterator[Finding]:
    """The findings of the pickled blocks ``(offset, length)`` of a spool file, in order."""
    for offset, length in blocks:
        for t in pickle.loads(_pread_all(fd, length, offset)):
            yield Finding(*t)


def _pread_all(fd: int, length: int, offset: int) -> bytes:
    data = bytearray()
    while len(data) < length:
        chunk = os.pread(fd, length - len(data), offset + len(data))
        if not chunk:
            raise OSError("a findings spool file is shorter than written")
        data += chunk
    return bytes(data)


class Report:
    """Everything the validation found, plus per-test counts and run facts."""

    def __init__(self, path: str, *, tests: set[str] | None = None, limit: int | None = None) -> None:
        self.path = path
        self.selected = set(tests) if tests is not None else set(catalogue.TESTS)
        self.limit = limit
        self.findings = FindingList()
        self.kept: Counter = Counter()  # findings kept, per test (the others are counted only)
        # per test: {"error": n, "warning": n, "info": n}; counts include findings over the limit
        self.counts: dict[str, dict[str, int]] = defaultdict(lambda: {s: 0 for s in SEVERITIES})
        self.ran: set[str] = set()
        self.facts: dict[str, Any] = {}  # version, extract root, bytes read, ...
        self.started = time.time()
        self.seconds = 0.0
        self._lang: str | None = None

    @property
    def lang(self) -> str:
        """The language of the report's own texts and of Arkade's test names in the summary lines, the JUnit
        XML and the HTML ("nb" or "en"): the current language (:func:`noarkpack.locale.current`) unless set.
        The findings' messages are in the language they were made in (the run's)."""
        return self._lang or current()

    @lang.setter
    def lang(self, value: str | None) -> None:
        self._lang = _check_language(value) if value else None

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
        self.kept[test] += 1

    def mark_ran(self, test: str) -> None:
        if test in self.selected:
            self.ran.add(test)

    def absorb(self, findings: Iterable[Finding], counts: dict[str, dict[str, int]], ran: set[str]) -> None:
        """Append what another report found later in the same pass (the split validation pass).

        ``findings`` are the other report's kept findings in order (as :meth:`part` gives them),
        ``counts`` all it counted: the result is the report one pass over both parts would have
        made, limit included.
        """
        kept = self.kept
        for f in findings:
            if f.test not in self.selected:
                continue
            if self.limit is None or kept[f.test] < self.limit:
                self.findings.append(f)
                kept[f.test] += 1
        for test, c in counts.items():
            mine = self.counts[test]
            for severity, n in c.items():
                mine[severity] += n
        self.ran |= ran & self.selected

    def part(self) -> tuple[FindingList, dict[str, dict[str, int]], set[str]]:
        """What :meth:`absorb` takes, in a form that pickles (the spooled findings as bytes)."""
        return self.findings, {t: dict(c) for t, c in self.counts.items()}, set(self.ran)

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
        shown = self.kept[test]
        out = {"name": info.name, "status": self.status(test), "errors": c["error"],
                "warnings": c["warning"], "infos": c["info"],
                "not_shown": sum(c.values()) - shown}
        arkade = self.arkade_name(test)
        if arkade:
            out["arkade_name"] = arkade  # Arkade 5's own name of the test, in self.lang
        return out

    def arkade_name(self, test: str) -> str | None:
        """Arkade 5's name of ``test`` in this report's language (N5.35's depends on the Noark 5 version)."""
        return catalogue.arkade_name(test, self.lang, self.facts.get("version"))

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
        """The JSON document as a dict (every finding in memory: :meth:`iter_json` streams it)."""
        return {"findings": [finding_json(f) for f in self.findings], "summary": self.summary()}

    def iter_json(self) -> Iterator[str]:
        """``json.dumps(self.to_json(), ensure_ascii=False, indent=2, default=str)``, piece by piece."""
        def dump(obj: Any, pad: str) -> str:
            # json.dumps escapes a newline inside a string: every "\n" in its output is its own
            return json.dumps(obj, ensure_ascii=False, indent=2, default=str).replace("\n", "\n" + pad)

        yield '{\n  "findings": ['
        first = True
        for f in self.findings:
            yield ("\n    " if first else ",\n    ") + dump(finding_json(f), "    ")
            first = False
        yield ("]" if first else "\n  ]") + ',\n  "summary": ' + dump(self.summary(), "  ") + "\n}"

    def summary_lines(self) -> list[str]:
        """A short terminal summary: verdict, then failed/warning tests with their first finding (in
        :attr:`lang`)."""
        with language(self.lang):
            return self._summary_lines()

    def _summary_lines(self) -> list[str]:
        lines = []
        version = self.facts.get("version")
        if version:
            lines.append(tr("Validated {path} (Noark 5 v{version}) in {seconds:.1f} s: {count} tests run",
                            path=self.path, version=version, seconds=self.seconds, count=len(self.ran)))
        else:
            lines.append(tr("Validated {path} in {seconds:.1f} s: {count} tests run",
                            path=self.path, seconds=self.seconds, count=len(self.ran)))
        firsts: dict[str, Finding] = {}  # the first error or warning of each test, in one pass
        for f in self.findings:
            if f.severity != "info" and f.test not in firsts:
                firsts[f.test] = f
        for t in self.test_ids():
            st = self.status(t)
            if st in ("failed", "passed with warnings"):
                c = self.counts[t]
                first = firsts.get(t)
                detail = f": {first.message}" if first else ""
                if first and first.where():
                    detail += f" [{first.where()}]"
                name = catalogue.display_name(t, self.lang, self.facts.get("version"))
                if st == "failed":
                    line = tr("{test} {name} — failed ({errors} errors, {warnings} warnings)",
                              test=t, name=name, errors=c["error"], warnings=c["warning"])
                else:
                    line = tr("{test} {name} — passed with warnings ({errors} errors, {warnings} warnings)",
                              test=t, name=name, errors=c["error"], warnings=c["warning"])
                lines.append(f"  {line}{detail}")
        if self.errors:
            lines.append(tr("FAILED: {errors} errors, {warnings} warnings", errors=self.errors, warnings=self.warnings))
        else:
            lines.append(tr("PASSED: {errors} errors, {warnings} warnings", errors=self.errors, warnings=self.warnings))
        return lines

    def to_junit(self, first: int = 100) -> str:
        """JUnit XML: one testcase per selected test id; errors become a <failure>.

        A testcase lists its first ``first`` errors (in the <failure>) and its first ``first`` warnings and
        infos (in <system-out>), then says how many there are in all: a CI page shows a test's failure, the
        JSON report holds every finding.  One pass over the findings, so the text stays small however many
        an extract has.  The texts are in :attr:`lang`; the testcase names (id and English short name), the
        classnames and the ids stay the same in every language (a CI keeps a test's history by them).
        """
        with language(self.lang):
            return self._junit(first)

    def _junit(self, first: int) -> str:
        def esc(s: str) -> str:
            return html.escape(_XML_ILLEGAL.sub("\ufffd", s), quote=True)

        errs: dict[str, list[Finding]] = defaultdict(list)
        other: dict[str, list[Finding]] = defaultdict(list)
        for f in self.findings:
            bucket = (errs if f.severity == "error" else other)[f.test]
            if len(bucket) < first:
                bucket.append(f)
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
                listed = errs.get(t, [])
                text = "\n".join(f"{f.where()}: {f.message}" for f in listed)
                msg = listed[0].message if listed else tr("{count} errors", count=c["error"])
                body = (f'<failure message="{esc(msg)}" type="{t}">'
                        f"{esc(text)}\n({_listed(len(listed), c['error'], True)})</failure>")
            out = other.get(t)
            if out:
                n = c["warning"] + c["info"]
                text = "\n".join(f"{f.severity}: {f.where()}: {f.message}" for f in out)
                body += f"<system-out>{esc(text)}\n({_listed(len(out), n, False)})</system-out>"
            cases.append(f'  <testcase classname="noarkpack.validate.{info.kind}" name="{name}" time="0">{body}</testcase>')
        head = (f'<?xml version="1.0" encoding="UTF-8"?>\n'
                f'<testsuites name="noarkpack validate" tests="{len(cases)}" failures="{failures}">\n'
                f'<testsuite name="{esc(self.path)}" tests="{len(cases)}" failures="{failures}" errors="0" '
                f'skipped="{skipped}" time="{self.seconds:.3f}">\n')
        return head + "\n".join(cases) + "\n</testsuite>\n</testsuites>\n"

    def to_html(self, first: int = 20, top: int = 3) -> str:
        """A self-contained HTML report (templates/validation-report.html.j2).

        Read at a glance (issue 23): the verdict, then every failed or warned test with its counts and its
        first ``top`` errors and warnings, then those tests in full, then the passed tests folded.  The test
        names, purposes and status labels passed to the template are in :attr:`lang`.
        """
        with language(self.lang):
            return self._html(first, top)

    def _html(self, first: int, top: int) -> str:

        from ..resources import html_environment

        env = html_environment()
        template = env.get_template("validation-report.html.j2")
        # The first `first` findings of each test, errors before warnings before infos (in one pass,
        # keeping at most `first` per test and severity).
        shown: dict[str, dict[str, list[Finding]]] = defaultdict(lambda: {s: [] for s in SEVERITIES})
        for f in self.findings:
            bucket = shown[f.test][f.severity]
            if len(bucket) < first:
                bucket.append(f)
        groups: dict[str, list[dict]] = {"failed": [], "passed with warnings": [], "passed": [], "not run": []}
        tests = []
        for t in self.test_ids():
            info = catalogue.get(t).localized()  # name (NP.xx) and purpose in self.lang; id, kind, severity as ever
            fs = [f for s in SEVERITIES for f in shown[t][s]][:first] if t in shown else []
            status = self.status(t)
            css, mark = _STATUS_LOOK[status]
            test = {"info": info, "arkade_name": self.arkade_name(t), "status": status, "css": css, "mark": mark,
                    "status_label": status_label(status),
                    "title": catalogue.display_name(t, self.lang, self.facts.get("version")),
                    "counts": self.counts[t], "findings": fs,
                    "top": [f for f in fs if f.severity != "info"][:top],
                    "more": sum(self.counts[t].values()) - min(self.kept[t], first)}
            tests.append(test)
            groups[status].append(test)
        return template.render(report=self, summary=self.summary(), tests=tests, lang=self.lang,
                               failed=groups["failed"], warned=groups["passed with warnings"],
                               passed=groups["passed"], notrun=groups["not run"])


#: a test status → (CSS class, the mark that says it without colour) in the HTML report's index
_STATUS_LOOK = {"failed": ("failed", "✗"), "passed with warnings": ("warn", "!"), "passed": ("passed", "✓"),
                "not run": ("notrun", "–")}


__all__ = ["Finding", "FindingList", "Report", "SEVERITIES", "STATUS_LABELS", "SpilledFindings", "status_label"]
