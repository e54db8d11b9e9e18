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


class _IdentificationCache:
    """What Siegfried said about each file, in ~26 bytes per file.

    A deposit identifies every document twice in one process (the conversion plan, then the
    extract), and Siegfried reads a scanned TIFF or PDF whole (~5 ms each here).  The key is the
    file's path, size, mtime and inode, so a changed file is identified again; the value is an index
    into the (few) distinct results.  Bounded: cleared after four million files.
    """

    LIMIT = 4_000_000

    def __init__(self) -> None:
        from .idset import IdSet

        self._idset = IdSet
        self.table = IdSet()
        self.results: list[Identification] = []
        self.index: dict[Identification, int] = {}

    @staticmethod
    def key(path: Path) -> str | None:
        try:
            st = os.stat(path)
        except OSError:
            return None
        return f"{os.fspath(path)}\0{st.st_size}\0{st.st_mtime_ns}\0{st.st_ino}\0{st.st_dev}"

    def get(self, key: str | None) -> Identification | None:
        if key is None:
            return None
        i = self.table.get_line(key)
        return self.results[i] if i is not None else None

    def put(self, key: str | None, ident: Identification) -> None:
        if key is None:
            return
        if self.table.count >= self.LIMIT:
            self.table = self._idset()
        i = self.index.get(ident)
        if i is None:
            if len(self.results) >= 0xFFFF0000:  # pragma: no cover - never in practice
                return
            i = self.index[ident] = len(self.results)
            self.results.append(ident)
        self.table.add(key, i)


_cache: _IdentificationCache | None = None


def identify(path: Path) -> Identification:
    """Identify ``path`` with Siegfried (PRONOM); a file already identified in this process is not read again."""
    global _cache
    if _cache is None:
        _cache = _IdentificationCache()
    key = _cache.key(path)
    hit = _cache.get(key)
    if hit is not None:
        return hit
    ident = _identify(path)
    _cache.put(key, ident)
    return ident


def identify_many(paths: list[Path], workers: int | None = None) -> list[Identification]:
    """Identify many files at once, on every core (Siegfried's own workers); results are cached like identify()."""
    global _cache
    if _cache is None:
        _cache = _IdentificationCache()
    keys = [_cache.key(p) for p in paths]
    todo = [i for i, k in enumerate(keys) if _cache.get(k) is None]
    if todo:
        import pygfried

        try:
            result = pygfried.identify_many([str(paths[i]) for i in todo], workers=workers or os.cpu_count() or 1)
            entries = {f.get("filename"): f for f in result.get("files") or []}
        except Exception:  # one unreadable file fails the batch: fall back to one at a time
            entries = None
        for i in todo:
            entry = entries.get(str(paths[i])) if entries is not None else None
            ident = _from_result(entry) if entry is not None else _identify(paths[i])
            _cache.put(keys[i], ident)
    return [identify(p) for p in paths]


def _identify(path: Path) -> Identification:
    try:
        import pygfried
    except ImportError as e:  # pragma: no cover - dependency of the package
        raise DocumentError("Siegfried (pygfried) is not installed", hint="pip install pygfried") from e
    try:
        result = pygfried.identify(str(path), detailed=True)
    except Exception as e:  # pygfried.GoError: unreadable file
        raise DocumentError(f"Siegfried could not read the file: {e}", file=path) from None
    files = result.get("files") or []
    return _from_result(files[0] if files else None)


def _from_result(entry: dict | None) -> Identification:
    """An Identification from one file entry of Siegfried's detailed result."""
    error = (entry.get("errors") or "") if entry else "no result"
    matches = [m for m in (entry.get("matches", []) if entry else []) if m.get("ns") == "pronom"]
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
