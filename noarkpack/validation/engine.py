"""validate(): the structure tests, one streaming pass for the content tests, then the side files.

Order of work (each file read once, except document files: hashed once each):

1. Find the extract (:func:`source.open_source`), read the ADDML (small).
2. Structure tests: N5.01 (files exist), N5.02 (ADDML checksums), NP.04
   (shipped XSDs are official), N5.28 (document count); the document folder is
   listed once into a compact table that N5.32/N5.33/N5.34 reuse.
3. The pass over arkivstruktur.xml: XSD validation (N5.03) and every content
   test together (:class:`content.ContentPass`).
4. endringslogg.xml (XSD + N5.61/N5.62) and the two journals (XSD + N5.59/N5.60
   heads + NP.03), each streamed once.
5. Results that need the whole pass (counts, comparisons with the ADDML).

Nothing in an extract makes this raise: a missing or broken file is a finding.
Only a PATH that holds no extract raises :class:`ValidationError` (exit 2).
"""

from __future__ import annotations

import hashlib
import os
import re
import time
import tomllib
from pathlib import Path

from lxml import etree

from ..formats import raw_formats
from . import catalogue
from .addml import AddmlInfo, read_addml
from .content import F_MULTI, F_ON_DISK, F_REFERENCED, ContentPass, _wrap_np03, hash_algorithm, parse_date
from ..idset import IdSet
from .identify_child import identify_members_in_child, iter_members, member_record
from .report import Report
from .source import ADDML_NAMES, ExtractSource, TarSource, ValidationError, norm_ref, open_source
from .source import identify_document as _siegfried
from . import parallel
from .xmlstream import SchemaProcess, pull_containers, stream_xml, xmllint_path
from ..progress import Progress

#: schema set in the store for each Noark 5 version
SCHEMA_SETS = {"3.1": "noark5-v3.1", "4.0": "noark5-v4.0", "5.0": "noark5-v5.0"}
UNITS = ("arkivstruktur", "endringslogg", "loependeJournal", "offentligJournal")
#: the XML files of an extract (those present are checked by NP.05)
XML_FILES = ("arkivuttrekk.xml", "addml.xml", "arkivstruktur.xml", "endringslogg.xml", "loependeJournal.xml",
             "offentligJournal.xml")
OFFICIAL_XSDS = ("arkivstruktur.xsd", "metadatakatalog.xsd", "endringslogg.xsd", "loependeJournal.xsd",
                 "offentligJournal.xsd", "addml.xsd")


_IDENTIFY_BATCH = 500


def _identify_batch(paths: list[Path]) -> None:
    """Identify a batch of document files with Siegfried's own workers (both cores).

    The results land in the per-process cache of :func:`noarkpack.documents.identify`, so the
    content pass's NP.01 look-ups (:func:`_siegfried`) do not read those files again.  A batch
    that fails is skipped: the content pass then identifies its files one at a time and reports
    what goes wrong, as before.
    """
    from ..documents import identify_many

    try:
        identify_many(paths)
    except Exception:  # noqa: BLE001 - reported per document by the content pass
        pass


class _Run:
    """State of one validate() call."""

    def __init__(self, source: ExtractSource, report: Report, store, progress: Progress | None,
                 identify) -> None:
        self.src = source
        self.r = report
        self.store = store
        self.progress = progress
        self.identify = identify
        self.addml: AddmlInfo = AddmlInfo()
        self.addml_name: str | None = None
        self.version = ""
        self.docs: IdSet | None = None
        self.doc_dir: str | None = None
        self.doc_count = 0
        self._schema_cache: dict = {}
        self._schema_for: dict[tuple[str, str], etree.XMLSchema | None] = {}
        self._schema_files: dict[int, Path] = {}  # id(schema) → the XSD file it was compiled from
        self._tmpdir: Path | None = None

    # ------------------------------------------------------------------ helpers

    def tick(self, stage: str, done: int, total: int | None = None) -> None:
        if self.progress is not None:
            self.progress(stage, done, total)

    def _store(self):
        if self.store is None:
            from ..schemas import default_store

            self.store = default_store()
        return self.store

    def schema_set(self) -> str:
        return SCHEMA_SETS.get(self.version, "noark5-v5.0")

    # ------------------------------------------------------------------ ADDML, N5.01

    def read_addml(self) -> None:
        r = self.r
        for n in ADDML_NAMES:
            if self.src.exists(n):
                self.addml_name = n
                break
        if self.addml_name is None:
            r.add("N5.01", "error", "arkivuttrekk.xml (ADDML) is missing: the extract is not documented",
                  file="arkivuttrekk.xml")
            return
        with self.src.open(self.addml_name) as fh:
            self.addml = read_addml(fh, self.addml_name)
        for msg, line in self.addml.problems:
            r.add("N5.01", "error", msg, file=self.addml_name, line=line)
        self.version = (self.addml.version or "").strip()
        r.facts["version"] = self.version or None
        if self.addml.parsed and self.version not in SCHEMA_SETS:
            r.add("N5.03", "warning", f"Noark 5 version {self.version or '(none)'} in the ADDML is not 3.1, 4.0 or 5.0; "
                                      "the v5.0 schemas are used where the extract ships none", file=self.addml_name)

    def n5_01(self) -> None:
        r = self.r
        r.mark_ran("N5.01")
        if not self.addml.parsed:
            if not self.src.exists("arkivstruktur.xml"):
                r.add("N5.01", "error", "arkivstruktur.xml is missing", file="arkivstruktur.xml")
            return
        seen = set()
        for obj in self.addml.objects:
            entries = ([obj.file] if obj.file else []) + obj.schemas
            if obj.file is None:
                r.add("N5.01", "error", f"dataObject {obj.name!r} names no file", file=self.addml_name)
            for e in entries:
                if not e.name or e.name in seen:
                    continue
                seen.add(e.name)
                if not self.src.exists(e.name):
                    r.add("N5.01", "error", f"{e.name} is listed in the ADDML but missing from the extract",
                          file=self.addml_name, line=e.line)
        if self.addml.object("arkivstruktur") is None:
            r.add("N5.01", "error", "the ADDML does not list arkivstruktur.xml", file=self.addml_name)

    # ------------------------------------------------------------------ N5.02

    def n5_02(self) -> None:
        r = self.r
        r.mark_ran("N5.02")
        schemas_done = set()
        for obj in self.addml.objects:
            entries = [(obj.file, False)] if obj.file else []
            entries += [(s, True) for s in obj.schemas]
            for e, is_schema in entries:
                if not e.name:
                    continue
                if is_schema:
                    if e.name in schemas_done:
                        continue
                    schemas_done.add(e.name)
                where = dict(file=e.name)
                if not e.has_checksum:
                    if is_schema and not self.src.exists(e.name):
                        continue  # an undocumented reference to a schema: N5.01/N5.03 speak for it
                    r.add("N5.02", "error", f"the ADDML records no checksum for {e.name}", **where)
                    continue
                if not e.algorithm:
                    r.add("N5.02", "error", f"the ADDML records no checksum algorithm for {e.name}", **where)
                    continue
                algo = hash_algorithm(e.algorithm)
                if algo is None:
                    r.add("N5.02", "error", f"unsupported checksum algorithm {e.algorithm!r} for {e.name}", **where)
                    continue
                if not self.src.exists(e.name):
                    r.add("N5.02", "error", f"{e.name} not found", **where)
                    continue
                h = hashlib.new(algo)
                with self.src.open(e.name) as fh:
                    while chunk := fh.read(1 << 20):
                        h.update(chunk)
                actual = h.hexdigest()
                if (e.checksum or "").strip().lower() != actual:
                    r.add("N5.02", "error", f"checksum mismatch for {e.name}: the ADDML records "
                                            f"{(e.checksum or '').lower()}, the file has {actual} ({e.algorithm})",
                          **where)
                else:
                    r.add("N5.02", "info", f"{e.name}: {e.algorithm} checksum matches", **where)
                    if algo != "sha256":
                        r.add("N5.02", "warning", f"{e.name}: checksum algorithm {e.algorithm}; Arkade accepts "
                                                  "only SHA-256", **where)

    # ------------------------------------------------------------------ NP.04

    def np_04(self) -> None:
        r = self.r
        if not r.wants("NP.04"):
            return
        r.mark_ran("NP.04")
        from ..resources import schemas_dir

        pins: dict[str, dict[str, str]] = {}
        for lock in sorted(schemas_dir().glob("*.lock.toml")):
            try:
                data = tomllib.loads(lock.read_text(encoding="utf-8"))
            except (OSError, tomllib.TOMLDecodeError):
                continue
            for f in data.get("file", []):
                pins.setdefault(f.get("name"), {})[f.get("sha256")] = data.get("name")
        for name in OFFICIAL_XSDS:
            if not self.src.exists(name):
                continue
            h = hashlib.sha256()
            with self.src.open(name) as fh:
                while chunk := fh.read(1 << 20):
                    h.update(chunk)
            digest = h.hexdigest()
            sets = pins.get(name, {})
            if digest in sets:
                r.add("NP.04", "info", f"{name} is the official file of {sets[digest]}", file=name)
            else:
                r.add("NP.04", "warning", f"{name} differs from every pinned official version "
                                          f"(SHA-256 {digest}); line endings or edits may have changed it",
                      file=name)

    # ------------------------------------------------------------------ NP.05

    def np_05(self) -> None:
        """No XML file of the extract declares a DTD: an entity there is hostile or broken, never needed."""
        r = self.r
        if not r.wants("NP.05"):
            return
        r.mark_ran("NP.05")
        for name in XML_FILES:
            if not self.src.exists(name):
                continue
            with self.src.open(name) as fh:
                head = fh.read(1 << 16)
            # A DTD can only stand in the prolog, before the root element.
            root = re.search(rb"<[A-Za-z_]", head)
            prolog = head[: root.start()] if root else head
            if b"<!DOCTYPE" in prolog:
                line = prolog[: prolog.index(b"<!DOCTYPE")].count(b"\n") + 1
                r.add("NP.05", "error", f"{name} declares a DTD (<!DOCTYPE>): its entities were not resolved and "
                                        "a Noark 5 extract has none; remove the declaration", file=name, line=line)

    # ------------------------------------------------------------------ N5.28 + document listing

    def may_split(self) -> bool:
        """Whether arkivstruktur.xml is big enough to be read in two halves (validation.parallel)."""
        if getattr(self.src, "root", None) is None or not parallel.enabled():
            return False
        return (self.src.size("arkivstruktur.xml") or 0) >= parallel.MIN_BYTES

    def list_documents(self) -> None:
        r = self.r
        self.doc_dir = self.src.document_dir()
        r.mark_ran("N5.28")
        if self.doc_dir is None:
            r.add("N5.28", "error", "the documents folder (dokumenter, DOKUMENT, ...) is missing", file="")
        else:
            self.docs = IdSet(stable=self.may_split())  # stable: the parallel pass hands it to a child
            n = 0
            root = getattr(self.src, "root", None)
            identifying = self.identify is _siegfried and self.r.wants("NP.01")
            batch: list | None = None
            # NP.01 in a child process (validation.identify_child): a folder's documents, or an uncompressed
            # tar's members (the child reads them at their offsets)
            listed = members = None
            if identifying and root is not None:
                listed = open(self._tmp() / "np01-files", "wb")
            elif identifying and isinstance(self.src, TarSource) and self.src.seekable_members:
                members = open(self._tmp() / "np01-members", "wb")
            elif identifying and isinstance(self.src, TarSource):
                batch = []  # NP.01: a tar's members are copied out and identified a batch at a time

            def identify_batch() -> None:
                self.src.identify_batch(batch, self._tmp())
                batch.clear()

            try:
                for rel, _size in self.src.iter_files(self.doc_dir):
                    self.docs.add(norm_ref(rel), 0, F_ON_DISK)
                    n += 1
                    if listed is not None:
                        listed.write(os.fsencode(rel) + b"\0")
                    elif members is not None:
                        members.write(member_record(rel, self.src.data_offset(rel), _size))
                    elif batch is not None:
                        batch.append(rel)
                        if len(batch) >= _IDENTIFY_BATCH:
                            identify_batch()
                    if n % 10000 == 0:
                        self.tick("listing documents", n)
            finally:
                for f in (listed, members):
                    if f is not None:
                        f.close()
            if batch:
                identify_batch()
            if listed is not None and n:
                self._identify_listed(Path(root), Path(listed.name), n)
            if members is not None and n:
                self._identify_members(Path(members.name), n)
            self.doc_count = n
            if n:
                r.add("N5.28", "info", f"document files found: {n}", file=self.doc_dir + "/")
            else:
                r.add("N5.28", "error", "the documents folder holds no files", file=self.doc_dir + "/")
        raw = self.addml.antall_dokumentfiler
        try:
            documented = int(raw) if raw is not None else None
        except ValueError:
            documented = None
        if documented is None:
            r.add("N5.28", "error", "the ADDML does not document the number of document files (antallDokumentfiler)",
                  file=self.addml_name or "arkivuttrekk.xml")
        else:
            r.add("N5.28", "info", f"document files documented: {documented}", file=self.addml_name)
            if documented != self.doc_count:
                r.add("N5.28", "error", f"the ADDML documents {documented} document files, {self.doc_count} were found",
                      file=self.addml_name)

    # ------------------------------------------------------------------ schemas (N5.03)

    def schema_for(self, unit: str, xml_name: str) -> etree.XMLSchema | None:
        """The schema to validate ``unit`` with: the shipped ones, else the store's (reported, once)."""
        key = (unit, xml_name)
        if key not in self._schema_for:
            self._schema_for[key] = self._find_schema(unit, xml_name)
        return self._schema_for[key]

    def _find_schema(self, unit: str, xml_name: str) -> etree.XMLSchema | None:
        r = self.r
        main = "addml.xsd" if unit == "addml" else f"{unit}.xsd"
        obj = self.addml.object(unit) if unit != "addml" else None
        listed = [s.name for s in (obj.schemas if obj else []) if s.name]
        files: list[Path] = []
        shipped_dir = None
        needed = [main] + (["metadatakatalog.xsd"] if unit != "addml" else [])
        documented = unit == "addml" or main in listed
        if documented and self.src.exists(main):
            shipped_dir = self.src.local_copy(sorted(set(listed + needed)))
            files.append(shipped_dir / main)
        else:
            set_name = "addml-8.3" if unit == "addml" else self.schema_set()
            try:
                store_dir = self._store().set_dir(set_name)
            except Exception as exc:  # noqa: BLE001 - SchemaStoreError and I/O errors become findings
                r.add("N5.03", "error", f"{xml_name} cannot be validated: {main} is not documented in the ADDML "
                                        f"or missing, and the official schema is not available ({exc})", file=xml_name)
                return None
            files.append(store_dir / main)
            r.add("N5.03", "error", f"schema {main} is not correctly documented in the ADDML or missing from the extract; "
                                    f"the installed official {set_name} version was used", file=xml_name)
        # virksomhetsspesifikke (and any other) schemas listed for this unit
        for extra in listed:
            if extra in needed:
                continue
            if self.src.exists(extra):
                d = shipped_dir or self.src.local_copy(sorted(set(listed + needed)))
                files.append(d / extra)
        key = tuple(str(f) for f in files)
        if key in self._schema_cache:
            return self._schema_cache[key]
        schema = None
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        try:
            if len(files) == 1:
                schema = etree.XMLSchema(etree.parse(str(files[0]), parser))
                xsd_file = files[0]
            else:
                imports = []
                for f in files:
                    tns = etree.parse(str(f), parser).getroot().get("targetNamespace") or ""
                    imports.append(f'<xs:import namespace="{tns}" schemaLocation="{f.resolve().as_uri()}"/>')
                wrapper = ('<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema">' + "".join(imports)
                           + "</xs:schema>")
                schema = etree.XMLSchema(etree.fromstring(wrapper.encode(), parser, base_url=(files[0].parent.resolve() / "noarkpack-wrapper.xsd").as_uri()))
                xsd_file = self._tmp() / f"wrapper-{len(self._schema_cache)}.xsd"
                xsd_file.write_text(wrapper, encoding="utf-8")
            self._schema_files[id(schema)] = xsd_file
        except (etree.XMLSchemaParseError, etree.XMLSyntaxError, OSError) as exc:
            r.add("N5.03", "error", f"the schemas for {xml_name} cannot be read: {exc}", file=xml_name)
        self._schema_cache[key] = schema
        return schema

    def _identify_listed(self, root: Path, list_file: Path, count: int) -> None:
        """NP.01: the listed documents identified in a child process (Siegfried's Go heap stays out of
        this one), or here in batches when the child cannot do it."""
        from .identify_child import identify_in_child, iter_listed

        self.tick("identifying documents (NP.01)", count)
        if identify_in_child(root, list_file, self._tmp()):
            return
        batch: list[Path] = []
        for rel in iter_listed(list_file):
            batch.append(root / rel)
            if len(batch) >= _IDENTIFY_BATCH:
                _identify_batch(batch)
                batch = []
        if batch:
            _identify_batch(batch)

    def _identify_members(self, list_file: Path, count: int) -> None:
        """NP.01: an uncompressed tar's documents identified in a child process, or here in batches
        when the child cannot do it."""
        self.tick("identifying documents (NP.01)", count)
        got = identify_members_in_child(self.src.path, list_file, self._tmp())
        if got is not None:
            self.src.adopt_identified((name for name, _o, _s in iter_members(list_file)), *got)
            return
        batch: list[str] = []
        for name, _offset, _size in iter_members(list_file):
            batch.append(name)
            if len(batch) >= _IDENTIFY_BATCH:
                self.src.identify_batch(batch, self._tmp())
                batch.clear()
        if batch:
            self.src.identify_batch(batch, self._tmp())

    def _tmp(self) -> Path:
        if self._tmpdir is None:
            import tempfile

            self._tmpdir = Path(tempfile.mkdtemp(prefix="noarkpack-validate-"))
        return self._tmpdir

    def cleanup(self) -> None:
        if self._tmpdir is not None:
            import shutil

            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None

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
                addml=self.addml, identify=self.identify is not None, np03=r.wants("NP.03"), progress=prog)
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
                    r.add("N5.03", "error", message, file=xml_name, line=line)
            if res.read_ok and code != 0 and not sp.errors:
                # xmllint failed without a located error (it could not run as expected): validate here
                with self.src.open(xml_name) as fh:
                    again = stream_xml(fh, schema=schema, on_schema_error=lambda m, ln: r.add(
                        "N5.03", "error", m, file=xml_name, line=ln))
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
                    r.add("N5.03", "error", message, file=xml_name, line=line)
                return len(sp.errors)
        with self.src.open(xml_name) as fh:
            again = stream_xml(fh, schema=schema, on_schema_error=lambda m, ln: r.add(
                "N5.03", "error", m, file=xml_name, line=ln))
        return again.schema_errors

    def _streamed(self, xml_name: str, res, total):
        r = self.r
        self.tick(xml_name, res.bytes_read, total)
        r.mark_ran("N5.03")
        self.r.facts.setdefault("bytes_read", 0)
        self.r.facts["bytes_read"] += res.bytes_read
        if not res.wellformed or not res.read_ok:
            r.add("N5.03", "error", f"{xml_name} cannot be read to the end: {res.fatal}", file=xml_name,
                  line=res.fatal_line)
        return res

    def stream(self, unit: str, xml_name: str, handler=None, *, validate: bool = True):
        """Stream one XML unit, validating it (N5.03) when selected; returns StreamResult or None."""
        r = self.r
        if not self.src.exists(xml_name):
            return None
        schema = self.schema_for(unit, xml_name) if (validate and r.wants("N5.03")) else None
        total = self.src.size(xml_name)

        def on_error(message, line):
            r.add("N5.03", "error", message, file=xml_name, line=line)

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
            r.add("N5.03", "error", f"{xml_name} cannot be read to the end: {res.fatal}", file=xml_name,
                  line=res.fatal_line)
        return res

    # ------------------------------------------------------------------ journals and changelog

    def journal_head(self, name: str, extra_handler=None):
        """(antallJournalposter, start, end) from a journal's journalhode; None if unreadable."""
        head: dict[str, str] = {}
        state = {"in_head": False}

        def handler(ev, el):
            local = el.tag.rpartition("}")[2]
            if local == "journalhode":
                state["in_head"] = ev == "start"
            elif state["in_head"] and ev == "end":
                head[local] = (el.text or "").strip()
            if extra_handler is not None:
                extra_handler(ev, el, local)

        unit = name[:-4]
        res = self.stream(unit, name, handler)
        if res is None:
            return None
        try:
            return (int(head["antallJournalposter"]), parse_date(head.get("journalStartDato", "")),
                    parse_date(head.get("journalSluttDato", "")))
        except (KeyError, ValueError):
            return None

    def sharp(self) -> bool:
        """Both period separations sharp; 'skarp' is accepted with a warning (Arkade wants 'skarpt')."""
        vals = [self.addml.periode.get("inngaaendeSkille"), self.addml.periode.get("utgaaendeSkille")]
        for t in ("N5.59", "N5.60"):
            for v in vals:
                if v is not None and v.strip().lower() == "skarp":
                    self.r.add(t, "warning", "the ADDML says period separation 'skarp'; read as 'skarpt' "
                                             "(Arkade would treat it as soft)", file=self.addml_name)
        return all(v is not None and v.strip().lower() in ("skarpt", "skarp") for v in vals)

    def journals(self, cp: ContentPass) -> None:
        r = self.r
        wanted = any(r.wants(t) for t in ("N5.59", "N5.60", "NP.03", "N5.03"))
        if not wanted:
            return
        leaks = {"n": 0}

        cur: dict = {}

        def leak_check(ev, el, local):
            # NP.03: offentligJournal must not show what arkivstruktur screens.  Children are
            # cleared as they end, so their values are collected on their own end events.
            if local in ("journalpost", "saksmappe"):
                if ev == "start":
                    cur.clear()
                    cur["_line"] = el.sourceline
                    return
                if local == "journalpost":
                    key = f"jp:{(cur.get('systemID') or [''])[0]}"
                else:
                    key = f"sm:{(cur.get('saksaar') or [''])[0]}/{(cur.get('sakssekvensnummer') or [''])[0]}"
                for field, kind in (("offentligTittel", "tittel"), ("tittel", "tittel"),
                                    ("korrespondansepartNavn", "navn")):
                    for v in cur.get(field, []):
                        if v and f"{key}\x1f{kind}\x1f{v}" in cp.screened:
                            leaks["n"] += 1
                            what = ("journalpost " if local == "journalpost" else "saksmappe ") + key[3:]
                            r.add("NP.03", "error", f"offentligJournal shows a {field} that arkivstruktur.xml "
                                                    f"screens ({what})", file="offentligJournal.xml",
                                  line=cur.get("_line"), systemID=key[3:] if local == "journalpost" else None)
                cur.clear()
            elif ev == "end" and "_line" in cur:
                cur.setdefault(local, []).append((el.text or "").strip())

        oj = self.journal_head("offentligJournal.xml", leak_check if r.wants("NP.03") else None)
        lj = self.journal_head("loependeJournal.xml")
        if r.wants("NP.03"):
            r.mark_ran("NP.03")
            if self.src.exists("offentligJournal.xml"):
                r.add("NP.03", "info", f"{cp.screened.count} screened values compared, {leaks['n']} leaks",
                      file="offentligJournal.xml")
        sharp = self.sharp()
        # N5.59
        r.mark_ran("N5.59")
        if oj is None or lj is None:
            r.add("N5.59", "error", "the number of journal records could not be read from offentligJournal.xml "
                                    "and loependeJournal.xml (missing or unreadable)", file="")
        else:
            r.add("N5.59", "info", f"journal records: {cp.journalposts} in arkivstruktur.xml, {oj[0]} in "
                                   f"offentligJournal.xml, {lj[0]} in loependeJournal.xml", file="")
            if oj[0] != lj[0]:
                r.add("N5.59", "error", f"the journals disagree: offentligJournal.xml has {oj[0]} journal records, "
                                        f"loependeJournal.xml {lj[0]}", file="offentligJournal.xml")
            if sharp and not (cp.journalposts == oj[0] == lj[0]):
                r.add("N5.59", "error", f"with sharp period separation the journals ({oj[0]}, {lj[0]}) must list every "
                                        f"journal record of arkivstruktur.xml ({cp.journalposts})", file="arkivstruktur.xml")
        # N5.60
        r.mark_ran("N5.60")
        lo, hi = cp.journal_dates
        if oj is None or lj is None:
            r.add("N5.60", "error", "start and end dates could not be read from the journals (missing or unreadable)",
                  file="")
        elif lo is None:
            r.add("N5.60", "error", "no valid registrering/journaldato found in arkivstruktur.xml",
                  file="arkivstruktur.xml")
        else:
            r.add("N5.60", "info", f"journaldato in arkivstruktur.xml {lo} – {hi}; offentligJournal {oj[1]} – {oj[2]}; "
                                   f"loependeJournal {lj[1]} – {lj[2]}", file="")
            if (oj[1], oj[2]) != (lj[1], lj[2]):
                r.add("N5.60", "error", "the journals' start and end dates disagree", file="offentligJournal.xml")
            if sharp and not ((lo, hi) == (oj[1], oj[2]) == (lj[1], lj[2])):
                r.add("N5.60", "error", f"with sharp period separation the journals' dates ({oj[1]} – {oj[2]}) must equal "
                                        f"the first and last journaldato of arkivstruktur.xml ({lo} – {hi})",
                      file="arkivstruktur.xml")

    def changelog(self, cp: ContentPass) -> None:
        r = self.r
        name = "endringslogg.xml"
        count = {"endring": 0, "bad": 0}

        def handler(ev, el):
            if ev != "end":
                return
            local = el.tag.rpartition("}")[2]
            if local == "endring":
                count["endring"] += 1
            elif local == "referanseArkivenhet":
                v = (el.text or "").strip()
                if v not in cp.ids:
                    count["bad"] += 1
                    r.add("N5.62", "error", f"referanseArkivenhet {v!r} is not a systemID in arkivstruktur.xml",
                          file=name, line=el.sourceline, systemID=v or None)

        res = self.stream("endringslogg", name, handler)
        r.mark_ran("N5.61")
        r.mark_ran("N5.62")
        if res is None:
            r.add("N5.61", "error", f"{name} not found", file=name)
            r.add("N5.62", "error", f"{name} not found", file=name)
            return
        r.add("N5.61", "info", f"logged changes: {count['endring']}", file=name)
        if not res.read_ok:
            r.add("N5.61", "error", f"{name} could not be read to the end", file=name, line=res.fatal_line)

    # ------------------------------------------------------------------ after the pass

    def finish(self, cp: ContentPass) -> None:
        r = self.r
        a = self.addml
        info = lambda t, m, **k: r.add(t, "info", m, file=k.pop("file", ""), **k)  # noqa: E731
        for t in catalogue.TESTS:
            if catalogue.get(t).kind == "content" and t not in ("N5.59", "N5.60", "N5.61", "N5.62"):
                r.mark_ran(t)
        if r.wants("NP.01") and self.identify is not None:
            r.mark_ran("NP.01")
        r.mark_ran("NP.02")
        info("N5.04", f"archives: {sum(cp.arkiv_levels.values())}"
             + (f" (per level: {dict(sorted(cp.arkiv_levels.items()))})" if len(cp.arkiv_levels) > 1 else ""))
        info("N5.05", f"archive parts: {cp.n['arkivdel']}"
             + (f" (per arkiv: {dict(cp.arkivdel_per_arkiv)})" if len(cp.arkivdel_per_arkiv) > 1 else ""))
        for sid, status in cp.arkivdel_status:
            info("N5.06", f"arkivdel {sid}: {status}", systemID=sid)
        info("N5.07", f"classification systems: {sum(cp.ks_per_arkivdel.values())}")
        total_classes = sum(sum(k[3].values()) for k in cp.ks_info)
        info("N5.08", f"classes: {total_classes}")
        for arkivdel, sid, primary, levels, empty in cp.ks_info:
            info("N5.08", f"classification system {sid} ({'primary' if primary else 'secondary'}): "
                          f"{sum(levels.values())} classes, per level {dict(sorted(levels.items()))}", systemID=sid)
            if primary and empty:
                info("N5.09", f"classification system {sid}: {empty} classes without sub-classes, folders or "
                              "registrations", systemID=sid)
        empty_total = sum(k[4] for k in cp.ks_info if k[2])
        info("N5.09", f"empty classes in primary classification systems: {empty_total}")
        # N5.10
        folders = sum(cp.per["N5.10"].values())
        info("N5.10", f"folders: {folders}")
        for (typ, level), n in sorted(cp.per["N5.10"].items()):
            info("N5.10", f"{typ} at level {level}: {n}")
        documented = a.occurrences("mappe") if a.parsed else None
        if (documented or 0) != folders:
            r.add("N5.10", "error", f"the ADDML documents {documented if documented is not None else 'no'} folders "
                                    f"(numberOfOccurrences mappe), arkivstruktur.xml has {folders}",
                  file=self.addml_name or "arkivuttrekk.xml")
        for y, n in sorted(cp.mappe_years.items()):
            info("N5.11", f"{y}: {n} folders")
        info("N5.13", f"classes with folders: {cp.per['N5.13']['with']}, without: {cp.per['N5.13']['without']}")
        info("N5.14", f"folders without registrations or sub-folders: {cp.n['N5.14']}")
        for v, n in cp.per["N5.15"].items():
            info("N5.15", f"saksstatus {v!r}: {n}")
        regs = cp.n["registrering"]
        info("N5.16", f"registrations: {regs}")
        for typ, n in cp.per["N5.16"].items():
            info("N5.16", f"{typ}: {n}")
        documented = a.occurrences("registrering") if a.parsed else None
        if (documented or 0) != regs:
            r.add("N5.16", "error", f"the ADDML documents {documented if documented is not None else 'no'} "
                                    f"registrations (numberOfOccurrences registrering), arkivstruktur.xml has {regs}",
                  file=self.addml_name or "arkivuttrekk.xml")
        for v, n in cp.per["N5.17"].items():
            info("N5.17", f"journalposttype {v!r}: {n}")
        if not cp.per["N5.17"]:
            info("N5.17", "journal records: 0")
        for y, n in sorted(cp.reg_years.items()):
            info("N5.18", f"{y}: {n} registrations")
        info("N5.20", f"registrations directly under classes: {cp.n['N5.20 regs']}; classes without: "
                      f"{cp.per['N5.20']['without']}")
        info("N5.21", f"registrations without document description: {cp.n['N5.21']}")
        for v, n in cp.per["N5.22"].items():
            info("N5.22", f"journalstatus {v!r}: {n}")
        info("N5.23", f"document descriptions: {cp.n['dokumentbeskrivelse']}")
        info("N5.24", f"document descriptions without document object: {cp.n['N5.24']} "
                      f"(on physical media: {cp.n['N5.24 physical']})")
        for v, n in cp.per["N5.25"].items():
            info("N5.25", f"dokumentstatus {v!r}: {n}")
        info("N5.26", f"document objects: {cp.n['dokumentobjekt']}")
        lo, hi = cp.reg_dates
        info("N5.27", f"registrations: {regs}; first created {lo or '-'}, last {hi or '-'}")
        if cp.invalid_reg_dates:
            r.add("N5.27", "error", f"{len(cp.invalid_reg_dates)} registrations have an invalid opprettetDato",
                  file="arkivstruktur.xml", line=cp.invalid_reg_dates[0])
        info("N5.29", f"document formats: {len(cp.formats)}")
        for fmt, n in sorted(cp.formats.items()):
            info("N5.29", f"format {fmt!r}: {n}")
        if cp.n["N5.29 mismatch"]:
            r.add("N5.29", "error", f"{cp.n['N5.29 mismatch']} document objects have a format that differs from "
                                    "their file extension", file="arkivstruktur.xml")
        info("N5.30", f"document checksums verified: {cp.n['N5.30 checked']}")
        # N5.33 / N5.34: walk the listing again for names (the table holds only hashes)
        if self.docs is not None and self.doc_dir is not None:
            unref = multi = 0
            for rel, _ in self.src.iter_files(self.doc_dir):
                flags = self.docs.get_flags(norm_ref(rel)) or 0
                if not flags & F_REFERENCED:
                    unref += 1
                    r.add("N5.33", "error", f"document file is not referenced by any dokumentobjekt: {rel}", file=rel)
                elif flags & F_MULTI:
                    multi += 1
                    info("N5.34", f"referenced by more than one dokumentobjekt: {rel}", file=rel)
            info("N5.33", f"document files without reference: {unref}", file=self.doc_dir + "/")
            info("N5.34", f"document files referenced more than once: {multi}")
        info("N5.35", f"{'parties (part)' if self.version == '5.0' else 'case parties (sakspart)'}: "
                      f"{cp.n['part'] if self.version == '5.0' else cp.n['sakspart']}")
        for t, names in (("N5.36", ["merknad"]), ("N5.37", ["referanseTilKlasse", "referanseTilMappe", "referanseTilRegistrering"]),
                         ("N5.38", ["presedens"]), ("N5.43", ["gradering"]), ("N5.42", ["skjerming"]),
                         ("N5.44", ["kassasjon"])):
            tot = 0
            for nm in names:
                for parent, n in cp.per[nm].items():
                    tot += n
                    info(t, f"{nm} in {parent}: {n}")
            info(t, f"total: {tot}")
        info("N5.39", f"correspondence parties: {cp.n['korrespondansepart']}")
        for v, n in cp.per["N5.40"].items():
            info("N5.40", f"avskrivningsmaate {v!r}: {n}")
        info("N5.41", f"document flows: {cp.n['dokumentflyt']}")
        info("N5.45", f"performed disposals (utfoertKassasjon): {cp.n['utfoertKassasjon']}")
        info("N5.46", f"converted documents: {cp.n['konvertering']}")
        # N5.42 / N5.44 / N5.45 against the ADDML flags
        for t, flag, elem, what in (("N5.42", "inneholderSkjermetInformasjon", "skjerming", "restrictions (skjerming)"),
                                    ("N5.44", "inneholderDokumenterSomSkalKasseres", "kassasjon", "disposal resolutions (kassasjon)"),
                                    ("N5.45", "omfatterDokumenterSomErKassert", "utfoertKassasjon", "performed disposals (utfoertKassasjon)")):
            actual = sum(cp.per[elem].values()) if elem != "utfoertKassasjon" else cp.n[elem]
            doc = a.flag(flag) if a.parsed else None
            if doc is True and actual == 0:
                r.add(t, "error", f"the ADDML says {flag} = true, but arkivstruktur.xml has no {what}",
                      file="arkivstruktur.xml")
            elif not doc and actual > 0:
                lines = cp.first_lines.get(elem) or [None]
                r.add(t, "error", f"the ADDML says {flag} = {'false' if doc is False else '(missing)'}, but "
                                  f"arkivstruktur.xml has {actual} {what}", file="arkivstruktur.xml", line=lines[0])
        # N5.47
        for sid, lines in cp.dup_lines.items():
            r.add("N5.47", "error", f"systemID {sid} occurs {len(lines)} times (lines {', '.join(map(str, lines[:20]))}"
                                    f"{', ...' if len(lines) > 20 else ''})", file="arkivstruktur.xml",
                  line=lines[1], systemID=sid)
        info("N5.47", f"systemIDs: {cp.ids.count} distinct, {len(cp.dup_lines)} duplicated")
        # N5.48
        bad = 0
        for value, (n, line, sid, elem) in cp.refs_arkivdel.items():
            if (cp.ids.get_flags(value) or 0) & 2 == 0:
                bad += n
                r.add("N5.48", "error", f"{elem} {sid or '?'} refers to arkivdel {value!r}, which does not exist"
                                        + (f" ({n} references)" if n > 1 else ""),
                      file="arkivstruktur.xml", line=line, systemID=sid)
        info("N5.48", f"invalid arkivdel references: {bad}")
        # N5.51
        bad = 0
        for value, line, sid in cp.refs_klasse:
            if (cp.ids.get_flags(value) or 0) & 1 == 0:
                bad += 1
                r.add("N5.51", "error", f"saksmappe {sid or '?'} refers to klasse {value!r}, which does not exist",
                      file="arkivstruktur.xml", line=line, systemID=sid)
        info("N5.51", f"invalid class references: {bad} of {len(cp.refs_klasse)}")
        info("N5.64", f"empty document files: {cp.n['N5.64']}")
        if cp.n["NP.02 checked"]:
            info("NP.02", f"person numbers checked: {cp.n['NP.02 checked']}")


def validate(
    path,
    *,
    tests: set[str] | None = None,
    limit: int | None = None,
    progress: Progress | None = None,
    store=None,
    identify_formats: bool = True,
    source: ExtractSource | None = None,
) -> Report:
    """Validate a Noark 5 extract; see the package docstring.

    ``tests``: ids to run (default all; "N5.3" and "30" are accepted forms);
    ``limit``: findings kept per test (all are counted); ``progress(stage,
    done, total)`` is called on long runs; ``store``: the schema store for
    fallback schemas (default: the user's); ``source``: an already opened
    :class:`~.source.ExtractSource` (e.g. tar content), instead of ``path``.
    """
    t0 = time.monotonic()
    selected = None
    if tests is not None:
        try:
            selected = catalogue.normalise_ids(tests)
        except KeyError as exc:
            raise ValidationError(f"unknown test id {exc.args[0]!r}",
                                  hint="see noarkpack.validation.catalogue for the ids") from None
    src = source or open_source(path)
    report = Report(str(path) if path is not None else src.name, tests=selected, limit=limit)
    report.facts["extract"] = src.name
    run = None
    try:
        ident = _siegfried if identify_formats else None
        if ident is not None:
            try:
                import pygfried  # noqa: F401
            except ImportError:
                ident = None
                report.add("NP.01", "warning", "Siegfried (pygfried) is not installed: formats not identified")
        run = _Run(src, report, store, progress, ident)
        run.read_addml()
        if report.wants("N5.01"):
            run.n5_01()
        if report.wants("N5.02") and run.addml.parsed:
            run.n5_02()
        run.np_04()
        run.np_05()
        # the ADDML's own schema (N5.03)
        if report.wants("N5.03") and run.addml_name:
            run.stream("addml", run.addml_name)
        run.list_documents()
        # the one pass over arkivstruktur.xml
        cp = ContentPass(report, src, run.addml, documents=run.docs, doc_dir=run.doc_dir,
                         identify=ident, approved=raw_formats(), progress=progress, mergeable=run.may_split(),
                         expected_bytes=src.size("arkivstruktur.xml") or 0)
        if report.wants("NP.03"):
            _wrap_np03(cp)
        res = run.stream_content(cp)
        if res is None:
            report.add("N5.01", "error", "arkivstruktur.xml is missing", file="arkivstruktur.xml")
        elif not res.read_ok:
            for t in ("N5.47", "N5.16", "N5.10"):
                report.add(t, "warning", "arkivstruktur.xml could not be read to the end: results are partial",
                           file="arkivstruktur.xml", line=res.fatal_line)
        run.changelog(cp)
        run.journals(cp)
        run.finish(cp)
        cp.release()
    finally:
        if run is not None:
            run.cleanup()
        if source is None:
            src.close()
    report.seconds = time.monotonic() - t0
    return report


__all__ = ["validate", "SCHEMA_SETS"]
