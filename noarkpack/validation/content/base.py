"""What the content tests share: the open-element :class:`Frame`, the :class:`Group` a set of tests
declares itself with, and small value parsers (dates, checksum algorithm names)."""

from __future__ import annotations

import re
from datetime import date

AS_FILE = "arkivstruktur.xml"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"

# flags in the document-file IdSet
F_ON_DISK = 1
F_REFERENCED = 2
F_MULTI = 4

#: a group's value handler that only keeps the value on its parent's dict (for messages); inlined in the
#: walker's hot loop
FIELD = "field"
#: likewise, with the value's line (findings about the value point there)
FIELD_AT = "field_at"

_DATE = re.compile(r"^\s*((-?\d{4,})-(\d\d)-(\d\d))(?:T\d\d:\d\d:\d\d(?:\.\d+)?)?(?:Z|[+-]\d\d:\d\d)?\s*$")
#: parse_date's results per date part ("2019-05-01"): an extract holds few distinct days
_DAYS: dict[str, date | None] = {}
_MISSING = object()

HASHES = {"sha256": "sha256", "sha-256": "sha256", "sha512": "sha512", "sha-512": "sha512",
          "sha384": "sha384", "sha-384": "sha384", "sha1": "sha1", "sha-1": "sha1", "md5": "md5"}


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


def up(f: Frame, name: str) -> Frame | None:
    """The nearest ancestor of ``f`` named ``name``."""
    p = f.parent
    while p is not None:
        if p.name == name:
            return p
        p = p.parent
    return None


class Group:
    """A set of content tests: what they claim, the elements they handle, their state, their report.

    ``TESTS``: the catalogue ids the group answers for.  ``START``/``END`` map an element name to the
    name of a method called with its :class:`Frame` when the element opens/closes; ``VALUE`` maps a leaf
    element to a method called with (frame, stripped text), or to :data:`FIELD`/:data:`FIELD_AT`.  The
    :class:`~.walker.ContentPass` composes every group's handlers into one dispatch table at set-up.

    State: :meth:`reset` creates it (fresh per pass, and again for the split pass's tail); the split pass
    carries it over with :meth:`export_state` and :meth:`merge`.  :meth:`report` emits the results that
    need the whole pass.
    """

    NAME = ""
    TESTS: tuple[str, ...] = ()
    START: dict[str, str] = {}
    END: dict[str, str] = {}
    VALUE: dict[str, str] = {}

    def __init__(self, cp) -> None:
        self.cp = cp
        #: add(test, severity, message, frame=None, *, line, systemID, file): a finding located at ``frame``
        self.add = cp.add
        self.reset()

    def active(self) -> bool:
        """Whether the group's handlers run in this pass (its tests selected)."""
        return True

    def reset(self) -> None:
        """Create the state the group accumulates over the pass."""

    def export_state(self, workdir=None) -> dict:
        """The state (picklable; big tables spilled to files in ``workdir`` when given)."""
        return {}

    def merge(self, state: dict, read_lines) -> None:
        """Add the state of the pass that read the rest of the file (see ContentPass.merge)."""

    def begin_tail(self, open_frames) -> None:
        """The split pass's child starts counting here; ``open_frames``: the ancestors left open."""

    def release(self) -> None:
        """Drop the state's tables (validate is done with them)."""
        self.reset()

    def report(self, addml_name: str | None) -> None:
        """Emit the findings that need the whole pass."""

    def report_last(self, addml_name: str | None) -> None:
        """Emit what is listed after every group's :meth:`report` (Arkade's order of a few totals)."""

    def info(self, test: str, message: str, *, file: str = "", **where) -> None:
        self.cp.r.add(test, "info", message, file=file, **where)
