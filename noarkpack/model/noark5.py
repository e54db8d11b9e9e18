"""Noark 5 v5.0 entities as used in an arkivuttrekk.

Attribute names are the standard's element names (``systemID``,
``opprettetDato``, ``skjermingMetadata`` …) so that an archivist reading the
code sees the metadata catalogue, and so that the XML writer can serialise an
object by walking ``XML`` — the element order of the ``xs:sequence`` in
arkivstruktur.xsd (v5.0).  Subtypes (saksmappe, journalpost, arkivnotat) extend
their base type, so their own fields come *after* the base type's children,
exactly as the schema's ``xs:extension`` demands.

Values: ``str`` (never empty: use None to leave an element out), ``int``,
``datetime.date`` (xs:date), ``datetime.datetime`` (xs:dateTime; timezone-aware),
lists for repeatable elements and nested entity objects for complex elements.
``XSI_TYPE`` names the subtype written as ``xsi:type``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import ClassVar

# -- small complex types ------------------------------------------------------


@dataclass
class Arkivskaper:
    arkivskaperID: str
    arkivskaperNavn: str
    beskrivelse: str | None = None
    XML: ClassVar[tuple[str, ...]] = ("arkivskaperID", "arkivskaperNavn", "beskrivelse")


@dataclass(frozen=True)
class ArkivskaperInfo:
    """An arkivskaper as a project declares it ([[arkivskaper]] in noarkpack.toml): the key its journals carry,
    and what the extract says of it (:class:`Arkivskaper`)."""

    key: str  # the key journals use (Pasientjournal.arkivskaper)
    id: str  # arkivskaperID, e.g. the organisation number
    navn: str
    beskrivelse: str | None = None


@dataclass
class Kassasjon:
    kassasjonsvedtak: str  # Bevares | Kasseres | Vurderes senere
    bevaringstid: int
    kassasjonsdato: date
    kassasjonshjemmel: str | None = None
    XML: ClassVar[tuple[str, ...]] = ("kassasjonsvedtak", "kassasjonshjemmel", "bevaringstid", "kassasjonsdato")


@dataclass
class UtfoertKassasjon:
    kassertDato: datetime
    kassertAv: str
    XML: ClassVar[tuple[str, ...]] = ("kassertDato", "kassertAv")


@dataclass
class Skjerming:
    tilgangsrestriksjon: str
    skjermingshjemmel: str
    skjermingMetadata: list[str]
    skjermingDokument: str | None = None
    skjermingsvarighet: int | None = None
    skjermingOpphoererDato: date | None = None
    XML: ClassVar[tuple[str, ...]] = (
        "tilgangsrestriksjon",
        "skjermingshjemmel",
        "skjermingMetadata",
        "skjermingDokument",
        "skjermingsvarighet",
        "skjermingOpphoererDato",
    )

    def screens(self, what: str) -> bool:
        """True if any skjermingMetadata value starts with ``what`` (e.g. "Skjerming tittel registrering")."""
        return any(m.startswith(what) for m in self.skjermingMetadata)


@dataclass
class Gradering:
    grad: str
    graderingsdato: datetime
    gradertAv: str
    nedgraderingsdato: datetime | None = None
    nedgradertAv: str | None = None
    XML: ClassVar[tuple[str, ...]] = ("grad", "graderingsdato", "gradertAv", "nedgraderingsdato", "nedgradertAv")


@dataclass
class Merknad:
    merknadstekst: str
    merknadsdato: datetime
    merknadRegistrertAv: str
    merknadstype: str | None = None
    XML: ClassVar[tuple[str, ...]] = ("merknadstekst", "merknadstype", "merknadsdato", "merknadRegistrertAv")


@dataclass
class Part:
    partNavn: str
    partRolle: str
    partID: str | None = None
    postadresse: list[str] = field(default_factory=list)
    postnummer: str | None = None
    poststed: str | None = None
    land: str | None = None
    epostadresse: str | None = None
    telefonnummer: list[str] = field(default_factory=list)
    kontaktperson: str | None = None
    virksomhetsspesifikkeMetadata: VirksomhetsspesifikkeMetadata | None = None
    XML: ClassVar[tuple[str, ...]] = (
        "partID",
        "partNavn",
        "partRolle",
        "postadresse",
        "postnummer",
        "poststed",
        "land",
        "epostadresse",
        "telefonnummer",
        "kontaktperson",
        "virksomhetsspesifikkeMetadata",
    )


@dataclass
class Korrespondansepart:
    korrespondanseparttype: str  # Avsender | Mottaker | Kopimottaker | …
    korrespondansepartNavn: str
    postadresse: list[str] = field(default_factory=list)
    postnummer: str | None = None
    poststed: str | None = None
    land: str | None = None
    epostadresse: str | None = None
    telefonnummer: list[str] = field(default_factory=list)
    kontaktperson: str | None = None
    administrativEnhet: str | None = None
    saksbehandler: str | None = None
    #: the name is screened (a natural person: model.screening); not an element of arkivstruktur.xml, where
    #: the registrering's skjermingMetadata says it by role, but of the journals' korrespondansepart (M502)
    skjermet: bool = False
    XML: ClassVar[tuple[str, ...]] = (
        "korrespondanseparttype",
        "korrespondansepartNavn",
        "postadresse",
        "postnummer",
        "poststed",
        "land",
        "epostadresse",
        "telefonnummer",
        "kontaktperson",
        "administrativEnhet",
        "saksbehandler",
    )


@dataclass
class VirksomhetsspesifikkeMetadata:
    """Metadata Noark 5 lacks, in a namespace of their own with their own XSD.

    ``namespace`` and ``prefix`` name that schema; ``elements`` is an ordered
    list of ``(local name, value)`` where value is a scalar or a nested list of
    the same form.  The writer emits them inside ``virksomhetsspesifikkeMetadata``.
    """

    namespace: str
    prefix: str
    elements: list[tuple[str, object]]


@dataclass
class Konvertering:
    konvertertDato: datetime
    konvertertAv: str
    konvertertFraFormat: str
    konvertertTilFormat: str
    konverteringsverktoey: str | None = None
    konverteringskommentar: str | None = None
    XML: ClassVar[tuple[str, ...]] = (
        "konvertertDato",
        "konvertertAv",
        "konvertertFraFormat",
        "konvertertTilFormat",
        "konverteringsverktoey",
        "konverteringskommentar",
    )


@dataclass
class Avskrivning:
    """How and when the handling of a journalpost ended (M617–M619, M215; krav 3.4.1–3.4.9)."""

    avskrivningsdato: date  # xs:date in arkivstruktur.xsd (the catalogue says date and time)
    avskrevetAv: str
    avskrivningsmaate: str  # one of AVSKRIVNINGSMAATER (M619)
    referanseAvskrivesAvJournalpost: str | None = None  # systemID of the journalpost that answered it
    XML: ClassVar[tuple[str, ...]] = (
        "avskrivningsdato",
        "avskrevetAv",
        "avskrivningsmaate",
        "referanseAvskrivesAvJournalpost",
    )


#: M619 avskrivningsmaate: the obligatory values of the Noark 5 v5.0 metadata catalogue
AVSKRIVNINGSMAATER = (
    "Besvart med brev",
    "Besvart med e-post",
    "Besvart på telefon",
    "Tatt til etterretning",
    "Tatt til orientering",
)
#: the journalposttyper that stand "i restanse" until avskrevet (Noark 5 v5.0, 3.4 "Avskrivning og saksoppfølging")
JOURNALPOSTTYPER_MED_AVSKRIVNING = ("Inngående dokument", "Organinternt dokument for oppfølging")


# -- the hierarchy ------------------------------------------------------------


@dataclass
class Dokumentobjekt:
    systemID: str
    versjonsnummer: int
    variantformat: str  # Produksjonsformat | Arkivformat | Dokument hvor deler av innholdet er skjermet
    format: str  # PRONOM PUID
    opprettetDato: datetime
    opprettetAv: str
    referanseDokumentfil: str
    sjekksum: str
    sjekksumAlgoritme: str
    filstoerrelse: int
    formatDetaljer: str | None = None
    konvertering: list[Konvertering] = field(default_factory=list)
    XML: ClassVar[tuple[str, ...]] = (
        "systemID",
        "versjonsnummer",
        "variantformat",
        "format",
        "formatDetaljer",
        "opprettetDato",
        "opprettetAv",
        "referanseDokumentfil",
        "sjekksum",
        "sjekksumAlgoritme",
        "filstoerrelse",
        "konvertering",
    )


@dataclass
class Dokumentbeskrivelse:
    systemID: str
    dokumenttype: str
    dokumentstatus: str
    tittel: str
    opprettetDato: datetime
    opprettetAv: str
    tilknyttetRegistreringSom: str  # Hoveddokument | Vedlegg
    dokumentnummer: int
    tilknyttetDato: datetime
    tilknyttetAv: str
    beskrivelse: str | None = None
    forfatter: list[str] = field(default_factory=list)
    dokumentmedium: str | None = None
    oppbevaringssted: str | None = None
    referanseArkivdel: list[str] = field(default_factory=list)
    part: list[Part] = field(default_factory=list)
    merknad: list[Merknad] = field(default_factory=list)
    kassasjon: Kassasjon | None = None
    utfoertKassasjon: UtfoertKassasjon | None = None
    skjerming: Skjerming | None = None
    gradering: Gradering | None = None
    dokumentobjekt: list[Dokumentobjekt] = field(default_factory=list)
    XML: ClassVar[tuple[str, ...]] = (
        "systemID",
        "dokumenttype",
        "dokumentstatus",
        "tittel",
        "beskrivelse",
        "forfatter",
        "opprettetDato",
        "opprettetAv",
        "dokumentmedium",
        "oppbevaringssted",
        "referanseArkivdel",
        "tilknyttetRegistreringSom",
        "dokumentnummer",
        "tilknyttetDato",
        "tilknyttetAv",
        "part",
        "merknad",
        "kassasjon",
        "utfoertKassasjon",
        "skjerming",
        "gradering",
        "dokumentobjekt",
    )


@dataclass
class Registrering:
    systemID: str
    opprettetDato: datetime
    opprettetAv: str
    arkivertDato: datetime
    arkivertAv: str
    tittel: str
    referanseArkivdel: list[str] = field(default_factory=list)
    part: list[Part] = field(default_factory=list)
    kassasjon: Kassasjon | None = None
    skjerming: Skjerming | None = None
    gradering: Gradering | None = None
    dokumentbeskrivelse: list[Dokumentbeskrivelse] = field(default_factory=list)
    registreringsID: str | None = None
    offentligTittel: str | None = None
    beskrivelse: str | None = None
    noekkelord: list[str] = field(default_factory=list)
    forfatter: list[str] = field(default_factory=list)
    dokumentmedium: str | None = None
    oppbevaringssted: list[str] = field(default_factory=list)
    virksomhetsspesifikkeMetadata: VirksomhetsspesifikkeMetadata | None = None
    merknad: list[Merknad] = field(default_factory=list)
    korrespondansepart: list[Korrespondansepart] = field(default_factory=list)
    XSI_TYPE: ClassVar[str | None] = None
    XML: ClassVar[tuple[str, ...]] = (
        "systemID",
        "opprettetDato",
        "opprettetAv",
        "arkivertDato",
        "arkivertAv",
        "referanseArkivdel",
        "part",
        "kassasjon",
        "skjerming",
        "gradering",
        "dokumentbeskrivelse",
        "registreringsID",
        "tittel",
        "offentligTittel",
        "beskrivelse",
        "noekkelord",
        "forfatter",
        "dokumentmedium",
        "oppbevaringssted",
        "virksomhetsspesifikkeMetadata",
        "merknad",
        "korrespondansepart",
    )


@dataclass
class Journalpost(Registrering):
    journalaar: int = 0
    journalsekvensnummer: int = 0
    journalpostnummer: int = 0
    journalposttype: str = ""
    journalstatus: str = ""
    journaldato: date | None = None
    dokumentetsDato: date | None = None
    mottattDato: datetime | None = None
    sendtDato: datetime | None = None
    forfallsdato: date | None = None
    offentlighetsvurdertDato: date | None = None
    antallVedlegg: int | None = None
    journalenhet: str | None = None
    avskrivning: list[Avskrivning] = field(default_factory=list)
    XSI_TYPE: ClassVar[str | None] = "journalpost"
    XML: ClassVar[tuple[str, ...]] = Registrering.XML + (
        "journalaar",
        "journalsekvensnummer",
        "journalpostnummer",
        "journalposttype",
        "journalstatus",
        "journaldato",
        "dokumentetsDato",
        "mottattDato",
        "sendtDato",
        "forfallsdato",
        "offentlighetsvurdertDato",
        "antallVedlegg",
        "journalenhet",
        "avskrivning",
    )


@dataclass
class Arkivnotat(Registrering):
    dokumentetsDato: date | None = None
    mottattDato: datetime | None = None
    sendtDato: datetime | None = None
    forfallsdato: date | None = None
    offentlighetsvurdertDato: date | None = None
    antallVedlegg: int | None = None
    XSI_TYPE: ClassVar[str | None] = "arkivnotat"
    XML: ClassVar[tuple[str, ...]] = Registrering.XML + (
        "dokumentetsDato",
        "mottattDato",
        "sendtDato",
        "forfallsdato",
        "offentlighetsvurdertDato",
        "antallVedlegg",
    )


@dataclass
class Mappe:
    systemID: str
    mappeID: str
    tittel: str
    opprettetDato: datetime
    opprettetAv: str
    avsluttetDato: datetime
    avsluttetAv: str
    offentligTittel: str | None = None
    beskrivelse: str | None = None
    noekkelord: list[str] = field(default_factory=list)
    dokumentmedium: str | None = None
    oppbevaringssted: list[str] = field(default_factory=list)
    referanseArkivdel: list[str] = field(default_factory=list)
    virksomhetsspesifikkeMetadata: VirksomhetsspesifikkeMetadata | None = None
    part: list[Part] = field(default_factory=list)
    merknad: list[Merknad] = field(default_factory=list)
    kassasjon: Kassasjon | None = None
    skjerming: Skjerming | None = None
    gradering: Gradering | None = None
    registrering: list[Registrering] = field(default_factory=list)
    XSI_TYPE: ClassVar[str | None] = None
    XML: ClassVar[tuple[str, ...]] = (
        "systemID",
        "mappeID",
        "tittel",
        "offentligTittel",
        "beskrivelse",
        "noekkelord",
        "dokumentmedium",
        "oppbevaringssted",
        "opprettetDato",
        "opprettetAv",
        "avsluttetDato",
        "avsluttetAv",
        "referanseArkivdel",
        "virksomhetsspesifikkeMetadata",
        "part",
        "merknad",
        "kassasjon",
        "skjerming",
        "gradering",
        "registrering",
    )


@dataclass
class Saksmappe(Mappe):
    saksaar: int = 0
    sakssekvensnummer: int = 0
    saksdato: date | None = None
    administrativEnhet: str = ""
    saksansvarlig: str = ""
    journalenhet: str | None = None
    saksstatus: str = ""
    XSI_TYPE: ClassVar[str | None] = "saksmappe"
    XML: ClassVar[tuple[str, ...]] = Mappe.XML + (
        "saksaar",
        "sakssekvensnummer",
        "saksdato",
        "administrativEnhet",
        "saksansvarlig",
        "journalenhet",
        "saksstatus",
    )


@dataclass
class Klasse:
    """A klasse; in a streamed extract its mapper are written by the writer, not held here."""

    systemID: str
    klasseID: str
    tittel: str
    opprettetDato: datetime
    opprettetAv: str
    beskrivelse: str | None = None
    noekkelord: list[str] = field(default_factory=list)
    avsluttetDato: datetime | None = None
    avsluttetAv: str | None = None
    kassasjon: Kassasjon | None = None
    skjerming: Skjerming | None = None
    gradering: Gradering | None = None
    XML: ClassVar[tuple[str, ...]] = (
        "systemID",
        "klasseID",
        "tittel",
        "beskrivelse",
        "noekkelord",
        "opprettetDato",
        "opprettetAv",
        "avsluttetDato",
        "avsluttetAv",
        "kassasjon",
        "skjerming",
        "gradering",
    )


@dataclass
class Klassifikasjonssystem:
    systemID: str
    tittel: str
    opprettetDato: datetime
    opprettetAv: str
    klassifikasjonstype: str | None = None
    beskrivelse: str | None = None
    avsluttetDato: datetime | None = None
    avsluttetAv: str | None = None
    XML: ClassVar[tuple[str, ...]] = (
        "systemID",
        "klassifikasjonstype",
        "tittel",
        "beskrivelse",
        "opprettetDato",
        "opprettetAv",
        "avsluttetDato",
        "avsluttetAv",
    )


@dataclass
class Arkivdel:
    systemID: str
    tittel: str
    arkivdelstatus: str
    opprettetDato: datetime
    opprettetAv: str
    avsluttetDato: datetime
    avsluttetAv: str
    beskrivelse: str | None = None
    dokumentmedium: str | None = None
    oppbevaringssted: list[str] = field(default_factory=list)
    arkivperiodeStartDato: date | None = None
    arkivperiodeSluttDato: date | None = None
    referanseForloeper: str | None = None
    referanseArvtaker: str | None = None
    kassasjon: Kassasjon | None = None
    utfoertKassasjon: UtfoertKassasjon | None = None
    skjerming: Skjerming | None = None
    gradering: Gradering | None = None
    XML: ClassVar[tuple[str, ...]] = (
        "systemID",
        "tittel",
        "beskrivelse",
        "arkivdelstatus",
        "dokumentmedium",
        "oppbevaringssted",
        "opprettetDato",
        "opprettetAv",
        "avsluttetDato",
        "avsluttetAv",
        "arkivperiodeStartDato",
        "arkivperiodeSluttDato",
        "referanseForloeper",
        "referanseArvtaker",
        "kassasjon",
        "utfoertKassasjon",
        "skjerming",
        "gradering",
    )


@dataclass
class Arkiv:
    systemID: str
    tittel: str
    opprettetDato: datetime
    opprettetAv: str
    avsluttetDato: datetime
    avsluttetAv: str
    arkivskaper: list[Arkivskaper]
    beskrivelse: str | None = None
    arkivstatus: str | None = None
    dokumentmedium: str | None = None
    oppbevaringssted: list[str] = field(default_factory=list)
    XML: ClassVar[tuple[str, ...]] = (
        "systemID",
        "tittel",
        "beskrivelse",
        "arkivstatus",
        "dokumentmedium",
        "oppbevaringssted",
        "opprettetDato",
        "opprettetAv",
        "avsluttetDato",
        "avsluttetAv",
        "arkivskaper",
    )


@dataclass
class Endring:
    """One entry of endringslogg.xml."""

    referanseArkivenhet: str
    referanseMetadata: str
    endretDato: datetime
    endretAv: str
    tidligereVerdi: str
    nyVerdi: str
    XML: ClassVar[tuple[str, ...]] = (
        "referanseArkivenhet",
        "referanseMetadata",
        "endretDato",
        "endretAv",
        "tidligereVerdi",
        "nyVerdi",
    )
