"""Reading a source's rows in a thread of their own while the importing thread stages the rows before them.

A query's rows arrive from a database server (network, the server's own reads of its LOB storage) and are hashed
for the import log; the importing thread turns rows into staging rows and hands contents to the content store.
:func:`prefetched` runs an iterator in a background thread, in chunks, with at most ``depth`` chunks waiting: the
two overlap (hashing and the driver's socket reads release the GIL), and memory stays bounded.  The iterator runs
start to end in that one thread (a database connection is used by one thread at a time); when the consumer stops
early, the iterator is closed in its own thread too.
"""

from __future__ import annotations

import queue
import threading
from typing import Iterable, Iterator, TypeVar

T = TypeVar("T")

_END = object()


class _Failed:
    __slots__ = ("error",)

    def __init__(self, error: BaseException) -> None:
        self.error = error


def prefetched(items: Iterable[T], *, chunk: int = 256, depth: int = 4) -> Iterator[T]:
    """The items of ``items`` in order, read ahead by a background thread (``chunk`` items per hand-over, at most
    ``depth`` chunks waiting).  An exception of ``items`` is raised here, where the consumer is."""
    q: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(x) -> bool:
        while not stop.is_set():
            try:
                q.put(x, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        it = iter(items)
        try:
            buf: list = []
            for x in it:
                buf.append(x)
                if len(buf) >= chunk:
                    if not put(buf):
                        return
                    buf = []
            if buf and not put(buf):
                return
            put(_END)
        except BaseException as e:  # noqa: BLE001 - raised again in the consuming thread
            put(_Failed(e))
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                close()  # a generator stopped early ends here, in the thread that ran it

    t = threading.Thread(target=run, name="noarkpack-prefetch", daemon=True)
    t.start()
    try:
        while True:
            got = q.get()
            if got is _END:
                return
            if isinstance(got, _Failed):
                raise got.error
            yield from got
    finally:
        stop.set()
        t.join()


__all__ = ["prefetched"]
