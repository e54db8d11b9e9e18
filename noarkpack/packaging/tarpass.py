"""The one pass over a package tar that :func:`.verify.verify` makes.

The tar is read once, as a stream, and nothing is written: every member's name and type is checked
before its bytes are looked at, every regular member is hashed as it passes (the tar itself too, from
the same read), and the XML files that carry checksums (dias-mets.xml, the ADDML, arkivstruktur.xml)
are parsed from the same stream.  What the pass collects is checked afterwards by
:class:`.checks._PackageCheck`.
"""

from __future__ import annotations

import csv
import io
import re
import tarfile
from pathlib import Path

from lxml import etree

from ..hashing import HashingReader
from ..locale import tr
from ..progress import Progress
from .errors import PackagingError
from .findings import ERROR, INFO, WARNING, VerifyReport
from .formatinfo import HEADER_ADMINISTRATIVE, HEADER_CONTENT
from .formatinfo import NAME as FORMATINFO
from .inventory import (
    ADDML_NAMES,
    MAX_COMPONENT,
    MAX_PATH,
    addml_checksums,
    iter_document_refs,
    normalise_algorithm,
    safe_parser,
)
from .mets import DIAS_METS_NS, MetsInfo, parse_mets, stream_mets

#: XML members read into memory (hashed, parsed, schema-validated) up to this size
IN_MEMORY_LIMIT = 64 << 20


def _member_problem(name: str) -> str | None:
    if not name:
        return tr("an empty name")
    if "\x00" in name:
        return tr("a NUL character")
    if name.startswith("/") or name.startswith("\\"):
        return tr("an absolute path")
    if re.match(r"[A-Za-z]:", name):
        return tr("a Windows drive path")
    if "\\" in name:
        return tr("a backslash")
    if ".." in name.split("/"):
        return tr("a '..' component")
    if len(name.encode("utf-8", "surrogateescape")) > MAX_PATH:
        return tr("a name longer than {limit} bytes", limit=MAX_PATH)
    if any(len(c.encode("utf-8", "surrogateescape")) > MAX_COMPONENT for c in name.split("/")):
        return tr("a path component longer than {limit} bytes", limit=MAX_COMPONENT)
    return None


class TarPass:
    """Reads the tar once and keeps, per member, its SHA-256 and size; dokumentobjekt are checked as read."""

    def __init__(self, tar_path: Path, report: VerifyReport, store, profile: str | None,
                 algorithms: set[str], progress: Progress | None) -> None:
        self.tar_path = tar_path
        self.report = report
        self.store = store
        self.profile = profile
        self.algorithms = algorithms | {"sha256"}
        self.progress = progress
        self.members: dict[str, tuple[str, int]] = {}  # rel → (sha256, size)
        self.dirs: set[str] = set()
        self.root: str | None = None
        self.mets: MetsInfo | None = None
        self.addml: dict[str, tuple[str, str]] | None = None
        self.admin_addml_sha: str | None = None
        self.docs: list = []  # dokumentobjekt read before their member (see _document)
        self._doc_findings: list[tuple[str, str, int | None, str | None]] = []
        self._doc_counts = [0, 0]  # confirmed, other algorithm
        self.tar_digests: dict[str, str] = {}
        self.tar_size = 0
        self.formatinfo_rows: list[str] | None = None  # Filnavn of content/documentfile-formatinfo.csv

    def add(self, test, severity, message, file=None, line=None, systemID=None) -> None:
        self.report.add(test, severity, message, file=file, line=line, systemID=systemID)

    # -- schema validation (only when the store has the DIAS set) ---------------

    def _schema_errors(self, kind: str, data: bytes) -> list[str] | None:
        if self.store is None:
            return None
        try:
            from .xsd import validate_bytes

            return validate_bytes(self.store, kind, data)
        except Exception as e:  # the store is not installed: say so once
            if "PK.15-store" not in self.report.facts:
                self.report.facts["PK.15-store"] = True
                self.add("PK.15", INFO, tr("DIAS schemas not available, XML not schema-validated: {error}",
                                           error=str(e)))
            return None

    # -- the one pass over the tar -----------------------------------------------

    def read_tar(self) -> bool:
        total = self.tar_path.stat().st_size
        seen: set[str] = set()  # only members refused as outside the package folder (the rest: members, dirs)
        try:
            raw = open(self.tar_path, "rb")
        except OSError as e:
            raise PackagingError(tr("cannot read the package: {error}", error=e.strerror), file=self.tar_path) from None
        with raw:
            reader = HashingReader(raw, tuple(sorted(self.algorithms)))
            try:
                with tarfile.open(fileobj=reader, mode="r|", encoding="utf-8", errors="surrogateescape") as tar:
                    while True:
                        ti = tar.next()
                        if ti is None:
                            break
                        self._member(tar, ti, seen)
                        tar.members.clear()  # a streamed tar keeps every TarInfo otherwise (~1 KB each)
                        if self.progress:
                            self.progress("verify", reader.size, total)
                reader.drain()
            except (tarfile.TarError, EOFError, OSError) as e:
                self.add("PK.16", ERROR, tr("the tar cannot be read to the end: {error}", error=str(e)),
                         file=self.tar_path.name)
                return False
        self.tar_digests = {a: reader.hexdigest(a) for a in reader.hashes}
        self.tar_size = reader.size
        return True

    def _member(self, tar: tarfile.TarFile, ti: tarfile.TarInfo, seen: set[str]) -> None:
        name = ti.name
        problem = _member_problem(name)
        if problem:
            self.add("PK.01", ERROR, tr("unsafe member name {name}: {problem}", name=repr(name), problem=problem),
                     file=name)
            return
        key = name.rstrip("/")
        while key.startswith("./"):
            key = key[2:]
        if ti.issym() or ti.islnk():
            if ti.issym():
                msg = tr("symbolic link member {name} → {target}: packages hold regular files only",
                         name=repr(key), target=repr(ti.linkname))
            else:
                msg = tr("hard link member {name} → {target}: packages hold regular files only",
                         name=repr(key), target=repr(ti.linkname))
            self.add("PK.02", ERROR, msg, file=key)
            return
        if not (ti.isreg() or ti.isdir()):
            self.add("PK.03", ERROR, tr("member {name} is a device, FIFO or other special file", name=repr(key)),
                     file=key)
            return
        top, _, rel = key.partition("/")
        # Seen before: a file or folder of the package (members, dirs), or one refused below (seen).
        if (top == self.root and (rel in self.members or rel in self.dirs)) or key in seen:
            self.add("PK.04", ERROR, tr("member {name} occurs more than once (a later copy would overwrite it)",
                                        name=repr(key)), file=key)
            return
        if self.root is None:
            self.root = top
        elif top != self.root:
            seen.add(key)
            self.add("PK.14", ERROR, tr("member {name} is outside the package folder {folder}/", name=repr(key),
                                        folder=self.root), file=key)
            return
        if ti.isreg() and name.endswith("/") and ti.size == 0:
            # SharpZipLib (Arkade) writes some folders as empty regular entries named "x/";
            # GNU tar reads them as folders, and so do we.
            self.dirs.add(rel)
            return
        if ti.isdir():
            self.dirs.add(rel)
            return
        if not rel:
            seen.add(key)
            self.add("PK.13", ERROR, tr("file {name} at the top of the tar (expected a {{uuid}}/ folder)",
                                        name=repr(key)), file=key)
            return
        f = tar.extractfile(ti)
        h = HashingReader(f)
        try:
            self._content(rel, h, ti.size)
        finally:
            h.drain()
        self.members[rel] = (h.hexdigest(), h.size)

    def _stream_mets(self, data: bytes) -> MetsInfo | None:
        """dias-mets.xml read as a stream (memory independent of the number of files) and, when the
        store has the DIAS schemas, validated on the way.

        None when the file is not well-formed, not valid, or cannot be checked this way: the caller
        then parses the whole tree, which gives the complete list of errors as before.
        """
        xsd = None
        if self.store is not None:
            try:
                from .xsd import schema

                xsd = schema(self.store, "dias-mets")
            except Exception:  # noqa: BLE001 - the caller's path reports the missing store
                return None
        return stream_mets(data, xsd)

    def _content(self, rel: str, h: HashingReader, size: int) -> None:
        small = size <= IN_MEMORY_LIMIT
        if rel == "dias-mets.xml":
            if not small:
                ctx = etree.iterparse(h, events=("end",), resolve_entities=False, no_network=True, load_dtd=False,
                                      huge_tree=True)
                root_el = None
                try:
                    for _, el in ctx:
                        root_el = el
                    # root_el is the root at the end: its tree is complete (only attributes kept small)
                except etree.XMLSyntaxError as e:
                    self.add("PK.16", ERROR, tr("dias-mets.xml is not well-formed: «{error}»", error=str(e)), file=rel)
                    return
                self.mets = parse_mets(root_el)
                self.add("PK.15", INFO, tr("dias-mets.xml is too large to schema-validate here"), file=rel)
                return
            data = h.read()
            streamed = self._stream_mets(data)
            if streamed is not None:  # well-formed, and valid when the schema is at hand
                self.mets = streamed
                if streamed.namespace != DIAS_METS_NS:
                    self.add("PK.17", INFO, tr("dias-mets.xml uses the namespace {namespace} (older Arkade layout); "
                                               "not validated against DIAS_METS.xsd",
                                               namespace=repr(self.mets.namespace)), file=rel)
                return
            # Not well-formed or not valid: the whole tree, for the complete list of errors.
            try:
                root = etree.fromstring(data, safe_parser())
            except etree.XMLSyntaxError as e:
                self.add("PK.16", ERROR, tr("dias-mets.xml is not well-formed: «{error}»", error=str(e)), file=rel)
                return
            self.mets = parse_mets(root)
            del root
            if self.mets.namespace == DIAS_METS_NS:
                for err in (self._schema_errors("dias-mets", data) or [])[:50]:
                    self.add("PK.15", ERROR, tr("dias-mets.xml is not valid against DIAS_METS.xsd: {error}",
                                                error=err), file=rel)
            else:
                self.add("PK.17", INFO, tr("dias-mets.xml uses the namespace {namespace} (older Arkade layout); "
                                           "not validated against DIAS_METS.xsd", namespace=repr(self.mets.namespace)),
                         file=rel)
        elif rel in ("administrative_metadata/dias-premis.xml", "log.xml") and small:
            data = h.read()
            for err in (self._schema_errors("premis", data) or [])[:20]:
                self.add("PK.15", ERROR, tr("{path} is not valid against DIAS_PREMIS.xsd: {error}", path=rel,
                                            error=err), file=rel)
        elif rel in tuple(f"content/{n}" for n in ADDML_NAMES) and small:
            data = h.read()
            try:
                self.addml = addml_checksums(data)
            except PackagingError as e:
                self.add("PK.16", ERROR, tr("the ADDML cannot be read: {error}", error=e.message), file=rel)
        elif rel in (f"administrative_metadata/{FORMATINFO}", f"content/{FORMATINFO}"):
            self._formatinfo(rel, h)
        elif rel == "content/arkivstruktur.xml":
            try:
                for d in iter_document_refs(h):
                    self._document(d)
            except etree.XMLSyntaxError as e:
                self.add("PK.16", ERROR, tr("arkivstruktur.xml is not well-formed: «{error}»", error=str(e)), file=rel)

    def _formatinfo(self, rel: str, h) -> None:
        """documentfile-formatinfo.csv (packaging.formatinfo), streamed: Arkade's header (PK.19); content/'s rows
        are kept (one path each, as ``members`` keeps every member) for :meth:`.checks._PackageCheck.check_formatinfo`
        after the pass, since the files they name may come later in the tar."""
        content = rel.startswith("content/")
        want = HEADER_CONTENT if content else HEADER_ADMINISTRATIVE
        try:
            reader = csv.reader(io.TextIOWrapper(h, encoding="utf-8-sig", newline=""))
            header = tuple(next(reader, ()))
            if header != want:
                self.add("PK.19", WARNING, tr("the header is not Arkade's ({expected}): {header}",
                                              expected=",".join(want), header=",".join(header)), file=rel)
                return
            if content:
                self.formatinfo_rows = [row[0] for row in reader if row]
        except (UnicodeDecodeError, csv.Error) as e:
            self.add("PK.19", WARNING, tr("cannot be read as UTF-8 CSV: {error}", error=str(e)), file=rel)

    def _document(self, d, final: bool = False) -> None:
        """One dokumentobjekt against its member.  Documents come before arkivstruktur.xml in a tar in
        path-component order ("DOKUMENT" < "arkivstruktur.xml"), so each is checked as it is read and
        nothing is kept per document; one whose member has not been read yet waits in ``docs``."""
        rel = f"content/{d.ref}"
        if rel not in self.members:
            if not final:
                self.docs.append(d)
                return
            self._doc_findings.append(("PK.12", tr("document {ref} (dokumentobjekt) is missing from the package",
                                                   ref=d.ref), d.line, d.systemID))
            return
        sha, size = self.members[rel]
        if d.size is not None and d.size != size:
            self._doc_findings.append(("PK.12", tr("document {ref} has {size} bytes, dokumentobjekt/filstoerrelse says "
                                                   "{recorded}",
                                                   ref=d.ref, size=size, recorded=d.size), d.line, d.systemID))
        if not d.checksum:
            return
        if normalise_algorithm(d.algorithm) not in (None, "sha256"):
            self._doc_counts[1] += 1
            return
        if d.checksum != sha:
            self._doc_findings.append(("PK.12", tr("SHA-256 of document {ref} is {sha}, dokumentobjekt/sjekksum says "
                                                   "{recorded}",
                                                   ref=d.ref, sha=sha, recorded=d.checksum), d.line, d.systemID))
        else:
            self._doc_counts[0] += 1
