"""The structure tests on the ADDML and the files it lists: N5.01 (files exist), N5.02 (ADDML checksums),
NP.04 (shipped XSDs are the official ones), NP.05 (no DTD).  A mixin of validate's run (engine._Run)."""

from __future__ import annotations

import re
import tomllib

from ..hashing import hash_stream
from ..locale import tr
from .addml import read_addml
from .content import hash_algorithm
from .source import ADDML_NAMES

TESTS = ("N5.01", "N5.02", "NP.04", "NP.05")

#: the XML files of an extract (those present are checked by NP.05)
XML_FILES = ("arkivuttrekk.xml", "addml.xml", "arkivstruktur.xml", "endringslogg.xml", "loependeJournal.xml",
             "offentligJournal.xml")
OFFICIAL_XSDS = ("arkivstruktur.xsd", "metadatakatalog.xsd", "endringslogg.xsd", "loependeJournal.xsd",
                 "offentligJournal.xsd", "addml.xsd")


class AddmlTests:
    """Reads the ADDML (``self.addml``) and runs the tests on it; the run provides src, r, version."""

    def read_addml(self) -> None:
        r = self.r
        for n in ADDML_NAMES:
            if self.src.exists(n):
                self.addml_name = n
                break
        if self.addml_name is None:
            r.add("N5.01", "error", tr("arkivuttrekk.xml (ADDML) is missing: the extract is not documented"),
                  file="arkivuttrekk.xml")
            return
        with self.src.open(self.addml_name) as fh:
            self.addml = read_addml(fh, self.addml_name)
        for msg, line in self.addml.problems:
            r.add("N5.01", "error", msg, file=self.addml_name, line=line)
        self.version = (self.addml.version or "").strip()
        r.facts["version"] = self.version or None
        if self.addml.parsed:
            self.note_schema_set()  # schema_resolve: the official set a version without its own stands for

    def n5_01(self) -> None:
        r = self.r
        r.mark_ran("N5.01")
        if not self.addml.parsed:
            if not self.src.exists("arkivstruktur.xml"):
                r.add("N5.01", "error", tr("arkivstruktur.xml is missing"), file="arkivstruktur.xml")
            return
        seen = set()
        for obj in self.addml.objects:
            entries = ([obj.file] if obj.file else []) + obj.schemas
            if obj.file is None:
                r.add("N5.01", "error", tr("dataObject {name!r} names no file", name=obj.name), file=self.addml_name)
            for e in entries:
                if not e.name or e.name in seen:
                    continue
                seen.add(e.name)
                if not self.src.exists(e.name):
                    r.add("N5.01", "error", tr("{file} is listed in the ADDML but missing from the extract", file=e.name),
                          file=self.addml_name, line=e.line)
        if self.addml.object("arkivstruktur") is None:
            r.add("N5.01", "error", tr("the ADDML does not list arkivstruktur.xml"), file=self.addml_name)

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
                    r.add("N5.02", "error", tr("the ADDML records no checksum for {file}", file=e.name), **where)
                    continue
                if not e.algorithm:
                    r.add("N5.02", "error", tr("the ADDML records no checksum algorithm for {file}", file=e.name), **where)
                    continue
                algo = hash_algorithm(e.algorithm)
                if algo is None:
                    r.add("N5.02", "error", tr("unsupported checksum algorithm {algorithm!r} for {file}",
                                               algorithm=e.algorithm, file=e.name), **where)
                    continue
                if not self.src.exists(e.name):
                    r.add("N5.02", "error", tr("{file} not found", file=e.name), **where)
                    continue
                with self.src.open(e.name) as fh:
                    actual = hash_stream(fh, (algo,))[algo]
                if (e.checksum or "").strip().lower() != actual:
                    r.add("N5.02", "error", tr("checksum mismatch for {file}: the ADDML records {recorded}, the file "
                                               "has {actual} ({algorithm})", file=e.name,
                                               recorded=(e.checksum or "").lower(), actual=actual,
                                               algorithm=e.algorithm), **where)
                else:
                    r.add("N5.02", "info", tr("{file}: {algorithm} checksum matches", file=e.name,
                                              algorithm=e.algorithm), **where)
                    if algo != "sha256":
                        r.add("N5.02", "warning", tr("{file}: checksum algorithm {algorithm}; Arkade accepts only "
                                                     "SHA-256", file=e.name, algorithm=e.algorithm), **where)

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
            with self.src.open(name) as fh:
                digest = hash_stream(fh)["sha256"]
            sets = pins.get(name, {})
            if digest in sets:
                r.add("NP.04", "info", tr("{file} is the official file of {set}", file=name, set=sets[digest]),
                      file=name)
            else:
                r.add("NP.04", "warning", tr("{file} differs from every pinned official version (SHA-256 {digest}); "
                                             "line endings or edits may have changed it", file=name, digest=digest),
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
                r.add("NP.05", "error", tr("{file} declares a DTD (<!DOCTYPE>): its entities were not resolved and "
                                           "a Noark 5 extract has none; remove the declaration", file=name),
                      file=name, line=line)
