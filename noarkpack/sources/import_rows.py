"""Turning the rows of one ``[[import.file]]`` or ``[[import.query]]`` into rows of a staging table: the row
importer that :func:`noarkpack.sources.importer.import_export` runs over each file of the mapping, in order.

Each record becomes a staging row through the mapping's field specs (value maps, dates, booleans, joined
columns, contents stored in the content store); a row that cannot be used is rejected (its file, line and
reason; a record key that holds an identifier masked); rows are inserted in batches, and a row that repeats a
key already staged is merged (the same values) or rejected naming the fields that differ (issue 18, point 9).
A query's rows are read and hashed ahead in a thread of their own (:mod:`noarkpack.sources.prefetch`).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from typing import Any, Iterable

from ..locale import tr
from ..progress import Progress
from .content_store import ContentStore, Undecodable, content_bytes
from .import_report import KEEP_REJECTED, FileStats, ImportReport, Rejected, Unmapped
from .keys import holds_person_number, identifier_columns
from .mapping import (
    FIELDS,
    NULLABLE_BOOLS,
    FileMapping,
    ImportMapping,
    ValueProblem,
    to_bool,
    to_date,
    to_datetime,
    to_int,
)
from .prefetch import prefetched
from .readers import _ENC_NAMES, csv_records, jsonl_records
from .staging import normalise_path
from .staging_content import log_content

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
    "innslag": ("journal_id", "innslag_id", "type", "tittel", "forfatter", "opprettet", "opprettet_av", "arkivert",
                "arkivert_av", "skjerming_tilgangsrestriksjon", "skjerming_hjemmel", "skjerming_metadata",
                "skjerming_dokument", "korrespondanse_type", "korrespondanse_dato", "avskrivning_maate",
                "avskrivning_dato", "avskrivning_av", "avskrivning_innslag"),
    "dokument": ("journal_id", "innslag_id", "fil", "fil_norm", "tittel", "tilknyttet_som", "format", "nr"),
    "korrespondansepart": ("journal_id", "innslag_id", "type", "navn"),
    "endring": ("journal_id", "innslag_id", "felt", "tidligere", "ny", "dato", "av"),
    "merknad": ("journal_id", "tekst", "dato", "registrert_av", "type"),
    "diagnose": ("journal_id", "kode", "kodeverk", "tekst", "dato"),
}

#: per table, the NOT NULL booleans a row starts with (0: not set in the source)
_BOOL_DEFAULTS = {t: {f: 0 for f, (kind, _) in fields.items() if kind == "bool" and (t, f) not in NULLABLE_BOOLS}
                  for t, fields in FIELDS.items()}
#: rows inserted into the staging database per executemany
BATCH = 500


class RowImporter:
    """Stages the rows of the mapping's files into ``conn`` (a new staging database), one file at a time
    (:meth:`run_file`)."""

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
        self.store = ContentStore.beside(mapping.database)
        self.source = None  # the open SqlSource of [[import.query]] tables
        self.id_columns = identifier_columns(mapping)
        self.merged = 0  # rows that repeat a record with the same values (point 9: one record)
        self._line: tuple[str, int] = ("", 0)
        self._content_empty = False

    def reject(self, fm: FileMapping, stats: FileStats, line: int, record: str | None, reason: str) -> None:
        stats.rows_rejected += 1
        self.report.rejected_total += 1
        self.conn.execute("INSERT INTO rejected VALUES (?, ?, ?, ?, ?)", (fm.rel, line, fm.table, record, reason))
        if len(self.report.rejected) < KEEP_REJECTED:
            self.report.rejected.append(Rejected(fm.rel, line, fm.table, record, reason))

    def row(self, fm: FileMapping, rec: Any, line: int) -> dict[str, Any]:
        """The staging row of one record; raises ValueProblem (the row is rejected)."""
        out: dict[str, Any] = _BOOL_DEFAULTS[fm.table].copy()
        self._content_empty = False
        get = rec.get
        for name, spec in fm.fields.items():
            kind = spec.kind
            if kind == "content":
                self.content(fm, spec, rec, line, out)
                continue
            sources = spec.sources
            if spec.constant is not None:
                raw = spec.constant
            elif len(sources) == 1:
                raw = get(sources[0])
            else:
                parts = [rec.get(c) for c in spec.sources]
                parts = [str(p).strip() for p in parts if p is not None and str(p).strip()]
                raw = spec.join_with.join(parts) if parts else None
            if isinstance(raw, (bytes, bytearray, memoryview)):
                # a VARBINARY/BLOB column of a database that keeps text as bytes: the query's encoding
                try:
                    raw = bytes(raw).decode(fm.encoding)
                except UnicodeDecodeError:
                    enc = _ENC_NAMES.get(fm.encoding, fm.encoding)
                    raise ValueProblem(tr("{field} is not {encoding} text; set encoding for this query",
                                          field=_where(fm, name, spec), encoding=enc)) from None
            if isinstance(raw, str):
                raw = raw.strip()
                if raw == "":
                    raw = None
            if raw is None:
                raw = spec.default
            if raw is None:
                if spec.required:
                    raise ValueProblem(tr("{field} is missing", field=_where(fm, name, spec)))
                out[name] = 0 if kind == "bool" and (fm.table, name) not in NULLABLE_BOOLS else None
                continue
            if spec.values is not None:
                # JSON's spelling for JSON values (true, 1.5); a database's own types (Decimal, date) as text
                key = raw if isinstance(raw, str) else json.dumps(raw) if isinstance(raw, (bool, int, float, list,
                                                                                          dict)) else str(raw)
                if key in spec.values:
                    raw = spec.values[key]
                else:
                    ukey = (fm.table, name, key)
                    if spec.unmapped == "reject":
                        raise ValueProblem(tr("{field}: the code is not in the value map {value_map}",
                                              field=_where(fm, name, spec), value_map=spec.values_name))
                    u = self.unmapped.get(ukey)
                    if u is None:
                        if len(self.unmapped) < 10000:
                            self.unmapped[ukey] = Unmapped(fm.table, name, key, spec.values_name or "", 1, fm.rel, line)
                    else:
                        u.rows += 1
            try:
                if kind == "str":
                    value: Any = raw if isinstance(raw, str) else json.dumps(raw) if isinstance(raw, bool) else str(raw)
                elif kind == "datetime":
                    value = to_datetime(raw, spec, self.mapping.timezone)
                elif kind == "date":
                    value = to_date(raw, spec)
                elif kind == "bool":
                    value = int(to_bool(raw))
                elif kind == "int":
                    value = to_int(raw)
                elif kind == "list":
                    items = raw if isinstance(raw, list) else str(raw).split(spec.split)
                    value = "\x1f".join(str(i).strip() for i in items if str(i).strip()) or None
                else:  # pragma: no cover
                    raise AssertionError(kind)
            except ValueProblem as e:
                raise ValueProblem(e.at(_where(fm, name, spec))) from None
            out[name] = value
        return out

    def content(self, fm: FileMapping, spec, rec: Any, line: int, out: dict) -> None:
        """dokument.innhold: the bytes of the column into the content store; ``out["fil"]`` names them."""
        col = spec.sources[0]
        raw = rec.get(col)
        try:
            got = content_bytes(raw, spec.content_format, spec.content_encoding, column=col)
        except Undecodable as e:
            log_content(self.conn, fm.rel, line, col, "undecodable")
            raise ValueProblem(e.args[0]) from None  # the whole message (a tr() text naming the column)
        if got is None:
            self._content_empty = True
            out["fil"] = None
            return
        # a BLOB stored as it came: its SHA-256 is the one _hashed computed for the import log (hashed once)
        digest = getattr(rec, "digests", None)
        sha = (digest.get(col) or digest.get(rec.lower.get(col.lower(), col))) if digest and got[0] is raw else None
        out["fil"] = self.store.put(*got, sha256=sha)

    def _record_name(self, table: str, row: dict, fm: FileMapping | None = None, line: int | None = None) -> str | None:
        if fm is None:
            where = tr("this row")
        elif fm.path is None:  # a query's rows
            where = tr("{file} row {row}", file=fm.rel, row=line)
        else:
            where = tr("{file} line {line}", file=fm.rel, line=line)

        def key(field: str) -> Any:
            v = row.get(field)
            if v is None:
                return None
            spec = fm.fields.get(field) if fm is not None else None
            from_id = spec is not None and any(c.lower() in self.id_columns for c in spec.sources)
            if from_id or holds_person_number(v):
                return tr("(key masked: {where})", where=where)
            return v

        # a record key is a location a person reads: in the run's language, as the model's messages name records
        if table == "pasient":
            return tr("patient {patient}", patient=key("pasient_id")) if row.get("pasient_id") else None
        jid, iid = key("journal_id"), key("innslag_id")
        if table == "pasientjournal" or not iid:
            return tr("journal {journal}", journal=jid) if jid else None
        if jid:
            return tr("journal {journal}, entry {entry}", journal=jid, entry=iid)
        return tr("entry {entry}", entry=iid)

    def parent_problem(self, fm: FileMapping, row: dict) -> str | None:
        c = self.conn
        t = fm.table
        if t == "pasientjournal":
            if c.execute("SELECT 1 FROM pasient WHERE pasient_id = ?", (row["pasient_id"],)).fetchone() is None:
                return tr("the journal's patient is not in the export (no pasient row with its key)")
            return None
        if t == "innslag" or t in ("merknad", "diagnose"):
            jid = row["journal_id"]
            if self._parent_ok.get("j") == jid:
                return None
            if c.execute("SELECT 1 FROM pasientjournal WHERE journal_id = ?", (jid,)).fetchone() is None:
                return tr("its journal is not in the export (no pasientjournal row with its key)")
            self._parent_ok["j"] = jid
            return None
        if t in ("dokument", "korrespondansepart", "endring"):
            iid = row["innslag_id"]
            if fm.join == "innslag" and row.get("journal_id") is None:
                hits = c.execute("SELECT journal_id FROM innslag WHERE innslag_id = ? LIMIT 2", (iid,)).fetchall()
                if not hits:
                    return tr("its entry is not in the export (no entry row with its key)")
                if len(hits) > 1:
                    return tr("its entry key occurs in more than one journal; map journal_id as well")
                row["journal_id"] = hits[0][0]
                return None
            key = (row["journal_id"], iid)
            if self._parent_ok.get("i") == key:
                return None
            if c.execute("SELECT 1 FROM innslag WHERE journal_id = ? AND innslag_id = ?", key).fetchone() is None:
                return tr("its entry is not in the export (no entry row with its journal and entry keys)")
            self._parent_ok["i"] = key
        return None

    def conflict(self, fm: FileMapping, stats: FileStats, row: dict, line: int, cols, keys) -> None:
        """A row whose key was already staged.  Point 9 of issue 18: a denormalised export repeats the patient and
        the journal on every entry row.  The same key with the same mapped values is one record; differing values
        are rejected, naming the fields (never the values)."""
        c = self.conn
        mapped = [k for k in cols if k in row and k not in keys]
        first = c.execute(f"SELECT src_file, src_line{''.join(', ' + k for k in mapped)} FROM {fm.table} "
                          "WHERE " + " AND ".join(f"{k} IS ?" for k in keys),
                          tuple(row.get(k) for k in keys)).fetchone()
        differ = [k for i, k in enumerate(mapped) if first is not None and first[2 + i] != row.get(k)]
        if first is not None and not differ:
            self.merged += 1
            stats.rows_merged += 1
            return
        if first is None:
            reason = tr("the same key of the table '{table}' occurs twice in the export", table=fm.table)
        else:  # the first has the same key and differs (else it was merged above)
            reason = tr("the same key of the table '{table}' occurs twice in the export (first at {first}), with "
                        "different values in: {fields}", table=fm.table, first=_at(*first[:2]),
                        fields=", ".join(differ))
        self.reject(fm, stats, line, self._record_name(fm.table, row, fm, line), reason)

    def run_file(self, fm: FileMapping) -> tuple[FileStats, str]:
        stats = FileStats(fm.rel, fm.table)
        hasher = hashlib.sha256()
        if fm.format == "sql":
            # read and hashed in a thread of their own while this one stages the rows before them
            lob = any(s.kind == "content" for s in fm.fields.values())
            records = prefetched(_hashed(self.source.rows(fm), hasher), chunk=16 if lob else 500)
        else:
            records = csv_records(fm, hasher) if fm.format == "csv" else jsonl_records(fm, hasher)
        cols = COLUMNS[fm.table]
        sql = (f"INSERT INTO {fm.table} ({', '.join(cols)}, seq, src_file, src_line) "
               f"VALUES ({', '.join('?' * (len(cols) + 3))}) ON CONFLICT DO NOTHING")
        keys = KEY_FIELDS[fm.table]
        c = self.conn
        # Rows are inserted BATCH at a time (executemany); rejections wait in ``pending`` with them, so that they
        # are recorded in the export's order, as one row at a time would.  A row that met a key already there
        # (ON CONFLICT DO NOTHING) is found from the rowids the batch added, and then merged or rejected (point 9).
        pending: list[tuple] = []  # (row, params, line) of a row to insert, or (None, record name, line, reason)

        def flush() -> None:
            todo = [p for p in pending if p[0] is not None]
            skipped: set[int] = set()
            first_seq = self.seq + 1
            if todo:
                top = c.execute(f"SELECT max(rowid) FROM {fm.table}").fetchone()[0] or 0
                before = c.total_changes
                c.executemany(sql, [(*p[1], first_seq + i, fm.rel, p[2]) for i, p in enumerate(todo)])
                self.seq += len(todo)
                if c.total_changes - before != len(todo):
                    added = {r[0] for r in c.execute(f"SELECT seq FROM {fm.table} WHERE rowid > ?", (top,))}
                    skipped = {first_seq + i for i in range(len(todo))} - added
            i = 0
            for p in pending:
                if p[0] is None:
                    self.reject(fm, stats, p[2], p[1], p[3])
                    continue
                i += 1
                if first_seq + i - 1 in skipped:
                    self.conflict(fm, stats, p[0], p[2], cols, keys)
                    continue
                stats.rows_imported += 1
                self.rows_imported += 1
            pending.clear()

        for line, rec in records:
            stats.rows_read += 1
            self.rows_read += 1
            if self.progress and self.rows_read % 20000 == 0:
                self.progress("import", self.rows_read, None)
            if isinstance(rec, ValueProblem):
                pending.append((None, None, line, rec.message))
                continue
            try:
                row = self.row(fm, rec, line)
            except ValueProblem as e:
                partial = {k: _safe_get(rec, fm, k) for k in ("pasient_id", "journal_id", "innslag_id")}
                pending.append((None, self._record_name(fm.table, partial, fm, line), line, e.message))
                continue
            if self._content_empty:
                # a NULL or empty note/BLOB: no document (counted by the analysis), not an error
                log_content(self.conn, fm.rel, line, fm.fields["innhold"].sources[0], "empty")
                stats.rows_imported += 1
                self.rows_imported += 1
                continue
            problem = self.parent_problem(fm, row)
            if problem:
                pending.append((None, self._record_name(fm.table, row, fm, line), line, problem))
                continue
            if fm.table == "dokument":
                row["fil"] = row["fil_norm"] = normalise_path(row["fil"])
            if fm.table == "diagnose" and not row.get("kodeverk"):
                row["kodeverk"] = "ICD-10"
            pending.append((row, tuple(map(row.get, cols)), line))
            if len(pending) >= BATCH:
                flush()
        flush()
        return stats, hasher.hexdigest()


def _at(file: str, line: int) -> str:
    return f"{file}:{line}"


def _where(fm: FileMapping, name: str, spec) -> str:
    """A field as messages name it: ``innslag.tittel (column TITTEL)`` (a noun phrase the messages place)."""
    if len(spec.sources) == 1:
        return tr("{table}.{field} (column {column})", table=fm.table, field=name, column=spec.sources[0])
    return f"{fm.table}.{name}"


def _hashed(rows: Iterable[tuple[int, Any]], hasher) -> Iterable[tuple[int, Any]]:
    """The rows of a query, each value fed to ``hasher`` (the import log's digest of what was read).  A binary value
    (a BLOB) is fed as its SHA-256, which the record keeps (``rec.digests``: column → hex digest) for the content
    store: each BLOB is hashed once."""
    binary = (bytes, bytearray, memoryview)
    is_binary: dict[type, bool] = {}  # per type of value met: a row without binary values is hashed as it is
    update = hasher.update
    sha256 = hashlib.sha256
    for n, rec in rows:
        vals = tuple(rec.values.values())
        for t in set(map(type, vals)):
            b = is_binary.get(t)
            if b is None:
                b = is_binary[t] = issubclass(t, binary)
            if b:
                break
        else:
            update(repr(vals).encode("utf-8", "surrogatepass"))
            yield n, rec
            continue
        update(repr(tuple(None if isinstance(v, binary) else v for v in vals)).encode("utf-8", "surrogatepass"))
        digests = {}
        for k, v in rec.values.items():
            if isinstance(v, binary):
                d = sha256(v)
                update(d.digest())
                digests[k] = d.hexdigest()
        rec.digests = digests
        yield n, rec


def _safe_get(rec: Any, fm: FileMapping, name: str) -> str | None:
    spec = fm.fields.get(name)
    if spec is None or len(spec.sources) != 1 or isinstance(rec, ValueProblem):
        return None
    v = rec.get(spec.sources[0])
    return str(v).strip() if v is not None and str(v).strip() else None


__all__ = ["BATCH", "COLUMNS", "KEY_FIELDS", "RowImporter"]
