"""Finding a pinned file by its SHA-256 under a folder the user names (``schemas install --from DIR``)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from noarkpack.hashing import sha256_file
from noarkpack.locale import tr

from .locks import SchemaFile


@dataclass(frozen=True)
class Candidate:
    """A file under --from DIR that has the name of a pinned file."""

    path: Path
    size: int
    sha256: str | None  # None: not hashed (size of no pinned file) or unreadable

    def describe(self, pinned: SchemaFile) -> str:
        if self.size != pinned.size:
            return tr("{path} ({size} bytes, pinned {pinned})", path=str(self.path), size=self.size, pinned=pinned.size)
        if self.sha256 is None:
            return tr("{path} (unreadable)", path=str(self.path))
        return f"{self.path} (SHA-256 {self.sha256})"


def search_folder(
    folder: Path, wanted: dict[str, SchemaFile]
) -> tuple[dict[str, Path], dict[str, list[Candidate]]]:
    """Walk ``folder`` once and find a file for each SHA-256 in ``wanted``.

    Only files whose size equals a pinned size are hashed, so a large folder
    of unrelated data costs little more than a directory listing.  Also
    returns the files that carry a pinned file's *name*, to explain a refusal
    ("found X, but it is not the official file").
    """
    sizes = {f.size for f in wanted.values()}
    names = {f.name for f in wanted.values()}
    found: dict[str, Path] = {}
    same_name: dict[str, list[Candidate]] = {}

    for dirpath, dirnames, filenames in os.walk(folder, followlinks=False):
        dirnames.sort()  # deterministic: the same DIR gives the same sources
        for filename in sorted(filenames):
            path = Path(dirpath) / filename
            try:
                size = path.stat().st_size
            except OSError:
                continue
            digest = None
            if size in sizes:
                try:
                    digest = sha256_file(path)
                except OSError:
                    digest = None
                if digest in wanted and digest not in found:
                    found[digest] = path
            if filename in names:
                same_name.setdefault(filename, []).append(Candidate(path, size, digest))
        if len(found) == len(wanted):
            break
    return found, same_name
