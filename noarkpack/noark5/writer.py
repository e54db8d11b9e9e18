"""ExtractWriter: closed journals in, a finished ``avleveringspakke/`` out.

Usage (the library API a migration script uses)::

    from noarkpack import ExtractWriter, Numbering
    with Numbering.build(journals) as numbering, \
            ExtractWriter(out_dir, settings, numbering=numbering) as w:
        for journal in journals:          # grouped by patient
            w.add(journal)
    result = w.result                      # counts, bytes, skipped journals

``numbering`` gives each saksmappe and journalpost the numbers of its creation order
(:mod:`.numbering`); without it they follow the order of adding.

Everything is written under ``out_dir/.avleveringspakke.partial-<id>/`` and
renamed to ``out_dir/avleveringspakke`` only when complete; on any error the
partial folder is removed, so nothing under the final name ever looks
complete when it is not.  arkivstruktur.xml is streamed (memory does not grow
with the number of journals) and hashed while written; each document is
copied and hashed in one pass, by a child process beside the writer
(:mod:`.copier`): a journal's mappe is written when its documents' checksums
are in, a few journals after it was added, in the order of adding.  The copies
are flushed to the disk before the folder gets its final name.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import time
import uuid
from collections import deque
from pathlib import Path

from ..conversion import ConversionCache
from ..documents import copy_and_hash
from ..errors import ExtractError, NoarkpackError
from ..fsutil import fsync_dir, sync_filesystem
from ..locale import tr
from ..model import noark5 as n5
from ..model.epj import Pasientjournal
from ..model.identifiers import message_key, system_id
from ..model.mapping import (
    EPJ_NAMESPACE,
    EPJ_PREFIX,
    EPJ_SCHEMA_FILE,
    DocumentInfo,
    MappingContext,
    as_date,
    entry_changes,
    journal_mappe,
    patient_klasse,
)
from ..model.selection import REASON_OPEN_WRITER
from ..progress import Progress
from ..resources import schemas_dir
from .copier import Copy, DocumentCopier
from .documentplan import DOCUMENT_DIR, DocumentPlanning
from .extractfiles import ExtractFile, ExtractResult, XmlFile
from .numbering import Numbering, NumbersInOrderAdded
from .settings import ExtractSettings
from .xmlwriter import XSI, ContentFlags, Serializer, format_value

AS_NS = "http://www.arkivverket.no/standarder/noark5/arkivstruktur"
EL_NS = "http://www.arkivverket.no/standarder/noark5/endringslogg"
PARTIAL_PREFIX = ".avleveringspakke.partial-"
#: journals added and waiting for their documents' copies, at most (then the writer waits for the oldest)
PENDING_JOURNALS = 64

#: official schema files of the extract, per role
NOARK5_SCHEMAS = ("arkivstruktur.xsd", "metadatakatalog.xsd", "endringslogg.xsd",
                  "loependeJournal.xsd", "offentligJournal.xsd")


class ExtractWriter(DocumentPlanning):
    """Write one Noark 5 v5.0 extract from closed patient journals."""

    def __init__(
        self,
        out_dir: str | os.PathLike,
        settings: ExtractSettings,
        *,
        store=None,
        progress: Progress | None = None,
        overwrite: bool = False,
        identify_formats: bool = True,
        conversion: ConversionCache | None = None,
        allow_unconverted: bool = False,
        numbering: Numbering | None = None,
    ) -> None:
        settings.check()
        self.settings = settings
        self.out_dir = Path(out_dir)
        self.final = self.out_dir / "avleveringspakke"
        self.progress = progress
        self.overwrite = overwrite
        self.identify_formats = identify_formats
        self.conversion = conversion
        self._dirs: set[str] = set()  # document folders created so far (DOKUMENT/year)
        self.allow_unconverted = allow_unconverted
        #: saksaar/sakssekvensnummer and journalaar/journalsekvensnummer by creation (None: in the order added)
        self.numbering = numbering
        if store is None:
            from ..schemas import default_store

            store = default_store()
        self.store = store
        self._started = False
        self._closed = False
        self.result: ExtractResult | None = None

    # -- lifecycle -----------------------------------------------------------

    def __enter__(self) -> ExtractWriter:
        self.open()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.abort()
        elif not self._closed:
            self.close()

    def open(self) -> None:
        s = self.settings
        # Fail early, before any work, when the official schemas are not installed.
        self._schema_dir = self.store.set_dir(s.schema_set)
        self._addml_xsd = self.store.path("addml-8.3", "addml.xsd")
        if self.final.exists() and not self.overwrite:
            raise ExtractError(tr("the target already exists"), file=self.final,
                               hint=tr("remove it, choose another --out, or allow overwriting"))
        self.out_dir.mkdir(parents=True, exist_ok=True)
        self._clean_stale_partials()
        self.tmp = self.out_dir / f"{PARTIAL_PREFIX}{uuid.uuid4().hex[:12]}"
        self.tmp.mkdir()
        self._tmp_str = os.path.abspath(self.tmp)
        self._t0 = time.monotonic()
        self.result = ExtractResult(path=self.final)
        self.flags = ContentFlags()
        self.ser = Serializer(self.flags)
        self._as = XmlFile(self.tmp / "arkivstruktur.xml")
        self._endringer = open(self.tmp / ".endringer.spool", "w", encoding="utf-8", newline="\n")
        from .journals import JournalSpool

        self._journals = JournalSpool(self.tmp / ".journal-spool")
        self._numbers = self.numbering if self.numbering is not None else NumbersInOrderAdded()
        self._seen_patients: set[bytes] = set()
        self._current_patient: str | None = None
        self._current_klasse: n5.Klasse | None = None
        self._copier = DocumentCopier(flush=self.tmp)
        #: journals added whose mappe is not written yet: (journal, text before it, its klasse, planned documents,
        #: the last copy it sent to the copier)
        self._pending: deque[tuple] = deque()
        self._in_flight: dict[str, Copy] = {}  # copies of the pending journals by referanseDokumentfil
        self._to_copy: list[Copy] = []
        self._arkivskapere_used: set[str] = set()

        self.arkivdel_id = system_id(s.system_id, "arkivdel", s.arkivdel_tittel,
                                     s.periode_start.isoformat(), s.periode_slutt.isoformat())
        self.ctx = MappingContext(
            system=s.system_id,
            arkivdel_systemID=self.arkivdel_id,
            skjerming_tilgangsrestriksjon=s.skjerming_tilgangsrestriksjon,
            skjerming_hjemmel=s.skjerming_hjemmel,
            institusjoner=s.skjerming_institusjoner,
            arkivskaper_ids={a.key: a.id for a in s.arkivskapere},
        )
        self._write_head()
        self._started = True

    def _clean_stale_partials(self) -> None:
        """Remove partial extracts left by a crashed run (they never carry a final name)."""
        for p in self.out_dir.glob(PARTIAL_PREFIX + "*"):
            if p.is_dir():
                shutil.rmtree(p, ignore_errors=True)

    def _arkivskaper_entities(self) -> list[n5.Arkivskaper]:
        return [n5.Arkivskaper(arkivskaperID=a.id, arkivskaperNavn=a.navn, beskrivelse=a.beskrivelse)
                for a in self.settings.arkivskapere]

    def _write_head(self) -> None:
        s = self.settings
        arkiv = n5.Arkiv(
            systemID=system_id(s.system_id, "arkiv", s.arkiv_tittel),
            tittel=s.arkiv_tittel,
            beskrivelse=s.arkiv_beskrivelse,
            arkivstatus="Avsluttet",
            dokumentmedium="Elektronisk arkiv",
            opprettetDato=s.arkiv_opprettet,
            opprettetAv=s.arkiv_opprettet_av,
            avsluttetDato=s.arkiv_avsluttet,
            avsluttetAv=s.arkiv_avsluttet_av,
            arkivskaper=self._arkivskaper_entities(),
        )
        arkivdel = n5.Arkivdel(
            systemID=self.arkivdel_id,
            tittel=s.arkivdel_tittel,
            beskrivelse=s.arkivdel_beskrivelse,
            arkivdelstatus="Avsluttet periode",
            dokumentmedium="Elektronisk arkiv",
            opprettetDato=s.arkivdel_opprettet,
            opprettetAv=s.arkivdel_opprettet_av,
            avsluttetDato=s.arkivdel_avsluttet,
            avsluttetAv=s.arkivdel_avsluttet_av,
            arkivperiodeStartDato=s.periode_start,
            arkivperiodeSluttDato=s.periode_slutt,
        )
        ks = n5.Klassifikasjonssystem(
            systemID=system_id(s.system_id, "klassifikasjonssystem", "pasienter"),
            klassifikasjonstype="Objektbasert",
            tittel="Pasienter",
            beskrivelse="Én klasse per pasient (klasseID: fødselsnummer, D-nummer, H-nummer eller pasient-ID)",
            opprettetDato=s.arkivdel_opprettet,
            opprettetAv=s.arkivdel_opprettet_av,
        )
        self._klassifikasjonssystem = ks
        out = ['<?xml version="1.0" encoding="UTF-8"?>\n']
        attrs = (f' xmlns="{AS_NS}" xmlns:xsi="{XSI}" xmlns:{EPJ_PREFIX}="{EPJ_NAMESPACE}"'
                 f' xsi:schemaLocation="{AS_NS} arkivstruktur.xsd {EPJ_NAMESPACE} {EPJ_SCHEMA_FILE}"')
        self.ser.open(out, "arkiv", arkiv, 0, attrs)
        self.ser.open(out, "arkivdel", arkivdel, 1)
        self.ser.open(out, "klassifikasjonssystem", ks, 2)
        self._as.text(out)

    # -- adding journals -----------------------------------------------------

    def _check_open(self) -> None:
        if not self._started or self._closed:
            raise ExtractError("the writer is not open (use it as a context manager)")

    def add(self, journal: Pasientjournal) -> bool:
        """Add one journal; returns False when it was left out (open: see :meth:`leave_out`)."""
        self._check_open()
        s = self.settings
        if not journal.is_closed:
            if s.open_journals == "refuse":
                raise journal.error(tr("the journal is still open"),
                                    hint=tr("only closed journals are extracted; set open_journals = \"skip\" to "
                                            "leave it out"))
            self.leave_out(journal, REASON_OPEN_WRITER)
            return False
        journal.check()
        if s.arkivskaper(journal.arkivskaper) is None:
            raise journal.error(tr("arkivskaper {key} is not declared in noarkpack.toml", key=repr(journal.arkivskaper)),
                                hint=tr("add an [[arkivskaper]] table with that key"))
        self._arkivskapere_used.add(journal.arkivskaper)

        p = journal.pasient
        head: list[str] = []  # the klasse closed and opened before this journal's mappe
        if p.pasient_id != self._current_patient:
            key = hashlib.blake2b(p.pasient_id.encode(), digest_size=12).digest()
            if key in self._seen_patients:
                raise journal.error(tr("the patient's journals are not consecutive in the input"),
                                    record=tr("journal {journal}, patient {patient}",
                                              journal=message_key(journal.journal_id),
                                              patient=message_key(p.pasient_id, p.fodselsnummer)),
                                    hint=tr("order the journals by patient (each patient becomes one klasse)"))
            self._seen_patients.add(key)
            self._close_klasse(head)
            self._current_klasse = patient_klasse(self.ctx, (), p, journal.opprettet, journal.opprettet_av)
            self._current_patient = p.pasient_id
            self.ser.open(head, "klasse", self._current_klasse, 3)

        # What the analysis (or an earlier run) identified, for all the journal's documents in one query.
        known = iter(self._known(journal))
        # The documents go to the copier now; the mappe is written when their checksums are in.
        docs = [[self._plan(journal, i, n, d, *next(known)) for n, d in enumerate(i.dokumenter, start=1)]
                for i in journal.innslag]
        # The child answers in order: when the journal's last copy is done, all of them are.
        last = self._to_copy[-1] if self._to_copy else None
        self._copier.submit(self._to_copy)
        self._to_copy = []
        self._pending.append((journal, head, self._current_klasse, docs, last))
        self.result.journals += 1  # added: its mappe is written when its copies are done
        self._write_ready()
        return True

    def _write_ready(self, everything: bool = False) -> None:
        """Write the pending journals whose documents are copied, in order (``everything``: wait for all)."""
        pending = self._pending
        while pending:
            if not everything and len(pending) < PENDING_JOURNALS and pending[0][4] is not None and \
                    not pending[0][4].done:
                break
            self._write_journal(*pending.popleft())

    def _write_journal(self, journal: Pasientjournal, head: list[str], klasse: n5.Klasse, planned, _last) -> None:
        r = self.result
        docs: list[list[DocumentInfo]] = []
        for row in planned:
            infos = []
            for (ref, puid, details, konvertering, object_id), c in row:
                copied = self._copier.wait(c)
                if self._in_flight.get(ref) is c:
                    del self._in_flight[ref]
                    if not c.existed:
                        r.dokumentfiler += 1
                        r.document_bytes += copied.size
                infos.append(DocumentInfo(referanseDokumentfil=ref, sjekksum=copied.sha256, sjekksumAlgoritme="SHA256",
                                          filstoerrelse=copied.size, format=puid, formatDetaljer=details,
                                          konvertering=konvertering, systemID=object_id))
            docs.append(infos)
        mappe = self._mappe(journal, docs)

        self.ser.element(head, "mappe", mappe, 4)
        self._as.text(head)

        r.mappe += 1
        r.registrering += len(mappe.registrering)
        for reg in mappe.registrering:
            r.dokumentbeskrivelse += len(reg.dokumentbeskrivelse)
            if isinstance(reg, n5.Journalpost):
                self._journals.add(klasse, mappe, reg)
                r.journalposter += 1
        for e in entry_changes(self.ctx, journal):
            self._write_endring(e)
        if self.progress:
            self.progress("extract", r.mappe, None)

    def _mappe(self, journal: Pasientjournal, docs: list[list[DocumentInfo]]) -> n5.Saksmappe:
        """The journal's saksmappe with its numbers.

        journalpostnummer (M015, "the order of the journalposts within the saksmappe") follows the order in
        which they were created, as journalaar/journalsekvensnummer do (M013, M014): the rank of each
        journalpost's (journalaar, journalsekvensnummer) within the mappe, whatever order the source lists
        its entries in.
        """
        nums = self._numbers.numbers(journal)
        created = sorted(nums.journalposts[i.innslag_id] for i in journal.innslag if i.korrespondanse is not None)
        rank = {key: nr for nr, key in enumerate(created, start=1)}
        numbers: list[tuple[int, int, int] | None] = []
        for i in journal.innslag:
            if i.korrespondanse is None:
                numbers.append(None)
                continue
            key = nums.journalposts[i.innslag_id]
            numbers.append((*key, rank[key]))
        return journal_mappe(self.ctx, journal, docs, nums.saksmappe, numbers)

    def leave_out(self, journal: Pasientjournal, reason: str) -> None:
        """A journal that is not extracted, and why (listed in ``result.skipped``).

        Fits ``Project.selected_journals(on_excluded=writer.leave_out)``.  A journal still open at the end
        of the arkivdel's period (not closed, or closed after ``periode_slutt``) stays in the system, which
        carries on as the arkivdel's successor: that is mykt periodeskille (docs/mapping.md, "Open
        journals").  Its journalposts journalført within the period then go into loependeJournal.xml and
        offentligJournal.xml (krav 6.4.30); arkivstruktur.xml holds closed journals only.  A declared skarpt
        separation (``utgaaende_skille``) closes every mappe at the end of the period, so such a journal
        is then an error.  Any other journal left out (by a selection rule) is only listed.
        """
        self._check_open()
        s = self.settings
        if journal.avsluttet is not None and journal.avsluttet.date() <= s.periode_slutt:
            self.result.skipped.append((journal.journal_id, reason))
            return
        if s.utgaaende_skille == "skarpt":
            raise journal.error(
                tr("the journal was still open at the end of the period, but the arkivdel declares a sharp period "
                   "separation (utgaaende_skille = \"skarpt\"), which closes every mappe at the end of the period"),
                hint=tr("declare utgaaende_skille = \"mykt\" (open journals stay in the system and their "
                        "journalposts of the period are listed in the journals), or close the journal in the source"))
        journal.check(closed=False)
        if s.arkivskaper(journal.arkivskaper) is None:
            raise journal.error(tr("arkivskaper {key} is not declared in noarkpack.toml", key=repr(journal.arkivskaper)),
                                hint=tr("add an [[arkivskaper]] table with that key"))
        self._write_ready(everything=True)  # the journals' spool in the order the journals came
        self.result.skipped.append((journal.journal_id, reason))
        self.result.open_at_end += 1
        mappe = self._mappe(journal, [[] for _ in journal.innslag])
        klasse = patient_klasse(self.ctx, (), journal.pasient, journal.opprettet, journal.opprettet_av)
        for reg in mappe.registrering:
            if isinstance(reg, n5.Journalpost) and s.periode_start <= as_date(reg.journaldato) <= s.periode_slutt:
                self._journals.add(klasse, mappe, reg)

    def _write_endring(self, e: n5.Endring) -> None:
        out: list[str] = []
        self.ser.element(out, "endring", e, 1)
        self._endringer.write("".join(out))
        self.result.endringer += 1

    def _close_klasse(self, out: list[str]) -> None:
        if self._current_klasse is not None:
            self.ser.close(out, "klasse", 3)
            self._current_klasse = None

    # -- finishing -------------------------------------------------------------

    def close(self) -> ExtractResult:
        """Finish every file, verify the counts, and move the extract into place."""
        if self._closed:
            return self.result
        try:
            r = self.result
            if r.journals == 0:
                raise ExtractError(tr("no closed journal to extract"),
                                   hint=tr("check the source and the selection (open journals are never "
                                           "extracted)"))
            self._write_ready(everything=True)
            self._copier.finish()  # the child flushes the copies to the disk while the XML files are finished
            out: list[str] = []
            self._close_klasse(out)
            self.ser.close(out, "klassifikasjonssystem", 2)
            self.ser.close(out, "arkivdel", 1)
            self.ser.close(out, "arkiv", 0)
            out.append("\n")
            self._as.text(out)
            r.files["arkivstruktur.xml"] = ExtractFile("arkivstruktur.xml", self._as.close(), self._as.size)

            self._finish_endringslogg()
            r.journalregistreringer = self._journals.count
            # what was done at the end of the period: journals left open there stay in the system (mykt)
            r.utgaaende_skille = self.settings.utgaaende_skille or ("mykt" if r.open_at_end else "skarpt")
            if self._journals.count:
                lj = XmlFile(self.tmp / "loependeJournal.xml")
                oj = XmlFile(self.tmp / "offentligJournal.xml")
                self._journals.finish(lj, oj, self._arkivskaper_entities())
                r.files["loependeJournal.xml"] = ExtractFile("loependeJournal.xml", lj.close(), lj.size)
                r.files["offentligJournal.xml"] = ExtractFile("offentligJournal.xml", oj.close(), oj.size)
            else:
                self._journals.discard()
            self._copy_schemas()
            self._write_addml()
            # The copies were never flushed one by one: one flush of the file system for all of them,
            # before the folder gets its final name (a crash before this leaves a partial folder only).
            self._copier.close()
            sync_filesystem(self.tmp)
            fsync_dir(self.tmp)
            if self.final.exists():
                if not self.overwrite:
                    raise ExtractError(tr("the target appeared while extracting"), file=self.final)
                old = self.out_dir / f".avleveringspakke.old-{uuid.uuid4().hex[:8]}"
                os.replace(self.final, old)
                os.replace(self.tmp, self.final)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(self.tmp, self.final)
            fsync_dir(self.out_dir)
            r.seconds = time.monotonic() - self._t0
            self._closed = True
            return r
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        """Remove everything written so far (nothing keeps a final name)."""
        self._closed = True
        copier = getattr(self, "_copier", None)
        if copier is not None:
            copier.kill()  # before the folder is removed: the child writes nothing after this
            self._pending.clear()
        for f in (getattr(self, "_as", None),):
            if f is not None:
                f.abort()
        if getattr(self, "_endringer", None) is not None and not self._endringer.closed:
            self._endringer.close()
        if getattr(self, "_journals", None) is not None:
            self._journals.discard()
        tmp = getattr(self, "tmp", None)
        if tmp is not None and tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)

    def _finish_endringslogg(self) -> None:
        s = self.settings
        # Closing the arkivdel for deposit is itself a logged change of its status.
        self._write_endring(n5.Endring(
            referanseArkivenhet=self.arkivdel_id,
            referanseMetadata="arkivdelstatus",
            endretDato=s.arkivdel_avsluttet,
            endretAv=s.arkivdel_avsluttet_av,
            tidligereVerdi="Aktiv periode",
            nyVerdi="Avsluttet periode",
        ))
        self._endringer.close()
        el = XmlFile(self.tmp / "endringslogg.xml")
        el.write(('<?xml version="1.0" encoding="UTF-8"?>\n'
                  f'<endringslogg xmlns="{EL_NS}" xmlns:xsi="{XSI}"'
                  f' xsi:schemaLocation="{EL_NS} endringslogg.xsd">').encode("utf-8"))
        spool = self.tmp / ".endringer.spool"
        with open(spool, "rb") as f:
            shutil.copyfileobj(f, el, 1 << 20)
        spool.unlink()
        el.write(b"\n</endringslogg>\n")
        self.result.files["endringslogg.xml"] = ExtractFile("endringslogg.xml", el.close(), el.size)

    def _copy_schemas(self) -> None:
        names = ["arkivstruktur.xsd", "metadatakatalog.xsd", "endringslogg.xsd"]
        if self._journals.count:
            names += ["loependeJournal.xsd", "offentligJournal.xsd"]
        sources = [(n, self._schema_dir / n) for n in names]
        sources.append(("addml.xsd", self._addml_xsd))
        if self.flags.virksomhetsspesifikke:
            sources.append((EPJ_SCHEMA_FILE, schemas_dir() / EPJ_SCHEMA_FILE))
        for name, src in sources:
            copied = copy_and_hash(src, self.tmp / name)
            self.result.files[name] = ExtractFile(name, copied.sha256, copied.size)

    def _write_addml(self) -> None:
        from .addml import render_arkivuttrekk

        text = render_arkivuttrekk(self.settings, self.result, self.flags,
                                   [a for a in self.settings.arkivskapere])
        data = text.encode("utf-8")
        with open(self.tmp / "arkivuttrekk.xml", "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())


def write_extract(journals, out_dir, settings: ExtractSettings, **kwargs) -> ExtractResult:
    """Convenience: write an extract from an iterable of journals."""
    with ExtractWriter(out_dir, settings, **kwargs) as w:
        for j in journals:
            w.add(j)
    return w.result


__all__ = ["ExtractWriter", "ExtractResult", "ExtractFile", "write_extract", "DOCUMENT_DIR", "NoarkpackError", "format_value"]
