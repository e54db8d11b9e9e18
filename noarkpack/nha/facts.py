"""Facts of a journal as the deposit states them: the diagnoses in their code system's form, and the NHA rule
that stood in for the ten years after death.  docs/nha.md, "Code lists" and "Which journals go in"."""

from __future__ import annotations

from datetime import date
from typing import Mapping

from ..locale import tr
from ..model.epj import Diagnose, Pasientjournal
from ..model.identifiers import message_key
from ..model.selection import SelectionRules
from .codes import diagnosis_code
from .findings import INFO, WARNING, Finding, finding
from .xml import Diagnosis


def deposit_diagnosis(j: Pasientjournal, dg: Diagnose, kodeverk: Mapping[str, str]
                      ) -> tuple[Diagnosis, list[Finding]]:
    """A source diagnosis as the deposit takes it: the code in its code system's form (ICD-10 without the dot,
    as NHA's 7110 table holds it), or — when the source holds no code of that system — text only (NHA.18)."""
    oid = kodeverk.get(dg.kodeverk or "", "0")
    kode = diagnosis_code(dg.kode, oid)
    tekst = (dg.tekst or "").strip()
    if kode is None:
        raw = (dg.kode or "").strip()
        if raw and raw not in tekst:
            tekst = f"{tekst} ({raw})" if tekst else raw
        note = finding("NHA.18", WARNING if raw and any(c.isdigit() for c in raw) else INFO,
                       tr("journal {journal}: a diagnosis has no code in the form of its code system "
                          "{kodeverk!r}; it is deposited as diagnosetekst only, without diagnosekode",
                          journal=message_key(j.journal_id), kodeverk=dg.kodeverk),
                       journal=message_key(j.journal_id))
        return Diagnosis(kode=None, tekst=tekst, kodeverk=oid, dato=dg.dato), [note]
    notes = []
    if oid == "0":
        notes.append(finding("NHA.14", INFO, tr("journal {journal}: code system {kodeverk!r} has no OID in "
                                                "[nha.diagnosekodeverk]; diagnosekodeverk is written as 0 (unknown)",
                                                journal=message_key(j.journal_id), kodeverk=dg.kodeverk),
                             journal=message_key(j.journal_id)))
    return Diagnosis(kode=kode, tekst=tekst or kode, kodeverk=oid, dato=dg.dato), notes


def mors_merknad(j: Pasientjournal, rules: SelectionRules) -> str | None:
    """Why a journal without a death date is deposited: NHA's rule that stood in for the ten-year rule.

    With a death date the rule is shown by morsdato itself (deposited ``years_after_death`` years after it,
    helsearkivforskriften § 17); without one, the ten years cannot be counted and the AVLXML merknad names
    the rule of NHA's mors check (nha-validering valider-avlxml, codes 2–4) that selected the journal.
    The merknad is part of the deposit (AVLXML), written in Norwegian whatever the run's language.
    """
    p = j.pasient
    if p.dodsdato is not None:
        return None
    head = "Dødsdato er ukjent, så tiårsregelen (helsearkivforskriften § 17) kan ikke telles fra den; "
    if p.dodsdato_ukjent:
        return head + "kildesystemet registrerer pasienten som død med ukjent dato (sikkermors; NHAs regel, kode 4)."
    today = rules.today or date.today()
    if p.fodselsdato is not None and today.year - p.fodselsdato.year > 110:
        return head + (f"journalen avleveres fordi pasienten er født for mer enn 110 år siden ({p.fodselsdato.year}; "
                       "NHAs regel, kode 2).")
    return head + "journalen avleveres fordi siste kontakt var for mer enn 60 år siden (NHAs regel, kode 3)."
