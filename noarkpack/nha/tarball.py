"""Deterministic, streamed POSIX (pax) tars for the EPJARK packages, and safe reading.

Writing: same members in, same bytes out — members sorted by name (parents
before children), owner 0/0 with empty names, modes 0644/0755, one fixed
mtime, only regular files and folders, pax headers only where ustar cannot
hold a value.  File contents stream from disk in 1 MiB copies; generated XML
comes from memory (one journal's worth at a time).  The SHA-256 of the tar is
computed by :class:`~noarkpack.hashing.HashingWriter` while the bytes are
written, never by reading the tar back.

Reading: :class:`TarStream` walks a tar as a stream (``r|``), never
extracting, and hashes every byte it reads, so one pass gives the members and
the checksum.
"""

from __future__ import annotations

import io
import os
import tarfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Callable, Iterable, Iterator

from ..hashing import CHUNK_SIZE, HashingReader, HashingWriter
from ..locale import tr

FILE_MODE = 0o644
DIR_MODE = 0o755


@dataclass(frozen=True)
class TarEntry:
    """One member to write: a folder (``data`` and ``source`` None), bytes, or a file on disk."""

    name: str
    data: bytes | None = None
    source: Path | None = None

    @property
    def is_dir(self) -> bool:
        return self.data is None and self.source is None


class _Telling(HashingWriter):
    """HashingWriter that answers tell() (tarfile asks for it)."""

    def tell(self) -> int:
        return self.size

    def seekable(self) -> bool:
        return False


def check_member_name(name: str) -> None:
    p = PurePosixPath(name)
    if not name or name.startswith("/") or ".." in p.parts or "\\" in name or "//" in name.rstrip("/"):
        raise ValueError(f"unsafe tar member name {name!r}")


def write_tar(raw: BinaryIO, entries: Iterable[TarEntry], mtime: int) -> tuple[str, int]:
    """Write ``entries`` (sorted here) to ``raw``; return (sha256 hex, size) of the tar bytes."""
    ordered = sorted(entries, key=lambda e: e.name.rstrip("/"))
    names = [e.name.rstrip("/") for e in ordered]
    if len(set(names)) != len(names):
        raise ValueError("duplicate tar member names")
    out = _Telling(raw)
    with tarfile.TarFile(fileobj=out, mode="w", format=tarfile.PAX_FORMAT, encoding="utf-8",
                         copybufsize=CHUNK_SIZE) as tar:
        for e in ordered:
            name = e.name.rstrip("/")
            check_member_name(name)
            ti = tarfile.TarInfo(name)
            ti.mtime = mtime
            ti.uid = ti.gid = 0
            ti.uname = ti.gname = ""
            if e.is_dir:
                ti.type = tarfile.DIRTYPE
                ti.mode = DIR_MODE
                tar.addfile(ti)
            elif e.data is not None:
                ti.type = tarfile.REGTYPE
                ti.mode = FILE_MODE
                ti.size = len(e.data)
                tar.addfile(ti, io.BytesIO(e.data))
            else:
                ti.type = tarfile.REGTYPE
                ti.mode = FILE_MODE
                with open(e.source, "rb") as f:
                    ti.size = os.fstat(f.fileno()).st_size
                    tar.addfile(ti, f)
    out.flush()
    digest, size = out.hexdigest(), out.size
    out.close()
    return digest, size


# ---------------------------------------------------------------------------- reading


def member_problem(ti: tarfile.TarInfo, seen: set[str]) -> str | None:
    """Why a member is unsafe (in the current language), or None."""
    name = ti.name
    stripped = name.rstrip("/")
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return tr("absolute path")
    if ".." in PurePosixPath(stripped).parts:
        return tr("path with '..'")
    if "\\" in name:
        return tr("backslash in the path")
    if ti.issym():
        return tr("symbolic link")
    if ti.islnk():
        return tr("hard link")
    if ti.ischr() or ti.isblk() or ti.isfifo():
        return tr("device or fifo")
    if not (ti.isreg() or ti.isdir()):
        return tr("member that is neither a file nor a folder")
    if stripped in seen:
        return tr("duplicate member")
    return None


class TarStream:
    """Read a tar once, as a stream: members (with the wanted contents) and the SHA-256 of the file."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.sha256: str | None = None
        self.size = 0
        self.error: str | None = None

    def members(self, want: Callable[[tarfile.TarInfo], bool], limit: int = 64 << 20
                ) -> Iterator[tuple[tarfile.TarInfo, bytes | None]]:
        with open(self.path, "rb") as raw:
            reader = HashingReader(raw)
            buffered = io.BufferedReader(reader, CHUNK_SIZE)
            try:
                with tarfile.open(fileobj=buffered, mode="r|", encoding="utf-8") as tar:
                    for ti in tar:
                        data = None
                        if ti.isreg() and want(ti) and ti.size <= limit:
                            f = tar.extractfile(ti)
                            data = f.read() if f is not None else None
                        yield ti, data
            except (tarfile.TarError, EOFError, OSError) as e:
                self.error = f"{type(e).__name__}: {e}"
            # hash what tarfile did not read (end-of-archive padding, trailing bytes)
            while buffered.read(CHUNK_SIZE):
                pass
            self.sha256 = reader.hexdigest()
            self.size = reader.size
