"""validate(): the order of the tests, over one streaming pass for the content tests.

Order of work (each file read once, except document files: hashed once each):

1. Find the extract (:func:`source.open_source`), read the ADDML (small).
2. Structure tests (:mod:`.addml_tests`): N5.01 (files exist), N5.02 (ADDML checksums), NP.04
   (shipped XSDs are official), NP.05 (no DTD); N5.28 (:mod:`.listing`): the document folder is
   listed once into a compact table that N5.32/N5.33/N5.34 reuse.
3. The pass over arkivstruktur.xml (:mod:`.streaming`): XSD validation (N5.03, schemas from
   :mod:`.schema_resolve`) and every content test together (:mod:`.content`).
4. endringslogg.xml (XSD + N5.61/N5.62) and the two journals (XSD + N5.59/N5.60 heads + NP.03),
   each streamed once (:mod:`.journals`).
5. Results that need the whole pass (:meth:`.content.ContentPass.finish`: counts, comparisons with
   the ADDML).

Nothing in an extract makes this raise: a missing or broken file is a finding.
Only a PATH that holds no extract raises :class:`ValidationError` (exit 2).
"""

from __future__ import annotations

import time
from pathlib import Path

from lxml import etree

from ..formats import raw_formats
from ..idset import IdSet
from ..locale import tr
from ..progress import Progress
from . import addml_tests, catalogue, content, journals, listing, parallel, schema_resolve, vsm_docs
from .addml import AddmlInfo
from .addml_tests import AddmlTests
from .content import ContentPass, content_pass
from .identify_child import identify_members_in_child, iter_members
from .journals import Journals
from .listing import IDENTIFY_BATCH as _IDENTIFY_BATCH
from .listing import DocumentListing
from .report import Report
from .schema_resolve import SCHEMA_SETS, SchemaResolution
from .source import ExtractSource, ValidationError, open_source
from .source import identify_document as _siegfried
from .streaming import Streaming

#: the modules that run validate's tests, each declaring its ids (TESTS): together, the catalogue
TEST_MODULES = (addml_tests, vsm_docs, listing, schema_resolve, content, journals)


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


class _Run(AddmlTests, DocumentListing, SchemaResolution, Streaming, Journals):
    """State of one validate() call; the tests it runs come from the mixins' modules."""

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

    def may_split(self) -> bool:
        """Whether arkivstruktur.xml is big enough to be read in two halves (validation.parallel)."""
        if getattr(self.src, "root", None) is None or not parallel.enabled():
            return False
        return (self.src.size("arkivstruktur.xml") or 0) >= parallel.MIN_BYTES

    # ------------------------------------------------------------------ NP.01 identification

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
            raise ValidationError(tr("unknown test id {id!r}", id=exc.args[0]),
                                  hint=tr("see noarkpack.validation.catalogue for the ids")) from None
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
                report.add("NP.01", "warning", tr("Siegfried (pygfried) is not installed: formats not identified"))
        run = _Run(src, report, store, progress, ident)
        run.read_addml()
        if report.wants("N5.01"):
            run.n5_01()
        if report.wants("N5.02") and run.addml.parsed:
            run.n5_02()
        run.np_04()
        run.np_05()
        vsm_docs.check(src, run.addml, report)
        # the ADDML's own schema (N5.03)
        if report.wants("N5.03") and run.addml_name:
            run.stream("addml", run.addml_name)
        run.list_documents()
        # the one pass over arkivstruktur.xml
        cp: ContentPass = content_pass(
            report, src, run.addml, documents=run.docs, doc_dir=run.doc_dir, identify=ident, approved=raw_formats(),
            progress=progress, mergeable=run.may_split(), expected_bytes=src.size("arkivstruktur.xml") or 0)
        res = run.stream_content(cp)
        if res is None:
            report.add("N5.01", "error", tr("arkivstruktur.xml is missing"), file="arkivstruktur.xml")
        elif not res.read_ok:
            for t in ("N5.47", "N5.16", "N5.10"):
                report.add(t, "warning", tr("arkivstruktur.xml could not be read to the end: results are partial"),
                           file="arkivstruktur.xml", line=res.fatal_line)
        run.changelog(cp)
        run.journals(cp)
        cp.finish(run.addml_name)
        cp.release()
    finally:
        if run is not None:
            run.cleanup()
        if source is None:
            src.close()
    report.seconds = time.monotonic() - t0
    return report


__all__ = ["validate", "SCHEMA_SETS"]
