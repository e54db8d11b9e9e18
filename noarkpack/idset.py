"""A compact set of strings for tens of millions of ids in bounded memory.

A Python ``set`` of systemID strings costs ~100 bytes per id: 300 MB for the
3 million systemIDs of a 1 GB arkivstruktur.xml.  :class:`IdSet` keeps an
64-bit hash per id (Python's SipHash) in an open-addressing table (array of unsigned
64-bit ints, load factor ≤ 0.5), plus the line of its first occurrence and a
small per-id flag byte: ~26 bytes per id.  Two different ids collide with
probability ~n²/2⁶⁵ (negligible: 1 in 10⁶ for 6 million ids).
"""

from __future__ import annotations

from array import array


def _key(value: str) -> int:
    # Python's own 64-bit string hash (SipHash, cached on the string): as collision-resistant here
    # as an 8-byte BLAKE2b and several times faster.  The table lives in one process only, so the
    # per-process hash seed does not matter.
    return (hash(value) & 0xFFFFFFFFFFFFFFFF) or 1  # 0 marks an empty slot


class IdSet:
    def __init__(self, capacity: int = 1 << 12) -> None:
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

    def _grow(self) -> None:
        old = (self._keys, self._lines, self._flags)
        self._cap *= 2
        self._keys = array("Q", bytes(8 * self._cap))
        self._lines = array("I", bytes(4 * self._cap))
        self._flags = bytearray(self._cap)
        for k, line, flag in zip(*old):
            if k:
                i = self._slot(k)
                self._keys[i] = k
                self._lines[i] = line
                self._flags[i] = flag

    def add(self, value: str, line: int = 0, flag: int = 0) -> int | None:
        """Add ``value``; return None if new, else the line of its first occurrence."""
        k = _key(value)
        i = self._slot(k)
        if self._keys[i] == k:
            self._flags[i] |= flag
            return self._lines[i]
        self._keys[i] = k
        self._lines[i] = min(line, 0xFFFFFFFF)
        self._flags[i] = flag
        self.count += 1
        if self.count * 2 > self._cap:
            self._grow()
        return None

    def get_line(self, value: str) -> int | None:
        """The line (or any 32-bit number) stored with ``value``, or None if absent."""
        k = _key(value)
        i = self._slot(k)
        return self._lines[i] if self._keys[i] == k else None

    def get_flags(self, value: str) -> int | None:
        """The flag byte of ``value``, or None if absent."""
        k = _key(value)
        i = self._slot(k)
        return self._flags[i] if self._keys[i] == k else None

    def set_flags(self, value: str, flag: int) -> int | None:
        """OR ``flag`` into the flags of ``value``; returns the old flags or None if absent."""
        k = _key(value)
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

    def nbytes(self) -> int:
        return self._cap * 13
