"""The project's content store: documents whose bytes live in the legacy source (a BLOB, a note in a text
or RTF column), written once as files so that they are identified, converted and deposited exactly like the
files of a document folder (docs/migration.md, "Documents stored in the source").

Layout: ``<staging database folder>/content/<sha256[:2]>/<sha256><ext>`` (by default under the project's
``.noarkpack/``, beside the staging database: derived data, rebuilt by ``noarkpack import``).  A content is
addressed by its SHA-256, so the same note or scan stored twice is one file (deduplicated), and writing is
atomic: a temporary file in the same folder, fsynced, then renamed, so a crash never leaves a truncated file
under a final name.  Importing again writes nothing new: the same content, the same name.

In the staging database a stored document's ``dokument.fil`` is ``@innhold/<sha256><ext>`` (a name that is
never a file of the document folder); :meth:`noarkpack.sources.staging.StagingDB.journals` turns it into the
model's :attr:`~noarkpack.model.epj.Dokumentfil.innhold` path, which the extract writers read instead of the
document folder.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ..fsutil import fsync_file
from ..locale import tr

#: ``dokument.fil`` of a document whose bytes came from the source
PREFIX = "@innhold/"
#: file name extension per ``innhold`` format: what identification and conversion go by
EXTENSIONS = {"text": ".txt", "rtf": ".rtf", "html": ".html"}
#: threads that fsync the store's new files at the end of an import (:meth:`ContentStore.sync`)
SYNC_THREADS = 8


def sniff_extension(data: bytes) -> str:
    """A file name extension for a BLOB from its first bytes (the name only helps tools; Siegfried
    identifies by content); ``.bin`` when unknown."""
    head = data[:16]
    if head.startswith(b"%PDF-"):
        return ".pdf"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return ".tif"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return ".png"
    if head.startswith(b"\xff\xd8\xff"):
        return ".jpg"
    if head.startswith(b"{\\rtf"):
        return ".rtf"
    if head.startswith(b"PK\x03\x04"):
        return ".zip"
    return ".bin"


class ContentStore:
    """Write-once, content-addressed files under ``root``."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.written = 0  # new files written by this instance
        self.reused = 0  # contents that were already in the store
        self._unsynced: list[Path] = []

    @classmethod
    def beside(cls, database: Path) -> ContentStore:
        """The store of the staging database ``database`` (its folder's ``content``)."""
        return cls(Path(database).parent / "content")

    def path_of(self, fil: str) -> Path:
        """The file of a ``dokument.fil`` that names stored content (``@innhold/<sha256><ext>``)."""
        name = fil[len(PREFIX):]
        if not fil.startswith(PREFIX) or "/" in name or name.startswith("."):
            raise ValueError("not a content store name")
        return self.root / name[:2] / name

    def put(self, data: bytes, ext: str) -> str:
        """Store ``data``; returns its ``dokument.fil`` (``@innhold/<sha256><ext>``)."""
        sha = hashlib.sha256(data).hexdigest()
        name = sha + ext
        target = self.root / sha[:2] / name
        if target.is_file() and target.stat().st_size == len(data):
            self.reused += 1
            return PREFIX + name
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{name}.{uuid.uuid4().hex[:8]}.part")
        try:
            with open(tmp, "wb") as f:
                f.write(data)
            os.replace(tmp, target)
        finally:
            if tmp.exists():
                tmp.unlink()
        self.written += 1
        self._unsynced.append(target)
        return PREFIX + name

    def sync(self) -> None:
        """Make every file written since the last sync durable (fsync), before the import that names them is
        committed: one pass at the end instead of a wait per file, so the disk writes them in large batches.  Until
        then a crash can only leave a file that :meth:`put` rewrites (wrong size) or that no staging database
        names (the import that wrote it never finished).

        The fsyncs run in :data:`SYNC_THREADS` threads: one fsync after another waits for one file system journal
        commit each (~2 ms on ext4: 10 s for 5,000 scans), while concurrent fsyncs share their commits (on the
        benchmark machine, 2,000 files of 50–100 KB: 2.65 s one by one, 0.29 s in 8 threads).  Every file is still
        fsynced before this returns; the first error is raised."""
        if not self._unsynced:
            return
        with ThreadPoolExecutor(min(SYNC_THREADS, len(self._unsynced))) as pool:
            for _ in pool.map(fsync_file, self._unsynced):
                pass
        self._unsynced.clear()


class Undecodable(ValueError):
    """Text of a content column that is not in its declared encoding (the row is rejected).  Its one argument is
    the whole message (a :func:`~noarkpack.locale.tr` text naming the column): the importer rejects the row with
    it as it is."""


_ENC_NAMES = {"cp1252": "Windows-1252", "latin-1": "ISO-8859-1", "iso8859-15": "ISO-8859-15", "utf-8": "UTF-8"}


def content_bytes(raw: Any, fmt: str, encoding: str, *, column: str = "?") -> tuple[bytes, str] | None:
    """The bytes to store and their extension for one ``innhold`` value; None when empty (NULL, "", no bytes).

    ``text`` becomes UTF-8 plain text (an archival format: Arkivverket's list, x-fmt/111); ``rtf`` keeps its bytes
    (RTF is 7-bit; a text column is encoded in ``encoding``) and ``html`` is UTF-8; both are converted to PDF/A-2b
    by the conversion step like any RTF or HTML file.  ``bytes``: a BLOB as it is, or base64/hex text.
    Raises :class:`Undecodable` for bytes that are not ``encoding`` text (or not base64/hex); its message names
    ``column`` (the source column the value came from).
    """
    if raw is None:
        return None
    if isinstance(raw, memoryview):
        raw = raw.tobytes()
    if isinstance(raw, bytearray):
        raw = bytes(raw)
    if isinstance(raw, str) and not raw.strip():
        return None
    if isinstance(raw, bytes) and not raw:
        return None
    name = _ENC_NAMES.get(encoding, encoding)
    if fmt == "bytes":
        if isinstance(raw, bytes):
            return raw, sniff_extension(raw)
        text = "".join(str(raw).split())
        try:
            data = bytes.fromhex(text) if encoding == "hex" else base64.b64decode(text, validate=True)
        except (ValueError, binascii.Error):
            raise Undecodable(tr("dokument.innhold (column {column}) is not {encoding} text", column=column,
                                 encoding=encoding)) from None
        return (data, sniff_extension(data)) if data else None
    if isinstance(raw, bytes):
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError as e:
            raise Undecodable(tr("dokument.innhold (column {column}) is not {encoding} text (byte 0x{byte} at "
                                 "offset {offset})", column=column, encoding=name, byte=format(raw[e.start], "02x"),
                                 offset=e.start)) from None
    else:
        text = str(raw)
    if not text.strip():
        return None
    if fmt == "rtf":
        if isinstance(raw, bytes):
            return raw, ".rtf"
        try:
            return text.encode(encoding if encoding != "utf-8" else "cp1252"), ".rtf"
        except UnicodeEncodeError:
            raise Undecodable(tr("dokument.innhold (column {column}) holds characters that {encoding} cannot store "
                                 "in RTF", column=column, encoding=name)) from None
    return text.encode("utf-8"), EXTENSIONS[fmt]


def is_stored(fil: str | None) -> bool:
    return bool(fil) and fil.startswith(PREFIX)


__all__ = ["ContentStore", "EXTENSIONS", "PREFIX", "Undecodable", "content_bytes", "is_stored", "sniff_extension"]
