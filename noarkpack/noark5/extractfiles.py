"""The extract's XML output files and what an extract reports (:class:`ExtractResult`).

Each XML file is hashed as it is written and never read back: its SHA-256 goes into the ADDML and the
package's manifests from here (hash each file once).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from ..hashing import HashingWriter


class XmlFile:
    """A UTF-8 XML output file hashed as it is written (never read back)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._f = HashingWriter(open(path, "wb"), close_inner=True)
        self._buf: list[str] = []
        self._buffered = 0

    @property
    def size(self) -> int:
        return self._f.size

    def text(self, pieces: list[str]) -> None:
        self._buf.extend(pieces)
        self._buffered += len(pieces)
        if self._buffered > 4096:
            self.flush()

    def write(self, data: bytes) -> int:  # binary interface for copyfileobj
        self.flush()
        return self._f.write(data)

    def flush(self) -> None:
        if self._buf:
            self._f.write("".join(self._buf).encode("utf-8"))
            self._buf.clear()
            self._buffered = 0

    def close(self) -> str:
        self.flush()
        self._f.flush()
        os.fsync(self._f.fileno())
        self._f.close()
        return self._f.hexdigest()

    def abort(self) -> None:
        self._f.close()


@dataclass
class ExtractFile:
    name: str
    sha256: str
    size: int


@dataclass
class ExtractResult:
    path: Path
    journals: int = 0
    mappe: int = 0
    registrering: int = 0
    journalposter: int = 0
    #: entries of loependeJournal.xml/offentligJournal.xml: the journalposter, and with mykt periodeskille
    #: those of journals still open at the end of the period (journaldato within it), which stay in the system
    journalregistreringer: int = 0
    open_at_end: int = 0  #: journals left out as open at the end of the period (mykt: their journalposts listed)
    utgaaende_skille: str | None = None  #: the separation the ADDML declares (derived when not configured)
    dokumentbeskrivelse: int = 0
    dokumentfiler: int = 0
    document_bytes: int = 0
    endringer: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (journal_id, reason)
    converted: int = 0  # documents converted to PDF/A
    unconverted: list[tuple[str, str, str]] = field(default_factory=list)  # (file, PUID, reason), when allowed
    files: dict[str, ExtractFile] = field(default_factory=dict)  # XML/XSD by name
    seconds: float = 0.0

    @property
    def total_bytes(self) -> int:
        return self.document_bytes + sum(f.size for f in self.files.values())
