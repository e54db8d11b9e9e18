"""The EPJ layer: closed patient journals as a migration engineer knows them.

A :class:`Pasientjournal` belongs to one :class:`Pasient` and one arkivskaper,
and holds :class:`Journalinnslag` (entries: notes, epikriser, henvisninger,
scanned paper …), each with zero or more :class:`Dokumentfil`.  How these map
onto Noark 5 is in :mod:`noarkpack.model.mapping` and docs/mapping.md.

:meth:`Pasientjournal.check` enforces the rules the extract relies on and
raises :class:`~noarkpack.errors.ModelError` naming the record by its source
key — never by name or fødselsnummer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timezone

from ..errors import ModelError
from ..locale import tr
from .identifiers import PersonNumberError, message_key, validate_person_number
from .noark5 import AVSKRIVNINGSMAATER
from .text import is_blank

KJONN = ("M", "K", "U")
TILKNYTTET = ("Hoveddokument", "Vedlegg")
JOURNALPOSTTYPER = (
    "Inngående dokument",
    "Utgående dokument",
    "Organinternt dokument for oppfølging",
    "Organinternt dokument uten oppfølging",
    "Saksframlegg",
)
KORRESPONDANSEPARTTYPER = (
    "Avsender",
    "Mottaker",
    "Kopimottaker",
    "Gruppemottaker",
    "Intern avsender",
    "Intern mottaker",
)


@dataclass
class Pasient:
    pasient_id: str
    navn: str
    kjonn: str
    fodselsnummer: str | None = None
    fodselsdato: date | None = None
    dodsdato: date | None = None
    dodsdato_ukjent: bool = False
    #: the population register's hidden address / hidden name flags as the source records them: True, False,
    #: or None where the source records nothing (NHA pasientinfo hemmelig_adresse / hemmelig_navn are then left
    #: out, never written as false: issue 17, point 14)
    skjult_adresse: bool | None = None
    skjult_navn: bool | None = None

    @property
    def identifikatortype(self) -> str | None:
        if not self.fodselsnummer:
            return None
        try:
            return validate_person_number(self.fodselsnummer).kind
        except PersonNumberError:
            return None


@dataclass
class Dokumentfil:
    """A document file of an entry; ``fil`` is relative to the project's document folder."""

    fil: str
    tittel: str
    tilknyttet_som: str | None = None
    format: str | None = None
    #: the file of the content store that holds the bytes, when they came from the legacy source (a BLOB, a note
    #: column: issue 18); ``fil`` is then a neutral name (``@innhold/<sha256><ext>``) that gives the extension
    innhold: str | None = None


@dataclass
class Korrespondansepart:
    type: str
    navn: str


@dataclass
class Avskrivning:
    """How the source says the handling of an incoming or internal journalpost ended (docs/mapping.md).

    Any field may be missing; the mapping fills the rest (``noarkpack.model.mapping.avskrivning``).
    ``innslag_id`` names the entry of the same journal that answered this one (an outgoing letter):
    the extract then refers to its journalpost (referanseAvskrivesAvJournalpost, krav 3.4.7).
    """

    maate: str | None = None  # M619 avskrivningsmaate
    dato: date | None = None  # M617 avskrivningsdato
    av: str | None = None  # M618 avskrevetAv
    innslag_id: str | None = None  # the answering entry (M215)


@dataclass
class Korrespondanse:
    """Makes an entry a journalpost (correspondence in or out)."""

    type: str  # journalposttype
    dato: date  # journaldato
    parter: list[Korrespondansepart]
    avskrivning: Avskrivning | None = None  # from the source; None: the mapping's default where one is needed


@dataclass
class InnslagSkjerming:
    tilgangsrestriksjon: str
    hjemmel: str
    metadata: list[str]
    dokument: str | None = None


@dataclass
class Endring:
    """A logged correction of one metadata field of an entry."""

    felt: str
    tidligere: str
    ny: str
    dato: datetime
    av: str


@dataclass
class Merknad:
    tekst: str
    dato: datetime
    registrert_av: str
    type: str | None = None


@dataclass
class Diagnose:
    """A diagnosis recorded in the journal (NHA's avleveringsliste carries them)."""

    kode: str  # e.g. "I21.9"
    kodeverk: str = "ICD-10"  # ICD-10, ICD-9, ICD-8, ICPC-2 …
    tekst: str | None = None
    dato: date | None = None


@dataclass
class Journalinnslag:
    innslag_id: str
    type: str
    tittel: str
    forfatter: str
    opprettet: datetime
    arkivert: datetime
    arkivert_av: str
    skjerming: InnslagSkjerming | None = None
    korrespondanse: Korrespondanse | None = None
    dokumenter: list[Dokumentfil] = field(default_factory=list)
    endringer: list[Endring] = field(default_factory=list)
    #: who registered the entry in the source system (its user id), when the source records it
    opprettet_av: str | None = None

    @property
    def registrert_av(self) -> str:
        """Who registered the entry: ``opprettet_av``, else the signer (``arkivert_av``), who entered it
        into the journal (docs/mapping.md, "Who did what")."""
        if self.opprettet_av and self.opprettet_av.strip():
            return self.opprettet_av
        return self.arkivert_av


@dataclass
class Pasientjournal:
    journal_id: str
    arkivskaper: str
    journalsted: str
    journalansvarlig: str
    opprettet: datetime
    opprettet_av: str
    avsluttet: datetime | None
    avsluttet_av: str | None
    pasient: Pasient
    innslag: list[Journalinnslag] = field(default_factory=list)
    merknader: list[Merknad] = field(default_factory=list)
    diagnoser: list[Diagnose] = field(default_factory=list)
    #: where the journal came from (export file and line), for error messages
    source_file: str | None = field(default=None, compare=False)
    source_line: int | None = field(default=None, compare=False)

    def error(self, message: str, *, record: str | None = None, hint: str | None = None) -> ModelError:
        """A ModelError located at this journal's source file and line."""
        return ModelError(message, file=self.source_file, line=self.source_line,
                          record=record or f"journal {self.journal_id}", hint=hint)

    @property
    def is_closed(self) -> bool:
        return self.avsluttet is not None

    @property
    def first_entry(self) -> datetime | None:
        return min((i.opprettet for i in self.innslag), default=None)

    @property
    def last_entry(self) -> datetime | None:
        return max((i.opprettet for i in self.innslag), default=None)

    def check(self, *, closed: bool = True) -> None:
        """Raise ModelError if the journal cannot go into an extract as it is.

        ``closed=False``: everything but its closing, for a journal still open at the end of the period
        whose journalposts go into the journals only (mykt periodeskille, docs/mapping.md "Open journals").
        """
        rec = f"journal {message_key(self.journal_id)}"

        def need(value: object, name: str, where: str | Callable[[], str] = rec) -> None:
            if value is None or (isinstance(value, str) and is_blank(value)):
                raise self.error(tr("{name} is missing or empty", name=name),
                                 record=where() if callable(where) else where,
                                 hint=tr("every closing field must be set"))

        for name in ("journal_id", "arkivskaper", "journalsted", "journalansvarlig", "opprettet_av"):
            need(getattr(self, name), name)
        need(self.opprettet, "opprettet")
        if closed:
            if not self.is_closed:
                raise self.error(tr("the journal is still open (avsluttet is not set)"), record=rec,
                                 hint=tr("only closed journals are extracted; close it in the source or let it be "
                                         "skipped"))
            need(self.avsluttet_av, "avsluttet_av")
            if _instant(self.avsluttet) < _instant(self.opprettet):
                raise self.error(tr("avsluttet is before opprettet"), record=rec,
                                 hint=_gap_hint(self.avsluttet, self.opprettet))
        p = self.pasient
        need(p.pasient_id, "pasient.pasient_id")
        patient = tr("{record}, patient {patient}", record=rec, patient=message_key(p.pasient_id, p.fodselsnummer))
        need(p.navn, "pasient.navn", patient)
        if p.kjonn not in KJONN:
            raise self.error(tr("pasient.kjonn must be one of {values}", values=", ".join(KJONN)), record=patient)
        # An invalid person number is kept as the source recorded it (the analysis and
        # validation warn about it); it is never a reason to drop or refuse a journal.
        if not p.fodselsnummer and p.fodselsdato is None:
            raise self.error(tr("the patient has neither fodselsnummer nor fodselsdato"), record=patient)
        for m in self.merknader:
            need(m.tekst, "merknader.tekst")
            need(m.registrert_av, "merknader.registrert_av")
        seen: set[str] = set()
        for i in self.innslag:
            def where(i: Journalinnslag = i) -> str:  # the entry's record name, made only for an error
                return tr("{record}, entry {entry}", record=rec, entry=i.innslag_id)

            need(i.innslag_id, "innslag_id", rec)
            if i.innslag_id in seen:
                raise self.error(tr("innslag_id occurs twice in the journal"), record=where())
            seen.add(i.innslag_id)
            for name in ("type", "tittel", "forfatter", "arkivert_av"):
                need(getattr(i, name), name, where)
            need(i.opprettet, "opprettet", where)
            need(i.arkivert, "arkivert", where)
            if _instant(i.arkivert) < _instant(i.opprettet):
                raise self.error(tr("arkivert is before opprettet"), record=where(),
                                 hint=_gap_hint(i.arkivert, i.opprettet))
            if closed and _instant(i.opprettet) > _instant(self.avsluttet):
                raise self.error(tr("the entry was written after the journal was closed"), record=where(),
                                 hint=_gap_hint(i.opprettet, self.avsluttet))
            if i.korrespondanse is not None:
                k = i.korrespondanse
                if k.type not in JOURNALPOSTTYPER:
                    raise self.error(tr("korrespondanse.type {value} is not a journalposttype", value=repr(k.type)),
                                     record=where(),
                                     hint=tr("use one of: {values}", values=", ".join(JOURNALPOSTTYPER)))
                if not k.parter:
                    raise self.error(tr("korrespondanse needs at least one part"), record=where())
                for part in k.parter:
                    if part.type not in KORRESPONDANSEPARTTYPER:
                        raise self.error(tr("korrespondansepart type {value} is not allowed", value=repr(part.type)),
                                         record=where(),
                                         hint=tr("use one of: {values}", values=", ".join(KORRESPONDANSEPARTTYPER)))
                    need(part.navn, "korrespondansepart navn", where)
                if k.avskrivning is not None:
                    self._check_avskrivning(i, k.avskrivning, where())
            if i.skjerming is not None:
                s = i.skjerming
                need(s.tilgangsrestriksjon, "skjerming.tilgangsrestriksjon", where)
                need(s.hjemmel, "skjerming.hjemmel", where)
                if not s.metadata:
                    raise self.error(tr("skjerming needs at least one skjermingMetadata value"), record=where())
            for d in i.dokumenter:
                need(d.fil, "dokumenter.fil", where)
                need(d.tittel, "dokumenter.tittel", where)
                fil = d.fil.replace("\\", "/")  # PurePosixPath's is_absolute() and parts, without making one
                if fil.startswith("/") or ".." in fil.split("/"):
                    raise self.error(tr("document path {path} must be relative and stay inside the document folder",
                                        path=repr(d.fil)), record=where())
                if d.tilknyttet_som is not None and d.tilknyttet_som not in TILKNYTTET:
                    raise self.error(tr("tilknyttet_som must be Hoveddokument or Vedlegg"), record=where())
            for e in i.endringer:
                for name in ("felt", "tidligere", "ny", "av"):
                    need(getattr(e, name), f"endringer.{name}", where)


    def _check_avskrivning(self, i: Journalinnslag, a: Avskrivning, where: str) -> None:
        """The source's avskrivning of entry ``i``: a known avskrivningsmaate, an answering entry that is a
        journalpost of this journal, a date between the entry's journaldato and the journal's closing."""
        if a.maate is not None and a.maate not in AVSKRIVNINGSMAATER:
            raise self.error(tr("avskrivning maate {value} is not an avskrivningsmaate of Noark 5 (M619)", value=repr(a.maate)),
                             record=where, hint=tr("use one of: {values}", values=", ".join(AVSKRIVNINGSMAATER)))
        answer = None
        if a.innslag_id is not None:
            answer = next((x for x in self.innslag if x.innslag_id == a.innslag_id), None)
            if answer is None:
                raise self.error(tr("avskrivning names the answering entry {entry}, which is not in the journal",
                                    entry=a.innslag_id),
                                 record=where, hint=tr("the answer must be an entry of the same journal"))
            if answer is i or answer.korrespondanse is None:
                raise self.error(tr("avskrivning names the answering entry {entry}, which is not another "
                                    "journalpost (an entry with korrespondanse)", entry=a.innslag_id), record=where)
            if a.maate is None and answer.korrespondanse.type != "Utgående dokument":
                raise self.error(tr("avskrivning maate is missing and the answering entry {entry} is not an "
                                    "outgoing letter", entry=a.innslag_id), record=where,
                                 hint=tr("give the avskrivningsmaate: {values}", values=", ".join(AVSKRIVNINGSMAATER)))
        elif a.maate is None:
            raise self.error(tr("avskrivning has neither maate nor the answering entry"), record=where,
                             hint=tr("give the avskrivningsmaate, the answering entry (innslag_id), or leave "
                                     "avskrivning out to get the documented default"))
        if a.dato is not None:
            received = i.korrespondanse.dato if i.korrespondanse is not None else None
            if received is not None and a.dato < received:
                raise self.error(tr("avskrivning dato is before the entry's journaldato"), record=where)
            if a.dato > self.avsluttet.date():
                raise self.error(tr("avskrivning dato is after the journal was closed"), record=where,
                                 hint=tr("krav 3.2.9: a saksmappe is closed only when its restanser are avskrevet"))
        if a.av is not None and is_blank(a.av):
            raise self.error(tr("avskrivning av is empty"), record=where)


def _instant(value: datetime) -> datetime:
    """``value`` as an instant (UTC) when it has a time zone.

    Python compares two datetimes that share one tzinfo object by their wall-clock time, so a local
    time in the spring DST gap (02:00-03:00 on the last Sunday of March, which does not exist) would
    compare differently here than in the extract, where it is written with its UTC offset.  Comparing
    instants keeps the model, the analysis (which reads offsets back from the staging database) and
    the written XML in agreement.
    """
    return value.astimezone(timezone.utc) if value.tzinfo is not None else value


def _nonexistent(value: datetime) -> bool:
    """True for a local time that the clock skipped (the spring DST gap)."""
    if value.tzinfo is None or value.tzinfo is timezone.utc:
        return False
    return value.astimezone(timezone.utc).astimezone(value.tzinfo).replace(tzinfo=None) != value.replace(tzinfo=None)


def _gap_hint(*values: datetime) -> str | None:
    if any(_nonexistent(v) for v in values):
        return tr("one of the times lies in the spring DST gap (02:00-03:00 local time did not exist that day); "
                  "correct it in the source (the order of the two times is judged by the instant they denote)")
    return None
