"""``documentfile-formatinfo.csv``: each document file's format, for the depot, as Arkade puts it in a SIP.

Arkade's real SIP (../shared/reference/samples/arkade-sip-example/n5-guid.tar, made by Arkade in 2020) carries
two such files, both UTF-8 without a BOM, comma-separated, CRLF line ends, a header row, fields quoted only when
they must be (CsvHelper's defaults, as Python's ``csv`` with ``QUOTE_MINIMAL``):

* ``administrative_metadata/documentfile-formatinfo.csv``: ``Filnavn,Filutvidelse,Format-ID,Formatnavn,
  Formatversjon,Feil``, one row per document file;
* ``content/documentfile-formatinfo.csv``: ``Filnavn,Format-ID,Formatnavn,Formatversjon,Feil``.

The identifications are the ones made during extraction, read from the extract itself: each dokumentobjekt's
``format`` (its PRONOM PUID, M701) and ``formatDetaljer`` (M702), gathered in packaging's one pass over
arkivstruktur.xml (:func:`.inventory.recorded_checksums`).  No document is identified again: only the PRONOM name
and version of each distinct PUID are looked up, by asking Siegfried about one file of that format (a handful
of files; where that is not possible, ``formatDetaljer`` is the name).  ``Feil`` is empty: a file Siegfried could
not identify was converted or refused during extraction (or kept with ``--allow-unconverted``, its PUID then
``UNKNOWN``), so there is no per-file error to carry.  ``Filnavn`` is the document's path in ``content/`` (its
``referanseDokumentfil``); Arkade wrote the path of the machine it ran on (``n5-merknader\\dokumenter\\…``), which
says nothing to the depot.  docs/packaging.md, "documentfile-formatinfo.csv", says where Arkade 2.12 differs.

Memory: two bytes per extract file (an index into the distinct formats), never a row per document in memory;
the rows are written in the extract's file order while the file is hashed.
"""

from __future__ import annotations

import csv
import io
from array import array
from pathlib import Path, PurePosixPath

from ..hashing import HashingWriter

NAME = "documentfile-formatinfo.csv"
#: the header of each copy, as in Arkade's SIP
HEADER_ADMINISTRATIVE = ("Filnavn", "Filutvidelse", "Format-ID", "Formatnavn", "Formatversjon", "Feil")
HEADER_CONTENT = ("Filnavn", "Format-ID", "Formatnavn", "Formatversjon", "Feil")
_NONE = 0xFFFF


class FormatTable:
    """Per extract file (by its index in :class:`.inventory.ExtractFiles`), the format its dokumentobjekt records."""

    def __init__(self, n_files: int) -> None:
        self._which = array("H", [_NONE]) * n_files
        self._formats: list[tuple[str, str]] = []  # (PUID, formatDetaljer)
        self._index: dict[tuple[str, str], int] = {}
        self._first: list[int] = []  # a file of each format: the one Siegfried is asked about

    def note(self, i: int, puid: str | None, details: str | None) -> None:
        """File ``i`` is a document whose dokumentobjekt says ``format`` = ``puid`` (first dokumentobjekt wins)."""
        if self._which[i] != _NONE:
            return
        key = ((puid or "").strip(), (details or "").strip())
        k = self._index.get(key)
        if k is None:
            if len(self._formats) >= _NONE:  # 65,535 distinct formats: beyond any extract; the rest go unnamed
                key, k = ("", ""), self._index.setdefault(("", ""), len(self._formats))
            else:
                k = self._index[key] = len(self._formats)
                self._formats.append(key)
                self._first.append(i)
        self._which[i] = k

    def __len__(self) -> int:
        return sum(1 for k in self._which if k != _NONE)

    def _names(self, root: Path, rels: list[str]) -> list[tuple[str, str]]:
        """(Formatnavn, Formatversjon) per distinct format: PRONOM's, from one file of it, else formatDetaljer."""
        out = []
        for (puid, details), first in zip(self._formats, self._first):
            name, version = details, ""
            if puid and puid != "UNKNOWN":
                try:
                    from ..documents import identify

                    ident = identify(root / rels[first])
                    if ident.puid == puid:
                        name, version = ident.name or details, ident.version or ""
                except Exception:  # noqa: BLE001 - Siegfried missing or the file unreadable: the recorded details
                    pass
            out.append((name, version))
        return out

    def write(self, root: Path, files, administrative: Path, content: Path) -> tuple[tuple[int, str], tuple[int, str]]:
        """Write both copies; returns ((size, sha256) of the administrative one, (size, sha256) of content's)."""
        rels = files.rels
        names = self._names(root, rels)
        with open(administrative, "wb") as fa, HashingWriter(fa) as wa, \
                open(content, "wb") as fc, HashingWriter(fc) as wc:
            buf = io.StringIO()
            out = csv.writer(buf, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)

            def emit(w, row) -> None:
                out.writerow(row)
                w.write(buf.getvalue().encode("utf-8"))
                buf.seek(0)
                buf.truncate()

            emit(wa, HEADER_ADMINISTRATIVE)
            emit(wc, HEADER_CONTENT)
            for i, k in enumerate(self._which):
                if k == _NONE:
                    continue
                rel = rels[i]
                puid = self._formats[k][0]
                name, version = names[k]
                emit(wa, (rel, PurePosixPath(rel).suffix, puid, name, version, ""))
                emit(wc, (rel, puid, name, version, ""))
        return (wa.size, wa.hexdigest()), (wc.size, wc.hexdigest())


def read_rows(data: bytes) -> list[dict[str, str]]:
    """The rows of a documentfile-formatinfo.csv (either copy), by header; for verify."""
    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))


__all__ = ["FormatTable", "HEADER_ADMINISTRATIVE", "HEADER_CONTENT", "NAME", "read_rows"]
