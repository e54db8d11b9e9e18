"""The import mapping: ``[import]`` and ``[[import.file]]`` in noarkpack.toml (docs/migration.md).

It says, per export file, which source columns (CSV) or JSON keys (JSON Lines)
become which fields of the staging tables, with value maps for local codes,
date formats, joins between files and where the document files lie.  Parsing
checks everything it can before a single row is read, and every mistake is a
:class:`~noarkpack.errors.ConfigError` naming noarkpack.toml and the line.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any, Callable
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..errors import ConfigError
from ..locale import N_, Text, tr
from .sql import is_select
from .sql_mapping import content_spec, parse_source

#: bool fields with three states: unset stays NULL in the staging database (the source recorded nothing),
#: while every other bool field defaults to false
NULLABLE_BOOLS = {("pasient", "skjult_adresse"), ("pasient", "skjult_navn")}

# field → (kind, required).  kind: str, date, datetime, bool, int, list
FIELDS: dict[str, dict[str, tuple[str, bool]]] = {
    "pasient": {
        "pasient_id": ("str", True), "fodselsnummer": ("str", False), "navn": ("str", True),
        "kjonn": ("str", True), "fodselsdato": ("date", False), "dodsdato": ("date", False),
        "dodsdato_ukjent": ("bool", False), "skjult_adresse": ("bool", False), "skjult_navn": ("bool", False),
    },
    "pasientjournal": {
        "journal_id": ("str", True), "pasient_id": ("str", True), "arkivskaper": ("str", True),
        "journalsted": ("str", True), "journalansvarlig": ("str", True), "opprettet": ("datetime", True),
        "opprettet_av": ("str", True), "avsluttet": ("datetime", False), "avsluttet_av": ("str", False),
    },
    "innslag": {
        "journal_id": ("str", True), "innslag_id": ("str", True), "type": ("str", True), "tittel": ("str", True),
        "forfatter": ("str", True), "opprettet": ("datetime", True), "opprettet_av": ("str", False),
        "arkivert": ("datetime", True), "arkivert_av": ("str", True), "skjerming_tilgangsrestriksjon": ("str", False),
        "skjerming_hjemmel": ("str", False), "skjerming_metadata": ("list", False),
        "skjerming_dokument": ("str", False), "korrespondanse_type": ("str", False),
        "korrespondanse_dato": ("date", False), "avskrivning_maate": ("str", False),
        "avskrivning_dato": ("date", False), "avskrivning_av": ("str", False), "avskrivning_innslag": ("str", False),
    },
    "dokument": {
        "journal_id": ("str", True), "innslag_id": ("str", True), "fil": ("str", True), "tittel": ("str", True),
        "tilknyttet_som": ("str", False), "format": ("str", False), "nr": ("int", False),
    },
    "korrespondansepart": {
        "journal_id": ("str", True), "innslag_id": ("str", True), "type": ("str", True), "navn": ("str", True),
    },
    "endring": {
        "journal_id": ("str", True), "innslag_id": ("str", True), "felt": ("str", True),
        "tidligere": ("str", True), "ny": ("str", True), "dato": ("datetime", True), "av": ("str", True),
    },
    "merknad": {
        "journal_id": ("str", True), "tekst": ("str", True), "dato": ("datetime", True),
        "registrert_av": ("str", True), "type": ("str", False),
    },
    "diagnose": {
        "journal_id": ("str", True), "kode": ("str", True), "kodeverk": ("str", False), "tekst": ("str", False),
        "dato": ("date", False),
    },
}
#: where the staging database lives by default: beside the conversion cache, in the project's working
#: folder (derived data, never committed)
DEFAULT_DATABASE = ".noarkpack/staging.sqlite"
#: tables whose rows may find their journal through the entry key alone (join = "innslag")
JOINABLE = ("dokument", "korrespondansepart", "endring")
FORMATS = ("csv", "jsonl")
ENCODINGS = {"utf-8": "utf-8-sig", "utf8": "utf-8-sig", "utf-8-sig": "utf-8-sig", "windows-1252": "cp1252",
             "cp1252": "cp1252", "iso-8859-1": "latin-1", "latin-1": "latin-1", "latin1": "latin-1",
             "iso-8859-15": "iso8859-15"}
TRUE = {"1", "true", "j", "ja", "y", "yes", "x", "sann"}
FALSE = {"0", "false", "n", "nei", "no", "", "usann"}

_FMT = re.compile(r"%([dmYHMS%])")


class ValueProblem(ValueError):
    """A value that cannot become its field (the row is rejected; the message carries no value).

    Its message is either whole (a :func:`~noarkpack.locale.tr` text: a row that cannot be read), or, raised by
    the value converters below, a msgid marked with ``N_`` whose ``{field}`` the importer fills in (:meth:`at`)
    with the field it was converting, plus the msgid's other ``params``."""

    def __init__(self, message: str, /, **params: object) -> None:
        super().__init__(message)
        self.params = params

    @property
    def message(self) -> str:
        return self.args[0]

    def at(self, field: str) -> Text:
        """The whole message naming ``field`` (``innslag.tittel (column TITTEL)``), translated."""
        return tr(self.args[0], field=field, **self.params)


def toml_line(text: str | None, n_file: int | None = None, key: str | None = None,
              table: str = "[[import.file]]") -> int | None:
    """The line in noarkpack.toml of the ``n_file``-th ``[[import.file]]`` (1-based), or of ``key`` in it."""
    if text is None:
        return None
    lines = text.splitlines()
    start = 0
    if n_file is not None:
        seen = 0
        for i, ln in enumerate(lines):
            if ln.strip().startswith(table):
                seen += 1
                if seen == n_file:
                    start = i
                    break
        else:
            return None
    if key is None:
        return start + 1
    pat = re.compile(rf"^\s*\"?{re.escape(key)}\"?\s*=")
    for i in range(start + (1 if n_file is not None else 0), len(lines)):
        ln = lines[i]
        if n_file is not None and i > start and ln.strip().startswith(table):
            break
        if pat.match(ln):
            return i + 1
    return start + 1 if n_file is not None else None


def _compile_format(fmt: str) -> Callable[[str], datetime] | None:
    """A fast parser for formats of %d %m %Y %H %M %S and literals (None for anything else)."""
    parts = []
    groups = []
    pos = 0
    for m in _FMT.finditer(fmt):
        parts.append(re.escape(fmt[pos:m.start()]))
        code = m.group(1)
        if code == "%":
            parts.append("%")
        else:
            parts.append(r"(\d{4})" if code == "Y" else r"(\d{1,2})")
            groups.append(code)
        pos = m.end()
    parts.append(re.escape(fmt[pos:]))
    if "%" in _FMT.sub("", fmt):
        return None
    rx = re.compile("".join(parts) + r"\Z")

    def parse(text: str) -> datetime:
        m = rx.match(text)
        if m is None:
            raise ValueError(text)
        v = dict(zip(groups, map(int, m.groups())))
        return datetime(v.get("Y", 1900), v.get("m", 1), v.get("d", 1), v.get("H", 0), v.get("M", 0), v.get("S", 0))

    return parse


def _iso(text: str) -> datetime:
    return datetime.fromisoformat(text)


@dataclass
class FieldSpec:
    name: str
    kind: str
    required: bool
    sources: tuple[str, ...] = ()  # columns or JSON key paths
    constant: Any = None
    values: dict[str, Any] | None = None
    values_name: str | None = None
    unmapped: str = "keep"  # keep | reject
    formats: tuple[str, ...] = ()
    parsers: tuple[Callable[[str], datetime], ...] = ()
    split: str | None = None
    join_with: str = " "
    default: Any = None
    #: dokument.innhold: the document's bytes come from this column (text, rtf, html, bytes)
    content_format: str | None = None
    content_encoding: str | None = None


@dataclass
class FileMapping:
    number: int  # 1-based position in noarkpack.toml (among [[import.file]] or among [[import.query]])
    path: Path | None  # absolute; None for a query
    rel: str  # as written (for messages and the import log); "query NAME" for a query
    table: str
    format: str
    encoding: str
    delimiter: str | None  # None: detect from the header
    fields: dict[str, FieldSpec]
    join: str | None = None
    each: tuple[str, ...] = ()  # JSON Lines: the nested arrays whose elements are the records
    sql: str | None = None  # [[import.query]] sql
    source_table: str | None = None  # [[import.query]] from


@dataclass
class ImportMapping:
    database: Path
    documents: Path | None
    timezone: tzinfo
    files: list[FileMapping]
    digest: str  # SHA-256 of the [import] table (stale check)
    value_maps: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: [import.source] (a noarkpack.sources.sql.SourceSpec) when the mapping has [[import.query]] tables
    source: Any = None

    def ordered_files(self) -> list[FileMapping]:
        from .staging import DATA_TABLES

        return sorted(self.files, key=lambda f: (DATA_TABLES.index(f.table), f.number))


def _canon(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: _canon(v) for k, v in sorted(obj.items())}
    if isinstance(obj, list):
        return [_canon(v) for v in obj]
    if isinstance(obj, (date, datetime, time)):
        return obj.isoformat()
    return obj


def parse_import(table: Any, root: Path, file: Path, text: str | None, project_documents: Path) -> ImportMapping:
    """Check and compile the ``[import]`` table."""
    section = ["[[import.file]]"]

    def err(message: str, n: int | None = None, key: str | None = None, hint: str | None = None) -> ConfigError:
        line = toml_line(text, n, key, section[0]) if (n is not None or key is not None) else None
        if n is None and key is None:
            line = next((i + 1 for i, ln in enumerate((text or "").splitlines()) if ln.strip() == "[import]"), None)
        return ConfigError(message, file=file, line=line,
                           hint=hint or tr("see docs/migration.md and examples/omsorg/noarkpack.toml"))

    if not isinstance(table, dict):
        raise err(tr("[import] must be a table"))
    known = {"database", "documents", "encoding", "delimiter", "date_format", "datetime_format", "timezone",
             "values", "file", "unmapped", "source", "query"}
    for k in table:
        if k not in known:
            raise err(tr("[import] has an unknown key {key}", key=repr(k)), key=k,
                      hint=tr("allowed: {keys}", keys=", ".join(sorted(known))))
    database = table.get("database", DEFAULT_DATABASE)
    if not isinstance(database, str) or not database.strip():
        raise err(tr("[import] database must be a file name"), key="database")
    documents = table.get("documents")
    if documents is not None and (not isinstance(documents, str) or not documents.strip()):
        raise err(tr("[import] documents must be a folder name"), key="documents")
    tzname = table.get("timezone", "Europe/Oslo")
    try:
        tz = ZoneInfo(tzname) if isinstance(tzname, str) else None
    except (ZoneInfoNotFoundError, ValueError):
        tz = None
    if tz is None:
        raise err(tr("[import] timezone must be an IANA time zone name such as Europe/Oslo"), key="timezone")
    value_maps = table.get("values", {})
    if not isinstance(value_maps, dict) or not all(isinstance(v, dict) for v in value_maps.values()):
        raise err(tr("[import.values] must hold one table per value map (code = value)"), key="values")
    for name, vm in value_maps.items():
        for code, val in vm.items():
            if not isinstance(val, (str, bool, int)):
                raise err(tr("value map {name}: {code} must map to a string, a number or true/false",
                             name=repr(name), code=repr(code)), key=f"values.{name}")
    default_unmapped = table.get("unmapped", "keep")
    if not isinstance(default_unmapped, str) or default_unmapped not in ("keep", "reject"):
        raise err(tr("[import] unmapped must be 'keep' or 'reject'"), key="unmapped")

    def formats(value: Any, where: str, n: int | None, kind: str) -> tuple[str, ...]:
        if value is None:
            return ()
        vals = [value] if isinstance(value, str) else value
        if not isinstance(vals, list) or not vals or not all(isinstance(v, str) and v for v in vals):
            raise err(tr("{where} must be a strptime format such as \"%d.%m.%Y\" or a list of them", where=where),
                      n, kind)
        for v in vals:
            if v.lower() != "iso" and "%" not in v:
                raise err(tr("{where} {format} has no % code (e.g. \"%d.%m.%Y %H:%M\", or \"iso\")", where=where,
                             format=repr(v)), n, kind)
        return tuple(vals)

    date_formats = formats(table.get("date_format"), "[import] date_format", None, "date_format")
    datetime_formats = formats(table.get("datetime_format"), "[import] datetime_format", None, "datetime_format")
    default_encoding = table.get("encoding", "utf-8")
    default_delimiter = table.get("delimiter", "auto")

    files_cfg = table.get("file", [])
    queries_cfg = table.get("query", [])
    if not isinstance(files_cfg, list) or not isinstance(queries_cfg, list) or not (files_cfg or queries_cfg):
        raise err(tr("[import] needs at least one [[import.file]] table (an export file and its columns) or "
                     "[[import.query]] table (a query of the legacy database)"))
    source = parse_source(table.get("source"), root, queries_cfg, err)
    files = []
    names: set[str] = set()
    entries = [("file", n, fc) for n, fc in enumerate(files_cfg, start=1)] + \
        [("query", n, qc) for n, qc in enumerate(queries_cfg, start=1)]
    for kind_of, n, fc in entries:
        section[0] = f"[[import.{kind_of}]]"
        where = tr("[[import.{kind}]] number {number}", kind=kind_of, number=n)
        if not isinstance(fc, dict):
            raise err(tr("{where} is not a table", where=where), n)
        if kind_of == "query":
            allowed = {"name", "table", "sql", "from", "columns", "join", "date_format", "datetime_format",
                       "encoding"}
        else:
            allowed = {"path", "table", "format", "encoding", "delimiter", "columns", "join", "each", "date_format",
                       "datetime_format"}
        for k in fc:
            if k not in allowed:
                raise err(tr("{where} has an unknown key {key}", where=where, key=repr(k)), n, k,
                          hint=tr("allowed: {keys}", keys=", ".join(sorted(allowed))))
        tname = fc.get("table")
        if not isinstance(tname, str) or tname not in FIELDS:
            raise err(tr("{where}: table must be one of {tables}", where=where, tables=", ".join(FIELDS)), n, "table")
        sql = from_ = None
        if kind_of == "query":
            qname = fc.get("name", f"{tname}-{n}")
            if not isinstance(qname, str) or not qname.strip() or qname in names:
                raise err(tr("{where}: name must be a name of its own (it locates rejected rows)", where=where),
                          n, "name")
            names.add(qname)
            rel = f"query {qname}"
            sql, from_ = fc.get("sql"), fc.get("from")
            if (sql is None) == (from_ is None):
                raise err(tr("{where}: give either sql = \"SELECT …\" or from = \"schema.table\"", where=where), n)
            if sql is not None and (not isinstance(sql, str) or not is_select(sql)):
                raise err(tr("{where}: sql must be one SELECT (or WITH … SELECT) statement: noarkpack never writes "
                             "to the source", where=where), n, "sql")
            if from_ is not None and (not isinstance(from_, str) or not from_.strip()):
                raise err(tr("{where}: from must name a table (\"table\" or \"schema.table\")", where=where), n,
                          "from")
            fmt = "sql"
        else:
            rel = fc.get("path")
            if not isinstance(rel, str) or not rel.strip():
                raise err(tr("{where}: path (the export file, relative to the project) is missing", where=where), n)
            fmt = fc.get("format") or ("jsonl" if rel.lower().endswith((".jsonl", ".ndjson", ".json")) else "csv")
        if not isinstance(fmt, str) or fmt not in FORMATS + ("sql",):
            raise err(tr("{where}: format must be csv or jsonl", where=where), n, "format")
        enc_name = str(fc.get("encoding", default_encoding)).lower()
        if enc_name not in ENCODINGS:
            raise err(tr("{where}: encoding {encoding} is not supported", where=where, encoding=repr(enc_name)), n,
                      "encoding", hint=tr("use utf-8 (with or without BOM), windows-1252, iso-8859-1 or iso-8859-15"))
        if fmt == "jsonl" and ENCODINGS[enc_name] != "utf-8-sig":
            raise err(tr("{where}: JSON Lines files are UTF-8", where=where), n, "encoding")
        delim = fc.get("delimiter", default_delimiter)
        if fmt == "csv" and not (delim == "auto" or (isinstance(delim, str) and len(delim) == 1)):
            raise err(tr("{where}: delimiter must be one character (e.g. \";\" or \"\\t\") or \"auto\"",
                         where=where), n, "delimiter")
        join = fc.get("join")
        if join is not None and (join != "innslag" or tname not in JOINABLE):
            raise err(tr("{where}: join = \"innslag\" is the one join (for {tables} rows that carry only the entry "
                         "key)", where=where, tables=", ".join(JOINABLE)), n, "join")
        each = fc.get("each")
        if each is not None and (fmt != "jsonl" or not isinstance(each, str) or not each.strip()):
            raise err(tr("{where}: each (the nested array of records, e.g. \"innslag\") is for JSON Lines",
                         where=where), n, "each")
        fdate = formats(fc.get("date_format"), f"{where}: date_format", n, "date_format") or date_formats
        fdatetime = formats(fc.get("datetime_format"), f"{where}: datetime_format", n, "datetime_format") \
            or datetime_formats
        cols = fc.get("columns")
        if not isinstance(cols, dict) or not cols:
            raise err(tr("{where}: [import.file.columns] is missing (model field = source column or key)",
                         where=where), n)
        specs: dict[str, FieldSpec] = {}
        for fname, raw in cols.items():
            if fname == "innhold" and tname == "dokument":
                col, cf, cenc = content_spec(raw, where, n, fmt, err)
                specs[fname] = FieldSpec("innhold", "content", False, sources=(col,), content_format=cf,
                                         content_encoding=cenc)
                continue
            if fname not in FIELDS[tname]:
                raise err(tr("{where}: {field} is not a field of {table}", where=where, field=repr(fname),
                             table=tname), n, fname, hint=tr("fields: {fields}", fields=", ".join(FIELDS[tname])))
            kind, required = FIELDS[tname][fname]
            spec = FieldSpec(fname, kind, required, unmapped=default_unmapped)
            if isinstance(raw, str):
                raw = {"column": raw}
            if not isinstance(raw, dict):
                raise err(tr("{where}: {field} must be a column name or a table "
                             "({{column = …, values = …, format = …}})", where=where, field=fname), n, fname)
            ok = {"column", "columns", "value", "values", "format", "split", "join_with", "default", "unmapped"}
            for k in raw:
                if k not in ok:
                    raise err(tr("{where}: {field} has an unknown key {key}", where=where, field=fname, key=repr(k)),
                              n, fname, hint=tr("allowed: {keys}", keys=", ".join(sorted(ok))))
            if "column" in raw:
                if not isinstance(raw["column"], str) or not raw["column"]:
                    raise err(tr("{where}: {field}.column must be a column name", where=where, field=fname), n, fname)
                spec.sources = (raw["column"],)
            elif "columns" in raw:
                cs = raw["columns"]
                if not isinstance(cs, list) or not cs or not all(isinstance(c, str) and c for c in cs):
                    raise err(tr("{where}: {field}.columns must be a list of column names", where=where, field=fname),
                              n, fname)
                spec.sources = tuple(cs)
                spec.join_with = raw.get("join_with", " ")
            elif "value" in raw:
                spec.constant = raw["value"]
            else:
                raise err(tr("{where}: {field} needs column, columns or value", where=where, field=fname), n, fname)
            vm = raw.get("values")
            if isinstance(vm, str):
                if vm not in value_maps:
                    raise err(tr("{where}: {field} uses the value map {value_map}, which [import.values] does not "
                                 "define", where=where, field=fname, value_map=repr(vm)), n, fname)
                spec.values, spec.values_name = {str(k): v for k, v in value_maps[vm].items()}, vm
            elif isinstance(vm, dict):
                spec.values, spec.values_name = {str(k): v for k, v in vm.items()}, f"{tname}.{fname}"
            elif vm is not None:
                raise err(tr("{where}: {field}.values must name a value map or be a table", where=where, field=fname),
                          n, fname)
            spec.unmapped = raw.get("unmapped", default_unmapped)
            if spec.unmapped not in ("keep", "reject"):
                raise err(tr("{where}: {field}.unmapped must be 'keep' or 'reject'", where=where, field=fname), n,
                          fname)
            if "format" in raw and kind not in ("date", "datetime"):
                raise err(tr("{where}: {field} is not a date; format does not apply", where=where, field=fname), n,
                          fname)
            fmts = formats(raw.get("format"), f"{where}: {fname}.format", n, fname) or \
                (fdate if kind == "date" else fdatetime if kind == "datetime" else ())
            spec.formats = fmts
            spec.parsers = tuple(_iso if f.lower() == "iso" else (_compile_format(f) or _strptime(f)) for f in fmts)
            if kind == "list":
                spec.split = raw.get("split", "|")
            elif "split" in raw:
                raise err(tr("{where}: {field} is not a list; split does not apply", where=where, field=fname), n,
                          fname)
            spec.default = raw.get("default")
            specs[fname] = spec
        for fname, (kind, required) in FIELDS[tname].items():
            if not required or fname in specs:
                continue
            if fname == "journal_id" and join == "innslag":
                continue
            if fname == "fil" and "innhold" in specs:
                continue
            raise err(tr("{where}: the required field {table}.{field} is not mapped", where=where, table=tname,
                         field=fname), n,
                      hint=tr("add {field} = \"<column>\" under [import.file.columns]", field=fname))
        path = (root / rel).resolve() if kind_of == "file" else None
        files.append(FileMapping(number=n, path=path, rel=rel, table=tname, format=fmt,
                                 encoding=ENCODINGS[enc_name], delimiter=None if delim == "auto" else delim,
                                 fields=specs, join=join, each=tuple(each.split(".")) if each else (),
                                 sql=sql, source_table=from_))
    digest = hashlib.sha256(json.dumps(_canon(table), ensure_ascii=False, sort_keys=True).encode()).hexdigest()
    return ImportMapping(database=root / database, documents=(root / documents) if documents else project_documents,
                         timezone=tz, files=files, digest=digest, value_maps=value_maps, source=source)


def _strptime(fmt: str) -> Callable[[str], datetime]:
    return lambda text: datetime.strptime(text, fmt)


# -- values ---------------------------------------------------------------------------------------


def to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value != 0
    text = str(value).strip().lower()
    if text in TRUE:
        return True
    if text in FALSE:
        return False
    raise ValueProblem(N_("{field} is not a yes/no value (expected e.g. 1/0, J/N, true/false)"))


def to_int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueProblem(N_("{field} is not a whole number"))
    if isinstance(value, int):
        return value
    text = str(value).strip()
    if not re.fullmatch(r"[+-]?\d+", text):
        raise ValueProblem(N_("{field} is not a whole number"))
    return int(text)


def _iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return datetime.fromisoformat(text).date()


def to_date(value: Any, spec: FieldSpec) -> str:
    if isinstance(value, date):  # a DATE or TIMESTAMP column of an SQL source: already a date
        return (value.date() if isinstance(value, datetime) else value).isoformat()
    text = str(value).strip()
    for p in spec.parsers or (_iso_date,):
        try:
            d = p(text)
        except ValueError:
            continue
        return (d.date() if isinstance(d, datetime) else d).isoformat()
    _raise_date(spec)


def _raise_date(spec: FieldSpec):
    if not spec.formats:
        raise ValueProblem(N_("{field} is not a date in the expected format (ISO 8601, YYYY-MM-DD)"))
    raise ValueProblem(N_("{field} is not a date in the expected format ({formats})"), formats=" | ".join(spec.formats))


_OFFSET_TEXT: dict[timedelta, str] = {}


def local_iso(value: datetime, tz: tzinfo | None) -> str:
    """``value.replace(tzinfo=tz).isoformat()`` for a naive ``value``, in a third of the time when ``tz`` is a
    ZoneInfo: the wall time's text plus the zone's offset at that wall time (and fold), its text as ``isoformat``
    writes it (cached per offset)."""
    if type(tz) is not ZoneInfo or type(value) is not datetime:
        return value.replace(tzinfo=tz).isoformat()
    off = tz.utcoffset(value)  # ZoneInfo reads the wall time and fold of a naive datetime
    text = _OFFSET_TEXT.get(off)
    if text is None:
        text = _OFFSET_TEXT[off] = datetime(2000, 1, 1, tzinfo=timezone(off)).isoformat()[19:]
    return value.isoformat() + text


def to_datetime(value: Any, spec: FieldSpec, tz: tzinfo) -> str:
    if isinstance(value, datetime):  # a TIMESTAMP column of an SQL source: no text to parse
        return value.isoformat() if value.tzinfo is not None else local_iso(value, tz)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=tz).isoformat()
    text = str(value).strip()
    parsed = None
    for p in spec.parsers or (_iso,):
        try:
            parsed = p(text)
            break
        except ValueError:
            continue
    if parsed is None:
        if not spec.formats:
            raise ValueProblem(N_("{field} is not a date-time in the expected format (ISO 8601, e.g. "
                                  "2019-05-12T14:00:00+02:00)"))
        raise ValueProblem(N_("{field} is not a date-time in the expected format ({formats})"),
                           formats=" | ".join(spec.formats))
    if not isinstance(parsed, datetime):
        parsed = datetime(parsed.year, parsed.month, parsed.day)
    if parsed.tzinfo is None:
        return local_iso(parsed, tz)
    return parsed.isoformat()
