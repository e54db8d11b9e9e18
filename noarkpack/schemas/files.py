"""The store's files on disk: hashed at most once per process, and put in place only complete and verified."""

from __future__ import annotations

import os
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from noarkpack.fsutil import fsync_dir
from noarkpack.hashing import CHUNK_SIZE, HashingWriter, sha256_file

from .locks import SchemaFile

# Temporary files in the store: ".<name>.<random>.part".  A leftover from an
# interrupted install older than this many seconds is removed by install().
_TEMP_SUFFIX = ".part"
_STALE_TEMP_SECONDS = 3600

# Hash each installed file at most once per process.  The key includes the
# file's identity, size and modification time, so a file replaced or
# rewritten after it was hashed is hashed again.
_hash_cache: dict[tuple[str, int, int, int, int], str] = {}
_hash_cache_lock = threading.Lock()


def _stat_key(path: Path, st: os.stat_result) -> tuple[str, int, int, int, int]:
    return (str(path), st.st_dev, st.st_ino, st.st_size, st.st_mtime_ns)


def hash_installed(path: Path, st: os.stat_result, *, fresh: bool = False) -> str:
    """SHA-256 of an installed file, from the cache unless ``fresh``."""
    key = _stat_key(path, st)
    if not fresh:
        with _hash_cache_lock:
            cached = _hash_cache.get(key)
        if cached is not None:
            return cached
    digest = sha256_file(path)
    with _hash_cache_lock:
        _hash_cache[key] = digest
    return digest


def remember_hash(path: Path, digest: str) -> None:
    """Record the hash of a file this process just wrote and verified."""
    try:
        st = path.stat()
    except OSError:
        return
    with _hash_cache_lock:
        _hash_cache[_stat_key(path, st)] = digest


class Mismatch(Exception):
    """Bytes copied into the store did not match the pin."""

    def __init__(self, sha256: str, size: int, truncated: bool) -> None:
        super().__init__(sha256)
        self.sha256 = sha256
        self.size = size
        self.truncated = truncated  # more bytes than the pinned size arrived


def place_verified(src: BinaryIO, dest: Path, f: SchemaFile) -> None:
    """Copy ``src`` to ``dest`` via a temporary file, verifying size and SHA-256.

    Raises :class:`Mismatch` (and leaves ``dest`` untouched) if the bytes are
    not the pinned ones.  At most ``f.size + 1`` bytes are read from ``src``.
    """
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=_TEMP_SUFFIX, dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as raw:
            out = HashingWriter(raw)
            limit = f.size + 1  # one byte more reveals an oversized source
            while out.size < limit:
                chunk = src.read(min(CHUNK_SIZE, limit - out.size))
                if not chunk:
                    break
                out.write(chunk)
            out.flush()
            os.fsync(raw.fileno())
        if out.size != f.size or out.hexdigest() != f.sha256:
            raise Mismatch(out.hexdigest(), out.size, truncated=out.size > f.size)
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(dest.parent)
    remember_hash(dest, f.sha256)


def remove_stale_temps(folder: Path) -> None:
    """Delete temporary files left by an interrupted install (not a running one)."""
    cutoff = time.time() - _STALE_TEMP_SECONDS
    for tmp in _iter_temps(folder):
        try:
            if tmp.stat().st_mtime < cutoff:
                tmp.unlink()
        except OSError:
            pass


def _iter_temps(folder: Path) -> Iterator[Path]:
    return (p for p in folder.glob(f".*{_TEMP_SUFFIX}") if p.is_file())
