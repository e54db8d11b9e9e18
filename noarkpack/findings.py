"""One finding, one report protocol: what validate, verify, the NHA checks and the analysis have in common.

A :class:`Finding` is one thing a check says: its id (``test``: N5.xx, NP.xx, PK.xx, NHA.xx, AN.xx), a
severity, a message and a location (a dict; which keys depends on the kind of report: ``file``, ``line``,
``systemID`` for validate and verify; ``file``, ``member``, ``journal`` for the NHA checks; ``file``,
``line``, ``record`` for the analysis).  The JSON shape of a finding is the report's business (each kind
keeps its own: see :func:`finding_json` and the reports), so one class serves them all.

Every report (validation ``Report``, ``VerifyReport`` and the NHA report, ``Analysis``, ``ImportReport``,
the NHA package run) answers :class:`ReportLike`: counts of errors and warnings, an exit code, a short
terminal summary, a JSON document and an HTML page.  A face (the CLI, a web face) needs nothing else.

Findings stay cheap: validation may make millions (a slotted dataclass, not frozen: a frozen one takes
three times as long to make; no work in ``__init__``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Iterator, Protocol, runtime_checkable

ERROR, WARNING, INFO = "error", "warning", "info"
SEVERITIES = (ERROR, WARNING, INFO)


@dataclass(slots=True)
class Finding:
    """One finding (not to be changed once made: a plain slotted class, as cheap to make as can be)."""

    test: str  #: the check's id (the analysis calls it ``code``)
    severity: str  #: "error" | "warning" | "info" (the analysis: "blocking" | "warning" | "info")
    message: str
    location: dict = field(default_factory=dict)  #: the report kind's location keys (values may be None)
    identifiers: dict | None = None  #: names, numbers, file names: only the analysis, only with show_identifiers

    @property
    def key(self) -> str | None:
        """The message's untranslated key (its msgid: the same in every language), so a script can match on it;
        None for a message not made by :func:`noarkpack.locale.tr`."""
        return getattr(self.message, "key", None)

    @property
    def code(self) -> str:
        """The analysis's name for ``test`` (AN.xx)."""
        return self.test

    def to_json(self) -> dict:
        """The JSON object of validate's and verify's reports (see :func:`finding_json`)."""
        return finding_json(self)

    def where(self) -> str:
        """The location as text: ``file:member:line``, then `` (systemID …)`` and ``, record`` when known."""
        loc = self.location
        text = loc.get("file") or ""
        member = loc.get("member")
        if member:
            text = f"{text}:{member}" if text else member
        if loc.get("line"):
            text += f":{loc['line']}"
        if loc.get("systemID"):
            text += f" (systemID {loc['systemID']})"
        if loc.get("record"):
            text += (", " if text else "") + loc["record"]
        return text

    def __str__(self) -> str:
        where = self.where()
        return f"{self.test} {self.severity}: {self.message}" + (f" [{where}]" if where else "")


def finding_json(f: Finding) -> dict:
    """``{"test", "severity", "message", "key", "location": {"file", "line", "systemID"}}``: validate's and
    verify's (PK.*) shape; every location key is there, None when unknown.  ``message`` is in the run's language,
    ``key`` its untranslated msgid (the same in both languages)."""
    loc = f.location
    return {"test": f.test, "severity": f.severity, "message": f.message, "key": f.key,
            "location": {"file": loc.get("file"), "line": loc.get("line"), "systemID": loc.get("systemID")}}


class Tally(int):
    """A count, iterable over the findings it counts, so that code written against the former list keeps working.

    ``report.errors`` is the number of errors (``report.errors == 0``, ``if report.errors``, ``f"{report.errors}"``)
    and ``[f for f in report.errors if f.test == "PK.12"]``, ``len(report.errors)`` and ``report.errors[0]``
    still give the findings.
    """

    def __new__(cls, findings: Iterable[Finding] = ()) -> Tally:
        items = list(findings)
        tally = super().__new__(cls, len(items))
        tally._findings = items
        return tally

    def __iter__(self) -> Iterator[Finding]:
        return iter(self._findings)

    def __len__(self) -> int:
        return len(self._findings)

    def __getitem__(self, index):
        return self._findings[index]

    def __repr__(self) -> str:
        return int.__repr__(self)

    __str__ = __repr__


@runtime_checkable
class ReportLike(Protocol):
    """What every report answers; the CLI (and a web face) uses nothing else to show one and to exit."""

    @property
    def errors(self) -> int: ...  # errors (the analysis: blocking findings; the import: rejected rows)

    @property
    def warnings(self) -> int: ...

    @property
    def exit_code(self) -> int: ...  # 0 nothing wrong, 1 errors (2, "could not run", is a NoarkpackError)

    def summary_lines(self) -> list[str]: ...

    def to_json(self) -> dict: ...

    def to_html(self) -> str: ...


__all__ = ["ERROR", "INFO", "SEVERITIES", "WARNING", "Finding", "ReportLike", "Tally", "finding_json"]
