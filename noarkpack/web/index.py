"""ExtractIndex: arkivstruktur.xml read once, as a stream, into a small SQLite file the browse pages query.

One row per node of the archive's tree (arkiv, arkivdel, klassifikasjonssystem, klasse, mappe, registrering,
dokumentbeskrivelse, dokumentobjekt): its parent, kind, ``xsi:type``, the line it starts on, its systemID (as a
63-bit key, for a lookup) and where its *own* metadata is: every element below it that is not itself a node, read
when a page shows the node and flattened to ``(path, text)`` pairs (``skjerming/tilgangsrestriksjon``,
``korrespondansepart/korrespondansepartNavn`` ...).  Each dokumentobjekt is also in the docfile table under a key of
its referanseDokumentfil (:meth:`ExtractIndex.by_document_file`: a finding that names only a document file).

The fast pass (:mod:`.indexscan`, info "storage" = "ranges") keeps that metadata as two byte ranges into the source
(before the node's first child node and after its last; columns start/stop and tstart/tstop, offsets into
arkivstruktur.xml, which starts at info "xml_offset" in a tar), read back in place (``os.pread``); lxml's pass
(:mod:`.indexlxml`, "blocks": other encodings, NHA's lists) stores it in zlib blocks.  Memory is the chain of open
nodes, whatever the file size.

Sources: an extract folder (its arkivstruktur.xml) or a SIP/AIP tar (``{uuid}/content/arkivstruktur.xml``), read
in place: the tar's headers are walked with seeks (documents are not read), every regular member's data offset
and size kept, so a document is later read straight from the tar.  The index lives in
``state_dir/index/<key>.sqlite``, key = the source's path, size and mtime; it is written to a temporary file and
renamed when complete (a build cut short leaves nothing that could be taken for an index, and is resumed from its
last checkpoint on the next open: :mod:`.indexbuild`).
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable
from xml.sax.saxutils import escape

from lxml import etree

from ..locale import tr
from ..progress import Progress
from .indexbuild import (  # noqa: F401 - the names of the index live with the pass that writes it
    NODE_KINDS,
    SCHEMA_VERSION,
    Cancelled,
    IndexError_,
    Source,
    build,
    index_key,
    locate,
    sid_key,
)
from .indexscan import doc_key

# --------------------------------------------------------------------------- reading


def _flatten(el, prefix: str, out: list) -> None:
    for c in el:
        tag = c.tag
        if not isinstance(tag, str):
            continue
        name = prefix + tag[tag.rfind("}") + 1:]
        if len(c):
            _flatten(c, name + "/", out)
        else:
            out.append((name, c.text or ""))


def build_index(source: Source, db_path: Path, *, progress: Progress | None = None,
                stop: Callable[[], bool] | None = None) -> "ExtractIndex":
    """Build the index of ``source`` into ``db_path`` (see :mod:`.indexbuild`); the built index."""
    build(source, db_path, progress=progress, stop=stop)
    return ExtractIndex(db_path, source)


@dataclass
class Node:
    id: int
    parent: int | None
    kind: str
    xtype: str | None
    line: int | None
    nchildren: int
    meta: list = field(default_factory=list)  #: [(path, text)]

    def get(self, name: str, default: str | None = None) -> str | None:
        for k, v in self.meta:
            if k == name:
                return v
        return default

    def all(self, name: str) -> list[str]:
        return [v for k, v in self.meta if k == name]

    @property
    def system_id(self) -> str | None:
        return self.get("systemID")

    @property
    def type(self) -> str:
        """The kind with its xsi:type when it has one (``saksmappe``, ``journalpost``)."""
        if self.xtype:
            return self.xtype.rpartition(":")[2]
        return self.kind

    @property
    def skjerming(self) -> list[tuple[str, str]]:
        return [(k, v) for k, v in self.meta if k.startswith("skjerming/")]

    @property
    def ident(self) -> str | None:
        """The node's own number or id as a person knows it (klasseID, mappeID, registreringsID ...)."""
        k = self.kind
        if k == "klasse":
            return self.get("klasseID")
        if k == "mappe":
            return self.get("mappeID")
        if k == "registrering":
            ident = self.get("registreringsID")
            if ident is None and self.get("journalsekvensnummer"):
                ident = f"{self.get('journalaar', '')}/{self.get('journalsekvensnummer')}"
            return ident
        if k == "dokumentbeskrivelse":
            return self.get("dokumentnummer")
        if k == "dokumentobjekt":
            return self.get("versjonsnummer")
        if k == "pasientjournal":
            return self.get("journalidentifikator")
        if k == "pakke":
            return self.get("pakketype")
        return None


_COLS = "id, parent, kind, xtype, line, nchildren, block, start, stop, tstart, tstop"


_READER = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True, recover=True)


class ExtractIndex:
    """A built index, read only.  Safe to share between threads (one connection behind a lock)."""

    def __init__(self, db_path: Path, source: Source) -> None:
        self.path = Path(db_path)
        self.source = source
        self._db = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True, check_same_thread=False)
        self._lock = threading.Lock()
        self._blocks: dict[int, bytes] = {}
        self.info = {k: json.loads(v) for k, v in self._q("SELECT key, value FROM info")}
        decls = "".join(f' xmlns{":" + p if p else ""}="{escape(u)}"' for p, u in
                        (self.info.get("namespaces") or {}).items())
        self._open_tag = f"<w{decls}>".encode()
        self._fd: int | None = None
        if self.info.get("storage") == "ranges":
            self._offset = self.info.get("xml_offset") or 0
            self._fd = os.open(source.tar if source.tar is not None else source.base / "arkivstruktur.xml",
                               os.O_RDONLY)

    def _own(self, row) -> bytes:
        """A node's own metadata, as it is in the XML."""
        if self._fd is None:
            return self._block(row[6])[row[7]:row[8]]
        # head, what lies between child nodes besides whitespace (rare), tail: read in place
        data = os.pread(self._fd, row[8] - row[7], self._offset + row[7]) if row[8] > row[7] else b""
        if row[6]:
            data += self._q("SELECT data FROM extra WHERE id=?", (row[0],))[0][0]
        if row[10] > row[9]:
            data += os.pread(self._fd, row[10] - row[9], self._offset + row[9])
        return data

    def _block(self, bid: int) -> bytes:
        """A block of metadata (the nodes' own XML in blocks of about 64 KB, zlib-compressed or not: info
        "blocks"), as it was."""
        data = self._blocks.get(bid)
        if data is None:
            data = self._q("SELECT data FROM block WHERE id=?", (bid,))[0][0]
            if self.info.get("blocks", "zlib") == "zlib":
                data = zlib.decompress(data)
            with self._lock:
                if len(self._blocks) >= 64:
                    self._blocks.pop(next(iter(self._blocks)))
                self._blocks[bid] = data
        return data

    def _node(self, row) -> Node:
        meta: list = []
        try:
            w = etree.fromstring(self._open_tag + self._own(row) + b"</w>", _READER)
        except etree.XMLSyntaxError:
            w = None
        if w is not None:
            _flatten(w, "", meta)
        return Node(row[0], row[1], row[2], row[3], row[4], row[5], meta)

    def close(self) -> None:
        self._db.close()
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def _q(self, sql: str, args: tuple = ()) -> list:
        with self._lock:
            return self._db.execute(sql, args).fetchall()

    def node(self, nid: int) -> Node | None:
        rows = self._q(f"SELECT {_COLS} FROM node WHERE id=?", (nid,))
        return self._node(rows[0]) if rows else None

    def roots(self) -> list[Node]:
        return [self._node(r) for r in self._q(f"SELECT {_COLS} FROM node WHERE parent IS NULL ORDER BY id")]

    def children(self, nid: int, offset: int = 0, limit: int = 100) -> list[Node]:
        return [self._node(r) for r in self._q(f"SELECT {_COLS} FROM node WHERE parent=? ORDER BY id LIMIT ? OFFSET ?",
                                          (nid, limit, offset))]

    def ancestors(self, node: Node) -> list[Node]:
        """The nodes above ``node``, outermost first."""
        out = []
        parent = node.parent
        while parent is not None:
            n = self.node(parent)
            if n is None:
                break
            out.append(n)
            parent = n.parent
        return out[::-1]

    def by_system_id(self, system_id: str) -> Node | None:
        for r in self._q(f"SELECT {_COLS} FROM node WHERE sid=?", (sid_key(system_id),)):
            n = self._node(r)
            if n.system_id == system_id.strip():
                return n
        return None

    def by_key(self, value: str, kind: str, name: str) -> Node | None:
        """The ``kind`` node whose ``name`` is ``value`` (NHA: a pakke by its filReferanse)."""
        for r in self._q(f"SELECT {_COLS} FROM node WHERE sid=? AND kind=?", (sid_key(value), kind)):
            n = self._node(r)
            if n.get(name) == value:
                return n
        return None

    def by_document_file(self, refs: set[str]) -> Node | None:
        """The first dokumentobjekt whose referanseDokumentfil is one of ``refs`` (compared as relative POSIX paths
        in NFC: ``\\`` as ``/``, ``./`` dropped, as verify compares them).  The build keeps each dokumentobjekt's
        id under the key of its file (the docfile table): one indexed lookup per name, then the candidates' own
        metadata compared."""
        from ..packaging.inventory import normalise_reference

        want = {normalise_reference(r) for r in refs if r}
        for ref in sorted(want):
            key = doc_key(ref)
            for r in self._q(f"SELECT {_COLS} FROM node WHERE id IN (SELECT id FROM docfile WHERE key=?) ORDER BY id",
                             (key,)):
                n = self._node(r)
                if normalise_reference(n.get("referanseDokumentfil") or "") in want:
                    return n
        return None

    def at_line(self, line: int) -> Node | None:
        """The node that starts at ``line`` or is the last to start before it."""
        if self.info.get("line_order"):
            # ids 1..n in document order, so lines never decrease with them: the last id whose line <= line
            lo, hi = 0, self._q("SELECT max(id) FROM node")[0][0] or 0
            while lo < hi:
                mid = (lo + hi + 1) // 2
                if (self._q("SELECT line FROM node WHERE id=?", (mid,))[0][0] or 0) <= line:
                    lo = mid
                else:
                    hi = mid - 1
            return self.node(lo) if lo else None
        rows = self._q(f"SELECT {_COLS} FROM node WHERE line<=? ORDER BY line DESC, id DESC LIMIT 1", (line,))
        return self._node(rows[0]) if rows else None

    def first_of(self, kind: str) -> Node | None:
        rows = self._q(f"SELECT {_COLS} FROM node WHERE kind=? ORDER BY id LIMIT 1", (kind,))
        return self._node(rows[0]) if rows else None

    def count(self, kind: str | None = None) -> int:
        counts = self.info.get("counts")  # counted by the build (a count(*) scans the table: seconds at 20 GB)
        if counts is not None:
            return counts.get(kind, 0) if kind is not None else sum(counts.values())
        if kind is None:
            return self._q("SELECT count(*) FROM node")[0][0]
        return self._q("SELECT count(*) FROM node WHERE kind=?", (kind,))[0][0]

    def member(self, rel: str) -> tuple[int, int] | None:
        """(data offset, size) of the tar member ``rel`` (below the package folder), or None."""
        rows = self._q("SELECT offset, size FROM member WHERE name=?", (rel,))
        return (rows[0][0], rows[0][1]) if rows else None


# --------------------------------------------------------------------------- the builds of a server

@dataclass
class Build:
    """An index being built in the background (what the progress page shows)."""

    key: str
    done: int = 0
    total: int | None = None
    error: str | None = None
    error_line: int | None = None
    finished: bool = False
    index: ExtractIndex | None = None
    cancel: bool = False

    def progress(self, _stage: str, done: int, total: int | None = None) -> None:
        self.done, self.total = done, total


class IndexManager:
    """One index per source, built once per process in a background thread; reused while the source is unchanged."""

    def __init__(self, state_dir: Path) -> None:
        self.dir = Path(state_dir) / "index"
        self._lock = threading.Lock()
        self._builds: dict[str, Build] = {}
        self._open: dict[str, ExtractIndex] = {}

    def get(self, path: Path) -> ExtractIndex | Build:
        """The index of ``path`` if built, else its Build (started on first call).  IndexError_: no extract."""
        source = locate(path)
        key = index_key(source)
        with self._lock:
            ix = self._open.get(key)
            if ix is not None:
                return ix
            db_path = self.dir / f"{key}.sqlite"
            if db_path.is_file():
                try:
                    ix = self._open[key] = ExtractIndex(db_path, source)
                    return ix
                except sqlite3.Error:
                    db_path.unlink(missing_ok=True)
            b = self._builds.get(key)
            if b is not None:
                if b.finished and b.index is not None:
                    self._open[key] = b.index
                    del self._builds[key]
                    return b.index
                return b  # under way, or failed (retry() forgets it)
            b = self._builds[key] = Build(key)
        from ..locale import current, language

        lang = current()

        def run() -> None:
            with language(lang):
                try:
                    b.index = build_index(source, db_path, progress=b.progress, stop=lambda: b.cancel)
                except IndexError_ as exc:
                    b.error, b.error_line = str(exc.message), exc.line
                except Cancelled:
                    b.error = str(tr("stopped"))
                except Exception as exc:  # noqa: BLE001 - shown on the page; the server goes on
                    b.error = str(tr("the index cannot be built: {error}", error=type(exc).__name__))
                finally:
                    b.finished = True

        threading.Thread(target=run, name=f"noarkpack-index-{key[:8]}", daemon=True).start()
        return b

    def retry(self, path: Path) -> None:
        """Forget a failed build of ``path`` so the next :meth:`get` starts again."""
        key = index_key(locate(path))
        with self._lock:
            b = self._builds.get(key)
            if b is not None and b.finished:
                del self._builds[key]


__all__ = ["ExtractIndex", "Node", "Build", "IndexManager", "Source", "locate", "index_key", "build_index",
           "IndexError_", "NODE_KINDS", "sid_key"]
