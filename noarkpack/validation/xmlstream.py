"""Streaming XML reading with optional XSD validation in the same pass.

:func:`stream_xml` feeds a file in 64 KiB chunks to an ``lxml`` pull parser
(entities, DTDs and network off).  With a schema, libxml2 validates while
parsing (its SAX-plug validator: streaming, no tree needed).  The caller's
handler gets every ``start``/``end`` event; after the handler has seen an
``end`` the element is cleared and its earlier siblings are dropped, so memory
stays bounded whatever the file size.

Locating validation errors: in this mode libxml2 reports them without a line
number, and lxml hands a parser's errors over only when the document is
closed.  So the parse runs in a worker thread whose (thread-local) lxml error
log is a collector; when an error arrives, the collector pulls the events
parsed so far, and the last of them is the element the error is about (its
start for "not expected" errors, its end for content errors).  Errors and
events are then handed to the caller in document order.  Validation errors
never stop the pass; a well-formedness error does (nothing after it can be
read reliably).
"""

from __future__ import annotations

import contextvars
import re
import threading
from dataclasses import dataclass
from typing import Callable

from lxml import etree

from ..locale import tr

CHUNK = 1 << 16
_NS = re.compile(r"\{[^}]*\}")
_SCHEMA_DOMAINS = ("SCHEMASV", "SCHEMASP")


@dataclass
class StreamResult:
    read_ok: bool = True  #: the file was read to the end
    wellformed: bool = True
    fatal: str | None = None  #: why reading stopped (libxml2's message, or ours: translated)
    fatal_line: int | None = None
    bytes_read: int = 0
    schema_errors: int = 0


def clean_message(msg: str) -> str:
    """A libxml2 message without namespace URIs: "Element 'tittel': ..."."""
    return _NS.sub("", msg).strip()


class _Collector(etree.PyErrorLog):
    """Thread-local lxml error log: files each error in the event queue, in order."""

    def __init__(self, parser, queue: list) -> None:
        super().__init__()
        self.parser = parser
        self.queue = queue
        self.fatal: list[tuple[str, int | None]] = []  # well-formedness errors

    def receive(self, entry) -> None:  # lxml hook, called while feed() runs
        if entry.domain_name not in _SCHEMA_DOMAINS:
            if entry.level_name in ("ERROR", "FATAL"):
                self.fatal.append((entry.message, entry.line or None))
            return
        self.queue.extend(self.parser.read_events())
        line = entry.line or None
        if not line:
            for item in reversed(self.queue):
                if item[0] != "error" and isinstance(item[1].tag, str):
                    line = item[1].sourceline
                    break
        self.queue.append(("error", entry.message, line))



def parser_says(message: str):
    """libxml2's own (English) message, quoted as what the parser says, in a sentence of the run's language."""
    return tr("the XML parser says: «{detail}»", detail=clean_message(message))


def schema_says(message: str):
    """The schema validator's own (English) message, quoted, in a sentence of the run's language (N5.03)."""
    return tr("the schema validation says: «{detail}»", detail=message)

def stream_xml(
    stream,
    *,
    handler: Callable[[str, object], None] | None = None,
    schema: etree.XMLSchema | None = None,
    on_schema_error: Callable[[str, int | None], None] | None = None,
    progress: Callable[[int], None] | None = None,
    stop: Callable[[], bool] | None = None,
) -> StreamResult:
    """Parse ``stream`` (a binary file object) once; see the module docstring."""
    res = StreamResult()
    kwargs = dict(events=("start", "end"), resolve_entities=False, no_network=True,
                  load_dtd=False, huge_tree=True, remove_comments=True, remove_pis=True)
    if schema is not None:
        kwargs["schema"] = schema
    parser = etree.XMLPullParser(**kwargs)
    queue: list = []
    collector = _Collector(parser, queue)

    depth = [0, 0, 0]  # open elements, root closed (0/1), last line seen

    def drain() -> None:
        queue.extend(parser.read_events())
        items = queue[:]
        queue.clear()
        for ev, el, *rest in items:
            if ev == "error":
                res.schema_errors += 1
                if on_schema_error is not None:
                    on_schema_error(clean_message(el), rest[0])
                continue
            if not isinstance(el.tag, str):
                continue
            if handler is not None:
                handler(ev, el)
            depth[2] = el.sourceline or depth[2]
            if ev == "start":
                depth[0] += 1
            else:
                depth[0] -= 1
                if depth[0] == 0:
                    depth[1] = 1
                # Drop what is done: this element's content and its earlier siblings.
                el.clear(keep_tail=False)
                parent = el.getparent()
                if parent is not None:
                    while el.getprevious() is not None:
                        del parent[0]

    def loop() -> None:
        try:
            while True:
                data = stream.read(CHUNK)
                if not data:
                    break
                res.bytes_read += len(data)
                parser.feed(data)
                drain()
                if collector.fatal:
                    break
                if progress is not None:
                    progress(res.bytes_read)
                if stop is not None and stop():
                    return
            if not collector.fatal:
                try:
                    parser.close()
                except etree.XMLSyntaxError:
                    pass  # invalid (reported already) or not well-formed (in collector.fatal)
                drain()
            if collector.fatal:
                res.read_ok = res.wellformed = False
                res.fatal, res.fatal_line = parser_says(collector.fatal[0][0]), collector.fatal[0][1]
            elif not depth[1]:
                # With a schema, libxml2 may stop at a well-formedness error without
                # reporting it to lxml: an unclosed root tells.
                res.read_ok = res.wellformed = False
                res.fatal = (tr("the XML is not well-formed: parsing stopped before the root element was closed")
                             if res.bytes_read else tr("the file is empty"))
                res.fatal_line = depth[2] or None
        except etree.XMLSyntaxError as exc:
            try:
                drain()
            except Exception:  # noqa: BLE001 - best effort after a fatal error
                pass
            res.read_ok = False
            res.wellformed = False
            res.fatal = parser_says(exc.msg or str(exc))
            res.fatal_line = exc.lineno
        except OSError as exc:
            res.read_ok = False
            res.fatal = tr("read error: {error}", error=str(exc))

    def run() -> None:
        etree.use_global_python_log(collector)  # this thread only
        loop()

    in_own_thread(run, "noarkpack-xml-stream")
    return res


def in_own_thread(fn: Callable[[], object], name: str):
    """``fn()`` in a new thread (lxml's error log is per thread), waited for; its exception re-raised here.

    ``fn`` runs in a copy of the caller's context: texts it makes are in the caller's language
    (:func:`noarkpack.locale.language` is per context, and a new thread starts with an empty one).
    """
    out: list = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            out.append(fn())
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            failure.append(exc)

    t = threading.Thread(target=contextvars.copy_context().run, args=(run,), name=name, daemon=True)
    t.start()
    t.join()
    if failure:
        raise failure[0]
    return out[0]


__all__ = ["stream_xml", "StreamResult", "clean_message", "in_own_thread"]


# --------------------------------------------------------------------------- the fast path
#
# For the big file (arkivstruktur.xml) validation and the content tests run on the two cores at once:
# libxml2's streaming XSD validator in an ``xmllint --stream --schema`` child process reads the bytes
# from a pipe, while this process parses the same bytes (read once, teed) for the content tests.
# xmllint reports every schema error with its line.  Without xmllint, :func:`stream_xml` is used.

_XMLLINT_ERROR = re.compile(r"^.*?:(\d+): (?:element [^:]*: )?Schemas validity error : (.*)$")


def xmllint_path() -> str | None:
    import os
    import shutil

    if os.environ.get("NOARKPACK_NO_XMLLINT"):
        return None
    return shutil.which("xmllint")


class SchemaProcess:
    """``xmllint --noout --stream --schema XSD -`` fed through a pipe; collects (message, line)."""

    def __init__(self, xmllint: str, xsd: str) -> None:
        import subprocess

        self.errors: list[tuple[str, int | None]] = []
        self.other: list[str] = []
        self._dead = False
        self.proc = subprocess.Popen([xmllint, "--noout", "--stream", "--schema", xsd, "-"],
                                     stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:  # a larger pipe: fewer context switches between the two processes
            import fcntl

            fcntl.fcntl(self.proc.stdin.fileno(), getattr(fcntl, "F_SETPIPE_SZ", 1031), 1 << 20)
        except (OSError, ImportError):
            pass
        self._reader = threading.Thread(target=self._read, name="noarkpack-xmllint-stderr", daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for raw in self.proc.stderr:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            m = _XMLLINT_ERROR.match(line)
            if m:
                self.errors.append((clean_message(m.group(2)), int(m.group(1)) or None))
            elif len(self.other) < 50:
                self.other.append(line)

    def feed(self, data: bytes) -> None:
        if self._dead:
            return
        try:
            self.proc.stdin.write(data)
        except (BrokenPipeError, OSError):
            self._dead = True  # xmllint stopped (a fatal parse error): our own parser reports it

    def close(self, complete: bool = True) -> int:
        """Finish; returns xmllint's exit code.  ``complete=False``: the input was not read to the end."""
        try:
            self.proc.stdin.close()
        except (BrokenPipeError, OSError):
            pass
        if not complete:
            self.proc.kill()
        code = self.proc.wait()
        self._reader.join()
        self.proc.stderr.close()
        return code


class _SchemaSink(etree.PyErrorLog):
    """Thread-local lxml error log of a :class:`ContainerPuller` that validates as it parses."""

    def __init__(self, puller: "ContainerPuller") -> None:
        super().__init__()
        self.puller = puller

    def receive(self, entry) -> None:  # lxml hook, called while feed() runs
        p = self.puller
        if entry.domain_name not in _SCHEMA_DOMAINS:
            if entry.level_name == "FATAL":
                p.fatal.append((entry.message, entry.line or None))
            elif entry.level_name == "ERROR":  # e.g. an undeclared prefix: libxml2 reads on
                p.errors.append((entry.message, entry.line or None))
            return
        # a streaming parse gives a validity error no line: only counted here (see ContainerPuller)
        p.res.schema_errors += 1


class ContainerPuller:
    """Parse a document in pieces, reporting only start/end of the named ``containers`` (local names).

    ``on_start(el)`` is called when a container starts (its earlier siblings are complete),
    ``on_end(el)`` when it ends (its subtree is complete).  The callbacks own the tree: they remove
    what they have processed, so memory stays bounded.  :meth:`feed_from` may be called several times
    (the split pass pauses at a byte offset); :meth:`close` ends the document.

    With ``schema`` the parser validates too (N5.03) and ``res.schema_errors`` counts the errors.
    libxml2 gives a validity error no line in a streaming parse, so a caller that finds errors
    locates them in a second pass (xmllint's reader, or :func:`stream_xml`).  Validation reports
    through lxml's thread-local error log: call :meth:`install_log` first in the thread that feeds.
    """

    def __init__(self, containers, on_start, on_end, *, schema: etree.XMLSchema | None = None) -> None:
        self.res = StreamResult()
        self.on_start, self.on_end = on_start, on_end
        # remove_blank_text: no text nodes for the indentation between elements (~8% of the parse);
        # a leaf's own text is kept even when blank (libxml2 keeps text that is an element's only child)
        kwargs = dict(events=("start", "end"), tag=[f"{{*}}{n}" for n in containers], resolve_entities=False,
                      no_network=True, load_dtd=False, huge_tree=True, remove_comments=True, remove_pis=True,
                      remove_blank_text=True, collect_ids=False)
        if schema is not None:
            kwargs["schema"] = schema
        self.parser = etree.XMLPullParser(**kwargs)
        self.validating = schema is not None
        self.fatal: list[tuple[str, int | None]] = []
        self.errors: list[tuple[str, int | None]] = []  # not fatal, not validity (validating only)
        self.held: list | None = None  # hold(): events kept back instead of reported
        self.last_line = 0
        self.root_closed = False
        self.failed = False  # stopped for good (not well-formed, unreadable or stopped)

    def install_log(self) -> None:
        etree.use_global_python_log(_SchemaSink(self))

    def hold(self) -> None:
        """Keep the events back from here on (the split pass looks before it commits)."""
        self.held = []

    def release(self) -> None:
        """Report the events kept back, and those that follow, as usual."""
        held, self.held = self.held or [], None
        self._dispatch(held)

    def _drain(self) -> None:
        events = self.parser.read_events()
        if self.held is not None:
            self.held.extend(events)
            return
        self._dispatch(events)

    def _dispatch(self, events) -> None:
        for ev, el in events:
            if ev == "start":
                self.last_line = el.sourceline or self.last_line
                self.on_start(el)
            else:
                self.on_end(el)
                if el.getparent() is None:
                    self.root_closed = True

    def _fail(self, message: str, line: int | None, *, wellformed: bool = False) -> None:
        res = self.res
        self.failed = True
        res.read_ok = False
        res.wellformed = res.wellformed and wellformed
        res.fatal = message
        res.fatal_line = line

    def feed(self, data: bytes) -> bool:
        """Parse ``data``; False once the document cannot be read on."""
        if self.failed:
            return False
        try:
            self.parser.feed(data)
            self._drain()
        except OSError as exc:  # raised by a callback (a document file the tests read)
            self._fail(tr("read error: {error}", error=str(exc)), None, wellformed=True)
            return False
        except etree.XMLSyntaxError as exc:
            try:
                self._drain()
            except Exception:  # noqa: BLE001 - best effort after a fatal error
                pass
            self._fail(parser_says(exc.msg or str(exc)), exc.lineno)
            return False
        if self.fatal:
            self._fail(parser_says(self.fatal[0][0]), self.fatal[0][1])
            return False
        return True

    def feed_from(self, stream, *, limit: int | None = None, tee=None, progress=None, stop=None) -> bool:
        """Read ``stream`` to its end (or ``limit`` bytes) into the parser; False if it cannot go on.

        ``tee(data)`` gets every chunk read, ``progress(bytes so far)`` is called per chunk, and
        ``stop()`` returning true ends the reading (the result is then partial).
        """
        res = self.res
        left = limit
        while not self.failed:
            size = CHUNK * 4 if left is None else min(CHUNK * 4, left)
            if size <= 0:
                break
            try:
                data = stream.read(size)
            except OSError as exc:
                self._fail(tr("read error: {error}", error=str(exc)), None, wellformed=True)
                return False
            if not data:
                break
            if left is not None:
                left -= len(data)
            res.bytes_read += len(data)
            if tee is not None:
                tee(data)
            if not self.feed(data):
                return False
            if progress is not None:
                progress(res.bytes_read)
            if stop is not None and stop():
                self._fail(tr("stopped"), None, wellformed=True)
                return False
        return not self.failed

    def close(self) -> StreamResult:
        """End the document (after the last :meth:`feed_from`); returns the result."""
        res = self.res
        if self.failed:
            return res
        if not res.bytes_read:
            res.read_ok = res.wellformed = False
            res.fatal = tr("the file is empty")
            return res
        try:
            try:
                self.parser.close()
            finally:
                self._drain()
        except etree.XMLSyntaxError as exc:
            # validating, the parser also raises for validity errors (counted, located elsewhere)
            if not (self.validating and not self.fatal and not self.errors and self.root_closed):
                self._fail(parser_says(exc.msg or str(exc)), exc.lineno)
                return res
        except OSError as exc:
            self._fail(tr("read error: {error}", error=str(exc)), None, wellformed=True)
            return res
        if self.fatal:
            self._fail(parser_says(self.fatal[0][0]), self.fatal[0][1])
        elif not self.root_closed:
            # with a schema, libxml2 may stop at a well-formedness error without reporting it to
            # lxml: an unclosed root tells
            self._fail(tr("the XML is not well-formed: parsing stopped before the root element was closed"),
                       self.last_line or None)
        return res


def pull_containers(stream, containers, on_start, on_end, *, tee=None, progress=None,
                    stop=None) -> StreamResult:
    """Parse ``stream`` once with a :class:`ContainerPuller` (no schema); see there."""
    puller = ContainerPuller(containers, on_start, on_end)
    if puller.feed_from(stream, tee=tee, progress=progress, stop=stop):
        puller.close()
    return puller.res


__all__ += ["SchemaProcess", "ContainerPuller", "pull_containers", "xmllint_path"]
