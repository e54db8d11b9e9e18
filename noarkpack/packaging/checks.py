"""The checks of a package after the pass over its tar: the description, dias-mets.xml, the ADDML,
the documents, the layout and the identity (PK.06–PK.14)."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from ..idset import IdSet
from ..locale import tr
from ..validation.source import DOCUMENT_DIRS
from .findings import ERROR, INFO, WARNING
from .formatinfo import NAME as FORMATINFO
from .inventory import ADDML_NAMES, normalise_algorithm, normalise_reference, safe_parser
from .mets import LOC_METS_NS, MetsFile, parse_mets, uuid_of
from .tarpass import TarPass


class _PackageCheck(TarPass):
    """One package: :meth:`read_tar` (the pass), then the ``check_*`` methods on what it collected."""

    def check_description(self, desc: Path, tar_uuid: str | None) -> None:
        if not desc.is_file():
            self.add("PK.16", ERROR, tr("the submission description {name} is missing beside the tar: the tar's "
                                        "fixity cannot be confirmed", name=desc.name), file=desc.name)
            return
        data = desc.read_bytes()
        try:
            root = etree.fromstring(data, safe_parser())
        except etree.XMLSyntaxError as e:
            self.add("PK.16", ERROR, tr("the submission description is not well-formed: «{error}»", error=str(e)),
                     file=desc.name)
            return
        if etree.QName(root).namespace == LOC_METS_NS:
            for err in (self._schema_errors("submission-description", data) or [])[:50]:
                self.add("PK.15", ERROR, tr("not valid against submissionDescription.xsd: {error}", error=err),
                         file=desc.name)
        info = parse_mets(root)
        d_uuid = uuid_of(info.objid)
        if tar_uuid and d_uuid != tar_uuid:
            self.add("PK.14", ERROR, tr("the description's OBJID {objid} does not name the package {uuid}",
                                        objid=repr(info.objid), uuid=tar_uuid), file=desc.name)
        tar_entry = next((f for f in info.files if f.href.endswith(".tar")), None)
        mets_entry = next((f for f in info.files if f.href.endswith("dias-mets.xml")), None)
        if tar_entry is None:
            self.add("PK.06", ERROR, tr("the submission description lists no .tar file"), file=desc.name)
        else:
            if tar_entry.href != self.tar_path.name:
                self.add("PK.14", WARNING, tr("the description names {href}, the tar file is called {name} (renamed?)",
                                              href=repr(tar_entry.href), name=repr(self.tar_path.name)),
                         file=desc.name, line=tar_entry.line)
            self._compare("PK.06", tar_entry, self.tar_digests.get("sha256"), self.tar_size, desc.name,
                          what=self.tar_path.name, tar=True)
        if mets_entry is None:
            self.add("PK.07", ERROR, tr("the submission description lists no dias-mets.xml"), file=desc.name)
        elif "dias-mets.xml" in self.members:
            sha, size = self.members["dias-mets.xml"]
            self._compare("PK.07", mets_entry, sha, size, desc.name, what="dias-mets.xml")
        self.report.facts["description"] = desc.name

    def _compare(self, test: str, entry: MetsFile, sha: str | None, size: int, file: str, what: str,
                 tar: bool = False) -> bool:
        """``what`` (a file of the package, or with ``tar`` the tar itself) against its METS entry."""
        algo = normalise_algorithm(entry.checksumtype)
        ok = True
        if entry.size is not None and entry.size != size:
            if tar:
                msg = tr("the tar {what} has {size} bytes, {recorded} are recorded", what=what, size=size,
                         recorded=entry.size)
            else:
                msg = tr("{what} has {size} bytes, {recorded} are recorded", what=what, size=size, recorded=entry.size)
            self.add(test, ERROR, msg, file=file, line=entry.line)
            ok = False
        if algo != "sha256":
            if tar:
                msg = tr("checksum of the tar {what} is {type}, not SHA-256: not checked", what=what,
                         type=repr(entry.checksumtype))
            else:
                msg = tr("checksum of {what} is {type}, not SHA-256: not checked", what=what,
                         type=repr(entry.checksumtype))
            self.add("PK.17", INFO, msg, file=file, line=entry.line)
        elif entry.checksum != sha:
            if tar:
                msg = tr("SHA-256 of the tar {what} is {sha}, {recorded} is recorded", what=what, sha=sha,
                         recorded=entry.checksum)
            else:
                msg = tr("SHA-256 of {what} is {sha}, {recorded} is recorded", what=what, sha=sha,
                         recorded=entry.checksum)
            self.add(test, ERROR, msg, file=file, line=entry.line)
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
                self.add("PK.08", WARNING, tr("{href} is listed twice in dias-mets.xml", href=href),
                         file="dias-mets.xml", line=f.line)
            listed.add(href)
            if href not in self.members:
                if href.startswith("administrative_metadata/repository_operations/") and self.mets.type == "SIP":
                    missing_ops += 1
                    self.add("PK.09", WARNING, tr("{href} is listed in dias-mets.xml but not in the SIP (Arkade "
                                                  "lists its test log and report but leaves them out of a SIP)",
                                                  href=href),
                             file="dias-mets.xml", line=f.line)
                else:
                    self.add("PK.09", ERROR, tr("{href} is listed in dias-mets.xml but missing from the package",
                                                href=href), file="dias-mets.xml", line=f.line)
                continue
            sha, size = self.members[href]
            if self._compare("PK.08", f, sha, size, "dias-mets.xml", what=href):
                ok += 1
        for rel in self.members:
            if rel != "dias-mets.xml" and rel not in listed:
                self.add("PK.10", WARNING, tr("{path} is in the package but not listed in dias-mets.xml", path=rel),
                         file=rel)
        self.report.facts["mets_files_confirmed"] = ok

    def check_addml(self) -> None:
        if self.addml is None:
            return
        ok = 0
        for name, (algo, value) in sorted(self.addml.items()):
            rel = f"content/{normalise_reference(name)}"
            if rel not in self.members:
                self.add("PK.11", ERROR, tr("{name} is listed in the ADDML but missing from content/", name=name),
                         file=rel)
                continue
            if normalise_algorithm(algo) != "sha256":
                self.add("PK.17", INFO, tr("ADDML checksum of {name} uses {algorithm}: not checked", name=name,
                                           algorithm=repr(algo)), file=rel)
                continue
            if self.members[rel][0] != value:
                self.add("PK.11", ERROR, tr("SHA-256 of {name} is {sha}, the ADDML records {recorded}", name=name,
                                            sha=self.members[rel][0], recorded=value), file=rel)
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

    def check_documents(self) -> None:
        pending, self.docs = self.docs, []
        for d in pending:
            self._document(d, final=True)
        for test, message, line, sid in self._doc_findings:
            self.add(test, ERROR, message, file="content/arkivstruktur.xml", line=line, systemID=sid)
        ok, other = self._doc_counts
        if other:
            self.add("PK.17", INFO, tr("{count} document checksum(s) use another algorithm than SHA-256: not checked",
                                       count=other), file="content/arkivstruktur.xml")
        self.report.facts["documents_confirmed"] = ok

    def check_formatinfo(self) -> None:
        """content/documentfile-formatinfo.csv: every row names a file of the package, and every document file
        has a row (PK.19, warnings: the file is for the depot's staff, not part of the extract).  A row's path may
        carry the folder of the machine that wrote it, as Arkade's do (``n5-merknader\\dokumenter\\…``): leading
        components are dropped until it names a member."""
        rows, self.formatinfo_rows = self.formatinfo_rows, None
        if rows is None:
            return
        rel = f"content/{FORMATINFO}"
        missing = 0
        named: set[str] = set()
        for n, name in enumerate(rows, start=2):
            parts = name.replace("\\", "/").split("/")
            found = next((m for i in range(len(parts)) if (m := "content/" + "/".join(parts[i:])) in self.members),
                         None)
            if found is None:
                missing += 1
                if missing <= 20:
                    self.add("PK.19", WARNING, tr("row {row} names {name}, which the package does not hold",
                                                  row=n - 1, name=name), file=rel, line=n)
            else:
                named.add(found)
        if missing > 20:
            self.add("PK.19", WARNING, tr("{count} rows in all name files the package does not hold", count=missing),
                     file=rel)
        unlisted = sum(1 for m in self.members if m.count("/") >= 2 and m.split("/")[0] == "content"
                       and m.split("/")[1] in DOCUMENT_DIRS and m not in named)
        if unlisted:
            self.add("PK.19", WARNING, tr("{count} document file(s) have no row", count=unlisted), file=rel)

    def check_layout(self, tar_uuid: str | None) -> None:
        m = self.members
        pkg_type = (self.mets.type if self.mets else None) or "SIP"
        want = {"arkivverket-sip": "SIP", "arkivverket-aip": "AIP"}.get(self.profile or "")
        if want and pkg_type != want:
            self.add("PK.13", ERROR, tr("the package is a {type}, the profile {profile} expects a {expected}",
                                        type=pkg_type, profile=self.profile, expected=want), file="dias-mets.xml")
        self.report.facts["package_type"] = pkg_type
        required = ["dias-mets.xml", "dias-mets.xsd", "log.xml", "administrative_metadata/dias-premis.xml",
                    "administrative_metadata/dias-premis.xsd", "administrative_metadata/addml.xsd",
                    "content/arkivstruktur.xml"]
        if pkg_type == "AIP":
            required += ["descriptive_metadata/ead.xml", "descriptive_metadata/eac-cpf.xml"]
        for r in required:
            if r not in m:
                self.add("PK.13", ERROR, tr("{path} is missing ({type} layout)", path=r, type=pkg_type), file=r)
        if not any(f"administrative_metadata/{n}" in m for n in ADDML_NAMES):
            self.add("PK.13", ERROR, tr("administrative_metadata/arkivuttrekk.xml (the ADDML) is missing"),
                     file="administrative_metadata/arkivuttrekk.xml")
        if not any(f"content/{n}" in m for n in ADDML_NAMES):
            self.add("PK.13", ERROR, tr("content/arkivuttrekk.xml (the ADDML) is missing"),
                     file="content/arkivuttrekk.xml")
        else:
            content_sha = next(m[f"content/{n}"][0] for n in ADDML_NAMES if f"content/{n}" in m)
            admin = [m[f"administrative_metadata/{n}"][0] for n in ADDML_NAMES if f"administrative_metadata/{n}" in m]
            if admin and admin[0] != content_sha:
                self.add("PK.13", WARNING, tr("the ADDML in administrative_metadata/ differs from the one in content/"),
                         file="administrative_metadata")
        if "descriptive_metadata" not in self.dirs and not any(k.startswith("descriptive_metadata/") for k in m):
            self.add("PK.13", WARNING, tr("the descriptive_metadata/ folder is missing"), file="descriptive_metadata")
        if pkg_type == "AIP":
            for r in ("descriptive_metadata/ead.xsd", "descriptive_metadata/eac-cpf.xsd"):
                if r not in m:
                    self.add("PK.13", WARNING, tr("{path} is missing (Arkade's DIAS-AIP check expects it)", path=r),
                             file=r)
        if "administrative_metadata/addml.xml" in m and "administrative_metadata/arkivuttrekk.xml" not in m:
            self.add("PK.17", INFO, tr("older Arkade layout: the ADDML is administrative_metadata/addml.xml"),
                     file="administrative_metadata/addml.xml")
        # identity: the package folder is named after the package UUID
        if self.root is None:
            self.add("PK.13", ERROR, tr("the tar is empty"), file=self.tar_path.name)
            return
        if tar_uuid is None:
            self.add("PK.14", ERROR, tr("the package folder {folder} is not a UUID", folder=repr(self.root)),
                     file=self.root)
        elif self.tar_path.stem.lower() != tar_uuid:
            self.add("PK.14", WARNING, tr("the tar file {name} is not named after its package folder {folder} "
                                          "(renamed?)", name=repr(self.tar_path.name), folder=repr(self.root)),
                     file=self.tar_path.name)
        mets_uuid = uuid_of(self.mets.objid) if self.mets else None
        if self.mets is not None and mets_uuid != tar_uuid:
            self.add("PK.14", ERROR, tr("dias-mets.xml OBJID {objid} does not name the package {uuid}",
                                        objid=repr(self.mets.objid), uuid=self.root), file="dias-mets.xml")
