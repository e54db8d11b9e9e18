"""What the extract writer does for each document of a journal before it is copied: find it, identify it
(the project's store, else Siegfried), convert it when its format is not archival, and name its copy
(:class:`DocumentPlanning`, a part of :class:`~noarkpack.noark5.writer.ExtractWriter`).

Messages name the record and the document's number, never its file name: source file names often carry a
patient's name or a screened title.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath
from stat import S_ISREG

from ..documents import document_rel, document_source, identify, known_identifications
from ..errors import DocumentError
from ..formats import is_archival
from ..locale import tr
from ..model import noark5 as n5
from ..model.epj import Pasientjournal
from ..model.identifiers import message_key
from ..model.mapping import KONVERTERINGSKOMMENTAR, dokumentobjekt_id
from .copier import Copy

#: the extract's folder of document files (referanseDokumentfil: DOKUMENT/<year>/<systemID>.<ext>)
DOCUMENT_DIR = "DOKUMENT"


class DocumentPlanning:
    """The per-document part of the extract writer (its state: ``settings``, ``ctx``, ``conversion``,
    ``identify_formats``, ``allow_unconverted``, ``result`` and the copier's ``_in_flight``/``_to_copy``)."""

    def _known(self, journal: Pasientjournal) -> list[tuple]:
        """(source, its os.stat() or None, its identification or None) of every document of the journal."""
        root = self.settings.documents_root
        sources = [document_source(root, d) for i in journal.innslag for d in i.dokumenter]
        stats = []
        for src in sources:
            try:
                stats.append(os.stat(src))
            except OSError:
                stats.append(None)
        idents = known_identifications(sources, stats) if self.identify_formats else [None] * len(sources)
        return list(zip(sources, stats, idents))

    def _plan(self, journal: Pasientjournal, entry, n: int, d, src: Path, st, ident) -> tuple[tuple, Copy]:
        """What the document's DocumentInfo says but its checksum and size (referanseDokumentfil, format,
        formatDetaljer, konvertering, the dokumentobjekt's systemID), and its copy: the DocumentInfo is made
        when the copier has answered (:meth:`_write_journal`)."""
        # Messages name the record and the document's number, never its file name: source
        # file names often carry a patient's name or a screened title.  (Made only for a message.)
        def rec() -> str:
            return tr("journal {journal}, entry {entry}, document {document}",
                      journal=message_key(journal.journal_id), entry=message_key(entry.innslag_id), document=n)

        rel = document_rel(d.fil)
        # A neutral name in the extract: the year and the dokumentobjekt's systemID.
        suffix = rel.suffix.lower() if rel.suffix.isascii() and 1 < len(rel.suffix) <= 6 else ""
        object_id = dokumentobjekt_id(self.ctx, journal, entry, n)
        ref = f"{DOCUMENT_DIR}/{entry.opprettet.year}/{object_id}{suffix}"
        if st is None or not S_ISREG(st.st_mode):
            raise DocumentError(tr("document file not found ({path})", path=_masked(rel)), record=rec(),
                                hint=tr("check the path in the source and the project's document folder"))
        if ident is None and self.identify_formats:
            ident = identify(src, wait=True, st=st)
        puid = ident.puid if ident is not None and ident.puid != "UNKNOWN" else d.format
        if not puid and ident is None:
            raise DocumentError(tr("the document has no format (PUID) and identification is off"),
                                record=rec(), hint=tr("give its PRONOM PUID as 'format' in the source"))
        puid = puid or "UNKNOWN"
        details = ident.details if ident is not None and ident.puid == puid else None
        konvertering: tuple[n5.Konvertering, ...] = ()
        if ident is not None and not is_archival(puid, entry.opprettet.date()):
            converted = self._convert(src, ident, rec())
            if converted is not None:
                out, crec = converted
                src, ref = out, f"{ref.rsplit('.', 1)[0] if suffix else ref}.pdf"
                # The first conversion of this content, as the cache recorded it (M615, M616, M714):
                # the same record in every run, so the same extract.
                konvertering = (n5.Konvertering(
                    konvertertDato=crec.converted_datetime(), konvertertAv=crec.converted_by,
                    konvertertFraFormat=crec.source_puid, konvertertTilFormat=crec.output_puid,
                    konverteringsverktoey=crec.tool, konverteringskommentar=KONVERTERINGSKOMMENTAR),)
                puid, details = crec.output_puid, "PDF/A-2b" if crec.output_puid == "fmt/477" else None
                self.result.converted += 1
        # The same file referenced twice is copied once; the copier hashes the copy again when it was made
        # before this journal's (it never overwrites a copy: it creates each file anew).
        copy = self._in_flight.get(ref)
        if copy is None:
            # The extract folder is private until it is complete: no temporary name per file.
            folder = ref.rpartition("/")[0]
            if folder not in self._dirs:
                (self.tmp / folder).mkdir(parents=True, exist_ok=True)
                self._dirs.add(folder)
            copy = self._in_flight[ref] = Copy(src, os.path.join(self._tmp_str, ref), rec)
            self._to_copy.append(copy)
        return (ref, puid, details, konvertering, object_id), copy

    def _convert(self, src: Path, ident, rec: str):
        """The PDF/A variant of a non-archival file, or None when it is kept unconverted (allowed)."""
        try:
            if ident.puid == "UNKNOWN":
                # Only a known format is converted: LibreOffice would happily render the
                # bytes of a corrupt file as text and call that a PDF/A.
                raise DocumentError(tr("Siegfried cannot identify its format (corrupt or unknown file: {error})",
                                       error=ident.error or tr("no signature matched")))
            if self.conversion is None:
                raise DocumentError(tr("conversion is not enabled"))
            return self.conversion.convert(src, ident)
        except DocumentError as e:
            reason = e.message
        if self.allow_unconverted:
            self.result.unconverted.append((rec, ident.puid, reason))
            return None
        raise DocumentError(tr("the document is not in an archival format ({puid}) and could not be converted: "
                               "{reason}", puid=ident.puid, reason=reason), record=rec,
                            hint=tr("install the converters (README), or allow unconverted documents "
                                    "(--allow-unconverted) to keep the original and list it"))


def _masked(rel: PurePosixPath) -> str:
    """The folder and extension of a document path, without its file name."""
    parent = "" if str(rel.parent) == "." else f"{rel.parent}/"
    return f"{parent}…{rel.suffix}"
