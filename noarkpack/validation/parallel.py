"""arkivstruktur.xml validated in two halves at once: one here, one in a child process.

One process parses ~30 MB/s of arkivstruktur.xml with every content test, and the XSD check costs
another fifth on top; the other core would otherwise only run xmllint.  So a large file is read in
two halves, each parsed, validated against the XSD (in lxml, libxml2's validator) and tested:

* the *head* is the document up to its first top-level unit (the first ``klasse``, ``mappe`` or
  ``registrering`` directly under a klassifikasjonssystem or arkivdel): the open ancestors and
  their own elements;
* this process reads the file from the start to a unit start near the middle (the *split*);
* the child reads the head, then newlines in comments (so that every line keeps its number), then
  the file from the split to its end.  Its findings and tallies start after the head.

The split is good only if this process, at the split, has the same ancestors open as at the end of
the head (the same elements, by line).  Then the child's state is merged into this one
(:meth:`ContentPass.merge`, :meth:`Report.absorb`): the report is the one a single pass makes
(tests/test_parallel_validation.py compares them).  Otherwise (a split inside a nested unit, a second
arkivdel, a child that failed) this process reads on to the end alone, as without a split.

The child is ``python -m noarkpack.validation.parallel`` (not multiprocessing: a migration script
that imports noarkpack must not be re-imported).  It stops when its stdin closes (this process ended
or was killed).
"""

from __future__ import annotations

import os
import pickle
import re
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

from ..fsutil import kill_child, start_child
from ..locale import current, set_language
from .content import ContentPass, content_pass
from .report import Report
from .xmlstream import CHUNK, ContainerPuller, StreamResult, in_own_thread

#: below this size one process reads arkivstruktur.xml (the child's start-up is not worth it)
MIN_BYTES = 48 << 20
#: where in the file the split is looked for (the child also reads the head and counts lines)
FRACTION = 0.52
#: how far past that point a unit start is looked for
SEARCH = 16 << 20
#: the head must end within this many bytes
HEAD_MAX = 8 << 20


def enabled() -> bool:
    """Two halves at once: more than one core, process groups (POSIX), not NOARKPACK_NO_PARALLEL."""
    return (not os.environ.get("NOARKPACK_NO_PARALLEL") and (os.cpu_count() or 1) > 1
            and hasattr(os, "killpg"))


@dataclass(frozen=True)
class Split:
    head_end: int  #: offset of the line that starts the first top-level unit
    tail_start: int  #: offset of the line that starts the unit the child begins with
    unit: str  #: its local name


_START = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?([A-Za-z_][\w.-]*)[\s/>]")


def find_split(path: Path, size: int, fraction: float | None = None) -> Split | None:
    """Where to split ``path`` (see the module docstring), or None: no suitable place was found."""
    fraction = FRACTION if fraction is None else fraction
    with open(path, "rb") as fh:
        first = _first_unit(fh)
        if first is None:
            return None
        head_end, unit, indent = first
        start = max(head_end + 1, int(size * fraction))
        pattern = re.compile(rb"\n(" + re.escape(indent) + rb")<(?:[A-Za-z_][\w.-]*:)?" + re.escape(unit.encode())
                             + rb"[\s/>]")
        fh.seek(start)
        carry = b""  # the end of the last piece: a match may straddle two
        offset = start
        while offset - start < SEARCH:
            data = fh.read(1 << 20)
            if not data:
                return None
            window = carry + data
            m = pattern.search(window)
            if m is not None:
                return Split(head_end, offset - len(carry) + m.start() + 1, unit)
            carry = window[-512:]
            offset += len(data)
    return None


def _first_unit(fh) -> tuple[int, str, bytes] | None:
    """The first container whose parent is a klassifikasjonssystem or arkivdel: (line offset, name, indent).

    Read from the start of ``fh`` only as far as needed (at most HEAD_MAX bytes).
    """
    units = ("klasse", "mappe", "registrering")
    found: list = []

    def on_start(el):
        if found:
            return
        name = el.tag.rpartition("}")[2]
        parent = el.getparent()
        pname = parent.tag.rpartition("}")[2] if parent is not None else ""
        if name in units and pname in ("klassifikasjonssystem", "arkivdel"):
            found.append((name, el.sourceline))

    puller = ContainerPuller(ContentPass.CONTAINERS, on_start, lambda el: None)
    head = bytearray()
    while not found and len(head) < HEAD_MAX:
        data = fh.read(CHUNK)
        if not data:
            break
        head += data
        if not puller.feed(data):
            break
    if not found:
        return None
    name, line = found[0]
    if not line:
        return None
    # the byte offset of that line; the tag must be the first thing on it
    offset = 0
    for _ in range(line - 1):
        offset = head.find(b"\n", offset)
        if offset < 0:
            return None
        offset += 1
    text = bytes(head[offset:offset + 4096])
    indent = text[:len(text) - len(text.lstrip(b" \t"))]
    m = _START.match(text, len(indent))
    if m is None or m.group(1).decode("ascii", "replace") != name:
        return None
    return offset, name, indent


# --------------------------------------------------------------------------- the parent


@dataclass
class HalvesResult:
    res: StreamResult  #: ``res.schema_errors``: how many XSD errors (their lines: see validate_in_halves)
    parallel: bool  #: False: the split did not hold and this process read the whole file


def validate_in_halves(source_root: Path, xml_name: str, cp: ContentPass, report: Report, *,
                       schema: etree.XMLSchema | None, xsd: Path | None, addml, identify: bool,
                       progress=None) -> HalvesResult | None:
    """Read ``xml_name`` in two halves (see the module docstring); None: no split point was found.

    ``cp`` and ``report`` end as one pass over the whole file would leave them.  The XSD check runs
    when ``schema`` is given (``xsd`` is its file, for the child), but only counts the errors: in a
    streaming parse libxml2 gives them no line, so the caller locates them in a second pass when
    there are any (xmllint's reader knows the lines).
    """
    path = Path(source_root) / xml_name
    size = path.stat().st_size
    split = find_split(path, size)
    if split is None:
        return None
    # lxml reports validation errors through a thread-local log: a thread of its own
    return in_own_thread(lambda: _parent(path, size, split, cp, report, schema=schema, xsd=xsd, addml=addml,
                                         identify=identify, progress=progress, root=Path(source_root),
                                         xml_name=xml_name), "noarkpack-validate-half")


class _Child:
    def __init__(self, args: dict, workdir: Path) -> None:
        self.args_file = workdir / "args.pickle"
        self.result_file = workdir / "result.pickle"
        with open(self.args_file, "wb") as fh:
            pickle.dump(args, fh, protocol=pickle.HIGHEST_PROTOCOL)
        self.done_bytes = 0
        self.proc = start_child("noarkpack.validation.parallel", str(self.args_file), str(self.result_file))
        self._reader = threading.Thread(target=self._read, name="noarkpack-validate-child", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for raw in self.proc.stdout:
            try:
                self.done_bytes = int(raw)
            except ValueError:
                pass

    def result(self, timeout: float) -> dict | None:
        """Wait for the child (at most ``timeout`` seconds); its result, or None if it failed."""
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.stop()  # stuck: this process reads on alone
            return None
        if self._ended() != 0:
            return None
        try:
            with open(self.result_file, "rb") as fh:
                return pickle.load(fh)
        except Exception:  # noqa: BLE001 - an unreadable result: this process reads on alone
            return None

    def stop(self) -> None:
        kill_child(self.proc)
        self._ended()

    def _ended(self) -> int:
        code = self.proc.wait()
        self._reader.join()
        for f in (self.proc.stdin, self.proc.stdout):
            try:
                f.close()
            except OSError:
                pass
        return code


def _parent(path: Path, size: int, split: Split, cp: ContentPass, report: Report, *, schema, xsd, addml,
            identify: bool, progress, root: Path, xml_name: str) -> HalvesResult:
    from ..documents import shared_identifications

    puller = ContainerPuller(ContentPass.CONTAINERS, cp.container_start, cp.container_end, schema=schema)
    puller.install_log()
    markup = _MarkupScan()

    with tempfile.TemporaryDirectory(prefix="noarkpack-halves-") as tmp:
        args = {"root": str(root), "xml": xml_name, "xsd": str(xsd) if xsd is not None and schema is not None else None,
                "tests": set(report.selected), "limit": report.limit, "addml": addml, "docs": cp.docs,
                "doc_dir": cp.doc_dir, "identify": identify, "head_end": split.head_end,
                "tail_start": split.tail_start, "tail_bytes": size - split.tail_start, "workdir": tmp,
                "identifications": shared_identifications() if identify else None,
                "lang": current()}  # the child's findings in this run's language (a web request's, too)
        child: _Child | None = None
        try:
            try:
                child = _Child(args, Path(tmp))
            except OSError:
                child = None

            def prog(n: int) -> None:
                if progress is not None:
                    progress(n + (child.done_bytes if child is not None else 0))

            with open(path, "rb") as fh:
                t0 = time.monotonic()
                puller.feed_from(fh, limit=split.head_end, progress=prog, tee=markup.feed)
                head_path = cp.open_path()
                puller.feed_from(fh, limit=split.tail_start - split.head_end, progress=prog, tee=markup.feed)
                same = (not puller.failed and not puller.errors and not markup.inside and cp.open_path() == head_path
                        and head_path
                        and all(name in ContentPass.SPLIT_ANCESTORS for name, _line in head_path)
                        and head_path[-1][0] in ("klassifikasjonssystem", "arkivdel"))
                counted = puller.res.schema_errors
                if same:
                    cp.flush()  # what precedes the split, before looking past it
                    same = _unit_starts_here(puller, fh, split, cp)
                theirs = None
                if same and child is not None:
                    theirs = child.result(timeout=60 + 2 * (time.monotonic() - t0))
                    if theirs is not None and theirs["head_path"] != head_path:
                        theirs = None
                elif child is not None:
                    child.stop()
                child = None
                if theirs is None:
                    # one process after all: read on from the split (and what was looked at past it)
                    puller.release()
                    puller.feed_from(fh, progress=prog)
                    return HalvesResult(puller.close(), False)
        finally:
            if child is not None:
                child.stop()
        # the split held: the child's half joins this one (what this process looked at past it is dropped);
        # its systemID table and findings are read from the files it spilled to in `tmp`
        cp.merge(theirs.pop("state"), lambda numbers: _read_lines(path, numbers))
        findings, counts, ran = theirs.pop("report")
        report.absorb(findings, counts, ran)
        del findings
    res: StreamResult = theirs["res"]
    res.schema_errors += counted
    res.bytes_read = split.tail_start + theirs["tail_read"]
    return HalvesResult(res, True)


#: how far past the split this process reads to see the unit's start tag
PEEK = 64 << 10


def _unit_starts_here(puller: ContainerPuller, fh, split: Split, cp: ContentPass) -> bool:
    """Whether a ``split.unit`` element, child of the innermost open ancestor, starts at the split.

    The bytes there are markup (_MarkupScan: not in a comment, CDATA section or processing
    instruction).  This process's own parser confirms: it reads on a little with its events held
    back, and the first must be that element's start.
    """
    parent_el = cp._stack[-1][0]
    puller.hold()
    left = PEEK
    while left > 0 and not puller.held and not puller.failed:
        data = fh.read(min(left, 4096))
        if not data:
            break
        left -= len(data)
        puller.feed(data)
    if not puller.held:
        return False
    ev, el = puller.held[0]
    return ev == "start" and el.tag.rpartition("}")[2] == split.unit and el.getparent() is parent_el


class _MarkupScan:
    """Whether the bytes fed so far end inside a comment, a CDATA section or a processing instruction.

    A ``<`` outside those always starts markup, so a split found by a byte search is sound if this
    says no.  Cheap: only ``<!`` and ``<?`` are looked at (two byte searches per chunk).
    """

    _OPEN = ((b"<!--", b"-->"), (b"<![CDATA[", b"]]>"), (b"<?", b"?>"))

    def __init__(self) -> None:
        self.closing: bytes | None = None  # the end marker awaited
        self.carry = b""  # the end of the last chunk, where a marker may be cut in two

    @property
    def inside(self) -> bool:
        return self.closing is not None

    @staticmethod
    def _next_open(buf: bytes, i: int) -> int:
        """Offset of the next ``<!`` or ``<?`` from ``i``, or -1.  '!' and '?' are rare in a Noark
        file where '<' is everywhere, so they are searched for (memchr), then their '<' checked."""
        best = -1
        for mark in (b"!", b"?"):
            j = buf.find(mark, i + 1)
            while j >= 0 and buf[j - 1] != 0x3C:  # not after a '<'
                if best >= 0 and j > best:
                    j = -1
                    break
                j = buf.find(mark, j + 1)
            if j >= 0 and (best < 0 or j - 1 < best):
                best = j - 1
        return best

    def feed(self, data: bytes) -> None:
        buf = self.carry + data
        self.carry = b""
        i = 0
        while True:
            if self.closing is not None:
                j = buf.find(self.closing, i)
                if j < 0:
                    self.carry = buf[max(i, len(buf) - len(self.closing) + 1):]
                    return
                i = j + len(self.closing)
                self.closing = None
            j = self._next_open(buf, i)
            if j < 0:
                if buf.endswith(b"<"):
                    self.carry = b"<"
                return
            for opening, closing in self._OPEN:
                if buf.startswith(opening, j):
                    self.closing = closing
                    i = j + len(opening)
                    break
            else:
                rest = buf[j:]
                if len(rest) < 9 and any(o.startswith(rest) for o, _c in self._OPEN):
                    self.carry = rest  # a marker cut at the end of the chunk
                    return
                i = j + 2  # <!DOCTYPE, <!ENTITY, ...


def _read_lines(path: Path, numbers) -> dict[int, str]:
    """Lines of a big file by number, in one scan (rarely needed: systemIDs found in both halves)."""
    wanted = sorted(set(n for n in numbers if n))
    found: dict[int, str] = {}
    if not wanted:
        return found
    seen = 1  # the number of the line that starts at ``carry``
    k = 0
    with open(path, "rb") as fh:
        carry = b""
        while k < len(wanted):
            data = fh.read(1 << 20)
            if not data:
                if carry and seen == wanted[k]:
                    found[seen] = carry.decode("utf-8", "replace")
                break
            data = carry + data
            start = 0
            while k < len(wanted):
                end = data.find(b"\n", start)
                if end < 0:
                    break
                if seen == wanted[k]:
                    found[seen] = data[start:end].decode("utf-8", "replace")
                    k += 1
                start = end + 1
                seen += 1
            carry = data[start:]
    return found


# --------------------------------------------------------------------------- the child


def _child(args: dict, report_progress) -> dict:
    from ..formats import raw_formats
    from .source import identify_document, open_source

    set_language(args.get("lang"))  # this process makes texts for the parent only: in the parent's language
    identify = None
    if args["identify"]:
        from ..documents import adopt_identifications

        identify = identify_document
        if args["identifications"] is not None:
            adopt_identifications(args["identifications"])
    src = open_source(args["root"])
    try:
        report = Report(str(args["root"]), tests=args["tests"], limit=args["limit"])
        cp = content_pass(report, src, args["addml"], documents=args["docs"], doc_dir=args["doc_dir"],
                          identify=identify, approved=raw_formats(), mergeable=True,
                          expected_bytes=args["tail_bytes"])
        schema = None
        if args["xsd"]:
            parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
            schema = etree.XMLSchema(etree.parse(args["xsd"], parser))
        puller = ContainerPuller(ContentPass.CONTAINERS, cp.container_start, cp.container_end, schema=schema)
        puller.install_log()
        head_end, tail_start = args["head_end"], args["tail_start"]
        with src.open(args["xml"]) as fh:
            if not puller.feed_from(fh, limit=head_end):
                raise RuntimeError("the head cannot be read")
            # as many newlines as the skipped part has, in comments: every line keeps its number
            newlines = 0
            left = tail_start - head_end
            while left > 0:
                data = fh.read(min(left, 1 << 20))
                if not data:
                    raise RuntimeError("the file ended early")
                left -= len(data)
                newlines += data.count(b"\n")
            while newlines > 0:
                k = min(newlines, 1 << 20)
                if not puller.feed(b"<!--" + b"\n" * k + b"-->"):
                    raise RuntimeError("the head cannot be read")
                newlines -= k
            head_path = cp.open_path()
            cp.begin_tail(Report(str(args["root"]), tests=args["tests"], limit=args["limit"]))
            puller.res.schema_errors = 0
            fh.seek(tail_start)
            before = puller.res.bytes_read
            puller.feed_from(fh, progress=lambda n: report_progress(n - before))
            res = puller.close()
        # the systemID table and the findings go to files the parent reads in chunks, not in the pickle
        workdir = Path(args["workdir"])
        state = cp.export_state(workdir)
        findings, counts, ran = cp.r.part()
        return {"head_path": head_path, "state": state, "report": (findings.spill(workdir / "findings.bin"), counts, ran),
                "res": res, "tail_read": res.bytes_read - before}
    finally:
        src.close()


def main(argv: list[str]) -> int:
    args_file, result_file = argv[1], argv[2]

    def watch_parent() -> None:
        sys.stdin.buffer.read()  # returns at EOF: the parent is gone (it holds the pipe while it waits)
        if not done.is_set():
            import shutil

            shutil.rmtree(os.path.dirname(args_file), ignore_errors=True)  # the parent could not
            os._exit(3)

    done = threading.Event()
    threading.Thread(target=watch_parent, daemon=True).start()
    last = [0]

    def report_progress(n: int) -> None:
        if n - last[0] >= 8 << 20:
            last[0] = n
            try:
                sys.stdout.write(f"{n}\n")
                sys.stdout.flush()
            except OSError:
                pass

    try:
        with open(args_file, "rb") as fh:
            args = pickle.load(fh)
        os.unlink(args_file)  # the tables it holds are not left behind whatever happens next
        result = _child(args, report_progress)
        tmp = result_file + ".part"
        with open(tmp, "wb") as fh:
            pickle.dump(result, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, result_file)
    except Exception:  # noqa: BLE001 - the parent reads on alone; never a traceback on its screen
        return 1
    done.set()
    return 0


if __name__ == "__main__":
    os._exit(main(sys.argv))
