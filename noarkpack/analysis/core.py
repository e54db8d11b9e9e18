"""The analysis itself (see the package docstring)."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import tempfile
import time
from collections import defaultdict
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any

from ..errors import ModelError
from ..findings import Finding
from ..fsutil import human_size as _human
from ..locale import LANGUAGES, N_, Text, tr, tr_in
from ..model import selection as _selection
from ..model.identifiers import PersonNumberError, validate_person_number
from ..model.mapping import DEFAULT_AVSKRIVNINGSMAATE, KJONN_TEKST
from ..model.noark5 import JOURNALPOSTTYPER_MED_AVSKRIVNING
from ..model.selection import REASON_OPEN
from ..progress import Progress
from ..sources.keys import shown_key
from .documents import document_findings

SEVERITIES = ("blocking", "warning", "info")
EARLIEST = date(1854, 1, 1)  # the earliest birth year the person-number scheme knows

#: code → (title, what to do): msgids, translated where they are shown (:func:`title`, :func:`todo`).  Severity is
#: decided per finding (e.g. selected vs excluded journal).
CATALOGUE: dict[str, tuple[str, str]] = {
    "AN.01": (N_("Row rejected by the import"), N_("fix the export or the mapping and import again")),
    "AN.02": (N_("Code value missing from a value map"), N_("add the code to the value map in [import.values]")),
    "AN.03": (N_("Journal still open"),
              N_("open journals are never deposited; close it in the source if it should be")),
    "AN.04": (N_("Journal left out by the selection rules"), N_("check [selection] if it should be deposited")),
    "AN.05": (N_("Journal breaks a rule of the record model"), N_("fix the export or the mapping")),
    "AN.06": (N_("Invalid person number"), N_("it is deposited as recorded; check it in the source")),
    "AN.07": (N_("Patient without person number"), N_("the birth date and the patient key identify the patient")),
    "AN.08": (N_("The same person number on several patients"),
              N_("merge the patients in the source or explain it")),
    "AN.09": (N_("Possible duplicate patient"), N_("same name and birth date under different keys")),
    "AN.10": (N_("Entry without documents"), N_("kept as metadata only")),
    "AN.11": (N_("Document file missing"), N_("find the file, or correct the path in the export")),
    "AN.12": (N_("Document file empty"), N_("find the real file")),
    "AN.13": (N_("File in the document folder that no entry references"), N_("it will not be deposited")),
    "AN.14": (N_("Document will be converted to an archival format"), N_("converted to PDF/A on extract")),
    "AN.15": (N_("Document format unknown: it cannot be converted"),
              N_("replace the file or allow unconverted documents")),
    "AN.16": (N_("Date in the future"), N_("check the date in the source")),
    "AN.17": (N_("Date out of range"), N_("check the date in the source")),
    "AN.18": (N_("Arkivskaper not declared in noarkpack.toml"), N_("add an [[arkivskaper]] table or a value map")),
    "AN.19": (N_("No journal is selected for deposit"), N_("check the export and [selection]")),
    "AN.20": (N_("Incoming or internal journalpost avskrevet by the default"),
              N_("if the legacy system recorded how it was closed, map innslag.avskrivning_* in [import]")),
    "AN.21": (N_("Kjønn does not match the person number"),
              N_("it is deposited as recorded; check kjønn and the person number in the source")),
    "AN.22": (N_("Document content in the source is empty"),
              N_("the row gets no document; check the column in the source")),
}


def title(code: str) -> str:
    """The AN.xx code's title in the current language."""
    return tr(CATALOGUE[code][0])


def todo(code: str) -> str:
    """What to do about an AN.xx finding, in the current language."""
    return tr(CATALOGUE[code][1])


def _finding_json(f: Finding) -> dict:
    """The JSON object of an analysis finding: its id under "code", the location's record, and the identifiers
    when they are shown."""
    loc = f.location
    out = {"code": f.test, "severity": f.severity, "message": f.message, "key": f.key,
           "location": {"file": loc.get("file"), "line": loc.get("line"), "record": loc.get("record")}}
    if f.identifiers:
        out["identifiers"] = f.identifiers
    return out


def _masked_pattern() -> re.Pattern:
    """A masked key's pseudonym, "(key masked…)" in either language (keys.shown_key makes it)."""
    starts = {re.escape(tr_in(lang, "(key masked)")[:-1]) for lang in LANGUAGES}
    return re.compile(rf"(?:{'|'.join(sorted(starts))})[^)]*\)")


class Analysis:
    """Counts and findings; at most ``limit`` findings are kept per code, but all are counted."""

    def __init__(self, project_name: str, root: str, *, show_identifiers: bool, limit: int = 1000) -> None:
        self.project = project_name
        self.root = root
        self.show_identifiers = show_identifiers
        self.limit = limit
        self.findings: list[Finding] = []
        self.totals: dict[str, dict[str, int]] = defaultdict(lambda: {s: 0 for s in SEVERITIES})
        self.counts: dict[str, Any] = {}
        self.generated = datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")
        self.seconds = 0.0
        self._masked: dict[str, list[str]] = {}  # with show_identifiers: a masked key's pseudonym → the keys

    def key(self, value, file: str | None, line: int | None, *, also=None) -> str:
        """A record key as findings show it (issue 18, point 10: masked when it is a person number); with
        show_identifiers the real key is added to the finding's identifiers."""
        shown = shown_key(value, file, line, also=also)
        if self.show_identifiers and shown != str(value):
            keys = self._masked.setdefault(shown, [])
            if str(value) not in keys:
                keys.append(str(value))
        return shown

    def add(self, code: str, severity: str, message: str, *, file: str | None = None, line: int | None = None,
            record: str | None = None, identifiers: dict | None = None) -> None:
        t = self.totals[code]
        t[severity] += 1
        if sum(t.values()) <= self.limit:
            if self.show_identifiers and record and self._masked:
                keys = [k for token in _masked_pattern().findall(record) for k in self._masked.get(token, ())]
                if keys:
                    identifiers = {**(identifiers or {}), "record_keys": keys}
            self.findings.append(Finding(code, severity, message, {"file": file, "line": line, "record": record},
                                         identifiers if self.show_identifiers else None))

    @property
    def blocking(self) -> int:
        return sum(t["blocking"] for t in self.totals.values())

    @property
    def errors(self) -> int:
        """The blocking findings (the report protocol's errors: noarkpack.findings.ReportLike)."""
        return self.blocking

    @property
    def warnings(self) -> int:
        return sum(t["warning"] for t in self.totals.values())

    @property
    def exit_code(self) -> int:
        return 1 if self.blocking else 0

    def for_code(self, code: str) -> list[Finding]:
        return [f for f in self.findings if f.code == code]

    def to_json(self) -> dict:
        return {
            "project": self.project, "generated": self.generated, "seconds": round(self.seconds, 3),
            "identifiers_shown": self.show_identifiers,
            "verdict": "blocked" if self.blocking else "ok",
            "summary": {"blocking": self.blocking, "warnings": self.warnings,
                        "info": sum(t["info"] for t in self.totals.values()),
                        "by_code": {c: dict(t) for c, t in sorted(self.totals.items())}, "limit_per_code": self.limit},
            "counts": self.counts,
            "findings": [_finding_json(f) for f in self.findings],
        }

    def summary_lines(self) -> list[str]:
        c = self.counts
        label = getattr(_selection, "reason_label", str)  # a reason in the current language
        out = [tr("Analysis of {project}", project=self.project),
               "  " + tr("patients {patients}, journals {journals} (selected {selected}, left out {excluded}), "
                         "entries {entries}, documents {documents}", patients=c.get("patients", 0),
                         journals=c.get("journals", 0), selected=c.get("selected_journals", 0),
                         excluded=c.get("excluded_journals", 0), entries=c.get("entries", 0),
                         documents=c.get("documents", 0))]
        # the table's column titles (labels, each one word or two)
        h_journals, h_selected, h_excluded = tr("journals"), tr("selected"), tr("left out")
        h_entries, h_documents = tr("entries"), tr("docs")
        out.append(f"  {'arkivskaper':14} {h_journals:>9} {h_selected:>7} {h_excluded:>8} {h_entries:>8} "
                   f"{h_documents:>7}")
        for key, a in c.get("by_arkivskaper", {}).items():
            out.append(f"  {key:14} {a['journals']:>9} {a['selected']:>7} {a['excluded']:>8} {a['entries']:>8} "
                       f"{a['documents']:>7}")
        for reason, n in sorted(c.get("excluded_by_reason", {}).items()):
            out.append("  " + tr("left out: {reason}: {count}", reason=label(reason), count=n))
        ct = c.get("contents")
        if ct and (ct["documents_from_source"] or ct["contents_empty"] or ct["contents_undecodable"]):
            out.append("  " + tr("documents from the source {from_source}, from files {from_files}; empty content "
                                 "{empty}, unreadable text {undecodable}", from_source=ct["documents_from_source"],
                                 from_files=ct["documents_from_files"], empty=ct["contents_empty"],
                                 undecodable=ct["contents_undecodable"]))
        avskr = c.get("avskrivning", {})
        if avskr.get("default") or avskr.get("from_source"):
            out.append("  " + tr("avskrivning: journalposter from the source {from_source}, with the default value "
                                 "{default} ({value}, the journal's closing date)",
                                 from_source=avskr.get("from_source", 0), default=avskr.get("default", 0),
                                 value=repr(DEFAULT_AVSKRIVNINGSMAATE)))
        conv = c.get("conversion", {})
        if conv.get("files"):
            out.append("  " + tr("conversion to PDF/A: {files} file(s) ({size})", files=conv["files"],
                                 size=_human(conv["bytes"])))
            est = conv.get("estimate")
            if est:
                out.append("  " + tr("estimated conversion time: {minutes:.1f} min with {workers} LibreOffice "
                                     "(noarkpack convert)", minutes=est["seconds"] / 60, workers=est["workers"]))
                for puid, e in est["by_format"].items():
                    args = dict(puid=puid, documents=e["documents"], rate=e["seconds_per_document"],
                                minutes=e["seconds"] / 60)
                    if e["source"] == "measured":
                        line = tr("{puid:12} {documents:7} file(s)  {rate:.2f} s/file (measured)  {minutes:.1f} min",
                                  **args)
                    else:
                        line = tr("{puid:12} {documents:7} file(s)  {rate:.2f} s/file (default)  {minutes:.1f} min",
                                  **args)
                    out.append(f"    {line}")
        h_code, h_blocking, h_warning, h_finding = tr("code"), tr("blocking"), tr("warning"), tr("finding")
        out.append(f"  {h_code:6} {h_blocking:>9} {h_warning:>8} {'info':>6}  {h_finding}")
        for code, t in sorted(self.totals.items()):
            out.append(f"  {code:6} {t['blocking']:>9} {t['warning']:>8} {t['info']:>6}  {title(code)}")
        for f in self.findings:
            if f.severity == "blocking":
                out.append("  " + tr("BLOCKING {code} {where}: {message}", code=f.code, where=f.where(),
                                     message=f.message))
        if self.blocking:
            out.append("  " + tr("BLOCKED: {blocking} findings stand in the way of the deposit ({warnings} warnings)",
                                 blocking=self.blocking, warnings=self.warnings))
        else:
            out.append("  " + tr("OK: no finding stands in the way of the deposit ({warnings} warnings)",
                                 warnings=self.warnings))
        return out

    def to_html(self, first: int = 50) -> str:

        from ..resources import html_environment

        env = html_environment()
        env.filters["human"] = _human
        codes = []
        # the codes with blocking findings first, then those with warnings, then the rest (issue 23)
        for code, t in sorted(self.totals.items(), key=lambda ct: (-bool(ct[1]["blocking"]),
                                                                    -bool(ct[1]["warning"]), ct[0])):
            codes.append({"code": code, "title": title(code), "todo": todo(code), "totals": t,
                          "findings": self.for_code(code)[:first], "total": sum(t.values())})
        blocking = [f for f in self.findings if f.severity == "blocking"][:first]
        return env.get_template("analysis-report.html.j2").render(a=self, codes=codes, counts=self.counts,
                                                                  first=first, blocking=blocking)


def _with_hint(message: str, hint: str | None) -> str:
    """A model error's message with its hint in brackets; the message's key stays the finding's key."""
    if not hint:
        return message
    text = Text(f"{message} ({hint})")
    text.key, text.params = getattr(message, "key", None), getattr(message, "params", {})
    return text


def analyse(project, *, show_identifiers: bool = False, identify_formats: bool = True, limit: int = 1000,
            today: date | None = None, progress: Progress | None = None) -> Analysis:
    """Analyse the project's staging database and document folder (see the module docstring)."""
    t0 = time.monotonic()
    a = Analysis(project.name, str(project.root), show_identifiers=show_identifiers, limit=limit)
    today = today or project.selection.today or date.today()
    tmpdir = None
    if project.uses_staging:
        db = project.staging()
        source_name = None
    else:
        # noarkpack's JSON Lines read directly: staged into a private temporary database for the analysis.
        from ..sources.staging import StagingDB, stage_journals

        tmpdir = tempfile.mkdtemp(prefix="noarkpack-analyse-")
        path = Path(tmpdir) / "staging.sqlite"
        source_name = os.path.relpath(project.source, project.root)
        stage_journals(path, project.journals(), project.settings, source=source_name)
        db = StagingDB(path, project_root=project.root)
    try:
        if identify_formats:
            from ..documents import persistent_identifications

            with persistent_identifications(project.identification_store):
                _run(a, project, db, today, identify_formats, progress)
        else:
            _run(a, project, db, today, identify_formats, progress)
    finally:
        db.close()
        if tmpdir:
            import shutil

            shutil.rmtree(tmpdir, ignore_errors=True)
    a.seconds = time.monotonic() - t0
    return a


def _run(a: Analysis, project, db, today: date, identify_formats: bool, progress: Progress | None) -> None:
    s = project.settings
    declared = {x.key: x for x in s.arkivskapere}
    # The staging database read-only; the analysis's own tables (journal status, files on disk) are TEMP
    # tables, kept on disk by SQLite, so memory does not grow with the export.
    work = sqlite3.connect(f"file:{db.path}?mode=ro", uri=True)
    work.execute("PRAGMA temp_store = FILE")
    work.execute("CREATE TEMP TABLE jstat (journal_id TEXT PRIMARY KEY, selected INTEGER NOT NULL)")
    work.execute("CREATE TEMP TABLE disk (path TEXT PRIMARY KEY, size INTEGER NOT NULL)")
    try:
        _rows_and_codes(a, work)
        _journals(a, project, db, work, declared, today, progress)
        _patients(a, work, today)
        document_findings(a, project, work, identify_formats, progress)
    finally:
        work.close()


def _rows_and_codes(a: Analysis, c: sqlite3.Connection) -> None:
    for r in c.execute("SELECT file, line, tabell, record, reason FROM rejected ORDER BY file, line"):
        a.add("AN.01", "blocking", tr("the row was not imported into the table '{table}': {reason}", table=r[2],
                                      reason=r[4]), file=r[0], line=r[1], record=r[3])
    for r in c.execute("SELECT tabell, field, value, value_map, rows, first_file, first_line FROM unmapped "
                       "ORDER BY tabell, field, value"):
        a.add("AN.02", "warning", tr("the code {code} of {field} is not in the value map {value_map} ({rows} "
                                     "row(s)); it is kept as recorded", code=repr(r[2]), field=r[0] + "." + r[1],
                                     value_map=r[3], rows=r[4]), file=r[5], line=r[6])


def _journals(a: Analysis, project, db, work: sqlite3.Connection, declared: dict, today: date,
              progress: Progress | None) -> None:
    s = project.settings
    rules = project.selection
    by_ark: dict[str, dict[str, int]] = {}
    by_year: dict[str, dict[str, int]] = defaultdict(lambda: {"opened": 0, "closed": 0})
    excluded_by_reason: dict[str, int] = defaultdict(int)
    status = {"avsluttet": 0, "åpen": 0}
    avskrivning = {"from_source": 0, "default": 0}
    n = entries = docs = selected = 0
    batch: list[tuple[str, int]] = []
    now = datetime.now(timezone.utc)
    for j in db.journals():
        n += 1
        file, line = j.source_file, j.source_line
        jkey = a.key(j.journal_id, file, line)
        rec = tr("journal {journal}", journal=jkey)
        reason = rules.reason_to_exclude(j)
        ok = reason is None
        ark = by_ark.setdefault(j.arkivskaper, {"navn": declared[j.arkivskaper].navn if j.arkivskaper in declared
                                                else None, "journals": 0, "selected": 0, "excluded": 0,
                                                "entries": 0, "documents": 0})
        ark["journals"] += 1
        ark["entries"] += len(j.innslag)
        nd = sum(len(i.dokumenter) for i in j.innslag)
        ark["documents"] += nd
        entries += len(j.innslag)
        docs += nd
        status["avsluttet" if j.is_closed else "åpen"] += 1
        if j.opprettet:
            by_year[str(j.opprettet.year)]["opened"] += 1
        if j.avsluttet:
            by_year[str(j.avsluttet.year)]["closed"] += 1
        if ok:
            selected += 1
            ark["selected"] += 1
        else:
            ark["excluded"] += 1
            excluded_by_reason[reason] += 1
            if reason == REASON_OPEN:
                a.add("AN.03", "warning", tr("the journal is still open (no avsluttet): it is not deposited"),
                      file=file, line=line, record=rec)
            else:
                a.add("AN.04", "info", tr("left out by the selection rules: {reason}",
                                          reason=getattr(_selection, "reason_label", str)(reason)),
                      file=file, line=line, record=rec)
        batch.append((j.journal_id, int(ok)))
        if len(batch) >= 5000:
            work.executemany("INSERT OR REPLACE INTO jstat VALUES (?, ?)", batch)
            batch.clear()
        if j.arkivskaper not in declared:
            a.add("AN.18", "blocking" if ok else "warning", tr("the journal's arkivskaper {arkivskaper} is not an "
                  "[[arkivskaper]] key in noarkpack.toml", arkivskaper=repr(j.arkivskaper)), file=file, line=line,
                  record=rec)
        if ok:
            try:
                j.check()
            except ModelError as e:
                a.add("AN.05", "blocking", _with_hint(e.message, e.hint), file=file, line=line,
                      record=e.record or rec)
        # dates
        for what, value in (("opprettet", j.opprettet), ("avsluttet", j.avsluttet)):
            if value is not None and value > now:
                a.add("AN.16", "warning", tr("the journal's {field} is in the future", field=what), file=file,
                      line=line, record=rec)
        for i in j.innslag:
            erec = tr("{record}, entry {entry}", record=rec, entry=a.key(i.innslag_id, file, line))
            if not i.dokumenter:
                a.add("AN.10", "info", tr("the entry has no document (metadata only)"), file=file, line=line,
                      record=erec)
            for what, value in (("opprettet", i.opprettet), ("arkivert", i.arkivert)):
                if value is None:
                    continue
                if value > now:
                    a.add("AN.16", "warning", tr("the entry's {field} date is in the future", field=what), file=file,
                          line=line, record=erec)
                elif ok and not (s.periode_start <= value.date() <= s.periode_slutt) and what == "opprettet":
                    a.add("AN.17", "warning", tr("the entry was written outside the arkivdel's period ({start}–{end})",
                                                 start=s.periode_start, end=s.periode_slutt),
                          file=file, line=line, record=erec)
            if j.opprettet and i.opprettet and i.opprettet < j.opprettet:
                a.add("AN.17", "warning", tr("the entry was written before the journal was opened"), file=file,
                      line=line, record=erec)
            k = i.korrespondanse
            if ok and k is not None and (k.avskrivning is not None or k.type in JOURNALPOSTTYPER_MED_AVSKRIVNING):
                if k.avskrivning is not None:
                    avskrivning["from_source"] += 1
                else:
                    avskrivning["default"] += 1
                    a.add("AN.20", "info", tr("{type}: the source does not say how it was closed; avskrevet {value} "
                                              "on the journal's closing date, by whoever closed it (krav 3.4.5)",
                                              type=repr(k.type), value=repr(DEFAULT_AVSKRIVNINGSMAATE)),
                          file=file, line=line, record=erec)
        if progress and n % 1000 == 0:
            progress("analyse", n, None)
    if batch:
        work.executemany("INSERT OR REPLACE INTO jstat VALUES (?, ?)", batch)
    if n and not selected or not n:
        a.add("AN.19", "blocking", tr("none of the {count} journal(s) is selected for deposit", count=n))
    a.counts.update({
        "journals": n, "entries": entries, "documents": docs, "selected_journals": selected,
        "excluded_journals": n - selected, "excluded_by_reason": dict(excluded_by_reason),
        "by_arkivskaper": dict(sorted(by_ark.items())), "by_status": status, "avskrivning": avskrivning,
        "by_year": {y: by_year[y] for y in sorted(by_year)},
    })


def _patients(a: Analysis, c: sqlite3.Connection, today: date) -> None:
    kinds: dict[str, int] = defaultdict(int)
    patients = 0
    for r in c.execute("SELECT pasient_id, fodselsnummer, navn, fodselsdato, dodsdato, src_file, src_line, kjonn "
                       "FROM pasient ORDER BY pasient_id"):
        patients += 1
        pid, fnr, navn, born, died, file, line, kjonn = r
        rec = tr("patient {patient}", patient=a.key(pid, file, line, also=fnr))
        ids = {"navn": navn, "fodselsnummer": fnr, "pasient_id": pid}
        if not fnr:
            kinds["mangler"] += 1
            a.add("AN.07", "info", tr("the patient has no person number"), file=file, line=line, record=rec,
                  identifiers=ids)
        else:
            try:
                pn = validate_person_number(fnr)
                kinds[pn.kind] += 1
                if pn.rule_set == "2032":
                    kinds["2032-regelsett"] += 1
                if born and pn.birth_date and pn.kind == "fødselsnummer" and pn.birth_date.isoformat() != born:
                    a.add("AN.06", "warning", tr("the person number's date part differs from the recorded birth date"),
                          file=file, line=line, record=rec, identifiers=ids)
                recorded = KJONN_TEKST.get(kjonn or "")
                # ukjent never contradicts; a number under the 2032 rules carries no sex (pn.kjonn None)
                if recorded in ("mann", "kvinne") and pn.kjonn and recorded != pn.kjonn:
                    a.add("AN.21", "warning", tr("the recorded kjønn contradicts the person number's sex digit (its "
                                                 "9th digit: odd for mann, even for kvinne); both are deposited as "
                                                 "recorded"),
                          file=file, line=line, record=rec, identifiers=ids)
            except PersonNumberError as e:
                kinds["ugyldige"] += 1
                a.add("AN.06", "warning", tr("the person number is not valid ({problem}); it is kept as recorded",
                                             problem=str(e)),
                      file=file, line=line, record=rec, identifiers=ids)
        for what, value in (("fodselsdato", born), ("dodsdato", died)):
            if not value:
                continue
            d = date.fromisoformat(value)
            if d > today:
                a.add("AN.16", "warning", tr("the patient's {field} is in the future", field=what), file=file,
                      line=line, record=rec)
            elif d < EARLIEST:
                a.add("AN.17", "warning", tr("the patient's {field} is before {year}", field=what, year=EARLIEST.year),
                      file=file, line=line, record=rec)
        if born and died and died < born:
            a.add("AN.17", "warning", tr("the patient's dodsdato is before the fodselsdato"), file=file, line=line,
                  record=rec)
    a.counts["patients"] = patients
    a.counts["identifiers"] = dict(kinds)
    for fnr, n, keys in c.execute("SELECT fodselsnummer, count(*), group_concat(pasient_id, '\x1f') FROM pasient "
                                  "WHERE fodselsnummer IS NOT NULL GROUP BY fodselsnummer HAVING count(*) > 1"):
        first = c.execute("SELECT src_file, src_line FROM pasient WHERE fodselsnummer = ? ORDER BY src_line LIMIT 1",
                          (fnr,)).fetchone()
        keys = ", ".join(a.key(k, first[0], first[1], also=fnr) for k in keys.split("\x1f"))
        a.add("AN.08", "warning", tr("{count} patients carry the same person number (patients {keys})", count=n,
                                     keys=keys), file=first[0], line=first[1],
              record=tr("patients {patients}", patients=keys), identifiers={"fodselsnummer": fnr})
    for navn, born, n, keys in c.execute(
            "SELECT navn, fodselsdato, count(*), group_concat(pasient_id, '\x1f') FROM pasient WHERE fodselsdato IS "
            "NOT NULL GROUP BY navn, fodselsdato HAVING count(*) > 1"):
        keys = ", ".join(a.key(k, None, None) for k in keys.split("\x1f"))
        a.add("AN.09", "warning", tr("{count} patients have the same name and birth date (patients {keys})",
                                     count=n, keys=keys),
              record=tr("patients {patients}", patients=keys), identifiers={"navn": navn, "fodselsdato": born})


def to_json_text(a: Analysis) -> str:
    return json.dumps(a.to_json(), ensure_ascii=False, indent=2)
