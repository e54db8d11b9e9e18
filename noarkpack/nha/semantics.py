"""What a depot's reception reads beyond the schemas: the code lists and forms of an EPJARK deposit.

Each check takes one parsed element (an AVLXML ``pasientjournal``, or a pasientinfo / EPJ sak / EPJ dokument
root) and reports through ``add(test, severity, message, **location)``.  The rules and their sources are in
:mod:`noarkpack.nha.codes` and docs/nha.md ("Code lists", "Revisions"):

* NHA.17 ``pasient_ID_type`` is one of del 5's codes (FNR, DNR, FHN, HNR, DUF); other codes are allowed only
  by agreement with the depot (warning);
* NHA.18 an AVLXML ``diagnosekode`` (or an EPJ coded value) is a code in the form of its code system (ICD-10 7110 without the dot,
  ICD-9 7120 with it), never text (error);
* NHA.19 every ``revisjonstype`` is a code of 2.16.578.1.12.4.1.1.9252 with that ``codeSystem`` (error);
* NHA.20 every ``komponenttype`` is an OID (error);
* NHA.21 a ``fullt_navn`` of a tjenesteyter or a signer is a name, not a user id (warning).

Messages name the journal or file, never a value that could identify a patient.
"""

from __future__ import annotations

from typing import Callable

from ..locale import tr
from .codes import _ANY_CODE, CODE_FORMS, OID_RE, PASIENT_ID_TYPER, REVISJONSTYPE_OID, REVISJONSTYPER
from .findings import ERROR, WARNING
from .xml import NS_AVLXML, NS_BASIS, NS_BASISBRUK, NS_PASIENTINFO, NS_PERSON, NS_STAMME

Add = Callable[..., None]


def avlxml_diagnoses(pj, journal: str | None, add: Add, **loc) -> None:
    """NHA.18: the diagnoses of one AVLXML ``pasientjournal``."""
    q = lambda n: f"{{{NS_AVLXML}}}{n}"  # noqa: E731
    for n, d in enumerate(pj.iterfind(q("diagnose")), start=1):
        kode = (d.findtext(q("diagnosekode")) or "").strip()
        if not kode:
            continue
        kodeverk = (d.findtext(q("diagnosekodeverk")) or "").strip()
        if not _ANY_CODE.fullmatch(kode):
            add("NHA.18", ERROR, tr("journal {journal}, diagnose {number}: diagnosekode holds text, not a code; a "
                                    "diagnosis without a code belongs in diagnosetekst alone", journal=journal,
                                    number=n), journal=journal, line=d.sourceline, **loc)
            continue
        form = CODE_FORMS.get(kodeverk)
        if form is not None and not form.fullmatch(kode):
            if "7110" in kodeverk:
                message = tr("journal {journal}, diagnose {number}: diagnosekode is not in the form of code system "
                             "{kodeverk} (ICD-10 as NHA's 7110 table holds it: without the dot, e.g. I219)",
                             journal=journal, number=n, kodeverk=kodeverk)
            else:
                message = tr("journal {journal}, diagnose {number}: diagnosekode is not in the form of code system "
                             "{kodeverk}", journal=journal, number=n, kodeverk=kodeverk)
            add("NHA.18", ERROR, message, journal=journal, line=d.sourceline, **loc)


def pasientinfo(doc, add: Add, **loc) -> None:
    """NHA.17 and NHA.20 on a Pasientpersonalia root."""
    code = (doc.findtext(f".//{{{NS_PASIENTINFO}}}pasient_ID_type") or "").strip()
    if code and code not in PASIENT_ID_TYPER:
        add("NHA.17", WARNING, tr("pasient_ID_type {code!r} is not a code of EPJ Standard del 5 ({codes}); another "
                                  "code needs an agreement with Norsk helsearkiv", code=code,
                                  codes=", ".join(PASIENT_ID_TYPER)), **loc)


def components(doc, add: Add, **loc) -> None:
    """NHA.19, NHA.20 and NHA.21 on an EPJ sak or EPJ dokument root."""
    for el in doc.iter(f"{{{NS_STAMME}}}komponenttype"):
        if not OID_RE.fullmatch((el.text or "").strip()):
            add("NHA.20", ERROR, tr("komponenttype is not an OID (del 5 asks for a unique identification of the "
                                    "type of component, in the form of an OID)"), line=el.sourceline, **loc)
    for el in doc.iter(f"{{{NS_BASIS}}}revisjonstype"):
        code = (el.findtext(f"{{{NS_BASIS}}}code") or "").strip()
        system = (el.findtext(f"{{{NS_BASIS}}}codeSystem") or "").strip()
        if system != REVISJONSTYPE_OID or code not in REVISJONSTYPER:
            add("NHA.19", ERROR, tr("revisjonstype {code!r} of code system {system!r} is not a code of {oid} "
                                    "Revisjonstype (EPJ)", code=code, system=system, oid=REVISJONSTYPE_OID),
                line=el.sourceline, **loc)
    for el in doc.iter(f"{{{NS_BASISBRUK}}}arkivert_CV_elementverdi"):  # a diagnosis in the EPJ (xml.opplysninger_xml)
        kode = (el.findtext(f"{{{NS_BASIS}}}code") or "").strip()
        form = CODE_FORMS.get((el.findtext(f"{{{NS_BASIS}}}codeSystem") or "").strip())
        if kode and (not _ANY_CODE.fullmatch(kode) or (form is not None and not form.fullmatch(kode))):
            add("NHA.18", ERROR, tr("a coded value is text or not in the form of its code system (ICD-10 as NHA's "
                                    "7110 table holds it: without the dot)"), line=el.sourceline, **loc)
    for tag in ("registrert_av_tjenesteyter", "signert_av_person"):
        for el in doc.iter(f"{{{NS_PERSON}}}{tag}"):
            navn = (el.findtext(f"{{{NS_PERSON}}}fullt_navn") or "").strip()
            if navn and not any(c.isspace() for c in navn):
                add("NHA.21", WARNING, tr("{element}/fullt_navn looks like a user id, not a full name (del 5 R-P "
                                          "fullt_navn is the person's full name; a user id belongs in the "
                                          "komponent_ID)", element=tag), line=el.sourceline, **loc)
