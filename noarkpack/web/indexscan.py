"""The fast pass of the index build: arkivstruktur.xml's node tags found in the UTF-8 bytes, each node's own
metadata kept as byte ranges into the source (read back when a page shows the node, see :mod:`.index`).

A node's own metadata is what lies between its tags and is not a child node: its *head* (from the end of its
start tag to its first child node, or to its end tag when it has none) and its *tail* (from the end of its last
child node to its end tag: a saksmappe's saksaar follows its registreringer).  Between two child nodes there is
only whitespace in a valid extract; anything else there (a comment, a misplaced element) is copied into the
``extra`` table, so nothing of a node's own metadata is lost.  The pass copies no metadata (issue 21's 3 x
``xmllint --stream``): per node it pushes and pops a list and appends one row.

Element content cannot hold a ``<``, and attribute values cannot either, so a tag is always found whole; comments,
CDATA and processing instructions are matched as a whole before a node tag inside them could be; what the pass does
not check (well-formedness of the metadata) the validator does.

The scanner's state is small (the chain of open nodes, the line, the next id and the offset where the unscanned
bytes begin): :meth:`Scanner.state` is stored with the rows at each checkpoint, and a build cut short resumes from
it (:mod:`.indexbuild`).
"""

from __future__ import annotations

import re
import sqlite3
import zlib
from collections import Counter
from operator import itemgetter
from xml.sax.saxutils import unescape

from ..locale import tr

#: the elements that are nodes of the tree (local names), outermost first
NODE_KINDS = ("arkiv", "arkivdel", "klassifikasjonssystem", "klasse", "mappe", "registrering",
              "dokumentbeskrivelse", "dokumentobjekt")
BATCH = 5000

#: a node's start or end tag (group 1: "/name" for an end, "name" for a start; 2: attributes), or what may hide
#: one (group 1 empty: a comment, CDATA or processing instruction, matched whole)
_TOKEN = re.compile(rb"<(/?(?:" + "|".join(NODE_KINDS).encode() + rb"))(?=[\s/>])([^>]*)>"
                    rb"|<!--.*?-->|<!\[CDATA\[.*?\]\]>|<\?.*?\?>", re.S)
#: the same without the alternatives: for a chunk with no comment, CDATA or processing instruction
_FAST = re.compile(rb"<(/?(?:arkiv(?:del)?|klass(?:e|ifikasjonssystem)|mappe|registrering|"
                   rb"dokument(?:beskrivelse|objekt)))(?=[\s/>])([^>]*)>")
_HIDDEN = re.compile(rb"<[!?]")
_SYSTEM_ID = re.compile(rb"<(?:[\w.-]+:)?systemID>\s*([^<\s]*)\s*<")
_REF = re.compile(rb"<(?:[\w.-]+:)?referanseDokumentfil>([^<]*)<")
#: a systemID that starts with a UUID's 8-4-3 hex digits, as _SYSTEM_ID reads it (no space before it)
_UUID_AT = re.compile(rb"([0-9a-fA-F]{8})-([0-9a-fA-F]{4})-([0-9a-fA-F]{3})[^<\s]*\s*<")
#: the usual head: a UUID systemID first (its key: its first 8 + 4 + 3 hex digits, what sid_key makes of it)
_SID_FIRST = re.compile(rb"\s*<systemID>([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{3})[^<\s]*\s*<")
_XTYPE = re.compile(rb"[\w.-]+:type\s*=\s*[\"']([^\"']*)[\"']")
_XMLNS = re.compile(rb"xmlns(?::([\w.-]+))?\s*=\s*[\"']([^\"']*)[\"']")
_KINDS = {**{k.encode(): k for k in NODE_KINDS}, **{b"/" + k.encode(): k for k in NODE_KINDS}}
_KIND_OF = itemgetter(2)
_CLOSING = {k.encode(): b"/" + k.encode() for k in NODE_KINDS}

#: the node table's insert (see indexbuild._DDL): id, parent, kind, xtype, line, sid, nchildren, extra (1: a row
#: in the extra table), head start, head stop, tail start, tail stop (offsets into the XML)
INSERT = "INSERT INTO node VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
#: a dokumentobjekt by its file (see indexbuild._DDL): the key of its referanseDokumentfil (doc_key), its id
INSERT_DOC = "INSERT INTO docfile VALUES (?,?)"

# the open node's list: [id, parent, line, xtype, nchildren, head start, head stop (None: no child node yet),
# end of its last child node (None: none yet), extras (None or [bytes]), its end tag's name, its sid key]
_ID, _PARENT, _LINE, _XT, _NCH, _HS, _HE, _LCE, _EXTRA, _CLOSE, _SID = range(11)


def sid_key(system_id: str | None) -> int | None:
    """A systemID as a signed 63-bit integer (its first 15 hex digits, or a hash of it)."""
    import hashlib

    if not system_id:
        return None
    s = system_id.strip().replace("-", "").lower()
    try:
        return int(s[:15], 16) if len(s) >= 15 else int(hashlib.sha1(s.encode()).hexdigest()[:15], 16)
    except ValueError:
        return int(hashlib.sha1(s.encode("utf-8", "surrogateescape")).hexdigest()[:15], 16)


def doc_key(ref: str | None) -> int | None:
    """A referanseDokumentfil as the key of the docfile table: the reference as a relative POSIX path in NFC (as
    verify compares them), hashed to 63 bits."""
    from ..packaging.inventory import normalise_reference  # not at the top: packaging costs 50 ms to import

    ref = normalise_reference(ref or "")
    return _hash(ref.encode("utf-8", "surrogateescape")) if ref else None


def _hash(data: bytes) -> int:
    """63 bits of two checksums (quick; a collision only makes a lookup read one more candidate)."""
    return (zlib.crc32(data) << 31) ^ zlib.adler32(data)


def _ref_key(buf: bytes, a: int, b: int) -> int | None:
    """The key of the referanseDokumentfil in ``buf[a:b]`` (a dokumentobjekt's metadata): :func:`doc_key` of it,
    from its bytes when they are already what normalise_reference would make of them (ASCII, no entity, no
    backslash, no surrounding space, no ``./``: the usual case, ~3 x quicker)."""
    i = buf.find(b"<referanseDokumentfil>", a, b)
    if i >= 0:
        i += 22
        j = buf.find(b"<", i, b)
        raw = buf[i:j] if j >= 0 else b""
        if raw.isascii() and raw and not (raw[0] <= 32 or raw[-1] <= 32 or raw.startswith(b"./")
                                          or b"&" in raw or b"\\" in raw):
            return _hash(raw)
        return doc_key(unescape(raw.decode("utf-8", "replace")))
    m = _REF.search(buf, a, b)  # a prefixed element
    return doc_key(unescape(m.group(1).decode("utf-8", "replace"))) if m else None


def _sid(buf: bytes, a: int, b: int) -> int | None:
    """The sid key of the first systemID in ``buf[a:b]`` (what sid_key makes of what _SYSTEM_ID reads there)."""
    i = buf.find(b"<systemID>", a, b)
    if i >= 0:
        # a UUID right after <systemID> (and no prefixed systemID before it): its key is its first 8 + 4 + 3 hex
        # digits, without decoding it
        m = _UUID_AT.match(buf, i + 10, b)
        if m is not None and (i - a < 12 or buf.find(b":systemID>", a, i) < 0):
            return int(b"".join(m.group(1, 2, 3)), 16)
    elif buf.find(b"systemID>", a, b) < 0:
        return None
    m = _SYSTEM_ID.search(buf, a, b)
    return sid_key(m.group(1).decode("utf-8", "replace")) if m else None


class Scanner:
    """Feed it the XML's bytes in chunks (:meth:`feed`); it writes the rows to ``db`` itself."""

    def __init__(self, db: sqlite3.Connection, state: dict | None = None) -> None:
        self.db = db
        self.stack: list[list] = []
        self.started = False
        self.line = 1
        self.base = 0  #: the offset in the XML of the buffer's first byte
        self.lc = 0  #: the offset up to which newlines are counted in ``line``
        self.next_id = 1
        self.namespaces: dict[str, str] = {}
        self.count = 0
        self.error: tuple[str, int] | None = None
        self.out: list[tuple] = []
        self.extra: list[tuple] = []
        self.docs: list[tuple] = []  #: (key of its referanseDokumentfil, id) of each dokumentobjekt
        self.counts: Counter = Counter()  #: nodes per kind (the home page's counts: no scan of the table)
        self.xtypes: dict[bytes, str | None] = {}  #: xsi:type of a start tag's attributes (they repeat)
        if state:
            self.started, self.line, self.base, self.next_id, self.count = (
                state["started"], state["line"], state["base"], state["next_id"], state["count"])
            self.lc = self.base
            self.namespaces = state["namespaces"]
            self.counts.update(state["counts"])
            self.stack = [[*e[:_EXTRA], [bytes.fromhex(x) for x in e[_EXTRA]] if e[_EXTRA] is not None else None,
                           e[_CLOSE].encode(), e[_SID]] for e in state["stack"]]

    def state(self) -> dict:
        """What :class:`Scanner` needs to go on from :attr:`base` (after :meth:`flush`): stored at a checkpoint."""
        assert self.lc == self.base
        return {"started": self.started, "line": self.line, "base": self.base, "next_id": self.next_id,
                "count": self.count, "namespaces": self.namespaces, "counts": dict(self.counts),
                "stack": [[*e[:_EXTRA], [x.hex() for x in e[_EXTRA]] if e[_EXTRA] is not None else None,
                           e[_CLOSE].decode(), e[_SID]] for e in self.stack]}

    def feed(self, buf: bytes, final: bool) -> int:
        """Scan ``buf`` (its first byte at :attr:`base` in the XML); returns where the rest to carry over to the
        next chunk begins (:attr:`base` moves there)."""
        present = []
        if not self.started or _HIDDEN.search(buf):  # one scan (three searches for the strings cost 3 x more)
            present = [(o, c) for o, c in ((b"<!--", b"-->"), (b"<![CDATA[", b"]]>")) if o in buf]
            if buf.find(b"<?", 6 if self.base == 0 else 0) >= 0:  # past the XML declaration
                present.append((b"<?", b"?>"))
        cut = len(buf)
        if not final:
            cut = buf.rfind(b"<")
            if cut < 0:
                cut = len(buf)
            for opening, closing in present:  # an unclosed comment (...) at the end: from its start on next time
                o = buf.rfind(opening, 0, cut)
                if o >= 0 and buf.find(closing, o + len(opening)) < 0:
                    cut = min(cut, o)
        stack, out = self.stack, self.out
        base, line, lc, next_id = self.base, self.line, self.lc - self.base, self.next_id
        kinds, closing, find, xtypes, first = _KINDS, _CLOSING, buf.find, self.xtypes, _SID_FIRST.match
        for m in (_TOKEN if present else _FAST).finditer(buf, 0, cut):
            name = m[1]
            if name is None:  # a comment, CDATA or processing instruction: part of whatever range it is in
                continue
            s, e = m.span()
            if name[0] == 47:  # an end tag
                if not stack or stack[-1][_CLOSE] != name:
                    self.error = (str(tr("the XML is not well-formed: </{name}> does not close the open element",
                                         name=name[1:].decode())), line + buf.count(b"\n", lc, s))
                    self.next_id, self.line, self.lc = next_id, line, base + lc
                    return cut
                nid, parent, nline, xtype, nch, hs, he, lce, extras, _, sid = stack.pop()
                if he is None:  # no child node: all of it is the head
                    sm = first(buf, hs - base, s)
                    sid = int(sm[1].replace(b"-", b""), 16) if sm is not None else _sid(buf, hs - base, s)
                    if name == b"/dokumentobjekt":  # found by its file too (a finding that names only the file)
                        key = _ref_key(buf, hs - base, s)
                        if key is not None:
                            self.docs.append((key, nid))
                    out.append((nid, parent, kinds[name], xtype, nline, sid, nch, 0, hs, base + s, 0, 0))
                else:
                    if sid is None:
                        sid = _sid(buf, lce - base, s)
                    if extras is not None:
                        self.extra.append((nid, b"".join(extras)))
                    out.append((nid, parent, kinds[name], xtype, nline, sid, nch, 0 if extras is None else 1,
                                hs, he, lce, base + s))
                if stack:
                    stack[-1][_LCE] = base + e
                continue
            line += buf.count(b"\n", lc, s)
            lc = s
            if stack:
                top = stack[-1]
                top[_NCH] += 1
                parent = top[0]
                if top[_HE] is None:  # its first child node: its head ends here
                    top[_HE] = base + s
                    sm = first(buf, top[_HS] - base, s)
                    top[_SID] = int(sm[1].replace(b"-", b""), 16) if sm is not None else _sid(buf, top[_HS] - base, s)
                else:
                    g = top[_LCE] - base
                    if find(b"<", g, s) >= 0:  # more than whitespace between two child nodes
                        if top[_EXTRA] is None:
                            top[_EXTRA] = []
                        top[_EXTRA].append(buf[g:s])
            else:
                parent = None
                if not self.started:
                    self.started = True
                    self.namespaces = {(k or b"").decode(): v.decode("utf-8", "replace")
                                       for k, v in _XMLNS.findall(m[2])}
            attrs = m[2]
            if attrs:
                xtype = xtypes.get(attrs, 0)
                if xtype == 0:
                    x = _XTYPE.search(attrs)
                    xtype = x.group(1).decode() if x is not None else None
                    if len(xtypes) < 64:
                        xtypes[attrs] = xtype
                if attrs[-1] == 47:  # an empty node <x .../>
                    out.append((next_id, parent, kinds[name], xtype, line, None, 0, 0, 0, 0, 0, 0))
                    next_id += 1
                    if stack:
                        stack[-1][_LCE] = base + e
                    continue
            else:
                xtype = None
            stack.append([next_id, parent, line, xtype, 0, base + e, None, None, None, closing[name], None])
            next_id += 1
        # carried over: from the cut, or from where the open node's own metadata not yet ended begins
        rest = cut
        if stack:
            top = stack[-1]
            rest = min(rest, (top[_HS] if top[_HE] is None else top[_LCE]) - base)
        line += buf.count(b"\n", lc, rest)
        self.next_id, self.line, self.lc = next_id, line, base + rest
        self.base = base + rest
        if len(out) >= BATCH:
            self.flush()
        return rest

    def flush(self) -> None:
        """Write the rows found so far."""
        if self.out:
            self.db.executemany(INSERT, self.out)
            self.count += len(self.out)
            self.counts.update(map(_KIND_OF, self.out))
            self.out = []
        if self.extra:
            self.db.executemany("INSERT INTO extra VALUES (?,?)", self.extra)
            self.extra = []
        if self.docs:
            self.db.executemany(INSERT_DOC, self.docs)
            self.docs = []
