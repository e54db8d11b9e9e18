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
from ..locale import N_, tr
from ..packaging.findings import VerifyReport

__all__ = ["CATALOGUE", "ERROR", "INFO", "SEVERITIES", "WARNING", "Finding", "NhaReport", "finding", "finding_json"]

#: every NHA.* check: what it checks (docs/nha.md has the full table, with severities); each text is a msgid:
#: translate it where it is shown (``tr(CATALOGUE[test])``, as :meth:`NhaReport.check_name` does)
CATALOGUE: dict[str, str] = {
    "NHA.01": N_("the deposit folder: one avlxml*.xml, one epjpakkeliste*.xml, nothing else"),
    "NHA.02": N_("the AVLXML list is well-formed and valid"),
    "NHA.03": N_("the package list is well-formed and valid"),
    "NHA.04": N_("package list and tar files name the same packages"),
    "NHA.05": N_("every checksum is the tar's SHA-256"),
    "NHA.06": N_("no unsafe tar member; the tar reads to its end"),
    "NHA.07": N_("the layout of an epj package"),
    "NHA.08": N_("pasientinfo, EPJ sak and EPJ dokument are valid against nha-epj-1.80"),
    "NHA.09": N_("references resolve, inside the package"),
    "NHA.10": N_("the layout of a dok package"),
    "NHA.11": N_("AVLXML list and package list agree"),
    "NHA.12": N_("NHA's mors rules per journal"),
    "NHA.13": N_("person numbers are valid; kjonn agrees with the number's sex digit"),
    "NHA.14": N_("a diagnosis code system without an OID"),
    "NHA.15": N_("AVLXML v4: a diagnosis without a date"),
    "NHA.16": N_("a document format NHA is not known to take"),
    "NHA.17": N_("pasient_ID_type is a code of EPJ Standard del 5"),
    "NHA.18": N_("a diagnosis code is a code in its code system's form, never text"),
    "NHA.19": N_("revisjonstype is a code of 2.16.578.1.12.4.1.1.9252"),
    "NHA.20": N_("komponenttype is an OID"),
    "NHA.21": N_("fullt_navn is a name, not a user id"),
}


def finding(test: str, severity: str, message: str, **location: Any) -> Finding:
    """An NHA.* finding; the location keys without a value are left out."""
    assert severity in SEVERITIES, severity
    assert test in CATALOGUE, test
    return Finding(test, severity, message, {k: v for k, v in location.items() if v is not None})


def finding_json(f: Finding) -> dict[str, Any]:
    """The JSON object of an NHA finding: its own location keys, those without a value left out."""
    loc = {k: v for k, v in f.location.items() if v is not None}
    return {"test": f.test, "severity": f.severity, "message": f.message, "key": f.key, "location": loc}


@dataclass
class NhaReport(VerifyReport):
    """The NHA checks of a deposit folder as a report (``validate`` and ``verify`` of an NHA deposit)."""

    kind: str = "nha-deposit"

    finding_json = staticmethod(finding_json)

    def check_name(self, test: str) -> str | None:
        """What an NHA.* check checks, for the HTML report (in the current language)."""
        text = CATALOGUE.get(test)
        return tr(text) if text is not None else None
