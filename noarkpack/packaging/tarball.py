"""A deterministic, streamed POSIX (pax) tar.

Same members in, same bytes out: entries are written in the order given (the
caller sorts them), owner 0/0 with empty names, modes 0644 (files) and 0755
(folders), one fixed mtime, pax headers only where ustar cannot hold a name.
File contents are streamed (1 MiB copies), never held in memory, and the
SHA-256 (and optionally SHA-512) of the tar is computed while it is written.
"""

from __future__ import annotations

import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from ..hashing import CHUNK_SIZE, HashingWriter

FILE_MODE = 0o644
DIR_MODE = 0o755


class _Telling(HashingWriter):
    """HashingWriter that also answers tell() (tarfile asks for it)."""

    def tell(self) -> int:
        return self.size

    def seekable(self) -> bool:
        return False


@dataclass
class Member:
    name: str  # full member name, e.g. "<uuid>/content/arkivstruktur.xml"
    source: Path | None  # None for a folder
    size: int = 0


@dataclass
class TarDigest:
    sha256: str
    size: int
    sha512: str | None = None


def write_tar(raw, members: Iterable[Member], mtime: int, *, sha512: bool = False,
              progress: Callable[[int], None] | None = None) -> TarDigest:
    """Write ``members`` to the binary stream ``raw``; return the tar's digests and size."""
    inner = HashingWriter(raw, "sha512") if sha512 else raw
    out = _Telling(inner, "sha256")
    with tarfile.TarFile(fileobj=out, mode="w", format=tarfile.PAX_FORMAT, encoding="utf-8",
                         copybufsize=CHUNK_SIZE) as tar:
        for m in members:
            ti = tarfile.TarInfo(m.name)
            ti.mtime = mtime
            ti.uid = ti.gid = 0
            ti.uname = ti.gname = ""
            if m.source is None:
                ti.type = tarfile.DIRTYPE
                ti.mode = DIR_MODE
                tar.addfile(ti)
            else:
                ti.type = tarfile.REGTYPE
                ti.mode = FILE_MODE
                ti.size = m.size
                with open(m.source, "rb") as f:
                    tar.addfile(ti, f)
                if progress:
                    progress(m.size)
            tar.members.clear()  # tarfile keeps every TarInfo it wrote: memory per member otherwise
    out.flush()
    digest = TarDigest(out.hexdigest(), out.size, inner.hexdigest() if sha512 else None)
    out.close()
    return digest
