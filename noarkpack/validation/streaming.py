"""Streaming an extract's XML files: arkivstruktur.xml through the content pass with its XSD check on the
other core (xmllint beside this process, or the split pass of validation.parallel), the other units
through one validating parse.  XSD errors are N5.03's findings.  A mixin of engine._Run."""

from __future__ import annotations

import time
from pathlib import Path

from lxml import etree

from ..locale import tr
from . import parallel
from .content import ContentPass
from .xmlstream import SchemaProcess, pull_containers, schema_says, stream_xml, xmllint_path


class Streaming:
    """The run provides src, r, addml, identify, schema_for(), tick()."""

    def stream_content(self, cp: ContentPass):
        """arkivstruktur.xml: the content tests and the XSD (N5.03), on two cores at once.

        A big file (validation.parallel) is read in two halves, here and in a child process, each
        parsed, validated and tested.  Otherwise the file is read once and each chunk goes to
        xmllint's pipe (the XSD) and to this process's parser (the content tests).  Without xmllint
        (or with NOARKPACK_NO_XMLLINT set) the one-process path :meth:`stream` is used.
        """
        r = self.r
        xml_name = "arkivstruktur.xml"
        if not self.src.exists(xml_name):
            return None
        want_schema = r.wants("N5.03")
        total = self.src.size(xml_name)
        last = [0.0]

        def prog(n):
            now = time.monotonic()
            if now - last[0] > 0.5:
                last[0] = now
                self.tick(xml_name, n, total)

        root = getattr(self.src, "root", None)
        if cp.mergeable:
            schema = self.schema_for("arkivstruktur", xml_name) if want_schema else None
            halves = parallel.validate_in_halves(
                Path(root), xml_name, cp, r, schema=schema, xsd=self._schema_files.get(id(schema)),
                addml=self.addml, identify=self.identify is not None, progress=prog)
            if halves is not None:
                res = halves.res
                if res.wellformed and (res.schema_errors or cp.prefix_trouble):
                    self._check_namespaces(xml_name, res)
                if res.wellformed and res.schema_errors and schema is not None:
                    res.schema_errors = self._locate_schema_errors(xml_name, schema)
                self.r.facts["arkivstruktur_in_halves"] = halves.parallel
                return self._streamed(xml_name, res, total)
        xmllint = xmllint_path()
        if want_schema and xmllint is None:
            return self.stream("arkivstruktur", xml_name, cp.handle)
        schema = self.schema_for("arkivstruktur", xml_name) if want_schema else None
        sp = SchemaProcess(xmllint, str(self._schema_files[id(schema)])) if schema is not None else None
        try:
            with self.src.open(xml_name) as fh:
                res = pull_containers(fh, ContentPass.CONTAINERS, cp.container_start, cp.container_end,
                                      tee=sp.feed if sp is not None else None, progress=prog)
        except BaseException:
            if sp is not None:
                sp.close(complete=False)
            raise
        if sp is not None:
            code = sp.close(complete=res.read_ok)
            res.schema_errors = len(sp.errors)
            if res.wellformed:
                for message, line in sp.errors:
                    r.add("N5.03", "error", schema_says(message), file=xml_name, line=line)
            if res.read_ok and code != 0 and not sp.errors:
                # xmllint failed without a located error (it could not run as expected): validate here
                with self.src.open(xml_name) as fh:
                    again = stream_xml(fh, schema=schema, on_schema_error=lambda m, ln: r.add(
                        "N5.03", "error", schema_says(m), file=xml_name, line=ln))
                res.schema_errors = again.schema_errors
        return self._streamed(xml_name, res, total)

    def _check_namespaces(self, xml_name: str, res) -> None:
        """An undeclared namespace prefix, which a validating parse does not report: parse once more.

        Without a schema lxml's parser fails at the end of such a file, as the one-process pass does.
        Run only when the halves found XSD errors (an undeclared prefix on an attribute is one) or an
        element name with an undeclared prefix.
        """
        def drop(el):
            parent = el.getparent()
            if parent is not None:
                parent.remove(el)

        with self.src.open(xml_name) as fh:
            again = pull_containers(fh, ContentPass.CONTAINERS, lambda el: None, drop)
        if not again.wellformed:
            res.read_ok = res.wellformed = False
            res.fatal, res.fatal_line = again.fatal, again.fatal_line

    def _locate_schema_errors(self, xml_name: str, schema: etree.XMLSchema) -> int:
        """Report the XSD errors of ``xml_name`` with their lines; returns how many.

        xmllint's reader gives every error its line; without xmllint (or if it disagrees and finds
        none), lxml's parser with an event per element does (slower).
        """
        r = self.r
        xmllint = xmllint_path()
        if xmllint is not None:
            sp = SchemaProcess(xmllint, str(self._schema_files[id(schema)]))
            complete = False
            try:
                with self.src.open(xml_name) as fh:
                    while chunk := fh.read(1 << 20):
                        sp.feed(chunk)
                complete = True
            finally:
                sp.close(complete=complete)
            if sp.errors:
                for message, line in sp.errors:
                    r.add("N5.03", "error", schema_says(message), file=xml_name, line=line)
                return len(sp.errors)
        with self.src.open(xml_name) as fh:
            again = stream_xml(fh, schema=schema, on_schema_error=lambda m, ln: r.add(
                "N5.03", "error", schema_says(m), file=xml_name, line=ln))
        return again.schema_errors

    def _streamed(self, xml_name: str, res, total):
        r = self.r
        self.tick(xml_name, res.bytes_read, total)
        r.mark_ran("N5.03")
        self.r.facts.setdefault("bytes_read", 0)
        self.r.facts["bytes_read"] += res.bytes_read
        if not res.wellformed or not res.read_ok:
            r.add("N5.03", "error", tr("{file} cannot be read to the end: {reason}", file=xml_name, reason=res.fatal),
                  file=xml_name, line=res.fatal_line)
        return res

    def stream(self, unit: str, xml_name: str, handler=None, *, validate: bool = True):
        """Stream one XML unit, validating it (N5.03) when selected; returns StreamResult or None."""
        r = self.r
        if not self.src.exists(xml_name):
            return None
        schema = self.schema_for(unit, xml_name) if (validate and r.wants("N5.03")) else None
        total = self.src.size(xml_name)

        def on_error(message, line):
            r.add("N5.03", "error", schema_says(message), file=xml_name, line=line)

        last = [0.0]

        def prog(n):
            now = time.monotonic()
            if now - last[0] > 0.5:
                last[0] = now
                self.tick(xml_name, n, total)

        with self.src.open(xml_name) as fh:
            res = stream_xml(fh, handler=handler, schema=schema, on_schema_error=on_error, progress=prog)
        r.mark_ran("N5.03")
        self.r.facts.setdefault("bytes_read", 0)
        self.r.facts["bytes_read"] += res.bytes_read
        if not res.wellformed or not res.read_ok:
            r.add("N5.03", "error", tr("{file} cannot be read to the end: {reason}", file=xml_name, reason=res.fatal),
                  file=xml_name, line=res.fatal_line)
        return res
