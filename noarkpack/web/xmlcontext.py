"""The place a finding is about: the XML element around a line, or the row of a source export.

:func:`element_context` reads an XML file as a stream (expat, a chunk at a time) and stops soon after the line:
it gives the element that starts on the line (else the innermost one open there), its ancestors with their
identifying children (systemID, tittel, mappeID, registreringsID, …) and the source lines around it, from the
start of the nearest Noark object (dokumentobjekt, registrering, mappe, …) when that is close.  The file is a
file of a folder, a bag's SIP or an NHA package, or a member of a SIP/AIP tar, read in place (:func:`open_xml`,
through :func:`.targetio.open_in_target`: the same paths a validation or verify finding gives).

Names and fødselsnummer are masked unless the session reveals them: the values of the elements that hold a
person's name or number (partNavn, korrespondansepartNavn, partID, fodselsnummer, the tittel of a klasse or a
mappe, …), the names seen in them wherever else they occur in the lines shown, and every valid fødselsnummer,
D- or H-nummer anywhere.

:func:`export_row` gives one row of a source export (an analysis finding's file and line): the header and the
row, with the values of identifying columns and every person number masked unless revealed.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO
from xml.parsers import expat

from .masking import _ELEVEN, MASK, mask_person_numbers
from .targetio import open_in_target

__all__ = ["Element", "XmlContext", "element_context", "open_xml", "export_row", "ExportRow", "MASK", "routes"]

#: children that say which object an element is (shown with every ancestor)
ID_CHILDREN = ("systemID", "arkivskaperID", "klassifikasjonstype", "klasseID", "mappeID", "registreringsID", "journalaar",
               "journalsekvensnummer", "journalpostnummer", "dokumentnummer", "versjonsnummer", "variantformat",
               "referanseDokumentfil", "tittel", "journalID", "pasientID",
               # NHA: AVLXML, the epjpakkeliste, nha-epj 1.80
               "journalidentifikator", "filReferanse", "pakketype", "EPJ_ID", "komponent_ID", "revisjonstidspunkt")
#: the Noark objects: the lines shown start at the nearest of them (when it starts close enough)
OBJECTS = frozenset(("arkiv", "arkivdel", "klassifikasjonssystem", "klasse", "mappe", "registrering",
                     "dokumentbeskrivelse", "dokumentobjekt", "korrespondansepart", "part", "merknad",
                     "pasient", "pasientjournal", "endring", "journalregistrering",
                     "pakke", "Arkivert_pasientinfo", "Arkivert_EPJ_sak", "Referanse_arkivert_EPJ_dokument",
                     "Arkivert_revisjonsinfo", "Arkivert_EPJ_fragment", "Arkivert_dataelement"))
#: elements whose value is a person's name, number or address, wherever they are
IDENTIFYING = frozenset(("partNavn", "korrespondansepartNavn", "partID", "fodselsnummer", "foedselsnummer",
                         "personnummer", "navn", "fornavn", "etternavn", "postadresse", "adresse", "epostadresse",
                         "telefonnummer", "kontaktperson", "forfatter", "journalansvarlig", "saksbehandler",
                         "pasientnavn", "personnavn", "fullt_navn", "pasient_ID", "fodtdato", "fødselsdato",
                         "foedselsdato", "ansvarligPerson", "kontaktInformasjon"))
#: of these, the ones whose value is a name another line may repeat (masked there too)
NAMES = frozenset(("partNavn", "korrespondansepartNavn", "navn", "pasientnavn", "personnavn", "kontaktperson",
                   "fullt_navn", "ansvarligPerson"))
#: an author named in free text ("…, forfatter Kari Nordmann; filer: …": an NHA revision's merknad)
AUTHOR = re.compile(r"(\bforfatter\s+)([^;<«»\n]+)")
#: a tittel identifying under these parents: a journal's (mappe) carries the patient's name, and so does a klasse of
#: an object-based klassifikasjonssystem (one klasse per patient); a klasseID is masked when it holds 11 digits
TITLED = frozenset(("klasse", "mappe"))
BEFORE, AFTER = 60, 60  #: at most this many lines before and after the line are shown
_CHUNK = 1 << 16


def _local(qname: str) -> str:
    return qname.rsplit(":", 1)[-1]


@dataclass
class Element:
    name: str  #: the qualified name as written (epj:pasient)
    line: int  #: where its start tag is
    type: str | None = None  #: its xsi:type
    ids: list[tuple[str, str]] = field(default_factory=list)  #: (child, value) of ID_CHILDREN, masked as needed
    end: int | None = None  #: where its end tag is, when read

    @property
    def local(self) -> str:
        return _local(self.name)


@dataclass
class XmlContext:
    line: int
    focus: Element | None  #: the element at the line (None: the line is past the end or outside the root)
    ancestors: list[Element]  #: outermost first, without the focus
    lines: list[tuple[int, str]]  #: (number, text) shown, masked unless revealed
    first: int = 0
    last: int = 0
    error: str | None = None  #: the parser's message when the file is not well-formed before the line


class _Walk:
    """One streaming pass up to the line: the path of open elements at it and the masked ranges."""

    def __init__(self, line: int, reveal: bool) -> None:
        self.n, self.reveal = line, reveal
        self.stack: list[Element] = []
        self.text: list[str] | None = None
        self.path: list[Element] | None = None  #: the open elements at line n (the last one is the focus)
        self.block: Element | None = None
        self.masked: list[tuple[int, int]] = []  #: (start, end) lines of identifying values
        self.names: set[str] = set()
        self.p = expat.ParserCreate()
        self.p.buffer_text = True
        self.p.StartElementHandler = self._start
        self.p.EndElementHandler = self._end
        self.p.CharacterDataHandler = self._chars

    def _identifying(self, el: Element) -> bool:
        local = el.local
        if local in IDENTIFYING:
            return True
        if local != "tittel" or not self.stack or self.stack[-1].local not in TITLED:
            return False
        if self.stack[-1].local == "mappe":
            return True
        system = next((a for a in reversed(self.stack) if a.local == "klassifikasjonssystem"), None)
        kind = dict(system.ids).get("klassifikasjonstype", "") if system is not None else ""
        return not kind or kind.lower().startswith("objekt")

    def _start(self, name: str, attrs: dict) -> None:
        ln = self.p.CurrentLineNumber
        if self.path is None and ln > self.n:
            self.path = list(self.stack)
        el = Element(name, ln, attrs.get("xsi:type"))
        el.mask = self._identifying(el)  # type: ignore[attr-defined]
        if el.local == "klasse" or (el.local == "mappe" and not any(a.local in ("klasse", "mappe")
                                                                     for a in self.stack)):
            self.names.clear()  # the names of one patient at a time
        self.stack.append(el)
        self.text = [] if el.mask or el.local in ID_CHILDREN else None  # type: ignore[attr-defined]
        if self.path is None and ln == self.n:
            self.path = list(self.stack)

    def _chars(self, data: str) -> None:
        if self.text is not None:
            self.text.append(data)

    def _end(self, name: str) -> None:
        el = self.stack.pop()
        el.end = self.p.CurrentLineNumber
        value = "".join(self.text).strip() if self.text is not None else None
        self.text = None
        masked = getattr(el, "mask", False) or (el.local == "klasseID" and bool(value and _ELEVEN.search(value)))
        if masked:
            self.masked.append((el.line, el.end))
            if value and (el.local in NAMES or (el.local == "tittel" and self.stack[-1].local == "klasse")):
                self.names.add(value)
        if value is not None and self.stack and el.local in ID_CHILDREN:
            shown = value if self.reveal else (MASK if masked else mask_person_numbers(value))
            self.stack[-1].ids.append((el.local, shown[:200]))
        if self.path is None and el.end >= self.n:
            self.path = list(self.stack) + [el]

    def done(self) -> bool:
        """The path at the line is known, and the end of the object shown (the nearest Noark object around the
        line, else the element) is read."""
        if self.path is None:
            return False
        if self.block is None:
            self.block = next((e for e in reversed(self.path) if e.local in OBJECTS), None) or \
                (self.path[-1] if self.path else None)
        return self.block is None or self.block.end is not None


def element_context(stream: BinaryIO, line: int, *, reveal: bool = False) -> XmlContext:
    """The element around ``line`` of the XML in ``stream`` (see the module's doc); reads no further than the
    end of the object shown or ``AFTER`` lines past the line."""
    w = _Walk(line, reveal)
    raw: dict[int, bytes] = {}
    lo, hi = max(1, line - BEFORE), line + AFTER
    pending, number = b"", 1
    error = None
    while True:
        chunk = stream.read(_CHUNK)
        parts = (pending + chunk).split(b"\n")
        pending = parts.pop() if chunk else b""
        for part in parts:
            if lo <= number <= hi:
                raw[number] = part
            number += 1
        if not chunk and pending and lo <= number <= hi:
            raw[number] = pending
        try:
            w.p.Parse(chunk, not chunk)
        except expat.ExpatError as e:
            if w.path is None:
                error = expat.ErrorString(e.code) + f" (line {e.lineno})"
            break
        if not chunk or w.done() or number > hi + 1:
            break
    if w.path is None:
        w.path = list(w.stack)
    w.done()
    focus = w.path[-1] if w.path else None
    block = w.block
    end = max(raw) if raw else line
    # the whole object when it is close, else some lines around the line
    first = block.line if block is not None and block.line >= lo else max(1, line - 10)
    last = block.end if block is not None and block.end and block.end <= hi else line + 20
    last = min(last, end)
    encoding = _encoding(raw.get(1, b""))
    lines = [(i, raw[i].decode(encoding, "replace").rstrip("\r")) for i in range(first, last + 1) if i in raw]
    if not reveal:
        lines = _mask_lines(lines, w.masked, w.names)
        for el in w.path:  # the ancestors' identifying children as the lines: a name seen anywhere masked
            el.ids = [(k, _mask_names(v, w.names)) for k, v in el.ids]
    return XmlContext(line, focus, w.path[:-1] if focus else [], lines, first, last, error)


def _encoding(first: bytes) -> str:
    m = re.search(rb"encoding=[\"']([A-Za-z0-9._-]+)", first)
    name = m.group(1).decode("ascii") if m else "utf-8"
    try:
        "".encode(name)
    except LookupError:
        return "utf-8"
    return name


_VALUE = re.compile(r"(<[\w:.-]+(?:\s[^>]*)?>)([^<]+)(</)")


def _mask_names(text: str, names: set[str]) -> str:
    """``text`` with every name of ``names`` (longer than two letters) masked."""
    for name in sorted(names, key=len, reverse=True):
        if len(name) > 2:
            text = text.replace(name, MASK)
    return text


def _mask_lines(lines: list[tuple[int, str]], masked: list[tuple[int, int]], names: set[str]
                ) -> list[tuple[int, str]]:
    starts = {s for s, _ in masked}
    goes_on = {s for s, e in masked if e > s}  # a value over several lines: its first line
    inner = {i for s, e in masked for i in range(s + 1, e)}
    ends = {e for s, e in masked if e > s}
    out = []
    for i, text in lines:
        if i in inner:
            text = text[: len(text) - len(text.lstrip())] + MASK
        else:
            if i in starts:
                text = _VALUE.sub(lambda m: m.group(1) + MASK + m.group(3), text)
                if i in goes_on and i not in ends and ">" in text:  # a value that goes on: mask what follows the start tag
                    head, _, tail = text.partition(">")
                    text = head + ">" + (MASK if tail.strip() else "")
            if i in ends and i not in starts:
                text = re.sub(r"^(\s*)[^<]+", lambda m: m.group(1) + MASK, text)
            text = AUTHOR.sub(lambda m: m.group(1) + MASK, mask_person_numbers(_mask_names(text, names), MASK))
        out.append((i, text))
    return out


# -- opening the file ----------------------------------------------------------------------------------------

def open_xml(target_path: Path, rel: str, member: str | None = None):
    """The XML file ``rel`` of a target (a folder, a bag, a tar), or the XML ``member`` of the tar ``rel``, read
    in place (:func:`.targetio.open_in_target`); FileNotFoundError when there is none (or ``rel`` leaves the
    target)."""
    return open_in_target(target_path, rel, member)


# -- a row of a source export -------------------------------------------------------------------------------

@dataclass
class ExportRow:
    file: str
    line: int
    header: list[str]
    values: list[str]
    raw: str | None = None  #: the line itself, when it is no delimited row
    masked: list[bool] = field(default_factory=list)


def export_row(path: Path, line: int, *, reveal: bool = False, identifying_columns: set[str] = frozenset()
               ) -> ExportRow:
    """Row ``line`` (the physical line its record starts on, as the analysis counts; the header is line 1) of a
    delimited export; read as a stream, stops at the row.  Identifying columns (by name, or named in
    ``identifying_columns``) and every person number are masked unless ``reveal``."""
    from ..sources.inspect import IDENTIFYING as IDENT_NAME

    with open(path, "rb") as fb:
        head = fb.read(4096)
    encoding = "utf-8-sig"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as e:
        if e.start < len(head) - 4:
            encoding = "cp1252"
    text_head = head.decode(encoding, "replace")
    first = text_head.splitlines()[0] if text_head else ""
    delim = max(";,\t|", key=first.count) if first else ";"
    header: list[str] = []
    values: list[str] | None = None
    raw = None
    with open(path, encoding=encoding, errors="replace", newline="") as fp:
        if first.count(delim) == 0:  # not delimited: the line itself
            for i, text in enumerate(fp, 1):
                if i == line:
                    raw = text.rstrip("\r\n")
                    break
        else:
            reader = csv.reader(fp, delimiter=delim)
            start = 1
            for row in reader:
                if start == 1:
                    header = row
                if start == line:
                    values = row
                    break
                start = reader.line_num + 1
                if start > line:
                    break
    if raw is not None:
        return ExportRow(str(path.name), line, [], [], raw if reveal else mask_person_numbers(raw, MASK))
    values = values or []
    masked = [bool(IDENT_NAME.search(h)) or h.lower() in identifying_columns for h in header]
    masked += [False] * (len(values) - len(masked))
    shown = [v if reveal else (MASK if m and v else mask_person_numbers(v, MASK)) for v, m in zip(values, masked)]
    return ExportRow(str(path.name), line, header, shown, None, masked[: len(values)])


# -- the pages ----------------------------------------------------------------------------------------------

def _line(request) -> int:
    from starlette.exceptions import HTTPException

    try:
        line = int(request.query_params.get("line") or "")
    except ValueError:
        raise HTTPException(404) from None
    if line < 1:
        raise HTTPException(404)
    return line


def _back(request, tid: str) -> str:
    """Where "back" leads: the findings page the person came from (our own origin only), else the target's."""
    from urllib.parse import urlsplit

    ref = urlsplit(request.headers.get("referer") or "")
    if ref.netloc == request.url.netloc and ref.path.startswith("/") and not ref.path.startswith("//"):
        return ref.path + (f"?{ref.query}" if ref.query else "")
    return f"/t/{tid}/findings"


def xml_page(ctx, request):
    """``/t/{tid}/xml?file=<rel>&line=N``: the element around line N of the target's XML file."""
    import tarfile

    from starlette.exceptions import HTTPException

    target = ctx.target(request.path_params["tid"])
    rel = request.query_params.get("file") or ""
    member = request.query_params.get("member") or None
    line = _line(request)
    if not (member or rel).lower().endswith(".xml"):
        raise HTTPException(404)
    reveal = ctx.reveal(request)
    try:
        with open_xml(target.path, rel, member) as fp:
            found = element_context(fp, line, reveal=reveal)
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise HTTPException(404) from None
    except (OSError, EOFError, tarfile.TarError) as e:  # a damaged or compressed tar
        from ..locale import tr

        return ctx.render(request, "xml.html.j2", status_code=422, target=target, file=rel, member=member,
                          line=line, found=None, error=tr("The file cannot be read: {reason}", reason=type(e).__name__),
                          back=_back(request, target.id), tree_url=None)
    return ctx.render(request, "xml.html.j2", target=target, file=rel, member=member, line=line, found=found,
                      error=None, back=_back(request, target.id), tree_url=_nha_tree_url(ctx, target, rel, member))


def _nha_tree_url(ctx, target, rel: str, member: str | None) -> str | None:
    """For an XML member of an NHA package: its place in the package's EPJ tree."""
    from urllib.parse import urlencode

    if not member or target.kind != "nha-deposit" or "browse" not in ctx.modules:
        return None
    return f"/t/{target.id}/nha/find?" + urlencode({"file": rel, "member": member})


def row_page(ctx, request):
    """``/t/{tid}/row?file=<rel>&line=N``: row N of a project's source export (an analysis finding's place)."""
    from starlette.exceptions import HTTPException

    target = ctx.target(request.path_params["tid"])
    if target.kind != "project":
        raise HTTPException(404)
    path = ctx.safe_path(target, request.query_params.get("file") or "")
    line = _line(request)
    if not path.is_file():
        raise HTTPException(404)
    columns: set[str] = set()
    try:
        from ..project import load_project
        from ..sources.keys import identifier_columns

        mapping = load_project(target.path).import_mapping
        if mapping is not None:
            columns = identifier_columns(mapping)
    except Exception:  # noqa: BLE001 - without the mapping the column names and the person numbers still mask
        pass
    row = export_row(path, line, reveal=ctx.reveal(request), identifying_columns=columns)
    rel = path.relative_to(target.path).as_posix()
    return ctx.render(request, "findings_row.html.j2", target=target, file=rel, line=line, row=row,
                      cells=list(zip(row.header or [""] * len(row.values), row.values, row.masked)),
                      back=_back(request, target.id))


def routes(ctx) -> list:
    from starlette.routing import Route

    from .context import bind

    return [Route("/t/{tid}/xml", bind(xml_page, ctx), name="xml"),
            Route("/t/{tid}/row", bind(row_page, ctx), name="export_row")]
