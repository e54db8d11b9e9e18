"""The document files (N5.29, N5.30, N5.32–N5.34, N5.64, NP.01): each dokumentobjekt's file is looked up
in the listing of the documents folder, hashed with the algorithm the extract names and identified.

N5.29 compares a file-extension format ('pdf') with the file's extension, as Arkade does, but not a PRONOM
PUID ('fmt/477'): Arkade 5 compares that with the extension too and reports every such object as a
"Format-misforhold" error (N5_29_NumberOfEachDocumentFormat.cs, DocumentObject.HasFormatMismatch; arkade5
issue #175).  The PUIDs are counted and the count is one warning, so the archivist knows what Arkade will
say before running it."""

from __future__ import annotations

import re
from collections import Counter

from ...hashing import hash_stream
from ...locale import tr
from ..source import norm_ref
from .base import F_MULTI, F_ON_DISK, F_REFERENCED, FIELD, FIELD_AT, Group, hash_algorithm, up

_PUID = re.compile(r"^(x-)?fmt/\d+$", re.I)
#: where Arkade's N5.29 flags every PUID (docs/validation.md, "N5.29 and PRONOM PUIDs")
ARKADE_N529_ISSUE = "https://github.com/nasjonalarkivet/arkade5/issues/175"


class Documents(Group):
    NAME = "documents"
    TESTS = ("N5.29", "N5.30", "N5.32", "N5.33", "N5.34", "N5.64", "NP.01")
    END = {"dokumentobjekt": "_e_dokobj"}
    VALUE = {"format": "_v_format", "referanseDokumentfil": FIELD_AT, "sjekksum": FIELD_AT,
             "sjekksumAlgoritme": FIELD, "registreringsID": FIELD, "dokumentnummer": FIELD}

    def reset(self) -> None:
        self.n = Counter()  # "N5.29 mismatch", "N5.29 puid", "N5.30 checked"
        self.formats = Counter()  # N5.29: dokumentobjekt/format values
        self.hash_cache: dict[tuple[str, str], str] = {}

    def export_state(self, workdir=None) -> dict:
        return {"n": self.n, "formats": self.formats, "docs": self.cp.docs}

    def merge(self, state: dict, read_lines) -> None:
        docs = self.cp.docs
        if docs is not None and state["docs"] is not None:
            docs.merge_flags(state["docs"], both=F_REFERENCED, mark=F_MULTI)
        state["docs"] = None
        self.n.update(state["n"])
        self.formats.update(state["formats"])

    def _v_format(self, f, value):
        p = f.parent
        if p is not None and p.name == "dokumentobjekt":
            p.data["format"] = value

    def _e_dokobj(self, f):
        cp = self.cp
        d = f.data
        ref = d.get("referanseDokumentfil")
        fmt = d.get("format")
        sid = f.systemID()
        db = up(f, "dokumentbeskrivelse")
        db_sid = db.sid if db is not None else None
        if fmt is not None and ref:
            self._check_extension(f, ref, fmt)
        if not ref:
            return
        key = norm_ref(ref)
        line = d.get("referanseDokumentfil_line", f.line)
        # N5.32 / N5.33 / N5.34
        on_disk = None
        if cp.docs is not None:
            old = cp.docs.set_flags(key, F_REFERENCED)
            on_disk = old is not None and old & F_ON_DISK
            if old is not None and old & F_REFERENCED:
                cp.docs.set_flags(key, F_MULTI)
        if on_disk is None:
            on_disk = cp.src.exists(key)
        if not on_disk:
            self.add("N5.32", "error", tr("referenced document file not found: {file}", file=ref), f, line=line)
            self.add("N5.30", "error", tr("cannot verify the checksum: document file not found: {file}", file=ref),
                     f, line=line, systemID=db_sid or sid)
            return
        # N5.64: empty files (reported once their registration/folder is known not to be 'Utgår')
        size = cp.src.size(key)
        if size == 0:
            reg = up(f, "registrering")
            item = ("N5.64", tr("empty document file: {file} (dokumentbeskrivelse {systemid}, registreringsID "
                                "{registreringsid}, dokumentnummer {dokumentnummer})", file=ref, systemid=db_sid or "?",
                                registreringsid=(reg.data or {}).get("registreringsID") if reg else "?",
                                dokumentnummer=(db.data or {}).get("dokumentnummer") if db else "?"), line, db_sid)
            if reg is not None:
                reg.data["pending"].append(item)
            else:
                cp.defer(f, item)
        # N5.30
        if cp.r.wants("N5.30"):
            self._check_checksum(f, key, ref, d, line, db_sid)
        # NP.01
        if cp.identify is not None and cp.r.wants("NP.01"):
            self._check_format(f, key, ref, fmt, line, sid)

    def _check_extension(self, f, ref, fmt):
        """N5.29: the file extension against a file-extension format value."""
        fmt_l = fmt.lower()
        self.formats[fmt_l] += 1
        if _PUID.match(fmt):
            # a PRONOM id: NP.01 identifies the file instead of guessing from its name; Arkade compares
            # '.fmt/95' with the extension and fails it (counted for the warning in report())
            self.n["N5.29 puid"] += 1
            return
        dot = ref.replace("\\", "/").rsplit("/", 1)[-1]
        ext = "." + dot.rsplit(".", 1)[1].lower() if "." in dot else ""
        if ext and ext != f".{fmt_l}":
            self.n["N5.29 mismatch"] += 1
            self.add("N5.29", "error", tr("format mismatch: {file} has extension {extension} but format is {format!r}",
                                          file=ref, extension=ext, format=fmt), f)

    def _check_checksum(self, f, key, ref, d, line, db_sid):
        expected = (d.get("sjekksum") or "").strip()
        algo_name = d.get("sjekksumAlgoritme")
        algo = hash_algorithm(algo_name)
        where = dict(line=d.get("sjekksum_line", line), systemID=db_sid)
        if algo_name is None:
            algo = "sha256"
            self.add("N5.30", "warning", tr("{file}: no sjekksumAlgoritme; SHA-256 assumed", file=ref), f, **where)
        elif algo is None:
            self.add("N5.30", "error", tr("{file}: unsupported sjekksumAlgoritme {algorithm!r} "
                                          "(supported: SHA-256, SHA-384, SHA-512, SHA-1, MD5)", file=ref,
                                          algorithm=algo_name), f, **where)
            return
        if not expected:
            self.add("N5.30", "error", tr("{file}: no sjekksum recorded", file=ref), f, **where)
            return
        actual = self.hash_cache.get((key, algo))
        if actual is None:
            try:
                with self.cp.src.open(key) as fh:
                    actual = hash_stream(fh, (algo,))[algo]
            except OSError as exc:
                self.add("N5.30", "error", tr("{file}: cannot be read: {error}", file=ref, error=str(exc)), f, **where)
                return
            if len(self.hash_cache) > 4096:
                self.hash_cache.clear()
            self.hash_cache[(key, algo)] = actual
        self.n["N5.30 checked"] += 1
        if actual.lower() != expected.lower():
            self.add("N5.30", "error", tr("checksum mismatch for {file} (dokumentbeskrivelse {systemid}): recorded "
                                          "{recorded}, computed {computed} ({algorithm})", file=ref,
                                          systemid=db_sid or "?", recorded=expected.lower(), computed=actual,
                                          algorithm=algo.upper()), f, **where)

    def _check_format(self, f, key, ref, fmt, line, sid):
        try:
            ident = self.cp.identify(self.cp.src, key)
        except Exception as exc:  # noqa: BLE001 - one unreadable file is a finding
            self.add("NP.01", "warning", tr("{file}: format identification failed: {error}", file=ref, error=str(exc)),
                     f, line=line)
            return
        if ident is None:
            return
        puid, label = ident
        if puid == "UNKNOWN":
            self.add("NP.01", "warning", tr("{file}: Siegfried could not identify the format", file=ref), f, line=line)
            return
        entry = self.cp.approved.get(puid)
        if entry is None:
            self.add("NP.01", "error", tr("{file}: {puid} ({name}) is not an approved archival format "
                                          "(Riksarkivarens forskrift § 5-17)", file=ref, puid=puid, name=label),
                     f, line=line)
        elif entry.get("valid_to"):
            self.add("NP.01", "warning", tr("{file}: {puid} ({name}) was an archival format only until {valid_to}",
                                            file=ref, puid=puid, name=entry["name"], valid_to=entry["valid_to"]),
                     f, line=line)
        if fmt and _PUID.match(fmt) and fmt.lower() != puid.lower():
            self.add("NP.01", "warning", tr("{file}: dokumentobjekt/format says {format} but Siegfried identifies "
                                            "{puid} ({name})", file=ref, format=fmt, puid=puid, name=label),
                     f, line=line)

    # ------------------------------------------------------------------ after the pass

    def report(self, addml_name: str | None) -> None:
        cp, info = self.cp, self.info
        r = cp.r
        if r.wants("NP.01") and cp.identify is not None:
            r.mark_ran("NP.01")
        info("N5.29", tr("document formats: {count}", count=len(self.formats)))
        for fmt, k in sorted(self.formats.items()):
            info("N5.29", tr("format {format!r}: {count}", format=fmt, count=k))
        puids = self.n["N5.29 puid"]
        if puids == 1:
            r.add("N5.29", "warning", tr("1 document object gives a PRONOM PUID as format (the Noark 5 v5.0 way): "
                                         "Arkade 5 (2.12) compares format with the file extension and will report it "
                                         "as an N5.29 error 'Format-misforhold' (arkade5 issue #175, {issue}); the "
                                         "extract is right, NP.01 checks the files' real formats",
                                         issue=ARKADE_N529_ISSUE), file="arkivstruktur.xml")
        elif puids:
            r.add("N5.29", "warning", tr("{count} document objects give a PRONOM PUID as format (the Noark 5 v5.0 "
                                         "way): Arkade 5 (2.12) compares format with the file extension and will "
                                         "report each of them as an N5.29 error 'Format-misforhold' (arkade5 issue "
                                         "#175, {issue}); the extract is right, NP.01 checks the files' real formats",
                                         count=puids, issue=ARKADE_N529_ISSUE), file="arkivstruktur.xml")
        if self.n["N5.29 mismatch"]:
            r.add("N5.29", "error", tr("{count} document objects have a format that differs from their file "
                                       "extension", count=self.n["N5.29 mismatch"]), file="arkivstruktur.xml")
        info("N5.30", tr("document checksums verified: {count}", count=self.n["N5.30 checked"]))
        # N5.33 / N5.34: walk the listing again for names (the table holds only hashes)
        if cp.docs is not None and cp.doc_dir is not None:
            unref = multi = 0
            for rel, _ in cp.src.iter_files(cp.doc_dir):
                flags = cp.docs.get_flags(norm_ref(rel)) or 0
                if not flags & F_REFERENCED:
                    unref += 1
                    r.add("N5.33", "error", tr("document file is not referenced by any dokumentobjekt: {file}", file=rel),
                          file=rel)
                elif flags & F_MULTI:
                    multi += 1
                    info("N5.34", tr("referenced by more than one dokumentobjekt: {file}", file=rel), file=rel)
            info("N5.33", tr("document files without reference: {count}", count=unref), file=cp.doc_dir + "/")
            info("N5.34", tr("document files referenced more than once: {count}", count=multi))

    def report_last(self, addml_name: str | None) -> None:
        self.info("N5.64", tr("empty document files: {count}", count=self.cp.committed["N5.64"]))
