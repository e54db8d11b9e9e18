"""The one streaming pass that builds an :class:`.index.ExtractIndex` (see there for what it holds).

The fast pass (:class:`_Scanner`) finds the node tags in the UTF-8 bytes with one regular expression and keeps the
bytes between them as each node's own metadata; a file in another encoding, or whose root has a prefix, goes
through lxml (:class:`..validation.xmlstream.ContainerPuller`), whose rows are written by a second thread.  The
fast pass writes its own rows, the metadata stored uncompressed (:data:`BLOCKS`): issue 21's target is the build
within 3 x ``xmllint --stream --noout`` in CPU time as well as wall time, and both a writer thread (the GIL) and
zlib cost more than that allows (see docs/web.md, Figures).
"""

from __future__ import annotations

import hashlib
import json
import os
import queue
import re
import sqlite3
import tarfile
import threading
import zlib
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable

from lxml import etree

from ..locale import tr
from ..progress import Progress
from ..validation.xmlstream import ContainerPuller, in_own_thread

#: the elements that are nodes of the tree (local names), outermost first
NODE_KINDS = ("arkiv", "arkivdel", "klassifikasjonssystem", "klasse", "mappe", "registrering",
              "dokumentbeskrivelse", "dokumentobjekt")
SCHEMA_VERSION = 3  # 3: no node_line index (info "line_order")
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
BATCH = 5000
#: the metadata blocks zlib-compressed (level 1) or stored as they are: zlib costs about a sixth of the pass's CPU
#: time (issue 21's 3 x xmllint) for an index a fifth the size; ExtractIndex reads either (info "blocks").  zlib by
#: default: an index as large as the extract in the user's cache costs an archivist's disk more than the time saved
BLOCKS = "zlib"


def _pack(data: bytes) -> bytes:
    return zlib.compress(data, 1) if BLOCKS == "zlib" else data

_DDL = """
CREATE TABLE info (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE node (id INTEGER PRIMARY KEY, parent INTEGER, kind TEXT NOT NULL, xtype TEXT, line INTEGER,
                   sid INTEGER, nchildren INTEGER NOT NULL, block INTEGER NOT NULL, start INTEGER NOT NULL,
                   stop INTEGER NOT NULL);
CREATE TABLE block (id INTEGER PRIMARY KEY, data BLOB NOT NULL);
CREATE TABLE member (name TEXT PRIMARY KEY, offset INTEGER NOT NULL, size INTEGER NOT NULL) WITHOUT ROWID;
"""
_INDEXES = """
CREATE INDEX node_parent ON node(parent, id);
CREATE INDEX node_sid ON node(sid);
"""
#: only where lines do not follow the ids (NHA: two files); elsewhere the ids are in document order, so are the
#: lines, and a line is found by a binary search over the ids (info "line_order")
_LINE_INDEX = "CREATE INDEX node_line ON node(line)"


class IndexError_(Exception):
    """The index cannot be built (message translated, nothing identifying)."""

    def __init__(self, message, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


class Cancelled(Exception):
    pass


def sid_key(system_id: str | None) -> int | None:
    """A systemID as a signed 63-bit integer (its first 15 hex digits, or a hash of it)."""
    if not system_id:
        return None
    s = system_id.strip().replace("-", "").lower()
    try:
        return int(s[:15], 16) if len(s) >= 15 else int(hashlib.sha1(s.encode()).hexdigest()[:15], 16)
    except ValueError:
        return int(hashlib.sha1(s.encode("utf-8", "surrogateescape")).hexdigest()[:15], 16)


# --------------------------------------------------------------------------- the source

@dataclass
class Source:
    """Where arkivstruktur.xml is: ``xml`` in the folder ``base``, or the member ``content/arkivstruktur.xml`` of the
    tar ``tar``."""

    path: Path  #: what the person opened (folder or tar)
    base: Path | None = None  #: the extract folder (folder sources), the deposit folder (NHA)
    tar: Path | None = None
    nha: tuple[Path, Path] | None = None  #: an NHA deposit: its AVLXML list and its epjpakkeliste

    @property
    def stamp_file(self) -> Path:
        if self.nha is not None:
            return self.nha[0]
        return self.tar if self.tar is not None else self.base / "arkivstruktur.xml"

    @property
    def stamp_files(self) -> list[Path]:
        return list(self.nha) if self.nha is not None else [self.stamp_file]


def locate(path: Path) -> Source:
    """The source of ``path``: a folder holding an extract, or a tar; IndexError_ when neither."""
    path = Path(path)
    if path.is_file() and path.suffix.lower() == ".tar":
        return Source(path, tar=path)
    if path.is_dir():
        from ..nha.detect import is_nha_deposit
        from ..validation.source import find_extract_dir

        if is_nha_deposit(path):
            return Source(path, base=path, nha=(sorted(path.glob("avlxml*.xml"))[0],
                                                sorted(path.glob("epjpakkeliste*.xml"))[0]))

        base = find_extract_dir(path)
        if base is not None and (base / "arkivstruktur.xml").is_file():
            return Source(path, base=base)
    raise IndexError_(tr("no arkivstruktur.xml found here"))


def index_key(source: Source) -> str:
    raw = f"{SCHEMA_VERSION}"
    for f in source.stamp_files:
        st = f.stat()
        raw += f"\x00{f.resolve()}\x00{st.st_size}\x00{st.st_mtime_ns}"
    return hashlib.sha256(raw.encode("utf-8", "surrogateescape")).hexdigest()[:20]




_NSDECL = re.compile(rb' xmlns(?::[A-Za-z_][\w.-]*)?="[^"]*"')


_SYSTEM_ID = re.compile(rb"<(?:[\w.-]+:)?systemID>\s*([^<\s]*)\s*<")


def _row(r: tuple) -> tuple:
    """A row as stored: the systemID as its key (read from the metadata when the pass did not), the metadata
    without the namespace declarations and the indentation."""
    nid, parent, kind, xtype, line, sid, nchildren, meta = r
    if sid is None:
        m = _SYSTEM_ID.search(meta)
        sid = m.group(1).decode("utf-8", "replace") if m else None
    return nid, parent, kind, xtype, line, sid_key(sid), nchildren, meta


class _Builder:
    """The callbacks of the pass: rows are batched and written by a second thread (sqlite3 lets the GIL go while
    it writes, so the parse goes on meanwhile: two cores)."""

    def __init__(self, db: sqlite3.Connection, first_id: int = 1, keys: tuple[str, ...] = ("systemID",),
                 writer: bool = True) -> None:
        self.db = db
        self.stack: list[list] = []  # [id, parent, line, xtype, nchildren]
        self.next_id = first_id
        self.keys = tuple(f"{{*}}{k}" for k in keys)
        self.rows: list[tuple] = []
        self.count = 0
        self.namespaces: dict = {}
        self.queue: queue.Queue = queue.Queue(maxsize=4)
        self.failure: list[BaseException] = []
        self.block_id = 1
        self.writer = None
        if writer:
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
        two: siblings end close together); zlib lets the GIL go, so this runs beside the pass."""
        out, parts, size = [], [], 0
        for r in rows:
            r = _row(r)
            meta = r[7]
            out.append((*r[:7], self.block_id, size, size + len(meta)))
            parts.append(meta)
            size += len(meta)
            if size >= BLOCK:
                self._flush_block(parts)
                parts, size = [], 0
        if parts:
            self._flush_block(parts)
        self.db.executemany("INSERT INTO node VALUES (?,?,?,?,?,?,?,?,?,?)", out)

    def _flush_block(self, parts: list) -> None:
        self.db.execute("INSERT INTO block VALUES (?,?)", (self.block_id, _pack(b"".join(parts))))
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
        self.rows.append((nid, parent, tag[tag.rfind("}") + 1:], xtype, line, sid, nchildren,
                          _NSDECL.sub(b"", b"".join(etree.tostring(c, with_tail=False) for c in el))))
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
        """A new writer after :meth:`finish` (the next file of the same index)."""
        self.queue = queue.Queue(maxsize=4)
        self.writer = threading.Thread(target=self._write, name="noarkpack-index-writer", daemon=True)
        self.writer.start()

    def finish(self) -> None:
        if self.writer is None:
            return
        self.flush()
        self.queue.put(None)
        self.writer.join()
        if self.failure:
            raise self.failure[0]


#: a node's start or end tag (group 1: "/" for an end, 2: name, 3: attributes), or what may hide one (no groups)
_TOKEN = re.compile(rb"<(/?(?:" + "|".join(NODE_KINDS).encode() + rb"))(?=[\s/>])([^>]*)>"
                    rb"|(<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>)", re.S)
#: the same without the alternatives (group 3 always empty): for a chunk with no comment, CDATA or processing
#: instruction (twice as fast)
_FAST = re.compile(rb"<(/?(?:arkiv(?:del)?|klass(?:e|ifikasjonssystem)|mappe|registrering|"
                   rb"dokument(?:beskrivelse|objekt)))(?=[\s/>])([^>]*)>()")
_ROOT = re.compile(rb"<arkiv[\s>]")
_HIDDEN = re.compile(rb"<[!?]")
#: a systemID that starts with a UUID's 8-4-3 hex digits, as _SYSTEM_ID reads it (no space before it)
_UUID_AT = re.compile(rb"([0-9a-fA-F]{8})-([0-9a-fA-F]{4})-([0-9a-fA-F]{3})[^<\s]*\s*<")
_XTYPE = re.compile(rb"[\w.-]+:type\s*=\s*[\"']([^\"']*)[\"']")
_XMLNS = re.compile(rb"xmlns(?::([\w.-]+))?\s*=\s*[\"']([^\"']*)[\"']")
_ENCODING = re.compile(rb"^\s*<\?xml[^>]*encoding\s*=\s*[\"']([^\"']*)[\"']")
CHUNK = 4 << 20
BLOCK = 64 << 10


class _Scanner:
    """The fast pass (UTF-8, as Noark 5 requires): the node tags found in the bytes with one regular expression
    (comments, CDATA and processing instructions skipped), the bytes between them kept as each node's own
    metadata, lines counted on the way.  Element content cannot hold a ``<``, and attribute values cannot
    either, so a tag is always found whole; what the pass does not check (well-formedness of the metadata)
    the validator does; the metadata is parsed when a page shows it.

    It writes the rows itself, in the same thread: each node's metadata goes straight into the current block
    (its systemID key read on the way), so a row is touched once.  (A writer thread gained nothing: the rows'
    Python work holds the GIL, and switching it cost more CPU than the overlap saved.)"""

    def __init__(self, b: _Builder) -> None:
        self.b = b
        self.db = b.db
        self.stack: list[list] = []  # [id, parent, line, xtype, nchildren, parts, name]
        self.started = False
        self.line = 1
        self.error: tuple[str, int] | None = None
        self.out: list[tuple] = []  # rows as stored
        self.parts: list[bytes] = []  # the current block's metadata
        self.size = 0
        self.block_id = 1
        self.count = 0

    def feed(self, buf: bytes, final: bool) -> int:
        """Scan ``buf``; returns where the unscanned rest begins (carried over to the next chunk)."""
        # what may hide a tag: looked for once (a forward search is cheap), and only what is there searched
        # backwards for an unclosed one at the end of the chunk
        present = []
        if not self.started or _HIDDEN.search(buf):  # one scan (three searches for the strings cost 3 x more)
            present = [(o, c) for o, c in ((b"<!--", b"-->"), (b"<![CDATA[", b"]]>")) if o in buf]
            if buf.find(b"<?", 0 if self.started else 6) >= 0:
                present.append((b"<?", b"?>"))
        hidden = bool(present)
        cut = len(buf)
        if not final:
            cut = buf.rfind(b"<")
            if cut < 0:
                cut = len(buf)
            for opening, closing in present:
                o = buf.rfind(opening, 0, cut)
                if o >= 0 and buf.find(closing, o + len(opening)) < 0:
                    cut = min(cut, o)
        b, stack = self.b, self.stack
        out, parts, size, block_id = self.out, self.parts, self.size, self.block_id
        kinds = _KINDS
        pack = _pack
        line = self.line
        next_id = b.next_id
        # split: the text before the first tag, then per tag its groups and the text after it
        it = iter((_TOKEN if hidden else _FAST).split(buf if cut == len(buf) else buf[:cut]))
        text = next(it)
        own = stack[-1][5] if stack else None  # the open node's own metadata
        if own is not None:
            own.append(text)
        line += text.count(b"\n")
        closing = _CLOSING
        for name, attrs, other, text in zip(it, it, it, it):  # name: "/name" for an end tag
            if name is None:  # a comment, CDATA or processing instruction: kept as it is
                if own is not None:
                    own.append(other)
                line += other.count(b"\n")
            elif name[0] == 47 or (attrs and attrs[-1] == 47):  # an end tag, or an empty node <x .../>
                if name[0] != 47:
                    if not self.started:
                        self.started = True
                        b.namespaces = {(k or b"").decode(): v.decode("utf-8", "replace")
                                        for k, v in _XMLNS.findall(attrs)}
                    self._start(stack, next_id, line, attrs, name)
                    next_id += 1
                    line += attrs.count(b"\n")
                elif not stack or stack[-1][6] != name:
                    b.next_id = next_id
                    self.out, self.parts, self.size, self.block_id = out, parts, size, block_id
                    self.error = (str(tr("the XML is not well-formed: </{name}> does not close the open element",
                                         name=name[1:].decode())), line)
                    return cut
                nid, parent, nline, xtype, nchildren, own, _ = stack.pop()
                meta = b"".join(own)
                # the systemID's key (sid_key) read here: a UUID's first 15 hex digits, else sid_key itself
                sid = None
                i = meta.find(b"<systemID>")
                if i >= 0:
                    # a UUID: its key is its first 8 + 4 + 3 hex digits, what sid_key makes of what _row's regular
                    # expression reads when the UUID follows <systemID> at once (and no prefixed one comes first)
                    m = _UUID_AT.match(meta, i + 10)
                    if m is not None and (i < 12 or b":systemID>" not in meta[:i]):
                        sid = int(b"".join(m.group(1, 2, 3)), 16)
                    else:
                        i = -1
                if sid is None and i < 0 and b"systemID>" in meta:  # not a UUID, prefixed ...: as _row
                    m = _SYSTEM_ID.search(meta)
                    sid = sid_key(m.group(1).decode("utf-8", "replace")) if m else None
                n = len(meta)
                out.append((nid, parent, kinds[name], xtype, nline, sid, nchildren, block_id, size, size + n))
                parts.append(meta)
                size += n
                if size >= BLOCK:
                    self.db.execute("INSERT INTO block VALUES (?,?)", (block_id, pack(b"".join(parts))))
                    block_id += 1
                    parts = []
                    size = 0
                own = stack[-1][5] if stack else None
            else:
                if not self.started:
                    self.started = True
                    b.namespaces = {(k or b"").decode(): v.decode("utf-8", "replace")
                                    for k, v in _XMLNS.findall(attrs)}
                if stack:
                    top = stack[-1]
                    top[4] += 1
                    parent = top[0]
                else:
                    parent = None
                own = []
                if attrs:
                    x = _XTYPE.search(attrs)
                    stack.append([next_id, parent, line, x.group(1).decode() if x else None, 0, own, closing[name]])
                    line += attrs.count(b"\n")
                else:
                    stack.append([next_id, parent, line, None, 0, own, closing[name]])
                next_id += 1
            if own is not None:
                own.append(text)
            line += text.count(b"\n")
        b.next_id = next_id
        self.line = line
        self.out, self.parts, self.size, self.block_id = out, parts, size, block_id
        if len(out) >= BATCH:
            self.flush_rows()
        return cut

    @staticmethod
    def _start(stack: list, nid: int, line: int, attrs: bytes, name: bytes) -> list:
        x = _XTYPE.search(attrs) if attrs else None
        parent = None
        if stack:
            top = stack[-1]
            top[4] += 1
            parent = top[0]
        own: list[bytes] = []
        stack.append([nid, parent, line, x.group(1).decode() if x else None, 0, own, name])
        return own

    def flush_rows(self) -> None:
        if self.out:
            self.db.executemany("INSERT INTO node VALUES (?,?,?,?,?,?,?,?,?,?)", self.out)
            self.count += len(self.out)
            self.out = []

    def finish(self) -> None:
        """The last block and rows."""
        if self.parts:
            self.db.execute("INSERT INTO block VALUES (?,?)", (self.block_id, _pack(b"".join(self.parts))))
            self.block_id += 1
            self.parts, self.size = [], 0
        self.flush_rows()


_KINDS = {**{k.encode(): k for k in NODE_KINDS}, **{b"/" + k.encode(): k for k in NODE_KINDS}}
_CLOSING = {k.encode(): b"/" + k.encode() for k in NODE_KINDS}


def _parse(stream, db: sqlite3.Connection, total: int, progress: Progress | None, stop) -> int:
    head = stream.read(CHUNK)
    m = _ENCODING.match(head)
    if (m and m.group(1).decode("ascii", "replace").lower().replace("_", "-") not in ("utf-8", "utf8")) or \
            (head.strip() and not _ROOT.search(head)):  # not UTF-8, or the root has a prefix: lxml's pass
        return _parse_lxml(_Prefixed(head, stream), db, total, progress, stop)
    b = _Builder(db, writer=False)  # the scanner writes its rows itself
    sc = _Scanner(b)
    done = len(head)
    buf = head
    try:
        while True:
            chunk = stream.read(CHUNK)
            if chunk:
                buf += chunk
                done += len(chunk)
            rest = sc.feed(buf, not chunk)
            if sc.error:
                raise IndexError_(*sc.error)
            if not chunk:
                break
            buf = buf[rest:]
            if progress is not None:
                progress("index", done, total)
            if stop is not None and stop():
                raise Cancelled()
    except OSError as exc:
        raise IndexError_(tr("read error: {error}", error=str(exc))) from None
    finally:
        sc.finish()
    if sc.stack or not sc.started:
        raise IndexError_(tr("the XML is not well-formed: parsing stopped before the root element was closed")
                          if done else tr("the file is empty"), sc.line)
    if progress is not None:
        progress("index", done, total)
    db.execute("INSERT OR REPLACE INTO info VALUES ('namespaces', ?)", (json.dumps(b.namespaces),))
    return sc.count


class _Range:
    """``size`` bytes of ``f`` from ``offset`` (a tar member's data)."""

    def __init__(self, f, offset: int, size: int) -> None:
        self.f, self.left = f, size
        f.seek(offset)

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        data = self.f.read(n) if n else b""
        if len(data) < n:
            raise tarfile.ReadError("unexpected end of data")  # as tarfile's own reader
        self.left -= len(data)
        return data


class _Prefixed:
    """``head`` then the rest of ``stream``."""

    def __init__(self, head: bytes, stream) -> None:
        self.head, self.stream = head, stream

    def read(self, n: int = -1) -> bytes:
        if self.head:
            out, self.head = self.head[:n] if n >= 0 else self.head, self.head[n:] if n >= 0 else b""
            return out
        return self.stream.read(n)


def _parse_lxml(stream, db: sqlite3.Connection, total: int, progress: Progress | None, stop, *,
                containers=NODE_KINDS, builder: _Builder | None = None) -> int:
    """The pass through lxml (:class:`ContainerPuller`): for a file that is not UTF-8, and NHA's lists."""
    b = builder or _Builder(db)
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


def _walk_tar(source: Source, db: sqlite3.Connection, progress: Progress | None, stop) -> tuple[int, str]:
    """The tar's members (offsets) and its content/arkivstruktur.xml parsed on the way; (nodes, root folder)."""
    found = None
    root = None
    members: list[tuple[str, int, int]] = []
    try:
        with open(source.tar, "rb") as raw, tarfile.open(fileobj=raw, mode="r:", encoding="utf-8",
                                                         errors="surrogateescape") as tar:
            while True:
                ti = tar.next()
                if ti is None:
                    break
                tar.members.clear()
                name = str(PurePosixPath(ti.name.lstrip("/")))
                top, _, rel = name.partition("/")
                if root is None:
                    root = top
                if top != root or not rel or not ti.isreg() or ti.sparse is not None:
                    continue
                members.append((rel, ti.offset_data, ti.size))
                if len(members) >= BATCH:
                    db.executemany("INSERT OR REPLACE INTO member VALUES (?,?,?)", members)
                    members = []
                if rel == "content/arkivstruktur.xml" and found is None:
                    # read straight from the file (its own handle), not through tarfile's member reader
                    with open(source.tar, "rb") as f:
                        found = _parse(_Range(f, ti.offset_data, ti.size), db, ti.size, progress, stop)
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise IndexError_(tr("the tar cannot be read: {error}", error=str(exc))) from None
    db.executemany("INSERT OR REPLACE INTO member VALUES (?,?,?)", members)
    if found is None:
        raise IndexError_(tr("the tar holds no content/arkivstruktur.xml"))
    return found, root or ""


_FIRST_TAG = re.compile(rb"<(?:[\w.-]+:)?([\w.-]+)[\s/>]")


def _root_name(path: Path) -> str:
    with open(path, "rb") as f:
        head = f.read(1 << 16)
    head = re.sub(rb"<\?.*?\?>|<!--.*?-->|<!DOCTYPE[^>]*>", b"", head, flags=re.S)
    m = _FIRST_TAG.search(head)
    return m.group(1).decode() if m else ""


def _nha(source: Source, db: sqlite3.Connection, progress: Progress | None, stop) -> int:
    """An NHA deposit: the AVLXML list (its root and one node per pasientjournal) and the epjpakkeliste (its root
    and one node per pakke), keyed by journalidentifikator and filReferanse."""
    avlxml, pakkeliste = source.nha
    total = avlxml.stat().st_size + pakkeliste.stat().st_size
    b = _Builder(db, keys=("journalidentifikator", "filReferanse"))
    count = 0
    done = 0
    for path, inner in ((avlxml, "pasientjournal"), (pakkeliste, "pakke")):
        def prog(stage: str, n: int, _t=None, base=done) -> None:
            if progress is not None:
                progress(stage, base + n, total)

        try:
            with open(path, "rb") as f:
                if done:
                    b.restart()
                count = _parse_lxml(f, db, total, prog, stop, containers=(_root_name(path), inner), builder=b)
        except OSError as exc:
            raise IndexError_(tr("read error: {error}", error=str(exc))) from None
        done += path.stat().st_size
    return count


def _clean_stale(db_path: Path) -> None:
    """Remove what builds of ``db_path`` by processes no longer running left behind (a server stopped mid-build)."""
    for part in db_path.parent.glob(f"{db_path.name}.part-*"):
        try:
            pid = int(part.name.rsplit(".part-", 1)[1].split("-")[0])
            os.kill(pid, 0)
        except ProcessLookupError:
            part.unlink(missing_ok=True)
        except (ValueError, OSError):
            continue


def build(source: Source, db_path: Path, *, progress: Progress | None = None,
          stop: Callable[[], bool] | None = None) -> None:
    """Build the index of ``source`` into ``db_path`` (atomically: a temporary file renamed at the end)."""
    import time

    db_path = Path(db_path)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = db_path.with_name(f"{db_path.name}.part-{os.getpid()}-{threading.get_ident()}")
    tmp.unlink(missing_ok=True)
    _clean_stale(db_path)
    t0 = time.monotonic()
    db = sqlite3.connect(tmp, isolation_level=None, check_same_thread=False)
    try:
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
        db.execute("PRAGMA page_size=8192")
        db.executescript(_DDL)
        db.execute("BEGIN")
        root = ""
        if source.nha is not None:
            count = _nha(source, db, progress, stop)
        elif source.tar is not None:
            count, root = _walk_tar(source, db, progress, stop)
        else:
            xml = source.base / "arkivstruktur.xml"
            try:
                with open(xml, "rb") as f:
                    count = _parse(f, db, xml.stat().st_size, progress, stop)
            except OSError as exc:
                raise IndexError_(tr("read error: {error}", error=str(exc))) from None
        for stmt in filter(str.strip, _INDEXES.split(";")):
            db.execute(stmt)
        if source.nha is not None:
            db.execute(_LINE_INDEX)
        info = {"version": SCHEMA_VERSION, "nodes": count, "tar_root": root, "seconds": round(time.monotonic() - t0, 3),
                "source_size": source.stamp_file.stat().st_size, "line_order": source.nha is None, "blocks": BLOCKS}
        db.executemany("INSERT INTO info VALUES (?,?)", [(k, json.dumps(v)) for k, v in info.items()])
        db.execute("COMMIT")
        db.close()
        os.replace(tmp, db_path)
    except BaseException:
        db.close()
        tmp.unlink(missing_ok=True)
        raise
