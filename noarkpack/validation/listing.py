"""N5.28: the documents folder listed once, into a compact table (8 bytes per file) that N5.32, N5.33
and N5.34 reuse; the listed files go to NP.01's identification on the way.  A mixin of engine._Run."""

from __future__ import annotations

import os
from pathlib import Path

from ..idset import IdSet
from ..locale import tr
from .content import F_ON_DISK
from .identify_child import member_record
from .source import TarSource, norm_ref
from .source import identify_document as _siegfried

TESTS = ("N5.28",)

#: documents identified per call of Siegfried's workers
IDENTIFY_BATCH = 500


class DocumentListing:
    """The run provides src, r, addml, addml_name, identify, may_split(), _tmp(), tick() and the NP.01
    identification (_identify_listed, _identify_members); this sets docs, doc_dir and doc_count."""

    def list_documents(self) -> None:
        r = self.r
        self.doc_dir = self.src.document_dir()
        r.mark_ran("N5.28")
        if self.doc_dir is None:
            r.add("N5.28", "error", tr("the documents folder (dokumenter, DOKUMENT, ...) is missing"), file="")
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
                        if len(batch) >= IDENTIFY_BATCH:
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
                r.add("N5.28", "info", tr("document files found: {count}", count=n), file=self.doc_dir + "/")
            else:
                r.add("N5.28", "error", tr("the documents folder holds no files"), file=self.doc_dir + "/")
        raw = self.addml.antall_dokumentfiler
        try:
            documented = int(raw) if raw is not None else None
        except ValueError:
            documented = None
        if documented is None:
            r.add("N5.28", "error", tr("the ADDML does not document the number of document files "
                                       "(antallDokumentfiler)"),
                  file=self.addml_name or "arkivuttrekk.xml")
        else:
            r.add("N5.28", "info", tr("document files documented: {count}", count=documented), file=self.addml_name)
            if documented != self.doc_count:
                r.add("N5.28", "error", tr("the ADDML documents {documented} document files, {found} were found",
                                           documented=documented, found=self.doc_count), file=self.addml_name)
