"""The XML of an EPJARK deposit: AVLXML, epjpakkeliste and the EPJ 1.80 files of an ``epj`` package.

Built with lxml, one journal at a time.  The mapping from the record model is
in docs/nha.md ("What goes where"); every choice the public schemas leave open
is listed there too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Iterable

from lxml import etree

from ..model.epj import Journalinnslag, Pasientjournal
from .codes import OPPLYSNINGER, REVISJONSTYPE_OID, Komponenttyper, revisjonstype
from .metadata import NhaMetadata

EPJ = "http://eisi.helsedir.no/anno2014/nha-epj-1.80"
NS_PASIENTINFO = f"{EPJ}/pasientinfo"
NS_SAK = f"{EPJ}/epj_sak"
NS_DOK = f"{EPJ}/epj_dokument"
NS_BASIS = f"{EPJ}/datatyper/basis"
NS_GRUNNDATA = f"{EPJ}/datatyper/grunndata"
NS_REVISJON = f"{EPJ}/datatyper/revisjonsinfo"
NS_PERSON = f"{EPJ}/datatyper/person"
NS_STAMME = f"{EPJ}/datatyper/stamme"
NS_BASISBRUK = f"{EPJ}/element/basisbruk"
NS_XSI = "http://www.w3.org/2001/XMLSchema-instance"
NS_AVLXML = "http://www.arkivverket.no/standarder/nha/avlxml"
NS_PAKKELISTE = "http://schema.arkivverket.no/epjark/epjpakkeliste"

NSMAP_EPJ = {
    "basis": NS_BASIS, "grunndata": NS_GRUNNDATA, "revisjonsinfo": NS_REVISJON, "person": NS_PERSON,
    "stamme": NS_STAMME, "basisbruk": NS_BASISBRUK, "xsi": NS_XSI,
}

KJONN_TEKST = {"M": "Mann", "K": "Kvinne", "U": "Ukjent"}
SCANNED_TYPES = {"skannet", "skanning", "scan", "scannet"}


def _q(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


def _sub(parent: etree._Element, ns: str, name: str, text: str | None = None) -> etree._Element:
    el = etree.SubElement(parent, _q(ns, name))
    if text is not None:
        el.text = text
    return el


def _tostring(root: etree._Element) -> bytes:
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8", pretty_print=True)


def _dt(value: datetime) -> str:
    return value.isoformat()


def ark_dato(value: date | datetime) -> str:
    """AVLXML arkDATO (YYYY-MM-DD); the caller has checked the year range 1800–2099."""
    if isinstance(value, datetime):
        value = value.date()
    return value.isoformat()


# ------------------------------------------------------------------------------------------ ids


@dataclass(frozen=True)
class FileRef:
    """A document file of an entry as it sits in the journal's ``dok`` package."""

    uuid: str
    member: str  # member name in the dok tar, e.g. "<dokuuid>/<fileuuid>.pdf"
    uri: str  # relative URI from the EPJ dokument XML, e.g. "../../<dokuuid>/<fileuuid>.pdf"
    format: str  # PRONOM PUID
    tittel: str
    sortering: int


@dataclass(frozen=True)
class DocRef:
    """One EPJ dokument (one journal entry) of an ``epj`` package."""

    innslag: Journalinnslag
    uuid: str
    sortering: int
    files: tuple[FileRef, ...]


# ------------------------------------------------------------------------------------------ pasientinfo


def pasientinfo_xml(j: Pasientjournal, *, pasient_id: str, pasient_id_type: str, fodselsdato: date | None,
                    first: date, last: date) -> bytes:
    """The patient's Pasientpersonalia; ``pasient_id_type`` is a del 5 code (codes.pasient_id_type)."""
    p = j.pasient
    root = etree.Element(_q(NS_PASIENTINFO, "Pasientpersonalia"), nsmap={None: NS_PASIENTINFO, **NSMAP_EPJ})
    info = _sub(root, NS_PASIENTINFO, "Arkivert_pasientinfo")
    _sub(info, NS_PASIENTINFO, "pasient_komponent_ID", p.pasient_id)
    _sub(info, NS_PASIENTINFO, "pasient_ID", pasient_id)
    _sub(info, NS_PASIENTINFO, "pasient_ID_type", pasient_id_type)
    if fodselsdato is not None:
        _sub(info, NS_PASIENTINFO, "fødselsdato", fodselsdato.isoformat())
    if p.dodsdato is not None:
        _sub(info, NS_PASIENTINFO, "mors_dato", p.dodsdato.isoformat())
    _sub(info, NS_PASIENTINFO, "første_gang_registrert_som_pasient", first.isoformat())
    _sub(info, NS_PASIENTINFO, "siste_registrering_i_journal", last.isoformat())
    # hidden address / name: written only as the source recorded them (minOccurs=0); a flag the source does not
    # record is left out, never written as false (issue 17, point 14; docs/nha.md)
    for name, flag in (("hemmelig_adresse", p.skjult_adresse), ("hemmelig_navn", p.skjult_navn)):
        if flag is not None:
            _sub(info, NS_PASIENTINFO, name, "true" if flag else "false")
    navn = _sub(info, NS_PASIENTINFO, "Arkivert_personnavn")
    _sub(navn, NS_PASIENTINFO, "fullt_navn", p.navn)
    kj = _sub(info, NS_BASIS, "kjønn")
    _sub(kj, NS_BASIS, "code", p.kjonn)
    _sub(kj, NS_BASIS, "displayName", KJONN_TEKST[p.kjonn])
    return _tostring(root)


# ------------------------------------------------------------------------------------------ revisjonsinfo


def person_name(value: str, brukere) -> tuple[str | None, str]:
    """(user id, full name) of an actor as the source gives it.

    del 5 R-T/R-P ``fullt_navn`` is "Personens fulle navn", never a login: a user id found in ``[nha.brukere]``
    gives its name; a value with a space is a name already; any other value is a user id whose name the
    source does not give: it goes in the komponent_ID (the key of the person's grunndata record, where del 5
    puts the system's own ids) and ``fullt_navn`` is left empty rather than invented.
    """
    v = value.strip()
    if v in brukere:
        return v, brukere[v]
    if any(c.isspace() for c in v):
        return None, v
    return v, ""


def _revisjon(parent: etree._Element, ns: str, when: datetime, code: str, *, brukere,
              merknad: str | None = None, registrert_av: str | None = None, rolle: str | None = None,
              signert_av: str | None = None) -> None:
    """An Arkivert_revisjonsinfo of revisjonstype ``code`` (code list 2.16.578.1.12.4.1.1.9252, codes.py)."""
    kind = revisjonstype(code)
    r = _sub(parent, ns, "Arkivert_revisjonsinfo")
    _sub(r, NS_REVISJON, "revisjonstidspunkt", _dt(when))
    if merknad:
        _sub(r, NS_REVISJON, "merknad", merknad)
    t = _sub(r, NS_BASIS, "revisjonstype")
    _sub(t, NS_BASIS, "code", kind[0])
    _sub(t, NS_BASIS, "displayName", kind[1])
    _sub(t, NS_BASIS, "codeSystem", REVISJONSTYPE_OID)
    if registrert_av:
        uid, navn = person_name(registrert_av, brukere)
        ty = _sub(r, NS_PERSON, "registrert_av_tjenesteyter")
        if uid:
            _sub(ty, NS_PERSON, "tjenesteyter_komponent_ID", uid)
        _sub(ty, NS_PERSON, "fullt_navn", navn)
        rr = _sub(ty, NS_PERSON, "tjenesteyters_rolle")
        _sub(rr, NS_PERSON, "rollebeskrivelse", rolle or "forfatter")
    if signert_av:
        uid, navn = person_name(signert_av, brukere)
        sp = _sub(r, NS_PERSON, "signert_av_person")
        if uid:
            _sub(sp, NS_PERSON, "personens_komponent_ID", uid)
        _sub(sp, NS_PERSON, "fullt_navn", navn)


def _komponent(parent: etree._Element, komponent_id: str, komponenttype: str, sortering: int | None) -> None:
    _sub(parent, NS_STAMME, "komponent_ID", komponent_id)
    _sub(parent, NS_STAMME, "komponenttype", komponenttype)
    if sortering is not None:
        _sub(parent, NS_STAMME, "sortering", str(sortering))


# ------------------------------------------------------------------------------------------ EPJ sak


def sak_xml(saker: list[tuple[Pasientjournal, list[DocRef], tuple[str, str]]], md: NhaMetadata, *, epj_id: str,
            pasientinfo_uri: str, arkivskaper_navn: str, arkivskaper_orgnr: str | None,
            types: Komponenttyper) -> bytes:
    """The patient's EPJ: one Arkivert_EPJ_sak per source journal (each with its entries and its
    Journalopplysninger dokument, given as (komponent_ID, uuid)); ``epj_id`` is globally unique (the uuid)."""
    root = etree.Element(_q(NS_SAK, "Arkivert_EPJ"), nsmap={None: NS_SAK, **NSMAP_EPJ})
    _sub(root, NS_SAK, "EPJ_ID", epj_id)
    _sub(root, NS_SAK, "filreferanse_pasientinfo", pasientinfo_uri)
    for n, (j, docs, opplysninger) in enumerate(saker, start=1):
        sak = _sub(root, NS_SAK, "Arkivert_EPJ_sak")
        _komponent(sak, j.journal_id, types.oid("sak"), n)
        ref = _sub(sak, NS_SAK, "Referanse_arkivert_EPJ_dokument")
        _sub(ref, NS_SAK, "komponent_ID", opplysninger[0])
        _sub(ref, NS_SAK, "sortering", "0")
        _sub(ref, NS_SAK, "filreferanse", f"../dokumenter/{opplysninger[1]}.xml")
        for d in docs:
            ref = _sub(sak, NS_SAK, "Referanse_arkivert_EPJ_dokument")
            _sub(ref, NS_SAK, "komponent_ID", d.innslag.innslag_id)
            _sub(ref, NS_SAK, "sortering", str(d.sortering))
            _sub(ref, NS_SAK, "filreferanse", f"../dokumenter/{d.uuid}.xml")
        # the revision log says only what the source says happened (issue 17, point 11; docs/nha.md
        # "Revisions"): the opening of a journal in the EPJ is a registration through its user interface (01); a
        # journal opened before the EPJ came into use ([nha] epj_i_bruk_fra) was opened on paper, and no revision
        # type says so. Closing a journal is neither registration nor approval (9252 has no code): not logged.
        if md.epj_i_bruk_fra is None or j.opprettet.date() >= md.epj_i_bruk_fra:
            _revisjon(sak, NS_SAK, j.opprettet, "01", brukere=md.brukere, merknad="Journalen opprettet",
                      registrert_av=j.opprettet_av, rolle="opprettet journalen")
    j0 = saker[0][0]
    v = _sub(root, NS_GRUNNDATA, "ansvarlig_virksomhet")
    _sub(v, NS_GRUNNDATA, "enhetsbetegnelse", arkivskaper_navn)
    if arkivskaper_orgnr:
        _sub(v, NS_GRUNNDATA, "organisasjonsnummer", arkivskaper_orgnr)
    if md.her_id:
        _sub(v, NS_GRUNNDATA, "HER_ID", md.her_id)
    if md.resh_id:
        _sub(v, NS_GRUNNDATA, "RESH_ID", md.resh_id)
    e = _sub(root, NS_GRUNNDATA, "ansvarlig_enhet")
    _sub(e, NS_GRUNNDATA, "enhetsbetegnelse", j0.journalsted)
    _sub(e, NS_GRUNNDATA, "tilhører_virksomhet", arkivskaper_navn)
    return _tostring(root)


# ------------------------------------------------------------------------------------------ EPJ dokument


def dokument_xml(j: Pasientjournal, d: DocRef, md: NhaMetadata, types: Komponenttyper) -> bytes:
    """One entry as an EPJ dokument, its revisions as the source records them (docs/nha.md "Revisions").

    A scanned paper document: one revision 05 *skanning*, dated when it was scanned into the EPJ (``arkivert``)
    by who scanned it (``arkivert_av``); the paper's own date and author are facts of the paper, in the
    revision's merknad.  Any other entry: 01 *registrering* when it was written (``opprettet``) by who
    registered it (``opprettet_av``, else its author), then 11 *godkjenning* when it was signed and frozen
    (``arkivert``, ``arkivert_av``: docs/mapping.md "Who did what").
    """
    i = d.innslag
    root = etree.Element(_q(NS_DOK, "Arkivert_EPJ_dokument"), nsmap={None: NS_DOK, **NSMAP_EPJ})
    _komponent(root, i.innslag_id, types.oid("dokument", i.type), d.sortering)
    titles = [f.tittel for f in d.files if f.tittel and f.tittel != i.tittel]
    files = f"; filer: {', '.join(f'«{t}»' for t in titles)}" if titles else ""
    if i.type.strip().lower() in SCANNED_TYPES:
        _revisjon(root, NS_DOK, i.arkivert, "05", brukere=md.brukere, registrert_av=i.arkivert_av,
                  rolle="skannet papirdokumentet",
                  merknad=f"Skannet papirdokument «{i.tittel}», datert {i.opprettet.date().isoformat()}, "
                          f"forfatter {i.forfatter}{files}")
    else:
        registrar = i.opprettet_av if i.opprettet_av and i.opprettet_av.strip() else i.forfatter
        _revisjon(root, NS_DOK, i.opprettet, "01", brukere=md.brukere, merknad=f"{i.tittel}{files}",
                  registrert_av=registrar, rolle="registrerte innslaget" if registrar != i.forfatter else "forfatter")
        _revisjon(root, NS_DOK, i.arkivert, "11", brukere=md.brukere, signert_av=i.arkivert_av)
    for f in d.files:
        frag = _sub(root, NS_DOK, "Arkivert_EPJ_fragment")
        _komponent(frag, f"{i.innslag_id}/{f.sortering}", types.oid("fragment"), f.sortering)
        el = _sub(frag, NS_DOK, "Arkivert_dataelement")
        el.set(_q(NS_XSI, "type"), "basisbruk:Arkivert_ELDOK_dataelement___elektronisk_dokument")
        _komponent(el, f.uuid, types.oid("dataelement"), None)
        _sub(el, NS_BASISBRUK, "dokumentinnhold", f.uri)
        _sub(el, NS_BASISBRUK, "format_dokumentinnhold", f.format)
    return _tostring(root)


def opplysninger_xml(j: Pasientjournal, komponent_id: str, md: NhaMetadata, types: Komponenttyper,
                     diagnoser: Iterable[Diagnosis], made: datetime) -> bytes:
    """The journal record's structured facts as one EPJ dokument: journalansvarlig and the diagnoses.

    del 5 has no element for them on the EPJ sak; a deposit must not keep them only in the avleveringsliste
    (issue 17, point 12).  The dokument is compiled by the extraction from the source system's journal record:
    its one revision is 07 "Registrering av innhold elektronisk overført fra annet system i samme virksomhet",
    dated when the deposit was made.  A diagnosis is a CV data element (code in its system's form, displayName
    the text, codeSystem the OID or 0; a diagnosis without a code has only originalText).
    """
    root = etree.Element(_q(NS_DOK, "Arkivert_EPJ_dokument"), nsmap={None: NS_DOK, **NSMAP_EPJ})
    _komponent(root, komponent_id, types.oid("dokument", OPPLYSNINGER), 0)
    _revisjon(root, NS_DOK, made, "07", brukere=md.brukere,
              merknad=f"Sammenstilt ved arkivuttrekket fra journalens opplysninger i {types.system_navn}")

    def fragment(kid: str, name: str, n: int, xsi: str) -> etree._Element:
        frag = _sub(root, NS_DOK, "Arkivert_EPJ_fragment")
        _komponent(frag, f"{komponent_id}/{kid}", types.oid("fragment", name), n)
        el = _sub(frag, NS_DOK, "Arkivert_dataelement")
        el.set(_q(NS_XSI, "type"), f"basisbruk:{xsi}")
        _komponent(el, f"{komponent_id}/{kid}/verdi", types.oid("dataelement", name if name != "diagnose"
                                                                 else "diagnosekode"), None)
        return el

    el = fragment("journalansvarlig", "journalansvarlig", 1, "Arkivert_ID_dataelement")
    _sub(el, NS_BASISBRUK, "id", j.journalansvarlig)
    for n, dg in enumerate(diagnoser, start=1):
        el = fragment(f"diagnose/{n}", "diagnose", n + 1, "Arkivert_CV_dataelement___coded_value")
        cv = _sub(el, NS_BASISBRUK, "arkivert_CV_elementverdi")
        if dg.kode is not None:
            _sub(cv, NS_BASIS, "code", dg.kode)
            _sub(cv, NS_BASIS, "displayName", dg.tekst)
        _sub(cv, NS_BASIS, "codeSystem", dg.kodeverk if dg.kode is not None else "0")
        if dg.kode is None:
            _sub(cv, NS_BASIS, "originalText", dg.tekst)
    return _tostring(root)


# ------------------------------------------------------------------------------------------ AVLXML


def avlxml_header(xf, md: NhaMetadata) -> None:
    """Write the deposit-level elements of AVLXML (inside an open <avlxml> element)."""

    def el(name: str, text: str) -> None:
        e = etree.Element(_q(NS_AVLXML, name), nsmap={None: NS_AVLXML})
        e.text = text
        xf.write("\n", e)

    version = "3.0" if md.avlxml_version == "3" else "4.0"
    el("avlxmlversjon", version)
    el("avleveringsidentifikator", md.avleveringsidentifikator)
    el("avleveringsbeskrivelse", md.avleveringsbeskrivelse)
    el("generertdato", ark_dato(md.package_date))
    el("arkivskaper", md.arkivskaper)
    avtale = etree.Element(_q(NS_AVLXML, "avtale"), nsmap={None: NS_AVLXML})
    _sub(avtale, NS_AVLXML, "avtaleidentifikator", md.avtaleidentifikator)
    _sub(avtale, NS_AVLXML, "avtaledato", md.avtaledato.isoformat())
    _sub(avtale, NS_AVLXML, "avtalebeskrivelse", md.avtalebeskrivelse)
    v = _sub(avtale, NS_AVLXML, "virksomhet")
    _sub(v, NS_AVLXML, "virksomhetsnavn", md.virksomhetsnavn)
    if md.foretaksnavn:
        _sub(v, NS_AVLXML, "foretaksnavn", md.foretaksnavn)
    _sub(v, NS_AVLXML, "organisasjonsnummer", md.organisasjonsnummer)
    if md.avlxml_version == "4" and md.spesialisthelsetjeneste is not None:
        _sub(v, NS_AVLXML, "spesialisthelsetjeneste", "true" if md.spesialisthelsetjeneste else "false")
    xf.write("\n")
    xf.write(avtale, pretty_print=True)


@dataclass(frozen=True)
class Diagnosis:
    """A diagnosis as AVLXML takes it: ``kode`` in its code system's form (None: text only), ``kodeverk`` OID."""

    kode: str | None
    tekst: str
    kodeverk: str
    dato: date | None


def avlxml_journal(j: Pasientjournal, *, arkivskaper_navn: str, identifikator: str, fodtdato: date,
                   first: date, last: date, diagnoser: Iterable[Diagnosis], lagringsenheter: Iterable[str],
                   merknad: str | None = None) -> etree._Element:
    p = j.pasient
    pj = etree.Element(_q(NS_AVLXML, "pasientjournal"), nsmap={None: NS_AVLXML})
    _sub(pj, NS_AVLXML, "journalidentifikator", j.journal_id)
    _sub(pj, NS_AVLXML, "arkivskaper", arkivskaper_navn)
    _sub(pj, NS_AVLXML, "fodselsnummer", identifikator)
    _sub(pj, NS_AVLXML, "pasientnavn", p.navn)
    _sub(pj, NS_AVLXML, "fodtdato", ark_dato(fodtdato))
    if p.dodsdato is not None:
        _sub(pj, NS_AVLXML, "morsdato", ark_dato(p.dodsdato))
    elif p.dodsdato_ukjent:
        _sub(pj, NS_AVLXML, "sikkermors", "true")
    _sub(pj, NS_AVLXML, "kjonn", p.kjonn)
    _sub(pj, NS_AVLXML, "forstekontakt", ark_dato(first))
    _sub(pj, NS_AVLXML, "sistekontakt", ark_dato(last))
    if merknad:
        _sub(pj, NS_AVLXML, "merknad", merknad)
    for dg in diagnoser:
        d = _sub(pj, NS_AVLXML, "diagnose")
        if dg.dato is not None:
            _sub(d, NS_AVLXML, "diagnosedato", ark_dato(dg.dato))
        # a diagnosis without a code has only its text: diagnosekode is never text (NHAREG Avlevering.xsd
        # diagnosetekst: "Benyttes i de tilfeller der men ikke har diagnosekode")
        if dg.kode is not None:
            _sub(d, NS_AVLXML, "diagnosekode", dg.kode)
        _sub(d, NS_AVLXML, "diagnosetekst", dg.tekst)
        if dg.kode is not None:  # the code system of a code; text alone has none
            _sub(d, NS_AVLXML, "diagnosekodeverk", dg.kodeverk)
    for le in lagringsenheter:
        _sub(pj, NS_AVLXML, "lagringsenhet", le)
    return pj


# ------------------------------------------------------------------------------------------ epjpakkeliste


@dataclass(frozen=True)
class Package:
    """One ``uuid.tar`` of the deposit."""

    uuid: str
    type: str  # "epj" | "dok"
    sha256: str
    size: int
    journal_id: str  # the (first) journal it holds; "" for the deposit's dok package
    journal_ids: tuple[str, ...] = ()  # every journal it holds: a patient's journals share one epj package

    @property
    def file(self) -> str:
        return f"{self.uuid}.tar"


def pakkeliste_xml(md: NhaMetadata, packages: Iterable[Package]) -> bytes:
    root = etree.Element(_q(NS_PAKKELISTE, "epjpakkeliste"), nsmap={None: NS_PAKKELISTE})
    _sub(root, NS_PAKKELISTE, "AvleveringsID", md.avleveringsidentifikator)
    _sub(root, NS_PAKKELISTE, "ansvarligPerson", md.ansvarlig_person)
    _sub(root, NS_PAKKELISTE, "kontaktInformasjon", md.kontaktinformasjon)
    _sub(root, NS_PAKKELISTE, "beskrivelseLagringsEnhet", md.lagringsenhet_beskrivelse)
    if md.antall_lagringsenheter is not None:
        _sub(root, NS_PAKKELISTE, "antallLagringsenheter", str(md.antall_lagringsenheter))
    _sub(root, NS_PAKKELISTE, "klarforOverforingDato", md.klar_for_overforing.isoformat())
    for p in packages:
        pk = _sub(root, NS_PAKKELISTE, "pakke")
        _sub(pk, NS_PAKKELISTE, "pakketype", p.type)
        _sub(pk, NS_PAKKELISTE, "filReferanse", p.file)
        _sub(pk, NS_PAKKELISTE, "pakketDato", md.package_date.isoformat())
        _sub(pk, NS_PAKKELISTE, "sjekksum", p.sha256)
    return _tostring(root)
