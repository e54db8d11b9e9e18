"""Checksums computed where the bytes pass by.

noarkpack computes each checksum once, at the point where the bytes are
first read or written, and carries it forward (dokumentobjekt/sjekksum →
ADDML → dias-mets → bag manifest).  This module has the building blocks:

* :func:`hash_stream` hashes what is left of a stream (several algorithms at once) in 1 MiB
  chunks (constant memory); :func:`hash_file` and :func:`sha256_file` do so for a file;
* :class:`HashingWriter` wraps a binary file opened for writing and hashes and
  counts every byte written through it, so a writer gets the SHA-256 and size
  of its output without reading it back;
* :class:`HashingReader` is its reading side: a stream read for another purpose is hashed on the way.
"""

from __future__ import annotations

import hashlib
import io
import os
from collections.abc import Iterable
from typing import BinaryIO

#: read size for streaming hashes: large enough to amortise system calls,
#: small enough that memory does not depend on the file size
CHUNK_SIZE = 1 << 20


def hash_stream(stream: BinaryIO, algorithms: Iterable[str] = ("sha256",), *,
                chunk_size: int = CHUNK_SIZE) -> dict[str, str]:
    """Read ``stream`` to its end once and return the hex digest of its bytes for each algorithm.

    The one hashing loop for bytes that are not hashed on the way somewhere else (for those, see
    :class:`HashingWriter` and :class:`HashingReader`).  A raw file (:class:`io.FileIO`, opened with
    ``buffering=0``) is read with ``readinto`` into one reused buffer, with no copy beyond the kernel's;
    any other stream (a buffered file, a tar member, a download) with ``read(chunk_size)``.
    """
    hashes = {a: hashlib.new(a) for a in algorithms}
    _feed(stream, hashes.values(), chunk_size)
    return {a: h.hexdigest() for a, h in hashes.items()}


def hash_file(path: str | os.PathLike[str], algorithms: Iterable[str] = ("sha256",)) -> dict[str, str]:
    """Hex digests of the file at ``path`` for each algorithm, the file read once (see :func:`hash_stream`)."""
    # buffering=0: readinto() goes straight to the OS, no second copy
    with open(path, "rb", buffering=0) as f:
        return hash_stream(f, algorithms)


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Return the lowercase hex SHA-256 of the file at ``path``.

    The file is read in 1 MiB chunks into one reused buffer, so memory use
    does not depend on the size of the file.  (:func:`hash_file` without its
    dictionaries: this is called once per document.)
    """
    digest = hashlib.sha256()
    with open(path, "rb", buffering=0) as f:
        _feed(f, (digest,), CHUNK_SIZE)
    return digest.hexdigest()


def copy_hashed(fin: io.RawIOBase, fout: io.RawIOBase, view: memoryview, digest) -> int:
    """Copy raw ``fin`` to raw ``fout`` through the reused buffer ``view``, feeding ``digest`` on the way;
    the number of bytes.  Every byte is read once: the copy and its checksum in one pass (the extract's
    documents, in this process or in the copier child)."""
    size = 0
    while True:
        n = fin.readinto(view)
        if not n:
            return size
        chunk = view[:n]
        digest.update(chunk)
        while chunk:
            chunk = chunk[fout.write(chunk):]
        size += n


def _feed(stream: BinaryIO, hashes: Iterable, chunk_size: int) -> None:
    """Update every hash object in ``hashes`` with the rest of ``stream`` (the loop of :func:`hash_stream`)."""
    updates = [h.update for h in hashes]
    if isinstance(stream, io.FileIO):
        buffer = bytearray(chunk_size)
        view = memoryview(buffer)
        readinto = stream.readinto
        if len(updates) == 1:
            update = updates[0]
            while n := readinto(buffer):
                update(view[:n])
        else:
            while n := readinto(buffer):
                chunk = view[:n]
                for update in updates:
                    update(chunk)
    else:
        read = stream.read
        if len(updates) == 1:
            update = updates[0]
            while chunk := read(chunk_size):
                update(chunk)
        else:
            while chunk := read(chunk_size):
                for update in updates:
                    update(chunk)


class HashingWriter(io.BufferedIOBase):
    """A write-only binary stream that hashes and counts what passes through.

    ``HashingWriter(f)`` forwards every ``write()`` to ``f`` (a binary file or
    any object with ``write(bytes)``) and feeds the same bytes to a hashlib
    object.  After writing, :meth:`hexdigest` is the checksum of exactly the
    bytes written through the wrapper and :attr:`size` their number::

        with open(tmp, "wb") as raw:
            out = HashingWriter(raw)
            out.write(b"...")
            checksum, size = out.hexdigest(), out.size

    Closing the wrapper flushes ``f`` but leaves it open unless
    ``close_inner=True``: the code that opened the file closes it (and may
    fsync it first via :meth:`fileno`).  The wrapper is an
    :class:`io.BufferedIOBase`, so it can sit under ``io.TextIOWrapper`` or be
    given to ``lxml.etree.xmlfile``.
    """

    def __init__(
        self,
        inner: BinaryIO,
        algorithm: str = "sha256",
        *,
        close_inner: bool = False,
    ) -> None:
        super().__init__()
        self._inner = inner
        self._hash = hashlib.new(algorithm)
        self._size = 0
        self._close_inner = close_inner

    # -- what the callers use -------------------------------------------------

    @property
    def algorithm(self) -> str:
        return self._hash.name

    @property
    def size(self) -> int:
        """Number of bytes written so far."""
        return self._size

    def hexdigest(self) -> str:
        """Hex digest of the bytes written so far (writing may continue)."""
        return self._hash.hexdigest()

    def digest(self) -> bytes:
        return self._hash.digest()

    # -- io.BufferedIOBase ------------------------------------------------------

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:  # type: ignore[override]
        if self.closed:
            raise ValueError("write to a closed HashingWriter")
        view = memoryview(data).cast("B")
        total = len(view)
        done = 0
        # A raw (unbuffered) inner stream may accept fewer bytes than offered;
        # loop so that exactly the bytes that reached it are hashed, all of them.
        while done < total:
            n = self._inner.write(view[done:])
            if n is None:  # a non-blocking raw stream that would block
                raise BlockingIOError("the underlying stream is non-blocking")
            if n == 0:
                raise OSError("the underlying stream accepted no bytes")
            done += n
        self._hash.update(view)
        self._size += total
        return total

    def flush(self) -> None:
        if not self.closed:
            self._inner.flush()

    def fileno(self) -> int:
        return self._inner.fileno()

    def close(self) -> None:
        if self.closed:
            return
        try:
            self.flush()
        finally:
            super().close()
            if self._close_inner:
                self._inner.close()


class HashingReader(io.RawIOBase):
    """A read-only stream that hashes (several algorithms) and counts what is read through it.

    The reading side of :class:`HashingWriter`: a tar member or a received file is hashed while it is
    read for another purpose, never in a second pass.  ``drain()`` reads what is left.
    """

    def __init__(self, inner, algorithms=("sha256",)) -> None:
        super().__init__()
        self._inner = inner
        self.hashes = {a: hashlib.new(a) for a in algorithms}
        self.size = 0

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        data = self._inner.read(len(b))
        n = len(data)
        b[:n] = data
        if n:
            for h in self.hashes.values():
                h.update(data)
            self.size += n
        return n

    def read(self, size: int = -1) -> bytes:
        data = self._inner.read() if size is None or size < 0 else self._inner.read(size)
        if data:
            for h in self.hashes.values():
                h.update(data)
            self.size += len(data)
        return data

    def drain(self) -> None:
        while self.read(1 << 20):
            pass

    def hexdigest(self, algorithm: str = "sha256") -> str:
        return self.hashes[algorithm].hexdigest()
