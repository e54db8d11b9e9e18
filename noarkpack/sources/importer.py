"""``noarkpack import``: the legacy export → the staging database, through the mapping.

:func:`import_project` reads every ``[[import.file]]`` (CSV in any delimiter and
encoding, or JSON Lines), turns each row into a row of a staging table
(:mod:`noarkpack.sources.mapping`), and writes the result as one new database
that replaces the old one only when the whole import succeeded.  So:

* a failed import (a missing export file, a wrong encoding, a missing column,
  a malformed mapping) raises a :class:`~noarkpack.errors.NoarkpackError` with
  file and line, and leaves the database exactly as it was;
* a row that cannot be used (a bad date or number, a missing required value,
  a parent that is not in the export, a key twice) is *rejected*: recorded
  with file, line and reason in the ``rejected`` table and the
  :class:`ImportReport`, and the import goes on (the CLI exits 1);
* importing the same export again gives the same database content: rows are
  keyed by their natural keys (journal_id, innslag_id, …) and the staged data
  is exactly what the export holds.

Messages never carry a value from the export (it could be a name or a
fødselsnummer): they name the file, the line, the column and the record key.
"""

from __future__ import annotations

import csv
import hashlib
import json
import os
import sqlite3
import time
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from .._version import __version__
from ..errors import ConfigError, SourceError
from .mapping import FIELDS, FileMapping, ImportMapping, ValueProblem, to_bool, to_date, to_datetime, to_int
from .staging import DATA_TABLES, SCHEMA_VERSION, StagingError, check_version, create_schema, schema_version
from ..progress import Progress

if TYPE_CHECKING:
    from ..project import Project

KEEP_REJECTED = 1000  # rows kept in the report (all are in the database)
KEY_FIELDS = {
    "pasient": ("pasient_id",), "pasientjournal": ("journal_id",), "innslag": ("journal_id", "innslag_id"),
    "dokument": ("journal_id", "innslag_id", "fil"), "korrespondansepart": ("journal_id", "innslag_id", "type", "navn"),
    "endring": ("journal_id", "innslag_id", "felt", "dato"), "merknad": ("journal_id", "dato", "tekst"),
    "diagnose": ("journal_id", "kodeverk", "kode", "dato"),
}
COLUMNS = {
    "pasient": ("pasient_id", "fodselsnummer", "navn", "kjonn", "fodselsdato", "dodsdato", "dodsdato_ukjent",
                "skjult_adresse", "skjult_navn"),
    "pasientjournal": ("journal_id", "pasient_id", "arkivskaper", "journalsted", "journalansvarlig", "opprettet",
                       "opprettet_av", "avsluttet", "avsluttet_av"),
    "innslag": ("journal_id", "innslag_id", "type", "tittel", "forfatter", "opprettet", "arkivert", "arkivert_av",
                "skjerming_tilgangsrestriksjon", "skjerming_hjemmel", "skjerming_metadata", "skjerming_dokument",
                "korrespondanse_type", "korrespondanse_dato"),
    "dokument": ("journal_id", "innslag_id", "fil", "fil_norm", "tittel", "tilknyttet_som", "format", "nr"),
    "korrespondansepart": ("journal_id", "innslag_id", "type", "navn"),
    "endring": ("journal_id", "innslag_id", "felt", "tidligere", "ny", "dato", "av"),
    "merknad": ("journal_id", "tekst", "dato", "registrert_av", "type"),
    "diagnose": ("journal_id", "kode", "kodeverk", "tekst", "dato"),
}
RECORD_NAME = {"pasient": ("patient", "pasient_id"), "pasientjournal": ("journal", "journal_id")}


@dataclass(frozen=True)
class Rejected:
    file: str
    line: int
    table: str
    record: str | None
    reason: str

    def to_json(self) -> dict:
        return {"file": self.file, "line": self.line, "table": self.table, "record": self.record,
                "reason": self.reason}


@dataclass
class Unmapped:
    table: str
    field: str
    value: str  # a local code (value maps hold codes, never names)
    value_map: str
    rows: int
    file: str
    line: int

    def to_json(self) -> dict:
        return {"table": self.table, "field": self.field, "value": self.value, "value_map": self.value_map,
                "rows": self.rows, "location": {"file": self.file, "line": self.line}}


@dataclass
class FileStats:
    path: str
    table: str
    rows_read: int = 0
    rows_imported: int = 0
    rows_rejected: int = 0


@dataclass
class ImportReport:
    database: Path
    files: list[FileStats] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)  # rows per staging table after the import
    rejected: list[Rejected] = field(default_factory=list)  # the first KEEP_REJECTED
    rejected_total: int = 0
    unmapped: list[Unmapped] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def exit_code(self) -> int:
        return 1 if self.rejected_total else 0

    def to_json(self) -> dict:
        return {"database": str(self.database), "seconds": round(self.seconds, 3), "counts": self.counts,
                "files": [vars(f) for f in self.files], "rejected_total": self.rejected_total,
                "rejected": [r.to_json() for r in self.rejected], "unmapped": [u.to_json() for u in self.unmapped]}

    def summary_lines(self) -> list[str]:
        out = [f"Importert til {self.database} på {self.seconds:.1f} s"]
        for f in self.files:
            out.append(f"  {f.path:40} → {f.table:18} {f.rows_imported:>9} rader"
                       + (f", {f.rows_rejected} avvist" if f.rows_rejected else ""))
        out.append("  i databasen: " + ", ".join(f"{t} {n}" for t, n in self.counts.items() if t in DATA_TABLES))
        for u in self.unmapped:
            out.append(f"  ukjent kode {u.value!r} i {u.table}.{u.field} (verdiliste {u.value_map}): {u.rows} rader, "
                       f"første {u.file}:{u.line}; beholdt som registrert")
        if self.rejected_total:
            out.append(f"  AVVIST: {self.rejected_total} rader (ikke importert):")
            for r in self.rejected[:20]:
                out.append(f"    {r.file}:{r.line}: {r.reason}" + (f" ({r.record})" if r.record else ""))
            if self.rejected_total > 20:
                out.append(f"    … og {self.rejected_total - 20} til (tabellen rejected i databasen)")
        return out


class ImportRejected(SourceError):
    """An automatic import (before extract, analyse, package) rejected rows: the deposit would be incomplete."""

    exit_code = 1


# -- reading the export -------------------------------------------------------------------------


_ENC_NAMES = {"utf-8-sig": "UTF-8", "cp1252": "Windows-1252", "latin-1": "ISO-8859-1", "iso8859-15": "ISO-8859-15"}


def sha256_and_lines(fm: FileMapping, hasher) -> Iterator[tuple[int, str]]:
    """(line number, decoded text without the line end) for each line, checking the encoding."""
    enc = fm.encoding
    suspicious: int | None = None  # first line that decodes as UTF-8 in a file declared single-byte
    genuine = False
    with open(fm.path, "rb") as f:
        n = 0
        for raw in f:
            n += 1
            hasher.update(raw)
            if n == 1 and raw.startswith(b"\xef\xbb\xbf") and enc != "utf-8-sig":
                raise SourceError("the file starts with a UTF-8 byte order mark, but the mapping says "
                                  f"{_ENC_NAMES.get(enc, enc)}",
                                  file=fm.rel, line=1, hint="set encoding = \"utf-8\" for this file")
            if enc != "utf-8-sig" and not raw.isascii():
                try:
                    raw.decode("utf-8")
                    if suspicious is None:
                        suspicious = n
                except UnicodeDecodeError:
                    genuine = True
            try:
                text = raw.decode(enc)
            except UnicodeDecodeError as e:
                name = _ENC_NAMES.get(enc, enc)
                raise SourceError(f"the file is not {name} text (byte 0x{raw[e.start]:02x} at column {e.start + 1} "
                                  "cannot be decoded)", file=fm.rel, line=n,
                                  hint="set the right encoding for this file in [[import.file]] "
                                       "(utf-8, windows-1252, iso-8859-1)") from None
            if n == 1 and text.startswith("\ufeff"):
                text = text[1:]
            yield n, text.rstrip("\r\n")
    if suspicious is not None and not genuine:
        raise SourceError(f"the file is UTF-8, but the mapping says {_ENC_NAMES.get(enc, enc)}: its letters would "
                          "be garbled "
                          "(ø read as Ã¸)", file=fm.rel, line=suspicious,
                          hint="set encoding = \"utf-8\" for this file in [[import.file]]")


def csv_records(fm: FileMapping, hasher) -> Iterator[tuple[int, Any]]:
    """(line, {column: value}) per data row; raises SourceError for a missing column in the header."""
    lines = sha256_and_lines(fm, hasher)
    first = None
    for n, text in lines:
        if text.strip():
            first = (n, text)
            break
    if first is None:
        return
    delim = fm.delimiter
    if delim is None:
        counts = {d: first[1].count(d) for d in (";", ",", "\t", "|")}
        delim = max(counts, key=counts.get)
        if counts[delim] == 0:
            delim = ","
    header = [h.strip() for h in next(csv.reader([first[1]], delimiter=delim))]
    index = {h: i for i, h in enumerate(header)}
    for spec in fm.fields.values():
        for col in spec.sources:
            if col not in index:
                raise SourceError(f"the column {col!r} (mapped to {fm.table}.{spec.name}) is not in the header",
                                  file=fm.rel, line=first[0],
                                  hint=f"the header has: {', '.join(header)[:300]}; fix the mapping or the export")
    state = {"n": first[0]}

    def feed() -> Iterator[str]:
        for n, text in lines:
            state["n"] = n
            yield text

    reader = csv.reader(feed(), delimiter=delim)
    start = first[0] + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            raise SourceError(f"the CSV cannot be read: {e}", file=fm.rel, line=state["n"]) from None
        line, start = start, state["n"] + 1
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(row) != len(header):
            yield line, ValueProblem(f"the row has {len(row)} fields, the header {len(header)}")
            continue
        yield line, {h: row[i] for h, i in index.items()}


def _path(obj: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


class _Scoped:
    """A JSON record inside its line: plain keys from the element, ``^.`` its parent, ``$.`` the line."""

    def __init__(self, root: Any, parents: tuple, elem: Any) -> None:
        self.root, self.parents, self.elem = root, parents, elem

    def get(self, key: str) -> Any:
        if key.startswith("$."):
            return _path(self.root, key[2:])
        if key.startswith("^."):
            return _path(self.parents[-1] if self.parents else self.root, key[2:])
        return _path(self.elem, key)


def jsonl_records(fm: FileMapping, hasher) -> Iterator[tuple[int, Any]]:
    for n, text in sha256_and_lines(fm, hasher):
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as e:
            yield n, ValueProblem(f"the line is not valid JSON: {e.msg} (column {e.colno})")
            continue
        if not isinstance(obj, dict):
            yield n, ValueProblem("the line is not a JSON object")
            continue
        if not fm.each:
            yield n, _Scoped(obj, (), obj)
            continue

        def walk(elem: Any, parents: tuple, rest: tuple[str, ...]) -> Iterator[Any]:
            if not rest:
                yield _Scoped(obj, parents, elem)
                return
            arr = elem.get(rest[0]) if isinstance(elem, dict) else None
            if arr is None:
                return
            if not isinstance(arr, list):
                yield ValueProblem(f"{rest[0]} is not a JSON array")
                return
            for item in arr:
                yield from walk(item, parents + (elem,), rest[1:])

        # an element's parents: the objects above it, the line's object first ("^." is the nearest)
        for rec in walk(obj, (), fm.each):
            yield n, rec


# -- turning a record into a row -----------------------------------------------------------------


class _Importer:
    def __init__(self, conn: sqlite3.Connection, mapping: ImportMapping, report: ImportReport,
                 progress: Progress | None) -> None:
        self.conn = conn
        self.mapping = mapping
        self.report = report
        self.progress = progress
        self.seq = 0
        self.unmapped: dict[tuple[str, str, str], Unmapped] = {}
        self.rows_read = self.rows_imported = 0
        self._parent_ok: dict[str, tuple] = {}

    def reject(self, fm: FileMapping, stats: FileStats, line: int, record: str | None, reason: str) -> None:
        stats.rows_rejected += 1
        self.report.rejected_total += 1
        self.conn.execute("INSERT INTO rejected VALUES (?, ?, ?, ?, ?)", (fm.rel, line, fm.table, record, reason))
        if len(self.report.rejected) < KEEP_REJECTED:
            self.report.rejected.append(Rejected(fm.rel, line, fm.table, record, reason))

    def row(self, fm: FileMapping, rec: Any, line: int) -> dict[str, Any]:
        """The staging row of one record; raises ValueProblem (the row is rejected)."""
        out: dict[str, Any] = {f: 0 for f, (kind, _) in FIELDS[fm.table].items() if kind == "bool"}
        for name, spec in fm.fields.items():
            if spec.constant is not None:
                raw = spec.constant
            elif len(spec.sources) == 1:
                raw = rec.get(spec.sources[0])
            else:
                parts = [rec.get(c) for c in spec.sources]
                parts = [str(p).strip() for p in parts if p is not None and str(p).strip()]
                raw = spec.join_with.join(parts) if parts else None
            if isinstance(raw, str):
                raw = raw.strip()
                if raw == "":
                    raw = None
            if raw is None:
                raw = spec.default
            where = f"{fm.table}.{name}" + (f" (column {spec.sources[0]})" if len(spec.sources) == 1 else "")
            if raw is None:
                if spec.required:
                    raise ValueProblem(f"{where} is missing")
                out[name] = 0 if spec.kind == "bool" else None
                continue
            if spec.values is not None:
                key = raw if isinstance(raw, str) else json.dumps(raw)
                if key in spec.values:
                    raw = spec.values[key]
                else:
                    ukey = (fm.table, name, key)
                    if spec.unmapped == "reject":
                        raise ValueProblem(f"{where}: the code is not in the value map {spec.values_name}")
                    u = self.unmapped.get(ukey)
                    if u is None:
                        if len(self.unmapped) < 10000:
                            self.unmapped[ukey] = Unmapped(fm.table, name, key, spec.values_name or "", 1, fm.rel, line)
                    else:
                        u.rows += 1
            try:
                if spec.kind == "str":
                    value: Any = raw if isinstance(raw, str) else json.dumps(raw) if isinstance(raw, bool) else str(raw)
                elif spec.kind == "date":
                    value = to_date(raw, spec)
                elif spec.kind == "datetime":
                    value = to_datetime(raw, spec, self.mapping.timezone)
                elif spec.kind == "bool":
                    value = int(to_bool(raw))
                elif spec.kind == "int":
                    value = to_int(raw)
                elif spec.kind == "list":
                    items = raw if isinstance(raw, list) else str(raw).split(spec.split)
                    value = "\x1f".join(str(i).strip() for i in items if str(i).strip()) or None
                else:  # pragma: no cover
                    raise AssertionError(spec.kind)
            except ValueProblem as e:
                raise ValueProblem(f"{where} {e}") from None
            out[name] = value
        return out

    def _record_name(self, table: str, row: dict) -> str | None:
        if table == "pasient":
            return f"patient {row.get('pasient_id')}" if row.get("pasient_id") else None
        jid, iid = row.get("journal_id"), row.get("innslag_id")
        if table == "pasientjournal":
            return f"journal {jid}" if jid else None
        parts = []
        if jid:
            parts.append(f"journal {jid}")
        if iid:
            parts.append(f"entry {iid}")
        return ", ".join(parts) or None

    def parent_problem(self, fm: FileMapping, row: dict) -> str | None:
        c = self.conn
        t = fm.table
        if t == "pasientjournal":
            if c.execute("SELECT 1 FROM pasient WHERE pasient_id = ?", (row["pasient_id"],)).fetchone() is None:
                return "the journal's patient is not in the export (no pasient row with its key)"
            return None
        if t == "innslag" or t in ("merknad", "diagnose"):
            jid = row["journal_id"]
            if self._parent_ok.get("j") == jid:
                return None
            if c.execute("SELECT 1 FROM pasientjournal WHERE journal_id = ?", (jid,)).fetchone() is None:
                return "its journal is not in the export (no pasientjournal row with its key)"
            self._parent_ok["j"] = jid
            return None
        if t in ("dokument", "korrespondansepart", "endring"):
            iid = row["innslag_id"]
            if fm.join == "innslag" and row.get("journal_id") is None:
                hits = c.execute("SELECT journal_id FROM innslag WHERE innslag_id = ? LIMIT 2", (iid,)).fetchall()
                if not hits:
                    return "its entry is not in the export (no innslag row with its key)"
                if len(hits) > 1:
                    return "its entry key occurs in more than one journal; map journal_id as well"
                row["journal_id"] = hits[0][0]
                return None
            key = (row["journal_id"], iid)
            if self._parent_ok.get("i") == key:
                return None
            if c.execute("SELECT 1 FROM innslag WHERE journal_id = ? AND innslag_id = ?", key).fetchone() is None:
                return "its entry is not in the export (no innslag row with its journal and entry keys)"
            self._parent_ok["i"] = key
        return None

    def run_file(self, fm: FileMapping) -> tuple[FileStats, str]:
        stats = FileStats(fm.rel, fm.table)
        hasher = hashlib.sha256()
        records = csv_records(fm, hasher) if fm.format == "csv" else jsonl_records(fm, hasher)
        cols = COLUMNS[fm.table]
        sql = (f"INSERT INTO {fm.table} ({', '.join(cols)}, seq, src_file, src_line) "
               f"VALUES ({', '.join('?' * (len(cols) + 3))}) ON CONFLICT DO NOTHING")
        keys = KEY_FIELDS[fm.table]
        c = self.conn
        for line, rec in records:
            stats.rows_read += 1
            self.rows_read += 1
            if self.progress and self.rows_read % 20000 == 0:
                self.progress("import", self.rows_read, None)
            if isinstance(rec, ValueProblem):
                self.reject(fm, stats, line, None, str(rec))
                continue
            try:
                row = self.row(fm, rec, line)
            except ValueProblem as e:
                partial = {k: _safe_get(rec, fm, k) for k in ("pasient_id", "journal_id", "innslag_id")}
                self.reject(fm, stats, line, self._record_name(fm.table, partial), str(e))
                continue
            problem = self.parent_problem(fm, row)
            if problem:
                self.reject(fm, stats, line, self._record_name(fm.table, row), problem)
                continue
            if fm.table == "dokument":
                row["fil"] = row["fil_norm"] = normalise_path(row["fil"])
            if fm.table == "diagnose" and not row.get("kodeverk"):
                row["kodeverk"] = "ICD-10"
            self.seq += 1
            cur = c.execute(sql, (*(row.get(k) for k in cols), self.seq, fm.rel, line))
            if cur.rowcount == 0:
                first = c.execute(f"SELECT src_file, src_line FROM {fm.table} WHERE "
                                  + " AND ".join(f"{k} IS ?" for k in keys), tuple(row.get(k) for k in keys)).fetchone()
                where = f" (first at {first[0]}:{first[1]})" if first else ""
                self.reject(fm, stats, line, self._record_name(fm.table, row),
                            f"the same {fm.table} key occurs twice in the export{where}")
                continue
            stats.rows_imported += 1
            self.rows_imported += 1
        return stats, hasher.hexdigest()


def _safe_get(rec: Any, fm: FileMapping, name: str) -> str | None:
    spec = fm.fields.get(name)
    if spec is None or len(spec.sources) != 1 or isinstance(rec, ValueProblem):
        return None
    v = rec.get(spec.sources[0])
    return str(v).strip() if v is not None and str(v).strip() else None


def normalise_path(fil: str) -> str:
    p = unicodedata.normalize("NFC", fil.replace("\\", "/"))
    while p.startswith("./"):
        p = p[2:]
    return p


# -- the import ---------------------------------------------------------------------------------


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def import_project(project: Project, progress: Progress | None = None) -> ImportReport:
    """Import the project's export into its staging database (see the module docstring)."""
    mapping = project.import_mapping
    if mapping is None:
        raise ConfigError("the project has no [import] table: its journals are read directly from "
                          "[project] source (noarkpack's JSON Lines format), so there is nothing to import",
                          file=project.root / "noarkpack.toml",
                          hint="describe a legacy export in [import] (docs/migration.md) to import it")
    t0 = time.monotonic()
    started = datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")
    for fm in mapping.files:
        if not fm.path.is_file():
            raise SourceError("the export file does not exist", file=fm.rel,
                              hint="check [[import.file]] path in noarkpack.toml (relative to the project folder)")
    target = mapping.database
    history: list[tuple] = []
    if target.exists():
        version = schema_version(target)
        if version > SCHEMA_VERSION or version == 0:
            check_version(target, version, project.root)
        if version == SCHEMA_VERSION:
            old = sqlite3.connect(f"file:{target}?mode=ro", uri=True)
            try:
                history = old.execute("SELECT * FROM import_run ORDER BY id").fetchall()
            finally:
                old.close()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.partial-{uuid.uuid4().hex[:10]}")
    report = ImportReport(database=target)
    conn = sqlite3.connect(tmp, isolation_level=None)
    ok = False
    try:
        conn.execute("PRAGMA journal_mode = OFF")  # a private new file: atomicity comes from the rename
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA cache_size = -65536")
        conn.execute("PRAGMA temp_store = FILE")
        create_schema(conn)  # executescript commits: before the transaction
        conn.execute("BEGIN")
        for a in project.settings.arkivskapere:
            conn.execute("INSERT INTO arkivskaper VALUES (?, ?, ?, ?)", (a.key, a.id, a.navn, a.beskrivelse))
        imp = _Importer(conn, mapping, report, progress)
        for fm in mapping.ordered_files():
            stats, sha = imp.run_file(fm)
            report.files.append(stats)
            size, mtime = fm.path.stat().st_size, fm.path.stat().st_mtime_ns
            conn.execute("INSERT OR REPLACE INTO import_file VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                         (fm.rel, fm.format, fm.encoding, size, mtime, sha, stats.rows_read, stats.rows_imported,
                          stats.rows_rejected))
        for u in sorted(imp.unmapped.values(), key=lambda u: (u.table, u.field, u.value)):
            conn.execute("INSERT INTO unmapped VALUES (?, ?, ?, ?, ?, ?, ?)",
                         (u.table, u.field, u.value, u.value_map, u.rows, u.file, u.line))
            report.unmapped.append(u)
        for h in history:
            conn.execute("INSERT INTO import_run VALUES (?, ?, ?, ?, ?, ?, ?, ?)", tuple(h))
        conn.execute("INSERT INTO import_run (started, finished, noarkpack, mapping_sha256, rows_read, "
                     "rows_imported, rows_rejected) VALUES (?, ?, ?, ?, ?, ?, ?)",
                     (started, datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds"), __version__,
                      mapping.digest, imp.rows_read, imp.rows_imported, report.rejected_total))
        conn.execute("COMMIT")
        report.counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                         for t in (*DATA_TABLES, "rejected", "unmapped")}
        conn.close()
        _fsync(tmp)
        os.replace(tmp, target)
        ok = True
    finally:
        if not ok:
            try:
                conn.close()
            except sqlite3.Error:
                pass
            for p in (tmp, tmp.with_name(tmp.name + "-journal")):
                try:
                    p.unlink()
                except FileNotFoundError:
                    pass
    report.seconds = time.monotonic() - t0
    if progress:
        progress("import", imp.rows_read, imp.rows_read)
    return report


def check_fresh(project: Project) -> None:
    """Raise StagingError when the staging database is missing or older than the export or the mapping."""
    from .staging import StagingDB

    mapping = project.import_mapping
    with StagingDB(mapping.database, project_root=project.root) as db:
        run = db.last_run()
        files = {r["path"]: r for r in db.imported_files()}
    hint = f"run `noarkpack import {project.root}`"
    if run is None:
        raise StagingError("the staging database holds no finished import", file=mapping.database, hint=hint)
    if run["mapping_sha256"] != mapping.digest:
        raise StagingError("the [import] mapping in noarkpack.toml changed since the last import",
                           file=mapping.database, hint=hint)
    for fm in mapping.files:
        r = files.get(fm.rel)
        if r is None:
            raise StagingError("an export file of the mapping was not imported", file=fm.rel, hint=hint)
        if not fm.path.is_file():
            raise StagingError("an imported export file is gone", file=fm.rel, hint=hint)
        st = fm.path.stat()
        if st.st_size != r["size"]:
            raise StagingError("the export file changed since the last import", file=fm.rel, hint=hint)
        if st.st_mtime_ns != r["mtime_ns"]:
            h = hashlib.sha256()
            with open(fm.path, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
            if h.hexdigest() != r["sha256"]:
                raise StagingError("the export file changed since the last import", file=fm.rel, hint=hint)


# -- staging model objects (direct JSON Lines sources, migration scripts) --------------------------


def stage_journals(path: Path, journals: Iterable, settings=None, source: str = "journals") -> dict[str, int]:
    """Write journals (model objects) into a new staging database at ``path`` (for analysis of a
    project that reads noarkpack's JSON Lines directly, or for a migration script)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        create_schema(conn)
        conn.execute("BEGIN")
        if settings is not None:
            for a in settings.arkivskapere:
                conn.execute("INSERT INTO arkivskaper VALUES (?, ?, ?, ?)", (a.key, a.id, a.navn, a.beskrivelse))
        seq = 0

        def ins(table: str, values: dict, line: int) -> None:
            nonlocal seq
            seq += 1
            cols = list(values)
            conn.execute(f"INSERT INTO {table} ({', '.join(cols)}, seq, src_file, src_line) "
                         f"VALUES ({', '.join('?' * (len(cols) + 3))}) ON CONFLICT DO NOTHING", (*values.values(), seq, source, line))

        def iso(v):
            return v.isoformat() if v is not None else None

        for j in journals:
            line = getattr(j, "source_line", 0) or 0
            p = j.pasient
            ins("pasient", dict(pasient_id=p.pasient_id, fodselsnummer=p.fodselsnummer, navn=p.navn, kjonn=p.kjonn,
                                fodselsdato=iso(p.fodselsdato), dodsdato=iso(p.dodsdato),
                                dodsdato_ukjent=int(p.dodsdato_ukjent), skjult_adresse=int(p.skjult_adresse),
                                skjult_navn=int(p.skjult_navn)), line)
            ins("pasientjournal", dict(journal_id=j.journal_id, pasient_id=p.pasient_id, arkivskaper=j.arkivskaper,
                                       journalsted=j.journalsted, journalansvarlig=j.journalansvarlig,
                                       opprettet=iso(j.opprettet), opprettet_av=j.opprettet_av,
                                       avsluttet=iso(j.avsluttet), avsluttet_av=j.avsluttet_av), line)
            for i in j.innslag:
                s, k = i.skjerming, i.korrespondanse
                ins("innslag", dict(
                    journal_id=j.journal_id, innslag_id=i.innslag_id, type=i.type, tittel=i.tittel,
                    forfatter=i.forfatter, opprettet=iso(i.opprettet), arkivert=iso(i.arkivert),
                    arkivert_av=i.arkivert_av, skjerming_tilgangsrestriksjon=s.tilgangsrestriksjon if s else None,
                    skjerming_hjemmel=s.hjemmel if s else None,
                    skjerming_metadata="\x1f".join(s.metadata) if s else None,
                    skjerming_dokument=s.dokument if s else None, korrespondanse_type=k.type if k else None,
                    korrespondanse_dato=iso(k.dato) if k else None), line)
                for n, d in enumerate(i.dokumenter, start=1):
                    ins("dokument", dict(journal_id=j.journal_id, innslag_id=i.innslag_id, fil=d.fil,
                                         fil_norm=normalise_path(d.fil), tittel=d.tittel,
                                         tilknyttet_som=d.tilknyttet_som, format=d.format, nr=n), line)
                for part in (k.parter if k else []):
                    ins("korrespondansepart", dict(journal_id=j.journal_id, innslag_id=i.innslag_id, type=part.type,
                                                   navn=part.navn), line)
                for e in i.endringer:
                    ins("endring", dict(journal_id=j.journal_id, innslag_id=i.innslag_id, felt=e.felt,
                                        tidligere=e.tidligere, ny=e.ny, dato=iso(e.dato), av=e.av), line)
            for m in j.merknader:
                ins("merknad", dict(journal_id=j.journal_id, tekst=m.tekst, dato=iso(m.dato),
                                    registrert_av=m.registrert_av, type=m.type), line)
            for d in j.diagnoser:
                ins("diagnose", dict(journal_id=j.journal_id, kode=d.kode, kodeverk=d.kodeverk, tekst=d.tekst,
                                     dato=iso(d.dato)), line)
        conn.execute("INSERT INTO import_run (started, finished, noarkpack, mapping_sha256, rows_read, "
                     "rows_imported, rows_rejected) VALUES (?, ?, ?, '', ?, ?, 0)",
                     (datetime.now(timezone.utc).isoformat(), datetime.now(timezone.utc).isoformat(), __version__,
                      seq, seq))
        conn.execute("COMMIT")
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in DATA_TABLES}
    finally:
        conn.close()


__all__ = ["ImportRejected", "ImportReport", "Rejected", "Unmapped", "import_project", "check_fresh", "stage_journals",
           "StagingError"]
