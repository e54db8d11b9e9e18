"""Copy and hash the extract's documents in a child process, beside the writer.

The writer's own work (mapping, serialising, the journals' spool) is Python and holds the GIL; copying a
document is system calls and SHA-256, and creating a file on a busy ext4 disk can block for a millisecond.
In one process the two take turns (before this module the copies were 40 % of an extract's time after
``noarkpack analyse``); in threads of one process the copying thread waits for the GIL after every system
call.  So a child (``python -m noarkpack.noark5.copier``) copies on the other core while the writer maps and
serialises: the writer hands it each journal's documents as they come and takes the checksums when it writes
that journal's mappe, a few journals later (:class:`DocumentCopier`).

Each document is still read once: the child streams the source into the copy and hashes it on the way, as
:func:`noarkpack.documents.copy_and_hash` does.  The child reports only a checksum and a size, or that a copy
failed; the parent then copies that document itself with ``copy_and_hash``, which raises the same
DocumentError (in the caller's language, naming the record) as an extract without a child.  If the child
cannot start or dies, the parent copies what is left itself: the extract is the same either way.

Protocol (binary, in order; one child): a request is ``>I`` count, then per document ``>II`` lengths and the
source and destination paths (absolute, file-system bytes); its answer is ``>I`` count, then per document a
status byte, ``>Q`` size and the 32 bytes of the SHA-256 (status 0), or the status 1 (failed) and zeros.
"""

from __future__ import annotations

import hashlib
import io
import os
import select
import struct
import sys
from collections import deque
from pathlib import Path
from typing import Callable

from ..hashing import copy_hashed

_COUNT = struct.Struct(">I")
_LENGTHS = struct.Struct(">II")
_RESULT = struct.Struct(">BQ32s")
_DONE, _FAILED, _EXISTS = 0, 1, 2  # an answer's status
_FAILED_ANSWER = _RESULT.pack(_FAILED, 0, bytes(32))
_EXISTS_ANSWER = _RESULT.pack(_EXISTS, 0, bytes(32))
CHUNK = 1 << 20

#: documents handed to the child and not yet answered, at most (the writer keeps their journals meanwhile)
IN_FLIGHT = 1024
#: documents per request: a request (a pipe write and a wake-up of the child) is costly on a VM, so the
#: documents of a few journals go together
PER_REQUEST = 64


class Copy:
    """One document handed to the copier: ``result`` (a CopiedFile) once answered, or ``failed``.

    ``existed``: the destination was there already (the same file referenced twice): the result is the
    hash of that copy, made earlier.  ``record``: makes the record's name for a message (only then).
    """

    __slots__ = ("src", "dst", "record", "result", "failed", "existed", "partial")

    def __init__(self, src: str | os.PathLike, dst: str, record: Callable[[], str]) -> None:
        self.src = src
        self.dst = dst
        self.record = record
        self.result = None
        self.failed = False
        self.existed = False
        self.partial = False  # the child may have written part of it: copy it anew

    @property
    def done(self) -> bool:
        return self.result is not None or self.failed


class DocumentCopier:
    """The parent's side: hand documents to the child, collect their checksums in order."""

    def __init__(self, *, in_flight: int = IN_FLIGHT, per_request: int = PER_REQUEST,
                 flush: str | os.PathLike | None = None) -> None:
        self.in_flight = in_flight
        self.flush = flush  # a folder on the file system the copies go to: the child flushes it at the end
        self.per_request = per_request
        self._unsent: list[Copy] = []
        self._waiting: deque[Copy] = deque()  # sent, not answered, in the child's order
        self._requests: deque[int] = deque()  # the sizes of the requests not answered
        self._confused = False  # the child said something that is not an answer
        self._answer = bytearray()
        self._left = 0  # documents still to come in the answer being read
        self._proc = None
        self._started = False

    # -- the child -------------------------------------------------------------

    def _start(self) -> None:
        self._started = True
        from ..fsutil import start_child

        try:
            self._proc = start_child("noarkpack.noark5.copier", *([os.fspath(self.flush)] if self.flush else []))
        except OSError:
            self._proc = None  # the parent copies everything itself
        else:
            self._out = self._proc.stdout.fileno()

    def _gone(self) -> None:
        """The child died or broke the protocol: stop it; the parent copies what it did not answer."""
        from ..fsutil import kill_child

        proc, self._proc = self._proc, None
        understood = not self._confused
        if proc is not None:
            kill_child(proc)  # reaped before any fallback copy: it never writes a file after this
            try:  # what it answered before it ended: then only its first request unanswered may be cut short
                while understood and (data := os.read(self._out, 1 << 16)):
                    understood = self._take(data)  # False: not an answer
            except OSError:
                pass
            for f in (proc.stdin, proc.stdout):
                try:
                    f.close()
                except OSError:
                    pass
        # The child answers a request when it has copied all of it: any copy of the first request not
        # answered (and of the answer cut short) may have been made, or cut short: those are made anew.
        maybe = self._left + (self._requests[0] if self._requests else 0) if understood else len(self._waiting)
        self._left = 0
        self._answer.clear()
        for k, c in enumerate(self._waiting):
            c.partial = k < maybe
            c.failed = True
        self._waiting.clear()
        self._requests.clear()

    # -- the writer's side -------------------------------------------------------

    def submit(self, jobs: list[Copy]) -> None:
        """Hand ``jobs`` to the child, sent PER_REQUEST at a time; answers that have arrived are taken in."""
        self._unsent += jobs
        if len(self._unsent) >= self.per_request:
            self._send()
            if self._proc is not None and self._waiting:
                self._read(block=False)

    def _send(self) -> None:
        """Send what is unsent, waiting while IN_FLIGHT documents are unanswered."""
        jobs, self._unsent = self._unsent, []
        if not self._started:
            self._start()
        for start in range(0, len(jobs), self.per_request):
            part = jobs[start:start + self.per_request]
            while self._proc is not None and self._waiting and len(self._waiting) + len(part) > self.in_flight:
                self._read(block=True)
            if self._proc is None:
                for c in part:
                    c.failed = True
                continue
            pieces = [_COUNT.pack(len(part))]
            for c in part:
                src = os.fsencode(os.path.abspath(c.src))
                dst = os.fsencode(c.dst)
                pieces += (_LENGTHS.pack(len(src), len(dst)), src, dst)
            try:
                self._proc.stdin.write(b"".join(pieces))
                self._proc.stdin.flush()
            except OSError:  # the child is gone (a broken pipe)
                for c in part:
                    c.failed = True
                self._gone()
                continue
            self._waiting.extend(part)
            self._requests.append(len(part))

    def wait(self, c: Copy):
        """The CopiedFile of ``c``: the child's answer, or the parent's own copy when the child failed it."""
        if not c.done and self._unsent:
            self._send()
        while not c.done:
            if self._proc is None:
                c.failed = True
                break
            self._read(block=True)
        if c.result is None:
            c.result = _copy_here(c)
        return c.result

    def _read(self, *, block: bool) -> None:
        """Read what the child has answered (at least one byte when ``block``) and hand out the results."""
        if not block and not select.select([self._out], [], [], 0)[0]:
            return
        try:
            data = os.read(self._out, 1 << 16)
        except OSError:
            data = b""
        if not data or not self._take(data):
            self._gone()  # (a protocol error: what is unanswered is made anew)

    def _take(self, data: bytes) -> bool:
        """Hand out the results in ``data`` (the next bytes of the answers); False: not an answer."""
        from ..documents import CopiedFile

        buf = self._answer
        buf += data
        pos = 0
        while True:
            if self._left == 0:
                if len(buf) - pos < 4:
                    break
                (self._left,) = _COUNT.unpack_from(buf, pos)
                pos += 4
                if not self._requests or self._left != self._requests.popleft():
                    self._confused = True
                    return False
                continue
            if len(buf) - pos < _RESULT.size:
                break
            status, size, digest = _RESULT.unpack_from(buf, pos)
            pos += _RESULT.size
            self._left -= 1
            c = self._waiting.popleft()
            if status == _DONE:
                c.result = CopiedFile(digest.hex(), size)
            elif status == _EXISTS:
                c.existed = True
                c.failed = True  # hashed here: the copy made earlier
            else:
                c.partial = c.failed = True
        del buf[:pos]
        return True

    def finish(self) -> None:
        """Tell the child there is nothing more (after every copy was waited for): it flushes the file
        system of ``flush`` to the disk and exits, while the caller writes its last files."""
        if self._proc is not None:
            try:
                self._proc.stdin.close()
            except OSError:
                pass

    def close(self) -> None:
        """Let the child finish (:meth:`finish`) and wait until it has exited."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        try:
            proc.stdin.close()
            proc.wait(timeout=300)
        except Exception:  # noqa: BLE001 - a child that does not end (or cannot be waited for) is killed
            from ..fsutil import kill_child

            kill_child(proc)
        try:
            proc.stdout.close()
        except OSError:
            pass

    def kill(self) -> None:
        """Stop the child now (the extract is abandoned): it writes nothing after this returns."""
        self._unsent = []
        self._gone()


def _copy_here(c: Copy):
    """The parent's copy of a document the child did not copy (or found copied already)."""
    from ..documents import CopiedFile, copy_and_hash
    from ..hashing import sha256_file

    if c.existed or (not c.partial and os.path.lexists(c.dst)):
        # The same file referenced twice: copied once, its copy hashed again.
        c.existed = True
        return CopiedFile(sha256_file(c.dst), os.stat(c.dst).st_size)
    return copy_and_hash(Path(c.src), Path(c.dst), record=c.record(), atomic=False, make_parents=False)


# -- the child ------------------------------------------------------------------------------------------


def _read_exact(f, n: int) -> bytes | None:
    data = f.read(n)
    return data if data is not None and len(data) == n else None


def _copy(src: bytes, dst: bytes, buf: bytearray, view: memoryview) -> bytes:
    digest = hashlib.sha256()
    size = 0
    try:
        with io.FileIO(src, "r") as fin:
            try:
                fout = io.FileIO(dst, "x")  # a copy made earlier is never overwritten
            except FileExistsError:
                return _EXISTS_ANSWER
            with fout:
                size = copy_hashed(fin, fout, view, digest)
    except OSError:
        return _FAILED_ANSWER  # the parent copies it again itself and reports why it cannot
    return _RESULT.pack(_DONE, size, digest.digest())


def serve(inp, out, flush: str | None = None) -> None:
    """The child: answer requests from ``inp`` on ``out`` until ``inp`` ends; then flush the file system of
    the folder ``flush`` to the disk (the parent flushes it once more before the extract is complete: this
    one only starts the work early).

    A thread reads the requests as they come, so the parent's writes never wait on the copies (nor on
    an answer the parent has not read yet).
    """
    import queue
    import threading

    requests: queue.SimpleQueue = queue.SimpleQueue()

    def reader() -> None:
        try:
            while True:
                head = _read_exact(inp, 4)
                if head is None:
                    break
                (n,) = _COUNT.unpack(head)
                jobs = []
                for _ in range(n):
                    lengths = _read_exact(inp, 8)
                    if lengths is None:
                        return
                    ls, ld = _LENGTHS.unpack(lengths)
                    src, dst = _read_exact(inp, ls), _read_exact(inp, ld)
                    if src is None or dst is None:
                        return
                    jobs.append((src, dst))
                requests.put(jobs)
        finally:
            requests.put(None)

    threading.Thread(target=reader, name="noarkpack-copier-requests", daemon=True).start()
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    while True:
        jobs = requests.get()
        if jobs is None:
            break
        out.write(b"".join([_COUNT.pack(len(jobs)), *(_copy(s, d, buf, view) for s, d in jobs)]))
        out.flush()
    if flush:
        from ..fsutil import sync_filesystem

        try:
            sync_filesystem(flush)
        except OSError:
            pass


if __name__ == "__main__":
    try:
        serve(sys.stdin.buffer, sys.stdout.buffer, sys.argv[1] if len(sys.argv) > 1 else None)
    except (BrokenPipeError, KeyboardInterrupt):
        pass
    # No interpreter shutdown while the request thread may be blocked in read().
    os._exit(0)
