"""Document files: copy and hash in one pass, identify the format.

Every document byte is read once during extraction: :func:`copy_and_hash`
streams the source into the extract and computes its SHA-256 on the way.  The
checksum is then carried forward (dokumentobjekt/sjekksum → ADDML → METS →
BagIt) and never computed again.  Format identification uses Siegfried
(pygfried, offline, PRONOM signatures).
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from .errors import DocumentError
from .hashing import CHUNK_SIZE, HashingWriter


@dataclass(frozen=True)
class CopiedFile:
    sha256: str
    size: int


def copy_and_hash(src: Path, dst: Path, *, record: str | None = None) -> CopiedFile:
    """Copy ``src`` to ``dst`` (parents created) and return its SHA-256 and size.

    The destination is written under a temporary name and renamed when
    complete, so a crash never leaves a truncated file under the final name.
    """
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(dst.name + ".part")
    try:
        with open(src, "rb") as fin, open(tmp, "wb") as fout:
            out = HashingWriter(fout)
            shutil.copyfileobj(fin, out, CHUNK_SIZE)
            sha256, size = out.hexdigest(), out.size
        os.replace(tmp, dst)
    except FileNotFoundError:
        _unlink(tmp)
        raise DocumentError("document file not found", file=src, record=record,
                            hint="check the path in the source and the project's document folder") from None
    except IsADirectoryError:
        _unlink(tmp)
        raise DocumentError("document path is a folder, not a file", file=src, record=record) from None
    except PermissionError:
        _unlink(tmp)
        raise DocumentError("document file cannot be read (permission denied)", file=src, record=record) from None
    return CopiedFile(sha256, size)


def _unlink(p: Path) -> None:
    try:
        p.unlink()
    except FileNotFoundError:
        pass


@dataclass(frozen=True)
class Identification:
    puid: str  # PRONOM id, e.g. fmt/354; "UNKNOWN" if Siegfried found none
    name: str  # format name, e.g. "Acrobat PDF/A - Portable Document Format"
    version: str
    mime: str
    basis: str
    warning: str
    error: str = ""  # Siegfried's complaint about the file (e.g. a corrupt container), if any

    @property
    def details(self) -> str | None:
        """A short formatDetaljer text (format name and version), or None."""
        text = " ".join(x for x in (self.name, self.version) if x).strip()
        return text or None


def identify(path: Path) -> Identification:
    """Identify ``path`` with Siegfried (PRONOM)."""
    try:
        import pygfried
    except ImportError as e:  # pragma: no cover - dependency of the package
        raise DocumentError("Siegfried (pygfried) is not installed", hint="pip install pygfried") from e
    try:
        result = pygfried.identify(str(path), detailed=True)
    except Exception as e:  # pygfried.GoError: unreadable file
        raise DocumentError(f"Siegfried could not read the file: {e}", file=path) from None
    files = result.get("files") or []
    error = (files[0].get("errors") or "") if files else "no result"
    matches = [m for m in (files[0].get("matches", []) if files else []) if m.get("ns") == "pronom"]
    if not matches:
        return Identification("UNKNOWN", "", "", "", "", "no match", error)
    m = matches[0]
    return Identification(
        puid=m.get("id") or "UNKNOWN",
        name=m.get("format", ""),
        version=m.get("version", ""),
        mime=m.get("mime", ""),
        basis=m.get("basis", ""),
        warning=m.get("warning", ""),
        error=error,
    )
