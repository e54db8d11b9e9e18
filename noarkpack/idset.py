"""A compact set of strings for tens of millions of ids in bounded memory.

A Python ``set`` of systemID strings costs ~100 bytes per id: 300 MB for the
3 million systemIDs of a 1 GB arkivstruktur.xml.  :class:`IdSet` keeps an
64-bit hash per id (Python's SipHash) in an open-addressing table (array of unsigned
64-bit ints, load factor ≤ 0.5), plus the line of its first occurrence and a
small per-id flag byte: ~26 bytes per id.  Two different ids collide with
probability ~n²/2⁶⁵ (negligible: 1 in 10⁶ for 6 million ids).

Python's string hash is seeded per process.  A table that another process reads or merges
(``stable=True``: the split validation pass) keys ids by an 8-byte BLAKE2b digest instead:
the same in every process, ~0.7 µs per id instead of ~0.1.
"""

from __future__ import annotations

import os
from array import array
from hashlib import blake2b
from typing import Iterator


def _key(value: str) -> int:
    # Python's own 64-bit string hash (SipHash, cached on the string): as collision-resistant here
    # as an 8-byte BLAKE2b and several times faster.  The table lives in one process only, so the
    # per-process hash seed does not matter.
    return (hash(value) & 0xFFFFFFFFFFFFFFFF) or 1  # 0 marks an empty slot


def _stable_key(value: str) -> int:
    return int.from_bytes(blake2b(value.encode("utf-8", "surrogatepass"), digest_size=8).digest(),
                          "little") or 1


class IdSet:
    def __init__(self, capacity: int = 1 << 12, *, stable: bool = False) -> None:
        self.stable = stable
        self._key = _stable_key if stable else _key
        self._cap = capacity
        self._keys = array("Q", bytes(8 * capacity))
        self._lines = array("I", bytes(4 * capacity))
        self._flags = bytearray(capacity)
        self.count = 0

    def _slot(self, k: int) -> int:
        mask = self._cap - 1
        i = k & mask
        keys = self._keys
        while True:
            cur = keys[i]
            if cur == 0 or cur == k:
                return i
            i = (i + 1) & mask

    def _grow(self, cap: int | None = None) -> None:
        old = (self._keys, self._lines, self._flags)
        self._cap = cap or self._cap * 2
        keys = self._keys = array("Q", bytes(8 * self._cap))
        lines = self._lines = array("I", bytes(4 * self._cap))
        flags = self._flags = bytearray(self._cap)
        mask = self._cap - 1
        for k, line, flag in zip(*old):
            if k:
                i = k & mask
                while keys[i]:
                    i = (i + 1) & mask
                keys[i] = k
                lines[i] = line
                flags[i] = flag

    def reserve(self, n: int) -> None:
        """Make room for ``n`` ids in all (no rehashing until then)."""
        cap = self._cap
        while n * 2 > cap:
            cap *= 2
        if cap != self._cap:
            self._grow(cap)

    def add(self, value: str, line: int = 0, flag: int = 0) -> int | None:
        """Add ``value``; return None if new, else the line of its first occurrence."""
        k = self._key(value)
        keys = self._keys
        mask = self._cap - 1
        i = k & mask
        while True:  # _slot, inlined: one call per systemID of the file
            cur = keys[i]
            if cur == k:
                self._flags[i] |= flag
                return self._lines[i]
            if cur == 0:
                break
            i = (i + 1) & mask
        keys[i] = k
        self._lines[i] = min(line, 0xFFFFFFFF)
        self._flags[i] = flag
        self.count += 1
        if self.count * 2 > self._cap:
            self._grow()
        return None

    def get_line(self, value: str) -> int | None:
        """The line (or any 32-bit number) stored with ``value``, or None if absent."""
        k = self._key(value)
        i = self._slot(k)
        return self._lines[i] if self._keys[i] == k else None

    def get_flags(self, value: str) -> int | None:
        """The flag byte of ``value``, or None if absent."""
        k = self._key(value)
        i = self._slot(k)
        return self._flags[i] if self._keys[i] == k else None

    def set_flags(self, value: str, flag: int) -> int | None:
        """OR ``flag`` into the flags of ``value``; returns the old flags or None if absent."""
        k = self._key(value)
        i = self._slot(k)
        if self._keys[i] != k:
            return None
        old = self._flags[i]
        self._flags[i] = old | flag
        return old

    def __contains__(self, value: str) -> bool:
        return self.get_flags(value) is not None

    def __len__(self) -> int:
        return self.count

    def key(self, value: str) -> int:
        """The 64-bit key ``value`` is stored under (for matching :meth:`merge`'s collisions)."""
        return self._key(value)

    def merge(self, other: "IdSet | SpilledIdSet") -> list[tuple[int, int, int]]:
        """Add every id of ``other`` (flags OR-ed, this table's line kept for ids in both).

        Both tables must be ``stable`` (the keys of one process mean nothing in another).  ``other``
        may be a table another process :meth:`spill`-ed to a file: it is read in chunks, never whole.
        Returns ``(key, line here, line in other)`` for each id that was in both.
        """
        if not (self.stable and other.stable):
            raise ValueError("IdSet.merge needs two stable tables")
        self.reserve(self.count + other.count)
        both = []
        for k, line, flag in other.entries():
            i = self._slot(k)
            if self._keys[i] == k:
                self._flags[i] |= flag
                both.append((k, self._lines[i], line))
                continue
            self._keys[i] = k
            self._lines[i] = line
            self._flags[i] = flag
            self.count += 1  # room for all was reserved above: no growing inside the loop
        return both

    def entries(self) -> Iterator[tuple[int, int, int]]:
        """``(key, line, flags)`` of every id, in slot order."""
        for k, line, flag in zip(self._keys, self._lines, self._flags):
            if k:
                yield k, line, flag

    def spill(self, path: str | os.PathLike) -> "SpilledIdSet":
        """Write the table to ``path`` (keys, lines, flags) and return a small handle on it.

        The split validation pass hands its table to the parent this way: a pickled table would
        arrive whole, next to the parent's own while it grows to hold both.
        """
        with open(path, "wb") as fh:
            self._keys.tofile(fh)
            self._lines.tofile(fh)
            fh.write(self._flags)
        return SpilledIdSet(os.fspath(path), self._cap, self.count, self.stable)

    def merge_flags(self, other: "IdSet", *, both: int = 0, mark: int = 0) -> None:
        """OR in the flags ``other`` set on a copy of this very table (same ids, same slots).

        Where both tables have the ``both`` bit on an id, the ``mark`` bit is set too (``mark`` must
        be ``both`` shifted left by one, within the flag byte).
        """
        if other._cap != self._cap or other._keys != self._keys:
            raise ValueError("IdSet.merge_flags needs a copy of the same table")
        n = self._cap
        a = int.from_bytes(self._flags, "little")
        b = int.from_bytes(other._flags, "little")
        merged = a | b
        if both:
            assert mark == both << 1 and mark < 256, (both, mark)
            merged |= ((a & b) & int.from_bytes(bytes([both]) * n, "little")) << 1
        self._flags = bytearray(merged.to_bytes(n, "little"))

    def map_lines(self, mapping) -> None:
        """Replace each id's line by ``mapping[line]`` (for a table whose "lines" are indexes)."""
        self._lines = array("I", (mapping[line] if k else 0 for k, line in zip(self._keys, self._lines)))

    def nbytes(self) -> int:
        return self._cap * 13


class SpilledIdSet:
    """An :class:`IdSet` written to a file by :meth:`IdSet.spill`; :meth:`entries` reads it back in chunks."""

    CHUNK = 1 << 16  # slots per read: ~0.8 MB

    def __init__(self, path: str, cap: int, count: int, stable: bool) -> None:
        self.path, self.cap, self.count, self.stable = path, cap, count, stable

    def entries(self) -> Iterator[tuple[int, int, int]]:
        cap = self.cap
        fd = os.open(self.path, os.O_RDONLY)
        try:
            if os.fstat(fd).st_size != 13 * cap:
                raise ValueError(f"{self.path}: not a spilled table of {cap} slots")
            for start in range(0, cap, self.CHUNK):
                n = min(self.CHUNK, cap - start)
                keys, lines = array("Q"), array("I")
                keys.frombytes(_pread(fd, 8 * n, 8 * start))
                lines.frombytes(_pread(fd, 4 * n, 8 * cap + 4 * start))
                flags = _pread(fd, n, 12 * cap + start)
                for k, line, flag in zip(keys, lines, flags):
                    if k:
                        yield k, line, flag
        finally:
            os.close(fd)


def _pread(fd: int, n: int, offset: int) -> bytes:
    data = os.pread(fd, n, offset)
    if len(data) != n:
        raise ValueError("a spilled table ended early")
    return data
