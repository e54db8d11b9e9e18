"""The index pass through lxml (:class:`..validation.xmlstream.ContainerPuller`): for an arkivstruktur.xml that is
not UTF-8 or whose root has a prefix, and for an NHA deposit's two lists.  Each node's own metadata is copied (its
XML, in zlib blocks of about 64 KB), not kept as byte ranges as by the fast pass (:mod:`.indexscan`): these files
are small or rare, and a range into a re-encoded file could not be read back as UTF-8."""

from __future__ import annotations

import json
import queue
import re
import sqlite3
import threading
import zlib

from lxml import etree

from ..progress import Progress
from ..validation.xmlstream import ContainerPuller, in_own_thread
from .indexscan import _SYSTEM_ID, BATCH, INSERT, INSERT_DOC, NODE_KINDS, doc_key, sid_key

XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
BLOCK = 64 << 10
_NSDECL = re.compile(rb' xmlns(?::[A-Za-z_][\w.-]*)?="[^"]*"')


class Cancelled(Exception):
    pass


class IndexError_(Exception):
    """The index cannot be built (message translated, nothing identifying)."""

    def __init__(self, message, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


def _row(r: tuple) -> tuple:
    """A row as stored: the systemID as its key (read from the metadata when the pass did not)."""
    nid, parent, kind, xtype, line, sid, nchildren, meta = r
    if sid is None:
        m = _SYSTEM_ID.search(meta)
        sid = m.group(1).decode("utf-8", "replace") if m else None
    return nid, parent, kind, xtype, line, sid_key(sid), nchildren, meta


class Builder:
    """The callbacks of the pass: rows are batched and written by a second thread (sqlite3 and zlib let the GIL
    go while they write, so the parse goes on meanwhile)."""

    def __init__(self, db: sqlite3.Connection, keys: tuple[str, ...] = ("systemID",)) -> None:
        self.db = db
        self.stack: list[list] = []  # [id, parent, line, xtype, nchildren]
        self.next_id = 1
        self.keys = tuple(f"{{*}}{k}" for k in keys)
        self.rows: list[tuple] = []
        self.count = 0
        self.namespaces: dict = {}
        self.failure: list[BaseException] = []
        self.block_id = 1
        self.restart()

    def _write(self) -> None:
        while True:
            rows = self.queue.get()
            if rows is None:
                return
            if self.failure:
                continue
            try:
                self._store(rows)
            except BaseException as exc:  # noqa: BLE001 - re-raised by finish()
                self.failure.append(exc)

    def _store(self, rows: list) -> None:
        """The rows with their metadata in zlib blocks of about BLOCK bytes (a page of children touches one or
        two: siblings end close together)."""
        out, parts, size, docs = [], [], 0, []
        for r in rows:
            if r[8] is not None:
                docs.append((r[8], r[0]))
            r = _row(r[:8])
            meta = r[7]
            out.append((*r[:7], self.block_id, size, size + len(meta), 0, 0))
            parts.append(meta)
            size += len(meta)
            if size >= BLOCK:
                self._flush_block(parts)
                parts, size = [], 0
        if parts:
            self._flush_block(parts)
        self.db.executemany(INSERT, out)
        if docs:
            self.db.executemany(INSERT_DOC, docs)

    def _flush_block(self, parts: list) -> None:
        self.db.execute("INSERT INTO block VALUES (?,?)", (self.block_id, zlib.compress(b"".join(parts), 1)))
        self.block_id += 1

    def on_start(self, el) -> None:
        stack = self.stack
        parent = None
        if stack:
            top = stack[-1]
            top[4] += 1
            parent = top[0]
        else:
            self.namespaces = {(k or ""): v for k, v in el.nsmap.items()}
        stack.append([self.next_id, parent, el.sourceline, el.get(XSI_TYPE), 0])
        self.next_id += 1

    def on_end(self, el) -> None:
        nid, parent, line, xtype, nchildren = self.stack.pop()
        # what is left under the node is its own metadata (its child nodes are written and gone): kept as the
        # XML it was, without the namespace declarations (put back when it is read)
        tag = el.tag
        sid = None
        for k in self.keys:
            sid = el.findtext(k)
            if sid is not None:
                break
        kind = tag[tag.rfind("}") + 1:]
        # a dokumentobjekt is found by its file too (a finding that names only the file)
        doc = doc_key(el.findtext("{*}referanseDokumentfil")) if kind == "dokumentobjekt" else None
        self.rows.append((nid, parent, kind, xtype, line, sid, nchildren,
                          _NSDECL.sub(b"", b"".join(etree.tostring(c, with_tail=False) for c in el)), doc))
        el.clear(keep_tail=False)
        p = el.getparent()
        if p is not None:
            p.remove(el)
        if len(self.rows) >= BATCH:
            self.flush()

    def flush(self) -> None:
        if self.rows:
            self.queue.put(self.rows)
            self.count += len(self.rows)
            self.rows = []

    def restart(self) -> None:
        """A new writer (first, and after :meth:`finish` for the next file of the same index)."""
        self.queue: queue.Queue = queue.Queue(maxsize=4)
        self.writer = threading.Thread(target=self._write, name="noarkpack-index-writer", daemon=True)
        self.writer.start()

    def finish(self) -> None:
        self.flush()
        self.queue.put(None)
        self.writer.join()
        if self.failure:
            raise self.failure[0]


def parse_lxml(stream, db: sqlite3.Connection, total: int, progress: Progress | None, stop, *,
               containers=NODE_KINDS, builder: Builder | None = None) -> int:
    """The pass through lxml; the number of nodes (those of ``builder`` so far, when given)."""
    b = builder or Builder(db)
    puller = ContainerPuller(containers, b.on_start, b.on_end)

    def prog(done: int) -> None:
        if progress is not None:
            progress("index", done, total)

    def run():
        if puller.feed_from(stream, progress=prog, stop=stop):
            puller.close()
        return puller.res

    try:
        res = in_own_thread(run, "noarkpack-index")
    finally:
        b.finish()
    if stop is not None and stop():
        raise Cancelled()
    if not res.read_ok:
        raise IndexError_(res.fatal, res.fatal_line)
    db.execute("INSERT OR REPLACE INTO info VALUES ('namespaces', ?)", (json.dumps(b.namespaces),))
    return b.count
