"""The walker of the content tests: one streaming pass over arkivstruktur.xml, dispatching to the groups.

:class:`ContentPass` receives the parser's events (from :func:`..xmlstream.pull_containers`, or
start/end events from :func:`..xmlstream.stream_xml`), keeps one small :class:`~.base.Frame` per open
element, and dispatches by element name to the groups that care: a dict lookup per event, not 54
subscribers per event as in Arkade.  The groups (:mod:`.structure`, :mod:`.documents`, ...) declare
their handlers; they are composed into the dispatch tables once, when the pass is set up.

The split pass (:mod:`..parallel`): one half of arkivstruktur.xml is read here, the other in a child
process.  The parent's pass stops where the child's begins (at a top-level unit under a
klassifikasjonssystem or arkivdel) and calls :meth:`ContentPass.flush`; the child reads the same head
(the open ancestors), calls :meth:`ContentPass.begin_tail` and then the rest of the file.
:meth:`ContentPass.merge` adds the child's state to the parent's, group by group: the result is the
state one pass over the whole file would have left.
"""

from __future__ import annotations

from collections import Counter

from ...idset import IdSet
from ...locale import tr
from ..report import Report
from ..source import ExtractSource
from .base import AS_FILE, FIELD, FIELD_AT, XSI_TYPE, Frame, up

#: the elements whose xsi:type (saksmappe, journalpost, ...) the tests read (Frame.type)
_TYPED = frozenset(("mappe", "registrering"))

#: _tag_info's marker for the _v_field handler (inlined in the hot loop)
_FIELD = object()


def _compose(first, second, value: bool):
    """One handler that calls two groups' handlers for the same element, in group order."""
    if value:
        def both_values(f, v):
            first(f, v)
            second(f, v)
        return both_values

    def both(f):
        first(f)
        second(f)
    return both


class ContentPass:
    """All content tests of one arkivstruktur.xml pass; call :meth:`finish` after the pass.

    The walker's own test is N5.63 (an element without content), found in its hot loop.
    """

    TESTS = ("N5.63",)

    def __init__(self, report: Report, source: ExtractSource, addml, *, groups, documents: IdSet | None,
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
        self.arkivdel_sid = ""  # the systemID of the arkivdel read last
        self._init_state()
        self.groups = [cls(self) for cls in groups]
        for g in self.groups:
            setattr(self, g.NAME, g)
        self._field = self._v_field  # one bound method: _tag_info recognises it by identity
        self.start_handlers: dict = {}
        self.end_handlers: dict = {}
        self.value_handlers: dict = {}
        for g in self.groups:
            if not g.active():
                continue
            for table, declared in ((self.start_handlers, g.START), (self.end_handlers, g.END),
                                    (self.value_handlers, g.VALUE)):
                value = table is self.value_handlers
                for name, method in declared.items():
                    if method == FIELD:
                        h = self._field
                    elif method == FIELD_AT:
                        h = self._v_field_at
                    else:
                        h = getattr(g, method)
                    old = table.get(name)
                    if old is None or old == h:
                        table[name] = h
                    else:
                        table[name] = _compose(old, h, value)
        self._fast_setup()

    def _init_state(self) -> None:
        """The walker's own state (the groups keep theirs)."""
        self.committed = Counter()  # findings reported once their folders were known not to be 'Utgår'
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
        self._special = set(self.start_handlers) | set(self.end_handlers)

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
        """(local name, has start/end handling, value handler) of a tag, kept for the next time."""
        name = self._name(tag)
        if ":" in tag and tag[0] != "{":
            self.prefix_trouble = True  # an undeclared prefix: libxml2 reads on, see validation.parallel
        h = self.value_handlers.get(name)
        if h is not None and h is self._field:
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

    # ------------------------------------------------------------------ values kept for messages

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

    # ------------------------------------------------------------------ the split pass (validation.parallel)

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
        open_frames = [f for _el, f in self._stack if f is not None]
        for g in self.groups:
            g.reset()
            g.begin_tail(open_frames)

    def export_state(self, workdir=None) -> dict:
        """The accumulated state, per group (picklable; with ``workdir``, big tables go to files there)."""
        state = {g.NAME: g.export_state(workdir) for g in self.groups}
        state[""] = {"committed": self.committed, "prefix_trouble": self.prefix_trouble}
        return state

    def merge(self, state: dict, read_lines) -> None:
        """Add the state of the pass that read the rest of the file (see the module docstring).

        ``read_lines(numbers)`` returns {number: text} of lines of arkivstruktur.xml, in one scan (a
        systemID found once in each half is named from its lines: the tables hold only keys).
        """
        for g in self.groups:  # each group's part is dropped once merged: its memory goes before the next
            g.merge(state.pop(g.NAME), read_lines)
        self._stack.clear()
        self.frame = None
        mine = state.pop("")
        self.committed.update(mine["committed"])
        self.prefix_trouble = self.prefix_trouble or mine["prefix_trouble"]

    def release(self) -> None:
        """Drop the tables now (the handler dicts make a reference cycle, which only the cyclic
        garbage collector would free, later): a caller such as package goes on to write the tar."""
        self.expected_bytes = 0
        self._init_state()
        for g in self.groups:
            g.release()
        self.docs = None
        for table in (self.start_handlers, self.end_handlers, self.value_handlers, self._tagmap, self._local):
            table.clear()
        self._stack.clear()
        self.frame = None

    # ------------------------------------------------------------------ after the pass

    def finish(self, addml_name: str | None) -> None:
        """Every group's results that need the whole pass, in the order Arkade lists them."""
        from .. import catalogue

        r = self.r
        for t in self.TESTS:
            r.mark_ran(t)
        for g in self.groups:
            for t in g.TESTS:
                if catalogue.get(t).kind == "content":
                    r.mark_ran(t)
        for g in self.groups:
            g.report(addml_name)
        for g in self.groups:
            g.report_last(addml_name)

    # ------------------------------------------------------------------ helpers for the groups

    def add(self, test: str, severity: str, message: str, f: Frame | None = None, *,
            line: int | None = None, systemID: str | None = None, file: str = AS_FILE) -> None:
        if f is not None:
            line = line or f.line
            systemID = systemID or f.systemID()
        self.r.add(test, severity, message, file=file, line=line, systemID=systemID)

    def _empty(self, f: Frame) -> None:
        # N5.63: Arkade locates this "after systemID X"; we give the line and that systemID.
        self.add("N5.63", "error", tr("element {element} has no content", element=f.name), f)

    def commit(self, pending) -> None:
        """Report findings that waited for their folders' status (none was 'Utgår')."""
        for test, message, line, sid in pending:
            self.committed[test] += 1
            self.r.add(test, "info", message, file=AS_FILE, line=line, systemID=sid)

    def defer(self, f: Frame, item) -> None:
        """Report ``item`` once the folder holding ``f`` is known not to be 'Utgår' (now, if none does)."""
        m = up(f, "mappe")
        if m is not None:
            m.data["pending"].append(item)
        else:
            self.commit([item])
