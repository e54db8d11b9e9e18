"""The content tests N5.04–N5.64 (and NP.01/NP.02) in one streaming pass over arkivstruktur.xml.

:class:`ContentPass` receives the parser's start/end events (from
:func:`xmlstream.stream_xml`), keeps one small :class:`Frame` per open
element, and dispatches by element name to the tests that care: a dict lookup
per event, not 54 subscribers per event as in Arkade.  Each test keeps only
the state it needs (counters, small stacks); ids that may number in millions
(systemIDs, document files) live in compact :class:`~.idset.IdSet` tables.

Where Arkade's semantics are deliberate, they are kept (same test ids, same
conditions for an error).  Where they are a known bug, noarkpack differs and
says so: N5.30 honours sjekksumAlgoritme; N5.29 does not compare PRONOM PUIDs
with file extensions; N5.17 also flags whitespace-only types.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from datetime import date

from ..idset import IdSet
from .report import Report
from .source import ExtractSource, norm_ref

AS_FILE = "arkivstruktur.xml"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
EPJ_NS = "urn:noarkpack:epj:1.0"

# flags in the document-file IdSet
F_ON_DISK = 1
F_REFERENCED = 2
F_MULTI = 4

_DATE = re.compile(r"^\s*((-?\d{4,})-(\d\d)-(\d\d))(?:T\d\d:\d\d:\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:\d\d)?\s*$")
#: parse_date's results per date part ("2019-05-01"): an extract holds few distinct days
_DAYS: dict[str, date | None] = {}
_MISSING = object()

HASHES = {"sha256": "sha256", "sha-256": "sha256", "sha512": "sha512", "sha-512": "sha512",
          "sha384": "sha384", "sha-384": "sha384", "sha1": "sha1", "sha-1": "sha1", "md5": "md5"}
_PUID = re.compile(r"^(x-)?fmt/\d+$", re.I)


def parse_date(value: str) -> date | None:
    """An xs:date or xs:dateTime as a date (what Arkade's TryParseValidXmlDate accepts), else None."""
    m = _DATE.match(value or "")
    if m is None:
        return None
    day = m.group(1)
    d = _DAYS.get(day, _MISSING)
    if d is _MISSING:
        try:
            d = date(int(m.group(2)), int(m.group(3)), int(m.group(4)))
        except ValueError:
            d = None
        if len(_DAYS) < 100_000:
            _DAYS[day] = d
    return d


def hash_algorithm(name: str | None) -> str | None:
    if not name:
        return None
    return HASHES.get(name.strip().lower().replace("_", "-"))


#: the elements whose xsi:type (saksmappe, journalpost, ...) the tests read (Frame.type)
_TYPED = frozenset(("mappe", "registrering"))

#: _tag_info's marker for the _v_field handler (inlined in the hot loop)
_FIELD = object()


class Frame:
    """One open element of arkivstruktur.xml."""

    __slots__ = ("name", "line", "parent", "has_child", "sid", "type", "text", "data")

    def __init__(self, name, line, parent, xtype):
        self.name = name
        self.line = line
        self.parent = parent
        self.has_child = False
        self.sid = None  # its systemID child's value, once seen
        self.type = xtype  # xsi:type local name
        self.text = None
        self.data = None  # per-element state some tests attach

    def systemID(self):
        f = self
        while f is not None:
            if f.sid:
                return f.sid
            f = f.parent
        return None


class ContentPass:
    """All content tests of one arkivstruktur.xml pass; call :meth:`finish` after the pass."""

    def __init__(self, report: Report, source: ExtractSource, addml, *, documents: IdSet | None,
                 doc_dir: str | None, identify=None, approved=None, progress=None, mergeable: bool = False,
                 expected_bytes: int = 0) -> None:
        self.r = report
        self.expected_bytes = expected_bytes  # of arkivstruktur.xml this pass reads: sizes the id table
        self.mergeable = mergeable  # the split pass: tables keyed alike in both processes (IdSet stable)
        self.src = source
        self.addml = addml
        self.version = (addml.version or "").strip() if addml else ""
        self.docs = documents  # IdSet of files on disk (None: listing not available)
        self.doc_dir = doc_dir
        self.identify = identify  # NP.01: callable(source, rel) -> (puid, name) or None
        self.approved = approved or {}
        self.progress = progress
        self.frame: Frame | None = None
        self.arkivdel_sid = ""
        self._init_state()
        self.start_handlers = {
            "arkiv": self._s_arkiv, "arkivdel": self._s_arkivdel,
            "klassifikasjonssystem": self._s_ks, "klasse": self._s_klasse,
            "mappe": self._s_mappe, "registrering": self._s_registrering,
            "dokumentbeskrivelse": self._s_dokbesk, "dokumentobjekt": self._s_dokobj,
        }
        self.end_handlers = {
            "arkiv": self._e_arkiv, "klassifikasjonssystem": self._e_ks, "klasse": self._e_klasse,
            "mappe": self._e_mappe, "registrering": self._e_registrering,
            "dokumentbeskrivelse": self._e_dokbesk, "dokumentobjekt": self._e_dokobj,
        }
        self.value_handlers = {
            "systemID": self._v_systemID, "arkivdelstatus": self._v_arkivdelstatus,
            "opprettetDato": self._v_opprettetDato, "saksstatus": self._v_saksstatus,
            "journalposttype": self._v_journalposttype, "journalstatus": self._v_journalstatus,
            "moeteregistreringsstatus": self._v_journalstatus,
            "dokumentstatus": self._v_dokumentstatus, "format": self._v_format,
            "referanseDokumentfil": self._v_field_at, "sjekksum": self._v_field_at,
            "sjekksumAlgoritme": self._v_field, "dokumentmedium": self._v_field,
            "registreringsID": self._v_field, "mappeID": self._v_field, "offentligTittel": self._v_field,
            "dokumentnummer": self._v_field, "tittel": self._v_field,
            "journaldato": self._v_journaldato, "referanseArkivdel": self._v_referanseArkivdel,
            "referanseSekundaerKlassifikasjon": self._v_refklasse,
            "avskrivningsmaate": self._v_avskrivningsmaate,
            "fodselsnummer": self._v_fnr, "klasseID": self._v_idnum, "partID": self._v_idnum,
            "skjermingMetadata": self._v_skjermingMetadata, "korrespondansepartNavn": self._v_field_kp,
            "saksaar": self._v_field, "sakssekvensnummer": self._v_field,
        }
        # elements only counted, per parent element name
        self.count_per_parent = {"merknad": "N5.36", "skjerming": "N5.42", "gradering": "N5.43",
                                 "kassasjon": "N5.44", "presedens": "N5.38",
                                 "referanseTilKlasse": "N5.37", "referanseTilMappe": "N5.37",
                                 "referanseTilRegistrering": "N5.37"}
        self.counted = {"korrespondansepart": "N5.39", "dokumentflyt": "N5.41",
                        "sakspart": "N5.35", "part": "N5.35", "konvertering": "N5.46"}
        self._fast_setup()

    def _init_state(self) -> None:
        """What the tests accumulate over the pass (merged by :meth:`merge` after a split pass)."""
        # every systemID; flag 1 = klasse, 2 = arkivdel.  Sized for ~1 id per 500 bytes (the writer's
        # extracts hold 1 per 700-900): no rehashing of a table of millions in Python, neither while
        # reading nor when the split pass merges the child's half in (each costs ~0.1 s per 500,000)
        self.ids = IdSet(1 << 16, stable=self.mergeable)
        self.ids.reserve(min(self.expected_bytes // 500, 1 << 20))
        self.dup_lines: dict[str, list[int]] = {}
        self.n = Counter()  # simple counts: "arkiv", "arkivdel", ...
        self.per = defaultdict(Counter)  # keyed breakdowns
        self.arkiv_levels = Counter()
        self.arkivdel_per_arkiv = Counter()
        self.arkivdel_status = []
        self.ks_per_arkivdel = Counter()
        self.ks_info = []  # (arkivdel, ks sid, primary, classes per level)
        self.mappe_years = Counter()
        self.reg_years = Counter()
        self.reg_dates: list[date | None] = [None, None]  # N5.27 min/max
        self.invalid_reg_dates: list[int] = []
        self.journal_dates: list[date | None] = [None, None]  # N5.60
        self.journalposts = 0
        self.formats = Counter()
        self.refs_arkivdel: dict[str, list] = {}  # value -> [count, first line, first systemID, element]
        self.refs_klasse: list[tuple[str, int, str]] = []
        self.screened = IdSet(stable=self.mergeable)  # NP.03: (journalpost sid | mappe key, value) hashes
        self.hash_cache: dict[tuple[str, str], str] = {}
        self.first_lines: dict[str, list[int]] = defaultdict(list)  # test -> a few locations
        self.head_ks: list[int] = []  # split pass: ks_info entries of classification systems opened before it
        self.prefix_trouble = False  # an element name with an undeclared namespace prefix was seen

    # ------------------------------------------------------------------ events

    def handle(self, ev: str, el) -> None:
        tag = el.tag
        if ev == "start":
            self._open(el, tag.rpartition("}")[2], self.frame)
            return
        if self.frame is not None:
            self._close(self.frame, el)

    # ------------------------------------------------------------------ the fast path

    #: elements reported one by one by the parser (pull_containers); everything else is walked as
    #: complete subtrees inside them.  registrering is one, so a huge mappe is never held whole.
    CONTAINERS = ("arkiv", "arkivdel", "klassifikasjonssystem", "klasse", "mappe", "registrering")

    def _fast_setup(self) -> None:
        self._stack: list = []  # (element, frame) of the open containers; frame None: not handled here
        self._leaf = Frame("", None, None, None)
        self._local: dict = {}
        self._tagmap: dict = {}  # tag -> _tag_info(tag)
        self._special = (set(self.start_handlers) | set(self.end_handlers) | set(self.count_per_parent)
                         | set(self.counted) | {"utfoertKassasjon"})

    def _name(self, tag) -> str:
        name = self._local.get(tag)
        if name is None:
            name = tag.rpartition("}")[2]
            if len(self._local) < 10000:
                self._local[tag] = name
        return name

    def container_start(self, el) -> None:
        """pull_containers callback: a container starts; the siblings before it are complete."""
        stack = self._stack
        if stack:
            pel, pf = stack[-1]
            if pf is None or el.getparent() is not pel:
                # not a child of the open container (a container name deeper inside a field):
                # it is walked with the subtree that holds it
                stack.append((el, None))
                return
            self._children(pel, pf, el)
            f = self._open(el, self._name(el.tag), pf)
        else:
            f = self._open(el, self._name(el.tag), None)
        stack.append((el, f))

    def container_end(self, el) -> None:
        """pull_containers callback: a container ends; its subtree is complete."""
        el_, f = self._stack.pop()
        if f is None:
            return
        self._children(el, f, None)
        self._close(f, el)
        parent = el.getparent()
        if parent is not None:
            parent.remove(el)
        else:
            el.clear(keep_tail=False)

    def _children(self, pel, pf, upto) -> None:
        """Walk and drop the complete children of ``pel`` before ``upto`` (all when None)."""
        n = self._walk_children(pel, pf, upto)
        if n:
            del pel[:n]

    def _walk_children(self, el, f: Frame, upto) -> int:
        """The children of ``el`` (frame ``f``) up to ``upto``; returns how many were walked.

        The hot loop of validation: most elements are leaves without a test of their own, so a leaf
        costs a tag, one dict lookup and a text; a leaf that only records its value for a message
        (_v_field) is stored here; only elements that tests care about get a frame.
        """
        tagmap = self._tagmap
        lf = self._leaf
        n = 0
        for c in el:
            if c is upto:
                break
            n += 1
            tag = c.tag
            info = tagmap.get(tag)
            if info is None:
                if tag.__class__ is not str:
                    continue
                info = self._tag_info(tag)
            name, special, h = info
            f.has_child = True
            if special or len(c):
                cf = self._open(c, name, f)
                self._walk_children(c, cf, None)
                self._close(cf, c)
                continue
            text = c.text
            value = text.strip() if text else ""
            if value:
                if h is None:
                    continue
                if h is _FIELD:  # _v_field inlined: the commonest handler
                    d = f.data
                    if d is not None and d.__class__ is dict:
                        d[name] = value
                    continue
            lf.name, lf.line, lf.parent, lf.sid, lf.data = name, c.sourceline, f, None, None
            if not value:
                self._empty(lf)
            if h is _FIELD:
                self._v_field(lf, value)
            elif h is not None:
                h(lf, value)
        return n

    def _tag_info(self, tag: str) -> tuple:
        """(local name, has start/end/count handling, value handler) of a tag, kept for the next time."""
        name = self._name(tag)
        if ":" in tag and tag[0] != "{":
            self.prefix_trouble = True  # an undeclared prefix: libxml2 reads on, see validation.parallel
        h = self.value_handlers.get(name)
        if h is not None and getattr(h, "__func__", None) is ContentPass._v_field:
            h = _FIELD
        info = (name, name in self._special, h)
        if len(self._tagmap) < 10000:
            self._tagmap[tag] = info
        return info

    def _open(self, el, name: str, parent: Frame | None) -> Frame:
        if parent is not None:
            parent.has_child = True
        xt = None
        if name in _TYPED:  # xsi:type matters to the tests of these only
            xt = el.get(XSI_TYPE)
            if xt is not None:
                xt = xt.rpartition(":")[2]
        f = Frame(name, el.sourceline, parent, xt)
        self.frame = f
        h = self.start_handlers.get(name)
        if h is not None:
            h(f)
        if name in self.count_per_parent:
            pname = parent.name if parent else ""
            self.per[name][pname] += 1
            if len(self.first_lines[name]) < 1000:
                self.first_lines[name].append(f.line)
        elif name in self.counted:
            self.n[name] += 1
        elif name == "utfoertKassasjon" and parent and parent.name in ("arkivdel", "dokumentbeskrivelse"):
            self.n[name] += 1
            if len(self.first_lines[name]) < 1000:
                self.first_lines[name].append(f.line)
        return f

    def _close(self, f: Frame, el) -> None:
        if not f.has_child:
            text = el.text
            value = text.strip() if text else ""
            if not value:
                self._empty(f)
            h = self.value_handlers.get(f.name)
            if h is not None:
                h(f, value)
        h = self.end_handlers.get(f.name)
        if h is not None:
            h(f)
        self.frame = f.parent

    # ------------------------------------------------------------------ the split pass (split.py)
    #
    # One half of arkivstruktur.xml is read here, the other in a child process.  The parent's pass
    # stops where the child's begins (at a top-level unit under a klassifikasjonssystem or arkivdel)
    # and calls flush(); the child reads the same head (the open ancestors), calls begin_tail() and
    # then the rest of the file.  merge() adds the child's state to the parent's: the result is the
    # state one pass over the whole file would have left (tests/test_split.py checks that).

    #: the containers that may be open where a split pass divides the file (their state merges)
    SPLIT_ANCESTORS = ("arkiv", "arkivdel", "klassifikasjonssystem")

    def open_path(self) -> list[tuple[str, int | None]]:
        """The open containers (name, line of their start tag), outermost first."""
        return [(f.name, f.line) if f is not None else (el.tag, el.sourceline) for el, f in self._stack]

    def flush(self) -> None:
        """Walk the complete children of the innermost open container (the pass pauses here)."""
        if self._stack:
            el, f = self._stack[-1]
            if f is not None:
                self._children(el, f, None)

    def begin_tail(self, report: Report) -> None:
        """From here on, count only what follows: the head was the parent's to count."""
        self.flush()
        self.r = report
        self._init_state()
        for _el, f in self._stack:
            if f is not None and f.name == "klassifikasjonssystem":
                f.data = {"primary": False, "levels": Counter(), "empty": 0, "head": True}

    _STATE = ("ids", "dup_lines", "n", "per", "arkiv_levels", "arkivdel_per_arkiv", "arkivdel_status",
              "ks_per_arkivdel", "ks_info", "mappe_years", "reg_years", "reg_dates", "invalid_reg_dates",
              "journal_dates", "journalposts", "formats", "refs_arkivdel", "refs_klasse", "screened",
              "first_lines", "head_ks", "prefix_trouble")

    def export_state(self) -> dict:
        """The accumulated state (picklable), with the document table's flags when there is one."""
        state = {name: getattr(self, name) for name in self._STATE}
        state["docs"] = self.docs
        return state

    def merge(self, state: dict, read_lines) -> None:
        """Add the state of the pass that read the rest of the file (see the section comment).

        ``read_lines(numbers)`` returns {number: text} of lines of arkivstruktur.xml, in one scan: a
        systemID found once in each half is named from its lines (the tables hold only keys).
        """
        # the classification system open at the split closed in the other half: one entry
        open_ks = [f for _el, f in self._stack if f is not None and f.name == "klassifikasjonssystem"]
        ks_info = list(state["ks_info"])
        for f, idx in zip(open_ks, state["head_ks"]):
            ad, sid, primary, levels, empty = ks_info[idx]
            d = f.data
            levels = Counter(d["levels"]) + Counter(levels)
            ks_info[idx] = (ad, sid, primary or d["primary"], levels, empty + d["empty"])
        self._stack.clear()
        self.frame = None
        self.ks_info.extend(ks_info)
        # systemIDs: a value in both halves is a duplicate, as in one pass
        both = self.ids.merge(state["ids"])
        theirs = dict(state["dup_lines"])
        added = []  # (line where the value became a duplicate, value, lines): the one-pass order
        if both:
            names = {self.ids.key(v): v for v in (*self.dup_lines, *theirs)}
            unnamed = [(line_here, line_there) for k, line_here, line_there in both if k not in names]
            if unnamed:
                # libxml2 numbers lines past 65,535 one higher: the line before is read too (a value
                # is taken only if its key is the one found in both halves)
                text = read_lines([m for pair in unnamed for n in pair for m in (n, n - 1)])
                for k, line_here, line_there in both:
                    if k not in names:
                        for line in (line_here, line_here - 1, line_there, line_there - 1):
                            for v in _systemids_in(text.get(line)):
                                names.setdefault(self.ids.key(v), v)
            for k, line_here, line_there in both:
                value = names.get(k) or f"(unreadable: see lines {line_here} and {line_there})"
                there = theirs.pop(value, None) or [line_there]
                here = self.dup_lines.get(value)
                if here is not None:
                    here.extend(there)
                else:
                    added.append((there[0], value, [line_here, *there]))
        added.extend((lines[1], value, lines) for value, lines in theirs.items())
        added.sort(key=lambda item: item[0])
        for _line, value, lines in added:
            self.dup_lines[value] = lines
        state["ids"] = None  # merged: its memory goes before the next table's
        self.screened.merge(state["screened"])
        if self.docs is not None and state["docs"] is not None:
            self.docs.merge_flags(state["docs"], both=F_REFERENCED, mark=F_MULTI)
        state["docs"] = state["screened"] = None
        for name in ("n", "arkiv_levels", "arkivdel_per_arkiv", "ks_per_arkivdel", "mappe_years", "reg_years",
                     "formats"):
            getattr(self, name).update(state[name])
        if self.screened.count:
            self.n["NP.03 screened"] = self.screened.count
        for key, counter in state["per"].items():
            self.per[key].update(counter)
        for name, lines in state["first_lines"].items():
            mine = self.first_lines[name]
            mine.extend(lines[:max(0, 1000 - len(mine))])
        self.arkivdel_status.extend(state["arkivdel_status"])
        self.invalid_reg_dates.extend(state["invalid_reg_dates"])
        self.refs_klasse.extend(state["refs_klasse"])
        for value, entry in state["refs_arkivdel"].items():
            mine = self.refs_arkivdel.get(value)
            if mine is None:
                self.refs_arkivdel[value] = entry
            else:
                mine[0] += entry[0]
        self.journalposts += state["journalposts"]
        self.prefix_trouble = self.prefix_trouble or state["prefix_trouble"]
        for mine, theirs in ((self.reg_dates, state["reg_dates"]), (self.journal_dates, state["journal_dates"])):
            lo, hi = theirs
            if lo is not None and (mine[0] is None or lo < mine[0]):
                mine[0] = lo
            if hi is not None and (mine[1] is None or hi > mine[1]):
                mine[1] = hi

    def release(self) -> None:
        """Drop the tables now (the handler dicts make a reference cycle, which only the cyclic
        garbage collector would free, later): a caller such as package goes on to write the tar."""
        self.expected_bytes = 0
        self._init_state()
        self.ids = self.screened = self.docs = None
        for table in (self.start_handlers, self.end_handlers, self.value_handlers, self._tagmap, self._local):
            table.clear()
        self._stack.clear()
        self.frame = None

    # ------------------------------------------------------------------ helpers

    def add(self, test: str, severity: str, message: str, f: Frame | None = None, *,
            line: int | None = None, systemID: str | None = None, file: str = AS_FILE) -> None:
        if f is not None:
            line = line or f.line
            systemID = systemID or f.systemID()
        self.r.add(test, severity, message, file=file, line=line, systemID=systemID)

    def _up(self, f: Frame, name: str) -> Frame | None:
        p = f.parent
        while p is not None:
            if p.name == name:
                return p
            p = p.parent
        return None

    def _empty(self, f: Frame) -> None:
        # N5.63: Arkade locates this "after systemID X"; we give the line and that systemID.
        self.add("N5.63", "error", f"element {f.name} has no content", f)

    # ------------------------------------------------------------------ structure elements

    def _s_arkiv(self, f):
        level = 1
        p = f.parent
        while p is not None:
            if p.name == "arkiv":
                level += 1
            p = p.parent
        self.arkiv_levels[level] += 1

    def _e_arkiv(self, f):
        pass

    def _s_arkivdel(self, f):
        self.n["arkivdel"] += 1
        self.arkivdel_per_arkiv[(f.parent.sid if f.parent else None) or "?"] += 1

    def _s_ks(self, f):
        f.data = {"primary": False, "levels": Counter(), "empty": 0}
        if f.parent and f.parent.name == "arkivdel":
            self.ks_per_arkivdel[f.parent.sid or "?"] += 1

    def _e_ks(self, f):
        d = f.data
        if d.get("head"):
            self.head_ks.append(len(self.ks_info))
        self.ks_info.append((self.arkivdel_sid, f.sid, d["primary"], d["levels"], d["empty"]))

    def _s_klasse(self, f):
        ks = self._up(f, "klassifikasjonssystem")
        level = 1
        p = f.parent
        while p is not None and p.name == "klasse":
            level += 1
            p = p.parent
        if ks is not None:
            ks.data["levels"][level] += 1
        # [sub-klasse, mappe, registrering] directly under this class
        f.data = [0, 0, 0]
        if f.parent is not None and f.parent.name == "klasse":
            f.parent.data[0] += 1

    def _e_klasse(self, f):
        sub, mapper, regs = f.data
        sid = f.sid or "?"
        if sub and mapper:
            self.add("N5.12", "error", f"klasse {sid} has both sub-classes and folders (mappe)", f)
        if sub and regs:
            self.add("N5.19", "error", f"klasse {sid} has both sub-classes and registrations", f)
        self.per["N5.13"]["with" if mapper else "without"] += 1
        self.n["N5.13 mapper"] += mapper
        self.per["N5.20"]["with" if regs else "without"] += 1
        self.n["N5.20 regs"] += regs
        if not (sub or mapper or regs):
            ks = self._up(f, "klassifikasjonssystem")
            if ks is not None:
                ks.data["empty"] += 1

    def _mark_primary(self, f):
        ks = self._up(f, "klassifikasjonssystem")
        if ks is not None:
            ks.data["primary"] = True

    def _s_mappe(self, f):
        self._mark_primary(f)
        level = 1
        p = f.parent
        while p is not None and p.name == "mappe":
            level += 1
            p = p.parent
        self.per["N5.10"][(f.type or "mappe", level)] += 1
        # state: [has sub-mappe or registrering, candidate lists for N5.21/N5.24/N5.64, status]
        f.data = {"content": False, "pending": [], "status": None}
        if f.parent is not None:
            if f.parent.name == "klasse":
                f.parent.data[1] += 1
            elif f.parent.name == "mappe":
                f.parent.data["content"] = True

    def _e_mappe(self, f):
        d = f.data
        if not d["content"]:
            self.n["N5.14"] += 1
            self.add("N5.14", "info",
                     f"folder without registrations or sub-folders: systemID {f.sid or '?'}, "
                     f"mappeID {d.get('mappeID') or '?'}, offentligTittel {d.get('offentligTittel') or '?'}", f)
        utgaar = (d["status"] or "").lower() == "utgår"
        parent_mappe = f.parent if f.parent is not None and f.parent.name == "mappe" else None
        if not utgaar:
            if parent_mappe is not None:
                parent_mappe.data["pending"].extend(d["pending"])
            else:
                self._commit(d["pending"])

    def _commit(self, pending):
        """Report findings that waited for their folders' status (none was 'Utgår')."""
        for test, message, line, sid in pending:
            self.n[test] += 1
            self.r.add(test, "info", message, file=AS_FILE, line=line, systemID=sid)

    def _defer(self, f: Frame, item):
        m = self._up(f, "mappe")
        if m is not None:
            m.data["pending"].append(item)
        else:
            self._commit([item])

    def _s_registrering(self, f):
        self._mark_primary(f)
        self.n["registrering"] += 1
        self.per["N5.16"][f.type or "registrering"] += 1
        if f.type == "journalpost":
            self.journalposts += 1
        f.data = {"dokbesk": False, "status": None, "pending": []}
        if f.parent is not None:
            if f.parent.name == "klasse":
                f.parent.data[2] += 1
            elif f.parent.name == "mappe":
                f.parent.data["content"] = True

    def _e_registrering(self, f):
        d = f.data
        utgaar = (d["status"] or "").lower() == "utgår"
        if utgaar:
            return
        items = d["pending"]
        if not d["dokbesk"]:
            items.append(("N5.21", f"registration without document description: systemID {f.sid or '?'}, "
                                   f"registreringsID {d.get('registreringsID') or '?'}", f.line, f.sid))
        if items:
            m = self._up(f, "mappe")
            if m is not None:
                m.data["pending"].extend(items)
            else:
                self._commit(items)

    def _s_dokbesk(self, f):
        self.n["dokumentbeskrivelse"] += 1
        f.data = {"objects": 0}
        reg = f.parent if f.parent is not None and f.parent.name == "registrering" else None
        if reg is not None:
            reg.data["dokbesk"] = True

    def _e_dokbesk(self, f):
        d = f.data
        if d["objects"] == 0:
            medium = (d.get("dokumentmedium") or "").lower()
            if medium in ("fysisk medium", "fysisk arkiv"):
                self.n["N5.24 physical"] += 1
            else:
                reg = self._up(f, "registrering")
                item = ("N5.24", f"document description without document object: systemID {f.sid or '?'}, "
                                 f"registreringsID {(reg.data or {}).get('registreringsID') if reg else '?'}, "
                                 f"dokumentnummer {d.get('dokumentnummer') or '?'}", f.line, f.sid)
                if reg is not None:
                    reg.data["pending"].append(item)
                else:
                    self._defer(f, item)

    def _s_dokobj(self, f):
        self.n["dokumentobjekt"] += 1
        f.data = {}
        db = f.parent if f.parent is not None and f.parent.name == "dokumentbeskrivelse" else None
        if db is not None:
            db.data["objects"] += 1

    def _e_dokobj(self, f):
        d = f.data
        ref = d.get("referanseDokumentfil")
        fmt = d.get("format")
        sid = f.systemID()
        db = self._up(f, "dokumentbeskrivelse")
        db_sid = db.sid if db is not None else None
        if fmt is not None and ref:
            self._check_extension(f, ref, fmt)
        if not ref:
            return
        key = norm_ref(ref)
        line = d.get("referanseDokumentfil_line", f.line)
        # N5.32 / N5.33 / N5.34
        on_disk = None
        if self.docs is not None:
            old = self.docs.set_flags(key, F_REFERENCED)
            on_disk = old is not None and old & F_ON_DISK
            if old is not None and old & F_REFERENCED:
                self.docs.set_flags(key, F_MULTI)
        if on_disk is None:
            on_disk = self.src.exists(key)
        if not on_disk:
            self.add("N5.32", "error", f"referenced document file not found: {ref}", f, line=line)
            self.add("N5.30", "error", f"cannot verify the checksum: document file not found: {ref}",
                     f, line=line, systemID=db_sid or sid)
            return
        # N5.64: empty files (reported once their registration/folder is known not to be 'Utgår')
        size = self.src.size(key)
        if size == 0:
            reg = self._up(f, "registrering")
            item = ("N5.64", f"empty document file: {ref} (dokumentbeskrivelse {db_sid or '?'}, "
                             f"registreringsID {(reg.data or {}).get('registreringsID') if reg else '?'}, "
                             f"dokumentnummer {(db.data or {}).get('dokumentnummer') if db else '?'})", line, db_sid)
            if reg is not None:
                reg.data["pending"].append(item)
            else:
                self._defer(f, item)
        # N5.30
        if self.r.wants("N5.30"):
            self._check_checksum(f, key, ref, d, line, db_sid)
        # NP.01
        if self.identify is not None and self.r.wants("NP.01"):
            self._check_format(f, key, ref, fmt, line, sid)

    def _check_extension(self, f, ref, fmt):
        """N5.29: the file extension against a file-extension format value."""
        fmt_l = fmt.lower()
        self.formats[fmt_l] += 1
        if _PUID.match(fmt):
            return  # a PRONOM id: NP.01 identifies the file instead of guessing from its name
        dot = ref.replace("\\", "/").rsplit("/", 1)[-1]
        ext = "." + dot.rsplit(".", 1)[1].lower() if "." in dot else ""
        if ext and ext != f".{fmt_l}":
            self.n["N5.29 mismatch"] += 1
            self.add("N5.29", "error", f"format mismatch: {ref} has extension {ext} but format is {fmt!r}", f)

    def _check_checksum(self, f, key, ref, d, line, db_sid):
        expected = (d.get("sjekksum") or "").strip()
        algo_name = d.get("sjekksumAlgoritme")
        algo = hash_algorithm(algo_name)
        where = dict(line=d.get("sjekksum_line", line), systemID=db_sid)
        if algo_name is None:
            algo = "sha256"
            self.add("N5.30", "warning", f"{ref}: no sjekksumAlgoritme; SHA-256 assumed", f, **where)
        elif algo is None:
            self.add("N5.30", "error", f"{ref}: unsupported sjekksumAlgoritme {algo_name!r} "
                                       "(supported: SHA-256, SHA-384, SHA-512, SHA-1, MD5)", f, **where)
            return
        if not expected:
            self.add("N5.30", "error", f"{ref}: no sjekksum recorded", f, **where)
            return
        actual = self.hash_cache.get((key, algo))
        if actual is None:
            h = hashlib.new(algo)
            try:
                with self.src.open(key) as fh:
                    while True:
                        chunk = fh.read(1 << 20)
                        if not chunk:
                            break
                        h.update(chunk)
            except OSError as exc:
                self.add("N5.30", "error", f"{ref}: cannot be read: {exc}", f, **where)
                return
            actual = h.hexdigest()
            if len(self.hash_cache) > 4096:
                self.hash_cache.clear()
            self.hash_cache[(key, algo)] = actual
        self.n["N5.30 checked"] += 1
        if actual.lower() != expected.lower():
            self.add("N5.30", "error", f"checksum mismatch for {ref} (dokumentbeskrivelse {db_sid or '?'}): "
                                       f"recorded {expected.lower()}, computed {actual} ({algo.upper()})", f, **where)

    def _check_format(self, f, key, ref, fmt, line, sid):
        try:
            ident = self.identify(self.src, key)
        except Exception as exc:  # noqa: BLE001 - one unreadable file is a finding
            self.add("NP.01", "warning", f"{ref}: format identification failed: {exc}", f, line=line)
            return
        if ident is None:
            return
        puid, label = ident
        self.per["NP.01"][puid] += 1
        if puid == "UNKNOWN":
            self.add("NP.01", "warning", f"{ref}: Siegfried could not identify the format", f, line=line)
            return
        entry = self.approved.get(puid)
        if entry is None:
            self.add("NP.01", "error", f"{ref}: {puid} ({label}) is not an approved archival format "
                                       "(Riksarkivarens forskrift § 5-17)", f, line=line)
        elif entry.get("valid_to"):
            self.add("NP.01", "warning", f"{ref}: {puid} ({entry['name']}) was an archival format only until "
                                         f"{entry['valid_to']}", f, line=line)
        if fmt and _PUID.match(fmt) and fmt.lower() != puid.lower():
            self.add("NP.01", "warning", f"{ref}: dokumentobjekt/format says {fmt} but Siegfried identifies {puid} ({label})",
                     f, line=line)

    # ------------------------------------------------------------------ values

    def _v_systemID(self, f, value):
        p = f.parent
        if p is None:
            return
        p.sid = value
        if p.name == "arkivdel":
            self.arkivdel_sid = value
        flag = 1 if p.name == "klasse" else (2 if p.name == "arkivdel" else 0)
        first = self.ids.add(value, f.line, flag)
        if first is not None:
            lines = self.dup_lines.get(value)
            if lines is None:
                self.dup_lines[value] = [first, f.line]
            else:
                lines.append(f.line)

    @staticmethod
    def _fields_of_parent(f) -> dict | None:
        """The dict where ``f``'s parent keeps its children's values, if it keeps any."""
        p = f.parent
        d = p.data if p is not None else None
        return d if d.__class__ is dict else None

    def _v_field(self, f, value):
        """A value kept on its parent for messages (and inlined in _walk_children)."""
        d = self._fields_of_parent(f)
        if d is not None:
            d[f.name] = value

    def _v_field_at(self, f, value):
        """A value kept on its parent with its line (findings about it point there)."""
        d = self._fields_of_parent(f)
        if d is not None:
            d[f.name] = value
            d[f.name + "_line"] = f.line

    def _v_field_kp(self, f, value):
        # korrespondansepart/korrespondansepartNavn: the journalpost screens it via skjermingMetadata
        reg = self._up(f, "registrering")
        if reg is not None and reg.data is not None:
            reg.data.setdefault("names", []).append(value)

    def _v_arkivdelstatus(self, f, value):
        if f.parent is not None and f.parent.name == "arkivdel":
            self.arkivdel_status.append((f.parent.sid, value))

    def _v_opprettetDato(self, f, value):
        p = f.parent
        if p is None:
            return
        if p.name == "mappe":
            d = parse_date(value)
            if d is not None:
                self.mappe_years[d.year] += 1
        elif p.name == "registrering":
            d = parse_date(value)
            if d is None:
                self.invalid_reg_dates.append(f.line)
                self.add("N5.27", "error", f"invalid registrering/opprettetDato {value!r}", f)
                return
            self.reg_years[d.year] += 1
            lo, hi = self.reg_dates
            if lo is None or d < lo:
                self.reg_dates[0] = d
            if hi is None or d > hi:
                self.reg_dates[1] = d

    def _v_journaldato(self, f, value):
        if f.parent is None or f.parent.name != "registrering":
            return
        d = parse_date(value)
        if d is None:
            return
        lo, hi = self.journal_dates
        if lo is None or d < lo:
            self.journal_dates[0] = d
        if hi is None or d > hi:
            self.journal_dates[1] = d

    def _v_saksstatus(self, f, value):
        p = f.parent
        if p is None or p.name != "mappe":
            return
        p.data["status"] = value
        self.per["N5.15"][value] += 1
        if value not in ("Avsluttet", "Utgår"):
            self.add("N5.15", "error", f"saksstatus {value!r}: a deposited folder must be 'Avsluttet' (or 'Utgår')", f)

    def _v_journalposttype(self, f, value):
        p = f.parent
        if p is None or p.name != "registrering" or p.type != "journalpost":
            return
        self.per["N5.17"][value] += 1
        if not value:
            self.add("N5.17", "error", "empty journalposttype", f)

    def _v_journalstatus(self, f, value):
        p = f.parent
        if p is None or p.name != "registrering":
            return
        p.data["status"] = value
        if f.name != "journalstatus":
            return
        self.per["N5.22"][value] += 1
        if value not in ("Arkivert", "Utgår"):
            self.add("N5.22", "error", f"journalstatus {value!r}: a deposited journal record must be 'Arkivert' (or 'Utgår')", f)

    def _v_dokumentstatus(self, f, value):
        if f.parent is None or f.parent.name != "dokumentbeskrivelse":
            return
        self.per["N5.25"][value] += 1
        if value != "Dokumentet er ferdigstilt":
            self.add("N5.25", "error", f"dokumentstatus {value!r}: must be 'Dokumentet er ferdigstilt'", f)

    def _v_format(self, f, value):
        p = f.parent
        if p is not None and p.name == "dokumentobjekt":
            p.data["format"] = value

    def _v_referanseArkivdel(self, f, value):
        p = f.parent
        if p is None or p.name not in ("mappe", "registrering", "dokumentbeskrivelse"):
            return
        e = self.refs_arkivdel.get(value)
        if e is None:
            self.refs_arkivdel[value] = [1, f.line, p.systemID(), p.name]
        else:
            e[0] += 1

    def _v_refklasse(self, f, value):
        p = f.parent
        if p is not None and p.name == "mappe" and p.type == "saksmappe":
            self.refs_klasse.append((value, f.line, p.systemID()))

    def _v_avskrivningsmaate(self, f, value):
        if f.parent is not None and f.parent.name == "avskrivning":
            self.per["N5.40"][value] += 1

    def _v_fnr(self, f, value):
        if not f.name.startswith("fodselsnummer") or f.parent is None:
            return
        self._person_number(f, value, "warning", "epj:fodselsnummer")

    def _v_idnum(self, f, value):
        if len(value) == 11 and value.isdigit():
            self._person_number(f, value, "warning", f.name)

    def _person_number(self, f, value, severity, what):
        from ..model.identifiers import PersonNumberError, validate_person_number

        self.n["NP.02 checked"] += 1
        try:
            validate_person_number(value)
        except PersonNumberError as exc:
            # never the number itself: the message of PersonNumberError holds no digits
            self.add("NP.02", severity, f"{what} is not a valid fødselsnummer, D-nummer or H-nummer ({exc})", f)

    def _v_skjermingMetadata(self, f, value):
        sk = f.parent
        owner = sk.parent if sk is not None else None
        if owner is None or owner.data is None or not isinstance(owner.data, dict):
            return
        owner.data.setdefault("screens", []).append(value.lower())

    # ------------------------------------------------------------------ NP.03 bookkeeping

    def screened_values(self, f: Frame):
        """Remember the screened values of a journalpost (or saksmappe) for NP.03."""
        d = f.data
        screens = d.get("screens") if d else None
        if not screens:
            return
        if f.name == "registrering" and f.sid:
            key = f"jp:{f.sid}"
        elif f.name == "mappe" and d.get("saksaar") and d.get("sakssekvensnummer"):
            key = f"sm:{d['saksaar']}/{d['sakssekvensnummer']}"
        else:
            return
        for s in screens:
            if s.startswith("skjerming tittel") and d.get("tittel"):
                self.screened.add(f"{key}\x1ftittel\x1f{d['tittel']}")
            if s.startswith("skjerming navn") or s.startswith("skjerming korrespondansepart"):
                for n in d.get("names", []):
                    self.screened.add(f"{key}\x1fnavn\x1f{n}")
        if self.screened.count:
            self.n["NP.03 screened"] = self.screened.count


_SYSTEMID_ELEMENT = re.compile(r"<((?:[\w.-]+:)?)systemID\b[^>]*>.*?</\1systemID\s*>", re.S)


def _systemids_in(line: str | None) -> list[str]:
    """The systemID values written on one line of the file (entities and CDATA resolved)."""
    from lxml import etree

    values = []
    for m in _SYSTEMID_ELEMENT.finditer(line or ""):
        fragment = re.sub(r"^<[\w.-]+:", "<", re.sub(r"</[\w.-]+:", "</", m.group(0)))
        try:
            el = etree.fromstring(fragment.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True))
        except etree.XMLSyntaxError:
            continue
        values.append((el.text or "").strip())
    return values


def _wrap_np03(cp: ContentPass) -> None:
    """Let registrering/mappe ends also record screened values (kept out of the hot path)."""
    e_reg, e_mappe = cp._e_registrering, cp._e_mappe

    def reg_end(f):
        cp.screened_values(f)
        e_reg(f)

    def mappe_end(f):
        cp.screened_values(f)
        e_mappe(f)

    cp.end_handlers["registrering"] = reg_end
    cp.end_handlers["mappe"] = mappe_end


__all__ = ["ContentPass", "parse_date", "hash_algorithm", "F_ON_DISK", "F_REFERENCED", "F_MULTI", "_wrap_np03"]
