"""How the EPJ layer maps onto Noark 5 (see docs/mapping.md).

- one **arkiv** per extract, with every arkivskaper of the shared system;
- one **arkivdel** for the deposit period ("Avsluttet periode");
- one **klassifikasjonssystem** "Pasienter" (objektbasert), one **klasse** per
  patient: klasseID = fødselsnummer/D-/H-nummer (or the source patient key),
  tittel = the patient's name, both screened (Skjerming klasseID, Skjerming
  tittel klasse);
- one **saksmappe** per pasientjournal under the patient's klasse:
  administrativEnhet = journalsted, saksansvarlig = journalansvarlig, the
  patient as **part** (rolle "Pasient"), screened; patient fields Noark 5
  lacks (fødselsdato, dødsdato, kjønn …) and the journal's own fields in
  **virksomhetsspesifikkeMetadata** (schemas/noarkpack-epj-2.0.xsd);
- one **registrering** per entry — a **journalpost** when the entry is
  correspondence (then it also appears in the journals), else a plain
  registrering; entry screening → registrering/skjerming; an incoming or
  internal journalpost is **avskrevet** as the source says, else by the
  documented default (:func:`avskrivning`);
- one **dokumentbeskrivelse** per document file, with one **dokumentobjekt**
  (versjon 1, Arkivformat) carrying checksum, size and PRONOM format.

Who did what (docs/mapping.md, "Who did what"): the logging fields (opprettetAv, arkivertAv,
avsluttetAv, tilknyttetAv) carry the source system's user ids; forfatter and saksansvarlig carry
names.  A registrering and its dokumentbeskrivelser were created by whoever registered the entry
(M601): the entry's ``opprettet_av`` when the source has it, else its signer; the author stays in
forfatter (M024).  A converted file's dokumentobjekt was created by the conversion: its
opprettetDato/opprettetAv are the konvertering's konvertertDato/konvertertAv (M600, M601, M615, M616).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Mapping

from . import noark5 as n5
from . import screening as sk
from .epj import Journalinnslag, Pasient, Pasientjournal
from .identifiers import system_id

#: namespace of noarkpack's virksomhetsspesifikke metadata (schemas/noarkpack-epj-2.0.xsd)
EPJ_NAMESPACE = "urn:noarkpack:epj:2.0"
EPJ_PREFIX = "epj"
EPJ_SCHEMA_FILE = "noarkpack-epj-2.0.xsd"
#: kjønn as self-explaining text, not the source's codes (Noark 5 vedlegg 2: no code values in a deposit)
KJONN_TEKST = {"M": "mann", "K": "kvinne", "U": "ukjent"}

#: konverteringskommentar (M715) of noarkpack's conversions: they run when the extract is made, after
#: the mappe was closed (chapter 2.7 asks for conversion "senest ved avslutning av mappe"), and only the
#: archival variant is delivered
KONVERTERINGSKOMMENTAR = ("Konvertert til arkivformat ved uttrekk for avlevering, etter at mappen var avsluttet. "
                          "Originalen er ikke med i uttrekket.")

DOKUMENTTYPER = {
    "notat": "Journalnotat",
    "epikrise": "Epikrise",
    "henvisning": "Henvisning",
    "skjema": "Skjema",
    "skannet": "Skannet papirjournal",
    "brev": "Brev",
    "vedtak": "Vedtak",
}


@dataclass(frozen=True)
class DocumentInfo:
    """What the extract writer knows of a copied document file."""

    referanseDokumentfil: str  # relative to arkivstruktur.xml, e.g. DOKUMENT/2019/a.pdf
    sjekksum: str  # lowercase hex
    sjekksumAlgoritme: str  # "SHA256"
    filstoerrelse: int
    format: str  # PRONOM PUID
    formatDetaljer: str | None = None
    konvertering: tuple[n5.Konvertering, ...] = ()  # when the file is the PDF/A variant of a converted one
    systemID: str | None = None  # the dokumentobjekt's, when the writer has made it already (dokumentobjekt_id)


@dataclass(frozen=True)
class MappingContext:
    """Project-level facts the mapping needs."""

    system: str  # noarkpack.toml [system] id (namespace of systemIDs)
    arkivdel_systemID: str
    skjerming_tilgangsrestriksjon: str
    skjerming_hjemmel: str
    #: arkivskaper key (Pasientjournal.arkivskaper) → arkivskaperID: the deposit names the real identifier
    arkivskaper_ids: Mapping[str, str] = field(default_factory=dict)
    #: name patterns of the korrespondanseparter that are institutions, shown in offentligJournal
    #: (model.screening.is_institution; noarkpack.toml [skjerming] institusjoner)
    institusjoner: tuple[str, ...] = ()


def dokumentobjekt_id(ctx: MappingContext, j: Pasientjournal, i: Journalinnslag, n: int) -> str:
    """systemID of the (single, version 1) dokumentobjekt of document ``n`` (1-based) of an entry."""
    return system_id(ctx.system, "dokumentobjekt", j.journal_id, i.innslag_id, str(n), "1")


#: the avskrivningsmaate of an incoming or internal journalpost whose source says nothing of how it was closed
#: (docs/mapping.md, "Avskrivning"): the journal's closing avskrev it (krav 3.4.5), and of the values M619
#: allows this is the one that claims no answer
DEFAULT_AVSKRIVNINGSMAATE = "Tatt til etterretning"
#: the avskrivningsmaate of a journalpost the source says was answered by an outgoing letter of the journal
ANSWERED_AVSKRIVNINGSMAATE = "Besvart med brev"


def avskrivning(ctx: MappingContext, j: Pasientjournal, i: Journalinnslag) -> list[n5.Avskrivning]:
    """The avskrivning of entry ``i`` (a journalpost) of closed journal ``j``.

    From the source when it has one: its avskrivningsmaate, or "Besvart med brev" when it names the answering
    outgoing letter (referanseAvskrivesAvJournalpost = that journalpost; date and person then default to the
    letter's journaldato and author). Otherwise an incoming document or an internal document for follow-up
    gets the default of krav 3.4.5 (closing the saksmappe avskriver its restanser): "Tatt til etterretning" on
    the journal's closing date, by whoever closed it.  Other journalposttyper stand in no restanse: none.
    """
    k = i.korrespondanse
    if k is None:
        return []
    closed = as_date(j.avsluttet)  # type: ignore[arg-type]
    a = k.avskrivning
    if a is None:
        if k.type not in n5.JOURNALPOSTTYPER_MED_AVSKRIVNING:
            return []
        return [n5.Avskrivning(avskrivningsdato=closed, avskrevetAv=j.avsluttet_av,  # type: ignore[arg-type]
                               avskrivningsmaate=DEFAULT_AVSKRIVNINGSMAATE)]
    answer = next((x for x in j.innslag if x.innslag_id == a.innslag_id), None) if a.innslag_id else None
    if answer is not None and answer.korrespondanse is not None:
        return [n5.Avskrivning(
            avskrivningsdato=a.dato or answer.korrespondanse.dato,
            avskrevetAv=a.av or answer.forfatter,
            avskrivningsmaate=a.maate or ANSWERED_AVSKRIVNINGSMAATE,
            referanseAvskrivesAvJournalpost=system_id(ctx.system, "registrering", j.journal_id, answer.innslag_id))]
    return [n5.Avskrivning(avskrivningsdato=a.dato or closed, avskrevetAv=a.av or j.avsluttet_av,  # type: ignore[arg-type]
                           avskrivningsmaate=a.maate or DEFAULT_AVSKRIVNINGSMAATE)]


def _dokumenttype(kind: str) -> str:
    return DOKUMENTTYPER.get(kind.strip().lower(), kind.strip().capitalize())


def patient_klasse(ctx: MappingContext, arkivskaper_ids: tuple[str, ...], p: Pasient,
                   opprettet: datetime, opprettet_av: str) -> n5.Klasse:
    """The klasse of one patient."""
    return n5.Klasse(
        systemID=system_id(ctx.system, "klasse", p.pasient_id),
        klasseID=p.fodselsnummer or p.pasient_id,
        tittel=p.navn,
        opprettetDato=opprettet,
        opprettetAv=opprettet_av,
        skjerming=n5.Skjerming(
            tilgangsrestriksjon=ctx.skjerming_tilgangsrestriksjon,
            skjermingshjemmel=ctx.skjerming_hjemmel,
            skjermingMetadata=["Skjerming klasseID", "Skjerming tittel klasse"],
        ),
    )


def _patient_vsm(ctx: MappingContext, j: Pasientjournal) -> n5.VirksomhetsspesifikkeMetadata:
    p = j.pasient
    pas: list[tuple[str, object]] = [("pasientID", p.pasient_id)]
    if p.fodselsnummer:
        pas.append(("fodselsnummer", p.fodselsnummer))
        kind = p.identifikatortype
        if kind:
            pas.append(("identifikatortype", kind))
    if p.fodselsdato:
        pas.append(("fodselsdato", p.fodselsdato))
    pas.append(("kjonn", KJONN_TEKST[p.kjonn]))
    if p.dodsdato:
        pas.append(("dodsdato", p.dodsdato))
    if p.dodsdato_ukjent:
        pas.append(("dodsdatoUkjent", True))
    if p.skjult_adresse:
        pas.append(("skjultAdresse", True))
    jour: list[tuple[str, object]] = [
        ("journalID", j.journal_id),
        ("arkivskaper", ctx.arkivskaper_ids.get(j.arkivskaper, j.arkivskaper)),
        ("journalsted", j.journalsted),
        ("journalansvarlig", j.journalansvarlig),
    ]
    if j.innslag:
        jour.append(("foersteInnslag", j.first_entry))
        jour.append(("sisteInnslag", j.last_entry))
    jour.append(("antallInnslag", len(j.innslag)))
    return n5.VirksomhetsspesifikkeMetadata(
        namespace=EPJ_NAMESPACE, prefix=EPJ_PREFIX, elements=[("pasient", pas), ("pasientjournal", jour)]
    )


def _dokumentobjekt_opprettet(i: Journalinnslag, info: DocumentInfo) -> dict:
    """opprettetDato/opprettetAv (M600/M601) of a document's dokumentobjekt.

    The file as archived: when and by whom the entry was signed (archiving froze it).  A converted
    file: the conversion that made it (the last konvertering: M615 konvertertDato, M616 konvertertAv);
    the original's own facts stay on the dokumentbeskrivelse and the registrering.
    """
    if info.konvertering:
        made = info.konvertering[-1]
        return {"opprettetDato": made.konvertertDato, "opprettetAv": made.konvertertAv}
    return {"opprettetDato": i.arkivert, "opprettetAv": i.arkivert_av}


def _registrering(ctx: MappingContext, j: Pasientjournal, i: Journalinnslag, docs: list[DocumentInfo],
                  journalpost_numbers: tuple[int, int, int] | None) -> n5.Registrering:
    sid = system_id(ctx.system, "registrering", j.journal_id, i.innslag_id)
    beskrivelser = []
    for n, (d, info) in enumerate(zip(i.dokumenter, docs), start=1):
        db_id = system_id(ctx.system, "dokumentbeskrivelse", j.journal_id, i.innslag_id, str(n))
        beskrivelser.append(
            n5.Dokumentbeskrivelse(
                systemID=db_id,
                dokumenttype=_dokumenttype(i.type),
                dokumentstatus="Dokumentet er ferdigstilt",
                tittel=d.tittel,
                forfatter=[i.forfatter],
                opprettetDato=i.opprettet,
                opprettetAv=i.registrert_av,
                dokumentmedium="Elektronisk arkiv",
                tilknyttetRegistreringSom=d.tilknyttet_som or ("Hoveddokument" if n == 1 else "Vedlegg"),
                dokumentnummer=n,
                tilknyttetDato=i.arkivert,
                tilknyttetAv=i.arkivert_av,
                dokumentobjekt=[
                    n5.Dokumentobjekt(
                        systemID=info.systemID or dokumentobjekt_id(ctx, j, i, n),
                        versjonsnummer=1,
                        variantformat="Arkivformat",
                        format=info.format,
                        formatDetaljer=info.formatDetaljer,
                        **_dokumentobjekt_opprettet(i, info),
                        referanseDokumentfil=info.referanseDokumentfil,
                        sjekksum=info.sjekksum,
                        sjekksumAlgoritme=info.sjekksumAlgoritme,
                        filstoerrelse=info.filstoerrelse,
                        konvertering=list(info.konvertering),
                    )
                ],
            )
        )
    parter = _korrespondanseparter(ctx, i)
    skjerming, offentlig = _skjerming(ctx, j, i, parter)
    common = dict(
        systemID=sid,
        opprettetDato=i.opprettet,
        opprettetAv=i.registrert_av,
        arkivertDato=i.arkivert,
        arkivertAv=i.arkivert_av,
        referanseArkivdel=[ctx.arkivdel_systemID],
        skjerming=skjerming,
        dokumentbeskrivelse=beskrivelser,
        registreringsID=i.innslag_id,
        tittel=i.tittel,
        offentligTittel=offentlig,
        forfatter=[i.forfatter],
        dokumentmedium="Elektronisk arkiv" if docs else None,
    )
    if i.korrespondanse is None:
        return n5.Registrering(**common)
    k = i.korrespondanse
    aar, sekvens, nummer = journalpost_numbers  # type: ignore[misc]
    inn = k.type == "Inngående dokument"
    return n5.Journalpost(
        **common,
        korrespondansepart=parter,
        journalaar=aar,
        journalsekvensnummer=sekvens,
        journalpostnummer=nummer,
        journalposttype=k.type,
        journalstatus="Arkivert",
        journaldato=k.dato,
        dokumentetsDato=k.dato,
        mottattDato=i.opprettet if inn else None,
        sendtDato=i.arkivert if k.type == "Utgående dokument" else None,
        antallVedlegg=max(len(docs) - 1, 0) if docs else None,
        avskrivning=avskrivning(ctx, j, i),
    )


def _korrespondanseparter(ctx: MappingContext, i: Journalinnslag) -> list[n5.Korrespondansepart]:
    """The entry's correspondents, each screened unless an institution (docs/mapping.md, "Skjerming").

    A source that screens a role's names itself ("Skjerming navn avsender"/"… mottaker" on the entry), or the
    names of the entry's parties ("Skjerming navn part i sak"), has every external party of that role
    screened; the organisation's own units and staff (internal types) only under "Midlertidig skjerming"."""
    if i.korrespondanse is None:
        return []
    asked = set(i.skjerming.metadata) if i.skjerming is not None else set()
    out = []
    for p in i.korrespondanse.parter:
        internal = p.type.strip() in sk.INTERNAL_TYPES
        forced = sk.MIDLERTIDIG in asked or (not internal and (sk.NAVN_PART in asked or sk.name_value(p.type) in asked))
        out.append(n5.Korrespondansepart(korrespondanseparttype=p.type, korrespondansepartNavn=p.navn,
                                         skjermet=forced or not sk.is_institution(p.type, p.navn, ctx.institusjoner)))
    return out


def _skjerming(ctx: MappingContext, j: Pasientjournal, i: Journalinnslag,
               parter: list[n5.Korrespondansepart]) -> tuple[n5.Skjerming | None, str | None]:
    """The registrering's skjerming and offentligTittel (M500–M503, M025; docs/mapping.md, "Skjerming").

    skjermingMetadata: the source's values in its order, without "Skjerming navn part i sak" (a saksmappe's
    value, M502: the saksmappe carries it), then "Skjerming navn avsender"/"… mottaker" for each role that has
    a screened party, and no role value where the journalpost has no screened party of that role.  The words
    screened in the title are the names of the persons screened (the patient, screened correspondents):
    offentligTittel replaces them, and "Skjerming tittel registrering - utvalgte ord" is added when it did
    and the source named no title screening.  With nothing to screen of its own the registrering has no
    skjerming and inherits its saksmappe's (M500–M502 "Arv: Ja").
    """
    s = i.skjerming
    roles = (sk.NAVN_AVSENDER, sk.NAVN_MOTTAKER)
    metadata = [m for m in (s.metadata if s else []) if m != sk.NAVN_PART and m not in roles]
    for role in roles:
        if any(p.skjermet and sk.name_value(p.korrespondanseparttype) == role for p in parter):
            metadata.append(role)
    names = [j.pasient.navn] + [p.korrespondansepartNavn for p in parter if p.skjermet]
    offentlig = sk.public_title(i.tittel, metadata, names)
    if offentlig is not None and offentlig != i.tittel and not any(m.startswith(sk.TITTEL_REG) for m in metadata):
        metadata.insert(0, sk.TITTEL_REG_ORD)
    if not metadata:
        return None, offentlig
    return n5.Skjerming(
        tilgangsrestriksjon=s.tilgangsrestriksjon if s else ctx.skjerming_tilgangsrestriksjon,
        skjermingshjemmel=s.hjemmel if s else ctx.skjerming_hjemmel,
        skjermingMetadata=metadata,
        skjermingDokument=s.dokument if s else None,
    ), offentlig


def journal_mappe(ctx: MappingContext, j: Pasientjournal, docs: list[list[DocumentInfo]],
                  saks_numbers: tuple[int, int],
                  journalpost_numbers: list[tuple[int, int, int] | None]) -> n5.Saksmappe:
    """The saksmappe of one closed journal.

    ``docs[k]`` are the copied files of entry k; ``saks_numbers`` is
    (saksaar, sakssekvensnummer); ``journalpost_numbers[k]`` is
    (journalaar, journalsekvensnummer, journalpostnummer) for correspondence
    entries and None for the rest.
    """
    p = j.pasient
    saksaar, sekvens = saks_numbers
    merknader = [n5.Merknad(merknadstekst=m.tekst, merknadstype=m.type, merknadsdato=m.dato,
                            merknadRegistrertAv=m.registrert_av) for m in j.merknader]
    return n5.Saksmappe(
        systemID=system_id(ctx.system, "mappe", j.journal_id),
        mappeID=f"{saksaar}/{sekvens}",
        tittel=f"Pasientjournal {p.navn}, {j.journalsted}",
        offentligTittel=f"Pasientjournal *****, {j.journalsted}",
        dokumentmedium="Elektronisk arkiv",
        opprettetDato=j.opprettet,
        opprettetAv=j.opprettet_av,
        avsluttetDato=j.avsluttet,  # type: ignore[arg-type]
        avsluttetAv=j.avsluttet_av,  # type: ignore[arg-type]
        referanseArkivdel=[ctx.arkivdel_systemID],
        virksomhetsspesifikkeMetadata=_patient_vsm(ctx, j),
        part=[n5.Part(partID=p.fodselsnummer or p.pasient_id, partNavn=p.navn, partRolle="Pasient")],
        merknad=merknader,
        skjerming=n5.Skjerming(
            tilgangsrestriksjon=ctx.skjerming_tilgangsrestriksjon,
            skjermingshjemmel=ctx.skjerming_hjemmel,
            # the patient's name in the title, the patient as part; the remarks on a patient's journal are
            # about the patient (M502: merknader are screened on the saksmappe)
            skjermingMetadata=[sk.TITTEL_MAPPE_ORD, sk.NAVN_PART] + ([sk.MERKNAD] if merknader else []),
        ),
        registrering=[_registrering(ctx, j, i, d, n) for i, d, n in zip(j.innslag, docs, journalpost_numbers)],
        saksaar=saksaar,
        sakssekvensnummer=sekvens,
        saksdato=j.opprettet.date(),
        administrativEnhet=j.journalsted,
        saksansvarlig=j.journalansvarlig,
        saksstatus="Avsluttet",
    )


def entry_changes(ctx: MappingContext, j: Pasientjournal) -> list[n5.Endring]:
    """The logged corrections of a journal's entries, for endringslogg.xml."""
    out = []
    for i in j.innslag:
        if not i.endringer:
            continue
        sid = system_id(ctx.system, "registrering", j.journal_id, i.innslag_id)
        for e in i.endringer:
            out.append(n5.Endring(referanseArkivenhet=sid, referanseMetadata=e.felt, endretDato=e.dato,
                                  endretAv=e.av, tidligereVerdi=e.tidligere, nyVerdi=e.ny))
    return out


def as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value
