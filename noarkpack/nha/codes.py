"""The code lists an EPJARK deposit uses, as EPJ Standard del 5 (HIS 80509:2015) and NHA's tools define them.

Every list here is quoted from its source (docs/nha.md, "Code lists"):

* ``pasient_ID_type``: del 5 ``Avleveringsdokumentasjon.xsd``, ``Avleveringsoversikt/pasient_ID_type``:
  "Følgende standard koder kan benyttes: FNR - Fødselsnummer, DNR - D-nummer, FHN Felles hjelpenummer,
  HNR - Virksomhetsinternt hjelpenummer, DUF - DUF-nummer".
* ``revisjonstype``: del 5 ``Arkivert_EPJ_sak.xsd`` / ``Arkivert_EPJ_dokument.xsd``, element
  ``revisjonstype``: "Standard kodeverk: 2.16.578.1.12.4.1.1.9252 Revisjonstype (EPJ)" and its codes.
* diagnosis codes: the form of each code system is the form of NHA's own tables in NHAREG
  (``norsk-helsearkiv/nhareg`` ``src/main/resources/db/ICD10norNew.sql``: 7110 codes without the dot, e.g.
  ``A000``; ``ICD9norNew.sql``: 7120 codes with it, e.g. ``017.0``).
* ``komponenttype``: del 5 ``Arkivert_komponent/komponenttype``: "Unik identifikasjon (i form av en OID) av den
  type komponent registreringen gjelder"; a type without an OID from KITH or the supplier gets one under the
  UUID arc ``2.25`` (ITU-T X.667 / ISO/IEC 9834-8), described in the deposit's uttrekksbeskrivelse.
"""

from __future__ import annotations

import re
import uuid

from ..model.identifiers import NOARKPACK_NAMESPACE, PersonNumber

# ------------------------------------------------------------------------------------------ pasient_ID_type

#: del 5 Avleveringsoversikt/pasient_ID_type: the standard codes and their meaning
PASIENT_ID_TYPER: dict[str, str] = {
    "FNR": "Fødselsnummer",
    "DNR": "D-nummer",
    "FHN": "Felles hjelpenummer",
    "HNR": "Virksomhetsinternt hjelpenummer",
    "DUF": "DUF-nummer",
}

_KIND_CODE = {"fødselsnummer": "FNR", "D-nummer": "DNR", "H-nummer": "HNR"}
_KIND_TEXT = {"FNR": "fødselsnummer", "DNR": "D-nummer", "HNR": "H-nummer"}


def pasient_id_type(recorded: str | None, person: PersonNumber | None) -> tuple[str, str | None]:
    """The del 5 code for the patient's identifier, and the remark that explains it when it is not valid.

    A valid number is typed by its kind: fødselsnummer FNR, D-nummer DNR, H-nummer HNR (an H-nummer is the
    health enterprise's own hjelpenummer: "Virksomhetsinternt hjelpenummer").  An invalid 11-digit number is
    deposited as recorded and typed by its form, as NHAREG classifies it (first digit > 3: D-nummer, third
    digit > 3: H-nummer, else fødselsnummer): del 5 has no code for "invalid", and the code says which *kind*
    of identifier was registered.  Without a person number the patient's number in the source system is the
    identifier: HNR, the enterprise's own number.
    """
    if not recorded:
        return "HNR", None
    if person is not None:
        return _KIND_CODE[person.kind], None
    value = recorded.strip()
    if len(value) == 11 and value.isdigit():
        code = "DNR" if value[0] > "3" else "HNR" if value[2] > "3" else "FNR"
        return code, (f"Pasientens {_KIND_TEXT[code]} er avlevert slik det er registrert i kildesystemet, men "
                      "kontrollsifrene er ikke gyldige etter verken 1964- eller 2032-reglene; pasient_ID_type "
                      f"{code} er satt etter nummerets form.")
    return "HNR", ("Pasientens identifikator er avlevert slik den er registrert i kildesystemet; den er ikke et "
                   "fødselsnummer, D-nummer eller H-nummer (11 sifre), og er typet som virksomhetens eget nummer "
                   "(HNR).")


# ------------------------------------------------------------------------------------------ revisjonstype

REVISJONSTYPE_OID = "2.16.578.1.12.4.1.1.9252"
#: the codes del 5 lists for Revisjonstype (EPJ)
REVISJONSTYPER: dict[str, str] = {
    "01": "Registrering av nytt innhold gjennom EPJs brukergrensesnitt",
    "03": "Registrering av nytt innhold gjennom datafangst fra medisinsk-teknisk utstyr mv.",
    "05": "Skanning av papirdokumenter",
    "07": "Registrering av innhold elektronisk overført fra annet system i samme virksomhet",
    "09": "Registrering av innhold elektronisk overført fra annen virksomhet",
    "11": "Godkjenning av registrert journalinnhold",
    "31": "Redigering av eksisterende innhold utført av journalansvarlig",
    "61": "Retting (i medhold av lov) av feilaktig, mangelfult eller utilbørlige opplysninger",
    "71": "Sletting (i medhold av lov) av opplysninger som er feilaktige eller misvisende",
    "72": "Sletting (i medhold av lov) av opplysninger ført i feil journal",
}


def revisjonstype(code: str) -> tuple[str, str]:
    return code, REVISJONSTYPER[code]


# ------------------------------------------------------------------------------------------ diagnoses

ICD10_OID = "2.16.578.1.12.4.1.1.7110"
ICD9_OID = "2.16.578.1.12.4.1.1.7120"

#: the form of a code in each code system NHA's tables hold (NHAREG ICD10norNew.sql, ICD9norNew.sql)
CODE_FORMS: dict[str, re.Pattern[str]] = {
    ICD10_OID: re.compile(r"[A-Z][0-9]{2}[0-9A-Z]{0,2}"),  # A000, I219, I48 — never a dot
    ICD9_OID: re.compile(r"[0-9EV][0-9]{2}(\.[0-9]{1,2})?"),  # 017, 017.0, 410.9
}
#: what any code looks like: no whitespace and at least one digit ("Hjertesvikt" is text, not a code)
_ANY_CODE = re.compile(r"(?=.*[0-9])[^\s]{1,20}")


def diagnosis_code(kode: str | None, oid: str) -> str | None:
    """``kode`` in the form of the code system ``oid``, or None when it is not a code of that system.

    ICD-10 (7110) is written without the dot and in capitals (``I21.9`` → ``I219``), as NHA's ICD-10 table
    holds it; ICD-9 (7120) keeps its dot.  A code system without a known form (OID 0 or another OID) takes
    any value that looks like a code; text such as ``Hjertesvikt`` is never a code.
    """
    if not kode or not kode.strip():
        return None
    value = kode.strip()
    form = CODE_FORMS.get(oid)
    if form is None:
        return value if _ANY_CODE.fullmatch(value) else None
    if oid == ICD10_OID:
        value = value.replace(".", "").upper()
    return value if form.fullmatch(value) else None


# ------------------------------------------------------------------------------------------ komponenttype

OID_RE = re.compile(r"(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))+")  # del 5 uttrekksbeskrivelse/id.xsd "oid"


def uuid_oid(system_id: str, kind: str, name: str) -> str:
    """A stable OID under the UUID arc 2.25 (ITU-T X.667) for a component type of the source system."""
    u = uuid.uuid5(NOARKPACK_NAMESPACE, "\x1f".join(("komponenttype", system_id, kind, name)))
    return f"2.25.{u.int}"


#: name of the EPJ dokument type noarkpack compiles from the journal record (journalansvarlig, diagnoses)
OPPLYSNINGER = "noarkpack:journalopplysninger"

#: the component types noarkpack itself makes, (kind, name) -> (betegnelse, beskrivelse, what it includes: a
#: fragment its data element, a data element its del 5 specialisation); the EPJ dokument types of the entries
#: are the source's entry types ([nha.komponenttyper])
OWN_TYPES: dict[tuple[str, str], tuple[str, str, object]] = {
    ("sak", "sak"): ("Pasientjournal", "En pasientjournal slik kildesystemet fører den: én EPJ sak per journal, "
                                       "med journalens innslag som EPJ dokument.", None),
    ("dokument", OPPLYSNINGER): (
        "Journalopplysninger", "Journalens strukturerte opplysninger i kildesystemet, sammenstilt ved "
        "arkivuttrekket: journalansvarlig og diagnosene.", [("fragment", "journalansvarlig"),
                                                             ("fragment", "diagnose")]),
    ("fragment", "fragment"): ("Dokumentfil", "Én fil som hører til et journalinnslag; fragmentet holder filen "
                                              "som et elektronisk dokument (ELDOK).", ("dataelement", "dataelement")),
    ("fragment", "journalansvarlig"): ("Journalansvarlig", "Den som er ansvarlig for journalen.",
                                       ("dataelement", "journalansvarlig")),
    ("fragment", "diagnose"): ("Diagnose", "Én diagnose registrert i journalen.", ("dataelement", "diagnosekode")),
    ("dataelement", "dataelement"): ("Elektronisk dokument (ELDOK)", "Filens innhold (dokumentinnhold: relativ "
                                     "URI til filen i pakken) og format (format_dokumentinnhold: PRONOM-id).",
                                     "Arkivert_ELDOK_dataelement___elektronisk_dokument"),
    ("dataelement", "journalansvarlig"): (
        "Journalansvarlig", "Navnet på den journalansvarlige slik kildesystemet fører det (id).",
        "Arkivert_ID_dataelement"),
    ("dataelement", "diagnosekode"): (
        "Diagnosekode", "Diagnosen som kode (code, i kodeverkets form: ICD-10 uten punktum), tekst (displayName), "
        "kodeverk (codeSystem: OID, 0 når det er ukjent) og kildens tekst (originalText) når den ikke er en kode.",
        "Arkivert_CV_dataelement___coded_value"),
}


class Komponenttyper:
    """The component types a deposit uses, each with its OID, name and description (del 5 uttrekksbeskrivelse).

    ``configured`` is ``[nha.komponenttyper]``: an entry type name → ``{oid, betegnelse, beskrivelse}``,
    each optional.  A type without a configured OID gets a stable 2.25 OID (:func:`uuid_oid`).  Types are
    remembered in the order they are first used, with the number of components of each.
    """

    def __init__(self, system_id: str, system_navn: str | None, configured: dict | None = None) -> None:
        self.system_id = system_id
        self.system_navn = system_navn or "kildesystemet"
        self.configured = dict(configured or {})
        self.used: dict[tuple[str, str], dict] = {}

    def describe(self, kind: str, name: str) -> dict:
        """The type's OID, betegnelse, beskrivelse and what it includes (not counted as used)."""
        own = OWN_TYPES.get((kind, name))
        conf = self.configured.get(name, {}) if kind == "dokument" and own is None else {}
        if own is None:  # an entry type of the source
            betegnelse = conf.get("betegnelse") or name
            beskrivelse = conf.get("beskrivelse") or (
                f"Journalinnslag av typen «{name}» i {self.system_navn}; hvert innslag er ett EPJ dokument.")
            includes: object = [("fragment", "fragment")]
        else:
            betegnelse, beskrivelse, includes = own
        return {"kind": kind, "name": name, "oid": conf.get("oid") or uuid_oid(self.system_id, kind, name),
                "betegnelse": betegnelse, "beskrivelse": beskrivelse, "includes": includes, "antall": 0}

    def oid(self, kind: str, name: str | None = None) -> str:
        """The OID of a component of ``kind`` (sak, dokument, fragment, dataelement), counted as used."""
        key = (kind, name or kind)
        t = self.used.get(key)
        if t is None:
            t = self.used[key] = self.describe(kind, key[1])
        t["antall"] += 1
        return t["oid"]

    def of_kind(self, kind: str) -> list[dict]:
        return [t for (k, _), t in self.used.items() if k == kind]
