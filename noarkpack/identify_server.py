"""Siegfried in a process of its own, fed batches of paths over a pipe, so that its caller's Python runs beside it.

pygfried holds the GIL for the whole of an ``identify_many`` call (a batch of 128 documents: ~55 ms).  The
prepass child (:mod:`noarkpack.prepass`) has Python of its own to run besides Siegfried: it walks the
journals to find their documents in the writer's order, and it writes each result to the identification
store the writer waits on.  In one process the two took turns; that turn-taking was 1.5 s of a cold
extract's 10 s on 18,000 documents, and the prepass child is what the writer waits for.  So the prepass
child hands its batches to this process (``python -m noarkpack.identify_server WORKERS``), keeps the next
ones queued behind it, and stores the answers as they come.

Protocol (text, one line per batch, in order): a request is a JSON list of paths (``os.fsdecode``d: a
name that is not UTF-8 travels as surrogate escapes); its answer is a JSON list with, per path, the
fields of its :class:`~noarkpack.documents.Identification`, or null when Siegfried could not read the file
(the writer identifies that one itself and reports why).  The server ends at the end of its stdin, that
is when its caller closes it or dies.  It writes nothing anywhere else.
"""

from __future__ import annotations

import json
import os
import queue
import sys
import threading
from collections import deque
from dataclasses import astuple
from pathlib import Path

#: the reader thread's mark for "the server is gone"
_GONE = object()


class SiegfriedServer:
    """The caller's side: :meth:`submit` batches, :meth:`result` their answers in the same order.

    A thread reads the answers as they come, so the caller may have several batches in flight without
    the pipes filling both ways.  Raises OSError from the constructor when the process cannot start;
    :meth:`result` returns None once the server is gone (it died, or was killed).
    """

    def __init__(self, workers: int) -> None:
        from .fsutil import start_child

        # in the caller's process group: whoever stops the caller with its group stops this server too
        self.proc = start_child("noarkpack.identify_server", str(max(1, workers)), new_session=False)
        self._answers: queue.SimpleQueue = queue.SimpleQueue()
        threading.Thread(target=self._read, name="noarkpack-siegfried-answers", daemon=True).start()

    def _read(self) -> None:
        try:
            for line in self.proc.stdout:
                try:
                    self._answers.put(json.loads(line))
                except ValueError:
                    break
        except (OSError, ValueError):
            pass
        self._answers.put(_GONE)

    def submit(self, paths: list[Path]) -> bool:
        """Send one batch; False when the server is gone (nothing was sent)."""
        try:
            self.proc.stdin.write((json.dumps([os.fsdecode(p) for p in paths]) + "\n").encode("utf-8",
                                                                                          "surrogateescape"))
            self.proc.stdin.flush()
        except (OSError, ValueError):
            return False
        return True

    def result(self):
        """The answer to the oldest batch not yet answered: a list of Identification or None per path; None
        when the server died before answering it."""
        from .documents import Identification

        answer = self._answers.get()
        if answer is _GONE:
            self._answers.put(_GONE)  # every later call sees it too
            return None
        return [Identification(*row) if row is not None else None for row in answer]

    def end_input(self) -> None:
        """Tell the server no more batches come (it ends once it has answered those it has)."""
        try:
            self.proc.stdin.close()
        except OSError:
            pass

    def close(self) -> None:
        """End the server (its stdin closes) and reap it; killed if it does not end within a few seconds."""
        from .fsutil import kill_child

        self.end_input()
        try:
            self.proc.wait(timeout=10)
        except Exception:  # noqa: BLE001 - TimeoutExpired, or interrupted: make sure it is gone
            kill_child(self.proc, group=False)
        self.proc.stdout.close()


class SiegfriedPool:
    """A few :class:`SiegfriedServer` s, batches dealt to them in turn, answers taken in the order sent.

    Siegfried's own workers (``identify_many(…, workers=2)``) keep 1.35 of two cores busy, measured here on
    18,133 documents: 7.6 s.  Two processes of one worker each, on alternate batches, keep both busy: 5.7 s
    (docs/performance.md, "Issue 19: Siegfried beside the walk").  So the pool runs ``servers`` processes
    (two by default where there are two cores or more; each holds Siegfried's ~170 MB) with the machine's
    cores shared among their workers.  Raises OSError when none can start.
    """

    def __init__(self, servers: int | None = None, workers: int | None = None) -> None:
        cores = os.cpu_count() or 1
        servers = servers or (2 if cores >= 2 else 1)
        workers = workers or max(1, cores // servers)
        self.servers: list[SiegfriedServer] = []
        for _ in range(servers):
            try:
                self.servers.append(SiegfriedServer(workers))
            except OSError:
                break
        if not self.servers:
            raise OSError("no Siegfried server could start")
        self._turn = 0
        self._order: deque[SiegfriedServer] = deque()  # who has each batch sent and not yet answered

    def submit(self, paths: list[Path]) -> bool:
        """Send one batch to the next server that takes it; False when every server is gone."""
        while self.servers:
            server = self.servers[self._turn % len(self.servers)]
            self._turn += 1
            if server.submit(paths):
                self._order.append(server)
                return True
            self.servers.remove(server)  # gone: the others take its turns
        return False

    def identify(self, paths: list[Path]) -> list:
        """``paths`` identified by the servers together, a share each, in order (an Identification or None per
        path): :func:`noarkpack.documents.identify_many`'s ``identifier``.  A share whose server died is
        identified in this process."""
        from .documents import identify_files

        share = -(-len(paths) // max(1, len(self.servers)))
        chunks = [paths[i:i + share] for i in range(0, len(paths), share)] if paths else []
        sent = [self.submit(chunk) for chunk in chunks]
        out: list = []
        for chunk, ok in zip(chunks, sent):
            answer = self.result() if ok else None
            out += answer if answer is not None and len(answer) == len(chunk) else identify_files(chunk, workers=1)
        return out

    @property
    def in_flight(self) -> int:
        return len(self._order)

    def result(self):
        """The answer to the oldest batch not yet answered (see :meth:`SiegfriedServer.result`); None when its
        server died before answering it."""
        server = self._order.popleft()
        answer = server.result()
        if answer is None and server in self.servers:
            self.servers.remove(server)
        return answer

    def close(self) -> None:
        servers = {id(s): s for s in [*self.servers, *self._order]}.values()
        for server in servers:
            server.end_input()  # all at once: they end together
        for server in servers:
            server.close()
        self.servers.clear()
        self._order.clear()


def serve(workers: int, requests, answers) -> None:
    """Answer each request line of ``requests`` (binary) on ``answers`` (binary), until the end of ``requests``."""
    from .documents import identify_files

    for line in requests:
        paths = [Path(p) for p in json.loads(line.decode("utf-8", "surrogateescape"))]
        found = identify_files(paths, workers)
        answers.write((json.dumps([astuple(i) if i is not None else None for i in found]) + "\n").encode())
        answers.flush()


if __name__ == "__main__":
    # os._exit: no interpreter teardown with Siegfried's Go runtime loaded (that can abort); a broken pipe
    # (the caller is gone) ends it the same way.
    try:
        serve(int(sys.argv[1]), sys.stdin.buffer, sys.stdout.buffer)
    except Exception:  # noqa: BLE001 - the caller identifies what is left itself
        os._exit(1)
    os._exit(0)
