"""``verify``: the receiving depot's check of a DIAS SIP/AIP or a bag.

The package is not trusted.  A tar is read **once, as a stream**, and nothing is
ever written: every member's name and type is checked before its bytes are looked
at (absolute paths, ``..``, links, devices, duplicates and over-long names are
refused), every regular member is hashed as it passes, and the few XML files that
carry checksums (dias-mets.xml, the ADDML, arkivstruktur.xml) are parsed from the
same stream.  The tar's own SHA-256 is computed from the same read.  Then:

* submission description ``{uuid}.xml`` → the tar and dias-mets.xml (PK.06, PK.07)
* dias-mets.xml → every member (PK.08–PK.10)
* the ADDML → the XML/XSD files (PK.11); dokumentobjekt/sjekksum → documents (PK.12)
* the layout of the profile (PK.13), one UUID everywhere (PK.14), DIAS schemas (PK.15)
* finally, when :mod:`noarkpack.validation` is installed, the content is validated.

A bag (a folder with bagit.txt) is checked by :func:`.bagit.verify_bag`; when its
payload is a DIAS package, the package is verified too, and the tar's digests from
that pass are reused for the bag manifest.
"""

from __future__ import annotations

import hashlib
import io
import re
import tarfile
from dataclasses import dataclass, field
from pathlib import Path

from lxml import etree

from ..hashing import HashingReader
from ..idset import IdSet
from ..progress import Progress
from .bagit import verify_bag
from .errors import PackagingError
from .findings import ERROR, INFO, WARNING, Finding, VerifyReport
from .inventory import (ADDML_NAMES, MAX_COMPONENT, MAX_PATH, addml_checksums, iter_document_refs,
                        normalise_algorithm, normalise_reference, safe_parser)

DIAS_METS_NS = "http://arkivverket.no/standarder/METS"
LOC_METS_NS = "http://www.loc.gov/METS/"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
#: XML members read into memory (hashed, parsed, schema-validated) up to this size
IN_MEMORY_LIMIT = 64 << 20
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


@dataclass(slots=True)
class MetsFile:
    href: str
    checksum: str | None
    checksumtype: str | None
    size: int | None
    line: int | None


@dataclass
class MetsInfo:
    namespace: str | None = None
    objid: str | None = None
    type: str | None = None
    files: list[MetsFile] = field(default_factory=list)


def _parse_mets(root) -> MetsInfo:
    info = MetsInfo(namespace=etree.QName(root).namespace, objid=root.get("OBJID"), type=root.get("TYPE"))
    for f in root.iter("{*}file"):
        loc = f.find("{*}FLocat")
        href = loc.get(XLINK_HREF) if loc is not None else None
        if not href:
            continue
        if href.startswith("file:"):
            href = href[5:]
        size = f.get("SIZE")
        info.files.append(MetsFile(href, (f.get("CHECKSUM") or "").lower() or None, f.get("CHECKSUMTYPE"),
                                   int(size) if size and size.isdigit() else None, f.sourceline))
    return info


def _drop(el) -> None:
    """Free a processed element and its preceding siblings (streamed parsing)."""
    el.clear()
    parent = el.getparent()
    if parent is not None:
        while el.getprevious() is not None:
            del parent[0]


def _uuid_of(objid: str | None) -> str | None:
    if not objid:
        return None
    m = _UUID.search(objid)
    return m.group(0).lower() if m else None


def _member_problem(name: str) -> str | None:
    if not name:
        return "an empty name"
    if "\x00" in name:
        return "a NUL character"
    if name.startswith("/") or name.startswith("\\"):
        return "an absolute path"
    if re.match(r"[A-Za-z]:", name):
        return "a Windows drive path"
    if "\\" in name:
        return "a backslash"
    if ".." in name.split("/"):
        return "a '..' component"
    if len(name.encode("utf-8", "surrogateescape")) > MAX_PATH:
        return f"a name longer than {MAX_PATH} bytes"
    if any(len(c.encode("utf-8", "surrogateescape")) > MAX_COMPONENT for c in name.split("/")):
        return f"a path component longer than {MAX_COMPONENT} bytes"
    return None


class _PackageCheck:
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
                self.add("PK.15", INFO, f"DIAS schemas not available, XML not schema-validated: {e}")
            return None

    # -- the one pass over the tar -----------------------------------------------

    def read_tar(self) -> bool:
        total = self.tar_path.stat().st_size
        seen: set[str] = set()  # only members refused as outside the package folder (the rest: members, dirs)
        try:
            raw = open(self.tar_path, "rb")
        except OSError as e:
            raise PackagingError(f"cannot read the package: {e.strerror}", file=self.tar_path) from None
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
                self.add("PK.16", ERROR, f"the tar cannot be read to the end: {e}", file=self.tar_path.name)
                return False
        self.tar_digests = {a: reader.hexdigest(a) for a in reader.hashes}
        self.tar_size = reader.size
        return True

    def _member(self, tar: tarfile.TarFile, ti: tarfile.TarInfo, seen: set[str]) -> None:
        name = ti.name
        problem = _member_problem(name)
        if problem:
            self.add("PK.01", ERROR, f"unsafe member name {name!r}: {problem}", file=name)
            return
        key = name.rstrip("/")
        while key.startswith("./"):
            key = key[2:]
        if ti.issym() or ti.islnk():
            kind = "symbolic link" if ti.issym() else "hard link"
            self.add("PK.02", ERROR, f"{kind} member {key!r} → {ti.linkname!r}: packages hold regular files only",
                     file=key)
            return
        if not (ti.isreg() or ti.isdir()):
            self.add("PK.03", ERROR, f"member {key!r} is a device, FIFO or other special file", file=key)
            return
        top, _, rel = key.partition("/")
        # Seen before: a file or folder of the package (members, dirs), or one refused below (seen).
        if (top == self.root and (rel in self.members or rel in self.dirs)) or key in seen:
            self.add("PK.04", ERROR, f"member {key!r} occurs more than once (a later copy would overwrite it)",
                     file=key)
            return
        if self.root is None:
            self.root = top
        elif top != self.root:
            seen.add(key)
            self.add("PK.14", ERROR, f"member {key!r} is outside the package folder {self.root}/", file=key)
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
            self.add("PK.13", ERROR, f"file {key!r} at the top of the tar (expected a {{uuid}}/ folder)", file=key)
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
        info = MetsInfo()
        slots: list[MetsFile] = []  # per file element, in document order (href filled in at its FLocat)
        open_files: list[MetsFile] = []
        opts = dict(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
        try:
            root = None
            for ev, el in etree.iterparse(io.BytesIO(data), events=("start", "end"), **opts):
                tag = el.tag
                if not isinstance(tag, str):
                    continue
                local = tag.rsplit("}", 1)[-1]
                if ev == "start":
                    if root is None:
                        root = el
                        info.namespace = etree.QName(el).namespace
                        info.objid, info.type = el.get("OBJID"), el.get("TYPE")
                    if local == "file":
                        size = el.get("SIZE")
                        slot = MetsFile(None, (el.get("CHECKSUM") or "").lower() or None, el.get("CHECKSUMTYPE"),
                                        int(size) if size and size.isdigit() else None, el.sourceline)
                        slots.append(slot)
                        open_files.append(slot)
                    continue
                if local == "FLocat":
                    parent = el.getparent()
                    if (open_files and parent is not None and isinstance(parent.tag, str)
                            and parent.tag.rsplit("}", 1)[-1] == "file" and open_files[-1].href is None):
                        open_files[-1].href = el.get(XLINK_HREF) or ""  # the first FLocat child counts
                elif local == "file":
                    open_files.pop()
                    if not open_files:
                        _drop(el)
            if xsd is not None:
                # A second pass for validity.  (It cannot be the first: with resolve_entities=False and a
                # schema, lxml 6 does not report a well-formedness error at the end of the data.)
                for _ev, el in etree.iterparse(io.BytesIO(data), events=("end",), schema=xsd, **opts):
                    _drop(el)
        except etree.XMLSyntaxError:
            return None
        if xsd is not None and info.namespace != DIAS_METS_NS:
            return None  # validated against a schema it does not claim: let the caller's path decide
        for f in slots:
            if f.href and f.href.startswith("file:"):
                f.href = f.href[5:]
        info.files = [f for f in slots if f.href]
        return info

    def _content(self, rel: str, h: HashingReader, size: int) -> None:
        small = size <= IN_MEMORY_LIMIT
        if rel == "dias-mets.xml":
            if not small:
                ctx = etree.iterparse(h, events=("end",), resolve_entities=False, no_network=True, load_dtd=False,
                                      huge_tree=True)
                files, root_el = [], None
                try:
                    for _, el in ctx:
                        root_el = el
                    # root_el is the root at the end: its tree is complete (only attributes kept small)
                except etree.XMLSyntaxError as e:
                    self.add("PK.16", ERROR, f"dias-mets.xml is not well-formed: {e}", file=rel)
                    return
                self.mets = _parse_mets(root_el)
                self.add("PK.15", INFO, "dias-mets.xml is too large to schema-validate here", file=rel)
                return
            data = h.read()
            streamed = self._stream_mets(data)
            if streamed is not None:  # well-formed, and valid when the schema is at hand
                self.mets = streamed
                if streamed.namespace != DIAS_METS_NS:
                    self.add("PK.17", INFO, f"dias-mets.xml uses the namespace {self.mets.namespace!r} (older "
                                            "Arkade layout); not validated against DIAS_METS.xsd", file=rel)
                return
            # Not well-formed or not valid: the whole tree, for the complete list of errors.
            try:
                root = etree.fromstring(data, safe_parser())
            except etree.XMLSyntaxError as e:
                self.add("PK.16", ERROR, f"dias-mets.xml is not well-formed: {e}", file=rel)
                return
            self.mets = _parse_mets(root)
            del root
            if self.mets.namespace == DIAS_METS_NS:
                for err in (self._schema_errors("dias-mets", data) or [])[:50]:
                    self.add("PK.15", ERROR, f"dias-mets.xml is not valid against DIAS_METS.xsd: {err}", file=rel)
            else:
                self.add("PK.17", INFO, f"dias-mets.xml uses the namespace {self.mets.namespace!r} (older Arkade "
                                        "layout); not validated against DIAS_METS.xsd", file=rel)
        elif rel in ("administrative_metadata/dias-premis.xml", "log.xml") and small:
            data = h.read()
            for err in (self._schema_errors("premis", data) or [])[:20]:
                self.add("PK.15", ERROR, f"{rel} is not valid against DIAS_PREMIS.xsd: {err}", file=rel)
        elif rel in tuple(f"content/{n}" for n in ADDML_NAMES) and small:
            data = h.read()
            try:
                self.addml = addml_checksums(data)
            except PackagingError as e:
                self.add("PK.16", ERROR, f"the ADDML cannot be read: {e.message}", file=rel)
        elif rel == "content/arkivstruktur.xml":
            try:
                for d in iter_document_refs(h):
                    self._document(d)
            except etree.XMLSyntaxError as e:
                self.add("PK.16", ERROR, f"arkivstruktur.xml is not well-formed: {e}", file=rel)

    # -- after the pass ----------------------------------------------------------

    def check_description(self, desc: Path, tar_uuid: str | None) -> None:
        if not desc.is_file():
            self.add("PK.16", ERROR, f"the submission description {desc.name} is missing beside the tar: the tar's "
                                     "fixity cannot be confirmed", file=desc.name)
            return
        data = desc.read_bytes()
        try:
            root = etree.fromstring(data, safe_parser())
        except etree.XMLSyntaxError as e:
            self.add("PK.16", ERROR, f"the submission description is not well-formed: {e}", file=desc.name)
            return
        if etree.QName(root).namespace == LOC_METS_NS:
            for err in (self._schema_errors("submission-description", data) or [])[:50]:
                self.add("PK.15", ERROR, f"not valid against submissionDescription.xsd: {err}", file=desc.name)
        info = _parse_mets(root)
        d_uuid = _uuid_of(info.objid)
        if tar_uuid and d_uuid != tar_uuid:
            self.add("PK.14", ERROR, f"the description's OBJID {info.objid!r} does not name the package {tar_uuid}",
                     file=desc.name)
        tar_entry = next((f for f in info.files if f.href.endswith(".tar")), None)
        mets_entry = next((f for f in info.files if f.href.endswith("dias-mets.xml")), None)
        if tar_entry is None:
            self.add("PK.06", ERROR, "the submission description lists no .tar file", file=desc.name)
        else:
            if tar_entry.href != self.tar_path.name:
                self.add("PK.14", WARNING, f"the description names {tar_entry.href!r}, the tar file is called "
                                           f"{self.tar_path.name!r} (renamed?)", file=desc.name, line=tar_entry.line)
            self._compare("PK.06", tar_entry, self.tar_digests.get("sha256"), self.tar_size, desc.name,
                          what=f"the tar {self.tar_path.name}")
        if mets_entry is None:
            self.add("PK.07", ERROR, "the submission description lists no dias-mets.xml", file=desc.name)
        elif "dias-mets.xml" in self.members:
            sha, size = self.members["dias-mets.xml"]
            self._compare("PK.07", mets_entry, sha, size, desc.name, what="dias-mets.xml")
        self.report.facts["description"] = desc.name

    def _compare(self, test: str, entry: MetsFile, sha: str | None, size: int, file: str, what: str) -> bool:
        algo = normalise_algorithm(entry.checksumtype)
        ok = True
        if entry.size is not None and entry.size != size:
            self.add(test, ERROR, f"{what} has {size} bytes, {entry.size} are recorded", file=file, line=entry.line)
            ok = False
        if algo != "sha256":
            self.add("PK.17", INFO, f"checksum of {what} is {entry.checksumtype!r}, not SHA-256: not checked",
                     file=file, line=entry.line)
        elif entry.checksum != sha:
            self.add(test, ERROR, f"SHA-256 of {what} is {sha}, {entry.checksum} is recorded", file=file,
                     line=entry.line)
            ok = False
        return ok

    def check_mets(self) -> None:
        if self.mets is None:
            return
        listed = IdSet()  # 16 bytes per href, not a string
        missing_ops = 0
        ok = 0
        for f in self.mets.files:
            href = normalise_reference(f.href)
            if href in listed:
                self.add("PK.08", WARNING, f"{href} is listed twice in dias-mets.xml", file="dias-mets.xml",
                         line=f.line)
            listed.add(href)
            if href not in self.members:
                if href.startswith("administrative_metadata/repository_operations/") and self.mets.type == "SIP":
                    missing_ops += 1
                    self.add("PK.09", WARNING, f"{href} is listed in dias-mets.xml but not in the SIP (Arkade lists "
                                               "its test log and report but leaves them out of a SIP)",
                             file="dias-mets.xml", line=f.line)
                else:
                    self.add("PK.09", ERROR, f"{href} is listed in dias-mets.xml but missing from the package",
                             file="dias-mets.xml", line=f.line)
                continue
            sha, size = self.members[href]
            if self._compare("PK.08", f, sha, size, "dias-mets.xml", what=href):
                ok += 1
        for rel in self.members:
            if rel != "dias-mets.xml" and rel not in listed:
                self.add("PK.10", WARNING, f"{rel} is in the package but not listed in dias-mets.xml", file=rel)
        self.report.facts["mets_files_confirmed"] = ok

    def check_addml(self) -> None:
        if self.addml is None:
            return
        ok = 0
        for name, (algo, value) in sorted(self.addml.items()):
            rel = f"content/{normalise_reference(name)}"
            if rel not in self.members:
                self.add("PK.11", ERROR, f"{name} is listed in the ADDML but missing from content/", file=rel)
                continue
            if normalise_algorithm(algo) != "sha256":
                self.add("PK.17", INFO, f"ADDML checksum of {name} uses {algo!r}: not checked", file=rel)
                continue
            if self.members[rel][0] != value:
                self.add("PK.11", ERROR, f"SHA-256 of {name} is {self.members[rel][0]}, the ADDML records {value}",
                         file=rel)
            else:
                ok += 1
        self.report.facts["addml_files_confirmed"] = ok

    def release(self) -> None:
        """Drop the per-file tables (members, METS list, folders) once every check has run."""
        self.members = {}
        self.dirs = set()
        self.mets = None
        self.addml = None
        self.docs = []

    def _document(self, d, final: bool = False) -> None:
        """One dokumentobjekt against its member.  Documents come before arkivstruktur.xml in a tar in
        path-component order ("DOKUMENT" < "arkivstruktur.xml"), so each is checked as it is read and
        nothing is kept per document; one whose member has not been read yet waits in ``docs``."""
        rel = f"content/{d.ref}"
        if rel not in self.members:
            if not final:
                self.docs.append(d)
                return
            self._doc_findings.append(("PK.12", f"document {d.ref} (dokumentobjekt) is missing from the package",
                                       d.line, d.systemID))
            return
        sha, size = self.members[rel]
        if d.size is not None and d.size != size:
            self._doc_findings.append(("PK.12", f"document {d.ref} has {size} bytes, filstoerrelse says {d.size}",
                                       d.line, d.systemID))
        if not d.checksum:
            return
        if normalise_algorithm(d.algorithm) not in (None, "sha256"):
            self._doc_counts[1] += 1
            return
        if d.checksum != sha:
            self._doc_findings.append(("PK.12", f"SHA-256 of document {d.ref} is {sha}, sjekksum says {d.checksum}",
                                       d.line, d.systemID))
        else:
            self._doc_counts[0] += 1

    def check_documents(self) -> None:
        pending, self.docs = self.docs, []
        for d in pending:
            self._document(d, final=True)
        for test, message, line, sid in self._doc_findings:
            self.add(test, ERROR, message, file="content/arkivstruktur.xml", line=line, systemID=sid)
        ok, other = self._doc_counts
        if other:
            self.add("PK.17", INFO, f"{other} document checksum(s) use another algorithm than SHA-256: not checked",
                     file="content/arkivstruktur.xml")
        self.report.facts["documents_confirmed"] = ok

    def check_layout(self, tar_uuid: str | None) -> None:
        m = self.members
        pkg_type = (self.mets.type if self.mets else None) or "SIP"
        want = {"arkivverket-sip": "SIP", "arkivverket-aip": "AIP"}.get(self.profile or "")
        if want and pkg_type != want:
            self.add("PK.13", ERROR, f"the package is a {pkg_type}, the profile {self.profile} expects a {want}",
                     file="dias-mets.xml")
        self.report.facts["package_type"] = pkg_type
        required = ["dias-mets.xml", "dias-mets.xsd", "log.xml", "administrative_metadata/dias-premis.xml",
                    "administrative_metadata/dias-premis.xsd", "administrative_metadata/addml.xsd",
                    "content/arkivstruktur.xml"]
        if pkg_type == "AIP":
            required += ["descriptive_metadata/ead.xml", "descriptive_metadata/eac-cpf.xml"]
        for r in required:
            if r not in m:
                self.add("PK.13", ERROR, f"{r} is missing ({pkg_type} layout)", file=r)
        if not any(f"administrative_metadata/{n}" in m for n in ADDML_NAMES):
            self.add("PK.13", ERROR, "administrative_metadata/arkivuttrekk.xml (the ADDML) is missing",
                     file="administrative_metadata/arkivuttrekk.xml")
        if not any(f"content/{n}" in m for n in ADDML_NAMES):
            self.add("PK.13", ERROR, "content/arkivuttrekk.xml (the ADDML) is missing", file="content/arkivuttrekk.xml")
        else:
            content_sha = next(m[f"content/{n}"][0] for n in ADDML_NAMES if f"content/{n}" in m)
            admin = [m[f"administrative_metadata/{n}"][0] for n in ADDML_NAMES if f"administrative_metadata/{n}" in m]
            if admin and admin[0] != content_sha:
                self.add("PK.13", WARNING, "the ADDML in administrative_metadata/ differs from the one in content/",
                         file="administrative_metadata")
        if "descriptive_metadata" not in self.dirs and not any(k.startswith("descriptive_metadata/") for k in m):
            self.add("PK.13", WARNING, "the descriptive_metadata/ folder is missing", file="descriptive_metadata")
        if pkg_type == "AIP":
            for r in ("descriptive_metadata/ead.xsd", "descriptive_metadata/eac-cpf.xsd"):
                if r not in m:
                    self.add("PK.13", WARNING, f"{r} is missing (Arkade's DIAS-AIP check expects it)", file=r)
        if "administrative_metadata/addml.xml" in m and "administrative_metadata/arkivuttrekk.xml" not in m:
            self.add("PK.17", INFO, "older Arkade layout: the ADDML is administrative_metadata/addml.xml",
                     file="administrative_metadata/addml.xml")
        # identity: the package folder is named after the package UUID
        if self.root is None:
            self.add("PK.13", ERROR, "the tar is empty", file=self.tar_path.name)
            return
        if tar_uuid is None:
            self.add("PK.14", ERROR, f"the package folder {self.root!r} is not a UUID", file=self.root)
        elif self.tar_path.stem.lower() != tar_uuid:
            self.add("PK.14", WARNING, f"the tar file {self.tar_path.name!r} is not named after its package folder "
                                       f"{self.root!r} (renamed?)", file=self.tar_path.name)
        mets_uuid = _uuid_of(self.mets.objid) if self.mets else None
        if self.mets is not None and mets_uuid != tar_uuid:
            self.add("PK.14", ERROR, f"dias-mets.xml OBJID {self.mets.objid!r} does not name the package "
                                     f"{self.root}", file="dias-mets.xml")


def _merge_validation(report: VerifyReport, tar: Path, store=None) -> None:
    try:
        from ..validation import validate  # type: ignore[attr-defined]
    except ImportError:
        report.add("PK.18", INFO, "content validation is not available in this installation (noarkpack.validation)")
        return
    try:
        result = validate(tar, store=store) if store is not None else validate(tar)
    except Exception as e:  # a broken content must not hide the fixity findings
        report.add("PK.18", WARNING, f"the content could not be validated: {e}", file=tar.name)
        return
    n = 0
    for f in getattr(result, "findings", []) or []:
        d = f.to_json() if hasattr(f, "to_json") else (f if isinstance(f, dict) else vars(f))
        report.findings.append(Finding(str(d.get("test")), str(d.get("severity")), str(d.get("message")),
                                       dict(d.get("location") or {})))
        n += 1
    errors = getattr(result, "errors", None)
    report.facts["validation_errors"] = errors if isinstance(errors, int) else None
    report.add("PK.18", INFO, f"content validated: {n} finding(s) from validate", file=tar.name)


def verify_package(tar: str | Path, report: VerifyReport | None = None, *, store=None, profile: str | None = None,
                   algorithms: set[str] = frozenset(), progress: Progress | None = None,
                   validate_content: bool = True) -> tuple[VerifyReport, dict[str, str]]:
    """Verify a DIAS tar and the description beside it; returns the report and the tar's digests."""
    tar = Path(tar)
    report = report or VerifyReport(str(tar), kind="dias-package")
    check = _PackageCheck(tar, report, store, profile, set(algorithms), progress)
    readable = check.read_tar()
    root = check.root or ""
    tar_uuid = root.lower() if _UUID.fullmatch(root) else None
    report.facts["uuid"] = tar_uuid
    report.facts["members"] = len(check.members)
    report.facts["tar_sha256"] = check.tar_digests.get("sha256")
    check.check_description(tar.with_suffix(".xml"), tar_uuid)
    if readable:
        check.check_layout(tar_uuid)
        check.check_mets()
        check.check_addml()
        check.check_documents()
        if validate_content:
            check.release()  # the content validation reuses this memory: peak = max of the two, not sum
            _merge_validation(report, tar, store)
    return report, check.tar_digests


def _find_package(folder: Path) -> Path | None:
    tars = sorted(p for p in folder.glob("*.tar") if p.is_file() and not p.is_symlink())
    if len(tars) == 1:
        return tars[0]
    return None


def verify(path: str | Path, *, progress: Progress | None = None, store=None, profile: str | None = None,
           validate_content: bool = True) -> VerifyReport:
    """Verify PATH: a SIP/AIP ``.tar`` (description beside it), its ``.xml``, a folder holding them, or a bag.

    Never writes anything.  Raises PackagingError only when PATH cannot be verified at
    all (does not exist, is not a package or bag); every problem of the package itself
    is a finding.  ``store`` is the schema store (default: the user's; schemas are
    used when installed).
    """
    p = Path(path)
    if not p.exists():
        raise PackagingError("no such file or folder", file=p)
    if store is None:
        try:
            from ..schemas import default_store

            store = default_store()
        except Exception:
            store = None
    looks_like_bag = p.is_dir() and ((p / "bagit.txt").exists() or any(p.glob("manifest-*.txt"))
                                     or any(p.glob("tagmanifest-*.txt")))
    if looks_like_bag:
        report = VerifyReport(str(p), kind="bag")
        known: dict[str, dict[str, str]] = {}
        data = p / "data"
        tar = _find_package(data) if data.is_dir() and not data.is_symlink() else None
        if tar is not None and tar.with_suffix(".xml").is_file():
            algorithms = {m.group(1).lower() for f in p.glob("manifest-*.txt")
                          if (m := re.fullmatch(r"manifest-([A-Za-z0-9]+)\.txt", f.name))}
            algorithms &= set(hashlib.algorithms_available)
            report.kind = "bag+dias-package"
            _r, digests = verify_package(tar, report, store=store, profile=profile, algorithms=algorithms,
                                         progress=progress, validate_content=validate_content)
            if digests:
                known[f"data/{tar.name}"] = digests
        verify_bag(p, report, known_digests=known)
        return report
    if p.is_dir():
        tar = _find_package(p)
        if tar is None:
            raise PackagingError("not a package: the folder holds no bagit.txt and not exactly one .tar", file=p,
                                 hint="give the {uuid}.tar, or the bag folder")
        p = tar
    if p.suffix.lower() == ".xml" and p.with_suffix(".tar").is_file():
        p = p.with_suffix(".tar")
    if p.suffix.lower() != ".tar" or not p.is_file():
        raise PackagingError("not a package: expected a .tar (with its .xml beside it) or a bag folder", file=p)
    report, _ = verify_package(p, store=store, profile=profile, progress=progress, validate_content=validate_content)
    return report
