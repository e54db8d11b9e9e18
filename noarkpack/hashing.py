"""Checksums computed where the bytes pass by.

noarkpack computes each checksum once, at the point where the bytes are
first read or written, and carries it forward (dokumentobjekt/sjekksum →
ADDML → dias-mets → bag manifest).  This module has the two building blocks:

* :func:`sha256_file` hashes an existing file in 1 MiB chunks (constant memory);
* :class:`HashingWriter` wraps a binary file opened for writing and hashes and
  counts every byte written through it, so a writer gets the SHA-256 and size
  of its output without reading it back.
"""

from __future__ import annotations

import hashlib
import io
import os
from typing import BinaryIO

#: read size for streaming hashes: large enough to amortise system calls,
#: small enough that memory does not depend on the file size
CHUNK_SIZE = 1 << 20


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Return the lowercase hex SHA-256 of the file at ``path``.

    The file is read in 1 MiB chunks into one reused buffer, so memory use
    does not depend on the size of the file.
    """
    digest = hashlib.sha256()
    buffer = bytearray(CHUNK_SIZE)
    view = memoryview(buffer)
    # buffering=0: readinto() goes straight to the OS, no second copy
    with open(path, "rb", buffering=0) as f:
        while True:
            n = f.readinto(buffer)
            if not n:
                break
            digest.update(view[:n])
    return digest.hexdigest()


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
