"""The catalogue of validation tests: every id, its name, what it checks, its severity.

Ids N5.xx are Arkade 5's (same numbers, same meaning; our short names follow
Arkade's English names).  Arkade's own display names, in bokmål and English, are
data (arkade_names.json, copied from arkade5's ArkadeTestDisplayNames*.resx at the
commit it names): :func:`arkade_name` gives them, so an archivist finds N5.xx
under the name Arkade prints.  Ids NP.xx are noarkpack's own checks.  ``kind`` is
Arkade's test type: structure control/analysis (runs on files, ADDML or XSD)
or content control/analysis (runs in the one streaming pass over
arkivstruktur.xml).  ``severity`` is the worst severity the test can report;
most analysis tests only report ``info`` findings (counts and lists).

Bokmål and English (issue 20): ``name`` and ``purpose`` are English msgids (``N_``: NP.xx names and every
purpose), the same in every language; :meth:`TestInfo.title` / :func:`display_name` give the name to show in the
current language (Arkade's for N5.xx), :attr:`TestInfo.description` / :func:`purpose` the purpose, and
:meth:`TestInfo.localized` a copy with both translated.

docs/validation.md documents the same table for archivists.
"""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from ..locale import N_, current, language, tr


@dataclass(frozen=True)
class TestInfo:
    """One test.  ``name`` and ``purpose`` are the English texts (the msgids: stable, the same in every
    language); :meth:`title` and :attr:`description` give them in the current language."""

    id: str
    name: str  #: our short name, in English (N5.xx: after Arkade's English name; NP.xx: a msgid)
    kind: str  #: "structure" or "content" (Arkade) / "own" (noarkpack)
    severity: str  #: worst severity the test reports: "error", "warning" or "info"
    purpose: str  #: what the test checks, in English (a msgid)

    def title(self, lang: str | None = None, version: str | None = None) -> str:
        """The name to show beside the id in ``lang`` (default: the current language): Arkade's own for an
        N5 test (N5.35's depends on the Noark 5 ``version``), else ours, translated."""
        return display_name(self.id, lang, version)

    @property
    def display_name(self) -> str:
        """:meth:`title` in the current language."""
        return self.title()

    @property
    def description(self) -> str:
        """``purpose`` in the current language."""
        return tr(self.purpose)

    def localized(self, lang: str | None = None) -> TestInfo:
        """A copy whose ``name`` (NP.xx: ours, translated; N5.xx: our English short name, Arkade's being
        :func:`arkade_name`) and ``purpose`` are in ``lang`` (default: the current language), for a page
        that shows ``info.name`` and ``info.purpose``."""
        with _in(lang):
            name = self.name if self.id.startswith("N5.") else tr(self.name)
            return replace(self, name=name, purpose=tr(self.purpose))


def _t(id: str, name: str, kind: str, severity: str, purpose: str) -> TestInfo:
    return TestInfo(id, name, kind, severity, purpose)


_TESTS = [
    _t("N5.01", "Control of existence of XML files", "structure", "error",
       N_("Every XML file and schema listed in arkivuttrekk.xml (ADDML) exists in the extract; arkivuttrekk.xml itself exists and is well-formed.")),
    _t("N5.02", "Validation of checksums", "structure", "error",
       N_("The checksum of every file and schema listed in the ADDML matches the recorded value. The recorded algorithm is honoured (SHA-256, SHA-512, SHA-384, SHA-1, MD5); hex digits are compared case-insensitively.")),
    _t("N5.03", "Validation of XML according to schema", "structure", "error",
       N_("Every XML file validates against the schemas the extract ships (including virksomhetsspesifikke schemas listed in the ADDML). Where the ADDML does not document a schema, the installed official one is used and that is reported as an error, as Arkade does.")),
    _t("N5.04", "Number of archives", "content", "info", N_("Counts arkiv elements, per nesting level.")),
    _t("N5.05", "Number of archive parts", "content", "info", N_("Counts arkivdel per arkiv.")),
    _t("N5.06", "Status for archive parts", "content", "info", N_("Lists the arkivdelstatus of each arkivdel.")),
    _t("N5.07", "Number of classification systems", "content", "info", N_("Counts klassifikasjonssystem per arkivdel.")),
    _t("N5.08", "Number of classes", "content", "info",
       N_("Counts klasse per classification system and level; a system holding mappe or registrering is the primary one.")),
    _t("N5.09", "Classes in main classification system without subclasses, folders or registrations", "content", "info",
       N_("Counts empty leaf classes in primary classification systems.")),
    _t("N5.10", "Number of folders", "content", "error",
       N_("Counts mappe per type and level and compares the total with the ADDML numberOfOccurrences 'mappe' (an undocumented count is 0): a mismatch is an error.")),
    _t("N5.11", "Number of folders for each year", "content", "info", N_("Counts mappe per year of opprettetDato (invalid dates skipped).")),
    _t("N5.12", "Classes with both subclass(es) and folder(s)", "content", "error",
       N_("A klasse must not hold both sub-classes and mappe: each such class is an error.")),
    _t("N5.13", "Number of folders for each class", "content", "info", N_("Counts mappe directly under each klasse, and classes without folders.")),
    _t("N5.14", "Folders without registrations or subfolders", "content", "info", N_("Lists empty mappe (systemID, mappeID, offentligTittel).")),
    _t("N5.15", "Number of each case folder status", "content", "error",
       N_("Counts saksstatus values; any value other than 'Avsluttet' or 'Utgår' is an error (a deposited archive is closed).")),
    _t("N5.16", "Number of registrations", "content", "error",
       N_("Counts registrering per type and compares the total with the ADDML numberOfOccurrences 'registrering': a mismatch is an error.")),
    _t("N5.17", "Number of each journal record type", "content", "error", N_("Counts journalposttype values; an empty type is an error.")),
    _t("N5.18", "Number of registrations for each year", "content", "info", N_("Counts registrering per year of opprettetDato.")),
    _t("N5.19", "Classes with both subclass(es) and registration(s)", "content", "error",
       N_("A klasse must not hold both sub-classes and registrering: each such class is an error.")),
    _t("N5.20", "Registrations per class (not under folder)", "content", "info", N_("Counts registrering directly under klasse.")),
    _t("N5.21", "Registrations without document description", "content", "info",
       N_("Lists registrering without dokumentbeskrivelse (items marked 'Utgår' excluded).")),
    _t("N5.22", "Number of each journal status", "content", "error",
       N_("Counts journalstatus values; any value other than 'Arkivert' or 'Utgår' is an error.")),
    _t("N5.23", "Number of document descriptions", "content", "info", N_("Counts dokumentbeskrivelse.")),
    _t("N5.24", "Document descriptions without document object", "content", "info",
       N_("Lists dokumentbeskrivelse without dokumentobjekt (excluding 'Utgår' items and physical media, which are counted separately).")),
    _t("N5.25", "Number of each document status", "content", "error",
       N_("Counts dokumentstatus values; any value other than 'Dokumentet er ferdigstilt' is an error.")),
    _t("N5.26", "Number of document objects", "content", "info", N_("Counts dokumentobjekt.")),
    _t("N5.27", "Creation dates of first and last registration", "content", "error",
       N_("First and last registrering/opprettetDato; invalid dates are errors.")),
    _t("N5.28", "Control of number of document files", "structure", "error",
       N_("The number of files in the documents folder equals the ADDML antallDokumentfiler; a missing or empty folder or an undocumented count is an error.")),
    _t("N5.29", "Number of each document format", "content", "error",
       N_("Counts dokumentobjekt/format values; a file extension that differs from a file-extension format (e.g. 'pdf') is an error. PRONOM PUID formats (fmt/95) are checked by NP.01 instead, and counted in one warning: Arkade 5 compares them with the file extension and reports each as a format mismatch (arkade5 issue #175).")),
    _t("N5.30", "Control of document files' checksums", "content", "error",
       N_("The checksum of every referenced document file matches dokumentobjekt/sjekksum, computed with the algorithm in sjekksumAlgoritme (Arkade always assumes SHA-256).")),
    _t("N5.32", "Control of existence of referenced documents", "content", "error",
       N_("Every referanseDokumentfil names a file that exists ('\\' is read as '/').")),
    _t("N5.33", "Document files missing reference", "content", "error",
       N_("Every file in the documents folder is referenced by a dokumentobjekt: each unreferenced file is an error.")),
    _t("N5.34", "Files referenced from more than one document object", "content", "info",
       N_("Lists document files referenced by more than one dokumentobjekt.")),
    _t("N5.35", "Number of case parties", "content", "info", N_("Counts sakspart (v3.1/v4.0) or part (v5.0).")),
    _t("N5.36", "Number of remarks", "content", "info", N_("Counts merknad per parent element.")),
    _t("N5.37", "Number of cross references", "content", "info", N_("Counts referanseTilKlasse, referanseTilMappe and referanseTilRegistrering.")),
    _t("N5.38", "Number of precedents", "content", "info", N_("Counts presedens in mappe and registrering.")),
    _t("N5.39", "Number of correspondence parties", "content", "info", N_("Counts korrespondansepart.")),
    _t("N5.40", "Number of depreciations", "content", "info", N_("Counts avskrivning per avskrivningsmaate.")),
    _t("N5.41", "Number of document flows", "content", "info", N_("Counts dokumentflyt.")),
    _t("N5.42", "Number of restricted entries", "content", "error",
       N_("Counts skjerming per parent; it is an error when ADDML inneholderSkjermetInformasjon says true and none is found, or false and some are found.")),
    _t("N5.43", "Number of security classifications", "content", "info", N_("Counts gradering per parent element.")),
    _t("N5.44", "Number of disposal resolutions", "content", "error",
       N_("Counts kassasjon per parent; disagreement with ADDML inneholderDokumenterSomSkalKasseres is an error.")),
    _t("N5.45", "Number of performed disposals", "content", "error",
       N_("Counts utfoertKassasjon (in arkivdel or dokumentbeskrivelse); disagreement with ADDML omfatterDokumenterSomErKassert is an error.")),
    _t("N5.46", "Number of converted documents", "content", "info", N_("Counts dokumentobjekt/konvertering.")),
    _t("N5.47", "System identifications", "content", "error",
       N_("Every systemID value in arkivstruktur.xml is unique: each duplicated value is an error with every line it occurs on.")),
    _t("N5.48", "Archive part references", "content", "error",
       N_("Every referanseArkivdel in mappe, registrering or dokumentbeskrivelse names an existing arkivdel systemID.")),
    _t("N5.51", "Class references", "content", "error",
       N_("Every saksmappe/referanseSekundaerKlassifikasjon names an existing klasse systemID.")),
    _t("N5.59", "Number of journal records", "content", "error",
       N_("Counts journalpost registrations and compares with antallJournalposter in offentligJournal.xml and loependeJournal.xml: the journals must agree, and with sharp period separation ('skarpt'; 'skarp' accepted with a warning) must agree with the archive. An unreadable journal is an error.")),
    _t("N5.60", "Start and end dates", "content", "error",
       N_("First and last registrering/journaldato against journalStartDato/journalSluttDato of both journals, with the same rules as N5.59.")),
    _t("N5.61", "Number of logged changes", "content", "error", N_("Counts endring in endringslogg.xml; a missing file is an error.")),
    _t("N5.62", "Changelog references to archive structure", "content", "error",
       N_("Every referanseArkivenhet in endringslogg.xml is a systemID present in arkivstruktur.xml.")),
    _t("N5.63", "Elements without content", "content", "error",
       N_("Every leaf element in arkivstruktur.xml has content (empty or whitespace-only elements are errors).")),
    _t("N5.64", "Number of empty document files", "content", "info",
       N_("Lists referenced document files of size 0 (items marked 'Utgår' excluded).")),
    _t("NP.01", N_("Document formats are approved archival formats"), "own", "error",
       N_("Each referenced document is identified with Siegfried (PRONOM); its PUID must be an archival format of Riksarkivarens forskrift § 5-17 (error otherwise; a format only approved in the past is a warning), and should equal dokumentobjekt/format when that holds a PUID (warning otherwise).")),
    _t("NP.02", N_("Person numbers are valid"), "own", "warning",
       N_("Every fødselsnummer, D-nummer or H-nummer in patient metadata (epj:fodselsnummer), and 11-digit klasseID and partID values, have valid control digits and date (1964 or 2032 rule set). An invalid number is kept as the source recorded it, so this is a warning for the archivist, never a reason to drop a journal. A patient's epj:kjonn that contradicts the sex digit of a valid epj:fodselsnummer (its 9th digit: odd 'mann', even 'kvinne') is a warning too, at the epj:kjonn; 'ukjent', an invalid number and a number valid only under the 2032 rules (which carries no sex) are not judged. Numbers are never shown.")),
    _t("NP.03", N_("Public journal does not leak screened values"), "own", "error",
       N_("A value the extract screens must not appear unmasked in offentligJournal.xml: a screened person's name "
       "(a saksmappe's part under 'Skjerming navn part i sak', a klasse title under 'Skjerming tittel klasse', a "
       "korrespondansepart the journal marks screened, or without such marks every party of a role arkivstruktur.xml "
       "screens) in a public title or as korrespondansepartNavn, or a whole title where no word of it may show "
       "('… - unntatt første linje' with more lines, 'Midlertidig skjerming').")),
    _t("NP.05", N_("XML files declare no DTD"), "own", "error",
       N_("No XML file of the extract has a <!DOCTYPE> declaration: entities (external ones, entity bombs) are never "
       "resolved by noarkpack, and a Noark 5 extract needs none.")),
    _t("NP.04", N_("Shipped schemas are the official ones"), "own", "warning",
       N_("Each official XSD shipped in the extract is byte-identical (SHA-256) to a version pinned in noarkpack's schema lock files.")),
    _t("NP.06", N_("Journal and case numbers follow creation order"), "own", "error",
       N_("journalaar (saksaar) is the year of the journalpost's (saksmappe's) opprettetDato, and within a year "
       "journalsekvensnummer (sakssekvensnummer) follows the order of opprettetDato, each number given once "
       "(M011-M014; warnings: the numbers are the producing system's and cannot be changed). loependeJournal.xml and "
       "offentligJournal.xml are sorted by journalaar and journalsekvensnummer (krav 6.4.30; an error otherwise).")),
    _t("NP.07", N_("No restanser in closed folders"), "own", "warning",
       N_("A journalpost of type 'Inngående dokument' or 'Organinternt dokument for oppfølging' in a closed mappe (avsluttetDato, or saksstatus 'Avsluttet'; not 'Utgår') has an avskrivning: closing a mappe avskriver its restanser (Noark 5 v5.0 krav 3.2.9, 3.4.5). A warning: the schema and Arkade accept it, but the journal does not say how the document was closed.")),
    _t("NP.08", N_("Converted documents are not older than their conversion"), "own", "warning",
       N_("The dokumentobjekt of a converted file (one with konvertering) has an opprettetDato no earlier than each "
       "of its konvertertDato: a new format is a new dokumentobjekt (M701 'Kan ikke endres'), made by the "
       "conversion (M600, M615). An earlier date means the original's creation was copied onto its converted "
       "variant. When only one of the two has a UTC offset, only an order that holds for any offset is reported.")),
    _t("NP.09", N_("Business-specific metadata is documented"), "own", "warning",
       N_("Every element declared in a virksomhetsspesifikke schema the ADDML lists for arkivstruktur has an "
       "xs:annotation/xs:documentation of its own (Noark 5 krav 6.4.35).")),
    _t("NP.10", N_("Screening covers what is confidential, and no more"), "own", "warning",
       N_("skjermingMetadata where M502 places it and fitting what it screens: the merknad of a screened mappe or "
       "registrering screened by 'Skjerming merknadstekst'; 'Skjerming navn part i sak' on a saksmappe, not a "
       "registrering, and 'Skjerming navn avsender'/'… mottaker' on a journalpost, not a mappe, and only where it "
       "has a party of that role (also on a journal's korrespondansepart); no internal korrespondansepart (the "
       "organisation's own unit or staff, M087) screened but under 'Midlertidig skjerming'; a loependeJournal journalpost's "
       "skjermingMetadata one of its registrering's; a public title (offentligTittel, M025) not replaced by "
       "asterisks as a whole when it has words that are not a screened name.")),
]

#: every test, by id, in catalogue order
TESTS: dict[str, TestInfo] = {t.id: t for t in _TESTS}

#: Arkade's Noark 5 test ids
ARKADE_IDS = tuple(t.id for t in _TESTS if t.id.startswith("N5."))
#: structure tests run first, outside the streaming pass
STRUCTURE_IDS = ("N5.01", "N5.02", "N5.03", "N5.28", "NP.04", "NP.05", "NP.09")


def get(test_id: str) -> TestInfo:
    return TESTS[test_id]


#: the languages Arkade's test names come in (Arkade's SupportedLanguage: nb, en)
LANGUAGES = ("nb", "en")


@lru_cache(maxsize=1)
def arkade_names() -> dict:
    """arkade_names.json: ``{"source": {...}, "tests": {id: {"nb", "en"}}, "version_variants": {...}}``."""
    with open(Path(__file__).with_name("arkade_names.json"), encoding="utf-8") as f:
        return json.load(f)


def arkade_name(test_id: str, lang: str = "nb", version: str | None = None) -> str | None:
    """Arkade 5's display name of ``test_id`` in ``lang`` ("nb" or "en"), or None when Arkade has no such test.

    ``version``: the Noark 5 version of the tested extract; Arkade names N5.35 "Antall parter" / "Number of
    parties" for a "5.0" extract (ArkadeTestNameProvider.cs: the key N5_35v5_0).
    """
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r} (one of {', '.join(LANGUAGES)})")
    data = arkade_names()
    variant = data["version_variants"].get(test_id, {}).get(version or "")
    names = variant or data["tests"].get(test_id)
    return names[lang] if names else None


def _in(lang: str | None):
    """A context making texts in ``lang`` (None: the current language, as it is)."""
    return language(lang) if lang is not None else contextlib.nullcontext()


def display_name(test_id: str, lang: str | None = None, version: str | None = None) -> str:
    """The name a report shows beside the id, in ``lang`` (default: the current language): Arkade's for an N5
    test, else our own short name, translated."""
    lang = lang or current()
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r} (one of {', '.join(LANGUAGES)})")
    found = arkade_name(test_id, lang, version)
    if found:
        return found
    with language(lang):
        return tr(TESTS[test_id].name)


def purpose(test_id: str, lang: str | None = None) -> str:
    """What ``test_id`` checks, in ``lang`` (default: the current language)."""
    with _in(lang):
        return tr(TESTS[test_id].purpose)


def normalise_ids(ids) -> set[str]:
    """Turn a user's selection ("N5.30", "n5.3", "30", "NP.1") into catalogue ids.

    Raises KeyError with the unknown id.
    """
    out = set()
    for raw in ids:
        s = raw.strip().upper()
        if not s or s.startswith("#"):
            continue
        prefix, _, num = s.rpartition(".")
        if not prefix:
            prefix = "N5"
        try:
            key = f"{prefix}.{int(num):02d}"
        except ValueError:
            raise KeyError(raw) from None
        if key not in TESTS:
            raise KeyError(raw)
        out.add(key)
    return out


__all__ = ["TestInfo", "TESTS", "ARKADE_IDS", "STRUCTURE_IDS", "LANGUAGES", "arkade_name", "arkade_names",
           "display_name", "get", "normalise_ids", "purpose"]
