"""The findings pages: a report's findings as a table that filters, searches, sorts and pages on the server.

:class:`FindingsStore` loads a report JSON once (validation's ``{"findings": [{test, severity, message, key,
location: {file, line, systemID}}]}``, the analysis' ``{code, …, location: {file, line, record}}``, verify's and
the NHA checks') into SQLite, with an FTS5 index over the messages, in ``state_dir/findings/<key>.sqlite``.  The
key is the report's path and its size and modification time: a changed report is loaded again and the old copy
removed.  The JSON is read as a stream (a validation report may hold millions of findings), so building takes
memory for one finding at a time.  A page is one indexed query: 100,000 findings page as quickly as 100.

Person numbers in a message are masked in the search index (a search cannot find a finding by one) and on the
page unless the session's reveal switch is on (:func:`shown`); an analysis' ``identifiers`` are only ever shown with it on.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, TextIO
from urllib.parse import urlencode

from starlette.exceptions import HTTPException

from ..locale import N_, tr
from .masking import mask_person_numbers

__all__ = ["FindingsStore", "Page", "SORTS", "PER_PAGE", "routes"]

SCHEMA_VERSION = "1"
#: severities in the order a table shows them (the analysis says "blocking" for an error)
SEVERITY_RANK = {"error": 0, "blocking": 0, "warning": 1, "info": 2}
#: sort name -> ORDER BY (ascending); "-name" sorts the other way round
SORTS = {
    "severity": ("sev, test, id", "sev DESC, test DESC, id DESC"),
    "test": ("test, sev, id", "test DESC, sev DESC, id DESC"),
    "location": ("file, line, id", "file DESC, line DESC, id DESC"),
    "message": ("message, id", "message DESC, id DESC"),
    "order": ("id", "id DESC"),
}
PER_PAGE = 100
_BUILD_LOCKS: dict[str, threading.Lock] = {}
_BUILD_LOCKS_GUARD = threading.Lock()
_WORD = re.compile(r"[\w][\w.:/-]*", re.UNICODE)


# -- reading a report JSON as a stream ----------------------------------------------------------------------

class _Reader:
    """Top-level keys of a JSON object, read piece by piece; the ``findings`` array one element at a time."""

    CHUNK = 1 << 20

    def __init__(self, fp: TextIO) -> None:
        self.fp, self.buf, self.pos, self.eof = fp, "", 0, False
        self.dec = json.JSONDecoder()

    def _fill(self, want: int = 65536) -> None:
        while not self.eof and len(self.buf) - self.pos < want:
            chunk = self.fp.read(max(self.CHUNK, want))
            if not chunk:
                self.eof = True
            self.buf = self.buf[self.pos:] + chunk
            self.pos = 0

    def _ws(self) -> str:
        while True:
            self._fill(1)
            while self.pos < len(self.buf) and self.buf[self.pos] in " \t\r\n":
                self.pos += 1
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if self.eof:
                raise ValueError("unexpected end of the report")

    def _expect(self, ch: str) -> None:
        if self._ws() != ch:
            raise ValueError(f"expected {ch!r} at offset {self.pos}")
        self.pos += 1

    def _value(self) -> Any:
        want = 65536
        self._ws()  # raw_decode takes no leading white space
        while True:
            self._fill(want)
            try:
                value, end = self.dec.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError:
                if self.eof:
                    raise
                want *= 4  # a value larger than what is buffered: read more
                continue
            self.pos = end
            return value

    def items(self, meta: dict) -> Iterator[dict]:
        """The findings; the other top-level keys land in ``meta`` as they are passed."""
        self._expect("{")
        if self._ws() == "}":
            return
        while True:
            key = self._value()
            self._expect(":")
            if key == "findings" and self._ws() == "[":
                self.pos += 1
                if self._ws() == "]":
                    self.pos += 1
                else:
                    while True:
                        item = self._value()
                        if isinstance(item, dict):
                            yield item
                        c = self._ws()
                        self.pos += 1
                        if c == "]":
                            break
                        if c != ",":
                            raise ValueError("expected ',' or ']' in findings")
            else:
                meta[key] = self._value()
            c = self._ws()
            self.pos += 1
            if c == "}":
                return
            if c != ",":
                raise ValueError("expected ',' or '}'")


# -- the store ----------------------------------------------------------------------------------------------

@dataclass
class Page:
    rows: list[dict]
    total: int  #: findings that pass the filter
    page: int
    pages: int
    per_page: int
    sort: str


_DDL = """
CREATE TABLE meta(k TEXT PRIMARY KEY, v TEXT);
CREATE TABLE f(id INTEGER PRIMARY KEY, test TEXT NOT NULL, sev INTEGER NOT NULL, severity TEXT NOT NULL,
               message TEXT NOT NULL, key TEXT, file TEXT, line INTEGER, sysid TEXT, record TEXT, extra TEXT);
CREATE VIRTUAL TABLE fts USING fts5(message, test, file, record, sysid, content='f', content_rowid='id',
                                    tokenize='unicode61 remove_diacritics 2');
"""
_INDEXES = """
CREATE INDEX f_test ON f(test, sev, id);
CREATE INDEX f_sev ON f(sev, test, id);
CREATE INDEX f_loc ON f(file, line, id);
CREATE INDEX f_msg ON f(message, id);
CREATE TABLE facet AS SELECT test, sev, severity, count(*) AS n FROM f GROUP BY test, sev, severity;
"""


def _report_key(path: Path) -> tuple[str, str]:
    """(the report's own prefix, the full key): the prefix names the path, the rest its size and mtime."""
    st = path.stat()
    prefix = hashlib.sha256(str(path).encode("utf-8", "surrogateescape")).hexdigest()[:16]
    version = hashlib.sha256(f"{st.st_size}:{st.st_mtime_ns}:{SCHEMA_VERSION}".encode()).hexdigest()[:10]
    return prefix, f"{prefix}-{version}"


class FindingsStore:
    """One report's findings in SQLite (see the module's doc).  Open with :meth:`open`; query with :meth:`page`.

    Reading is done with a fresh read-only connection per call: a store serves any thread.
    """

    def __init__(self, db: Path, report: Path) -> None:
        self.db, self.report = db, report
        with self._connect() as con:
            self.meta = {k: json.loads(v) for k, v in con.execute("SELECT k, v FROM meta")}
        self.kind: str = self.meta.get("_kind", "validation")

    @classmethod
    def open(cls, report: str | os.PathLike, cache_dir: str | os.PathLike) -> "FindingsStore":
        """The store of ``report`` in ``cache_dir``, built now when there is none for this version of it.
        ValueError when the file is no findings report."""
        report = Path(report).resolve()
        cache_dir = Path(cache_dir)
        cache_dir.mkdir(parents=True, exist_ok=True)
        prefix, key = _report_key(report)
        db = cache_dir / f"{key}.sqlite"
        with _BUILD_LOCKS_GUARD:
            lock = _BUILD_LOCKS.setdefault(key, threading.Lock())
        with lock:
            if not db.exists():
                _build(report, db)
                for old in cache_dir.glob(f"{prefix}-*.sqlite"):
                    if old != db:
                        old.unlink(missing_ok=True)
        return cls(db, report)

    def _connect(self) -> sqlite3.Connection:
        con = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, check_same_thread=False)
        con.row_factory = sqlite3.Row
        return con

    # -- what the filters offer -------------------------------------------------------------------------

    def facets(self) -> dict:
        """``{"tests": [(test, count)], "severities": [(severity, count)], "total": n}`` for the filter menus."""
        with self._connect() as con:
            rows = con.execute("SELECT test, sev, severity, n FROM facet").fetchall()
        tests: dict[str, int] = {}
        sevs: dict[tuple[int, str], int] = {}
        for r in rows:
            tests[r["test"]] = tests.get(r["test"], 0) + r["n"]
            sevs[(r["sev"], r["severity"])] = sevs.get((r["sev"], r["severity"]), 0) + r["n"]
        return {"tests": sorted(tests.items()), "severities": [(s, n) for (_, s), n in sorted(sevs.items())],
                "total": sum(tests.values())}

    # -- one page ---------------------------------------------------------------------------------------

    @staticmethod
    def match_query(q: str) -> str | None:
        """A person's search words as an FTS5 query: every word must be there (a word's start is enough)."""
        words = [w for w in (w.strip(".:/-") for w in _WORD.findall(q or "")) if w]
        return " ".join('"' + w.replace('"', '""') + '"*' for w in words[:12]) if words else None

    def page(self, *, test: str | list[str] | None = None, severity: str | list[str] | None = None,
             q: str | None = None, sort: str = "severity", page: int = 1, per_page: int = PER_PAGE) -> Page:
        """The findings that pass the filter (any of the ``test`` ids, any of the severities, every word of
        ``q``), sorted by ``sort`` (a key of :data:`SORTS`, ``-`` in front for the other way round), page
        ``page`` (from 1) of ``per_page``."""
        where, args = [], []
        for column, wanted in (("test", test), ("severity", severity)):
            values = [v for v in ([wanted] if isinstance(wanted, str) else (wanted or [])) if v]
            if values:
                where.append(f"{column} IN ({','.join('?' * len(values))})")  # the column: one of two names
                args += values
        match = self.match_query(q) if q else None
        if match:
            where.append("id IN (SELECT rowid FROM fts WHERE fts MATCH ?)")
            args.append(match)
        desc, name = sort.startswith("-"), sort.lstrip("-")
        if name not in SORTS:
            name, desc = "severity", False
        order = SORTS[name][1 if desc else 0]
        cond = (" WHERE " + " AND ".join(where)) if where else ""
        per_page = max(1, min(int(per_page), 1000))
        with self._connect() as con:
            if where:
                total = con.execute(f"SELECT count(*) FROM f{cond}", args).fetchone()[0]
            else:
                total = con.execute("SELECT coalesce(sum(n), 0) FROM facet").fetchone()[0]
            pages = max(1, -(-total // per_page))
            page = max(1, min(int(page), pages))
            cur = con.execute(f"SELECT * FROM f{cond} ORDER BY {order} LIMIT ? OFFSET ?",
                              [*args, per_page, (page - 1) * per_page])
            rows = [self._row(r) for r in cur]
        return Page(rows, total, page, pages, per_page, ("-" if desc else "") + name)

    @staticmethod
    def _row(r: sqlite3.Row) -> dict:
        extra = json.loads(r["extra"]) if r["extra"] else {}
        return {"id": r["id"], "test": r["test"], "severity": r["severity"], "message": r["message"],
                "key": r["key"], "file": r["file"], "line": r["line"], "systemID": r["sysid"], "record": r["record"],
                "location": extra.get("location", {}), "identifiers": extra.get("identifiers")}

    def get(self, fid: int) -> dict | None:
        with self._connect() as con:
            r = con.execute("SELECT * FROM f WHERE id = ?", (fid,)).fetchone()
        return self._row(r) if r is not None else None


def _build(report: Path, db: Path) -> None:
    """Load ``report`` into a new SQLite file ``db`` (written aside, then renamed: never half there)."""
    tmp = db.with_name(f".{db.name}.{os.getpid()}.{threading.get_ident()}")
    tmp.unlink(missing_ok=True)
    con = sqlite3.connect(tmp)
    try:
        con.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + _DDL)
        meta: dict = {}
        kind = None
        with open(report, encoding="utf-8") as fp:
            reader = _Reader(fp)
            first: list[dict] = []

            def rows():
                for item in reader.items(meta):
                    first[:] = first or [item]
                    yield _flat(item)

            con.executemany("INSERT INTO f(test, sev, severity, message, key, file, line, sysid, record, extra) "
                            "VALUES (?,?,?,?,?,?,?,?,?,?)", rows())
            if first:
                kind = "analysis" if "code" in first[0] else "validation"
        if kind is None:
            kind = "analysis" if "identifiers_shown" in meta or "verdict" in meta else "validation"
        if kind == "validation" and isinstance(meta.get("summary"), dict) and meta["summary"].get("kind"):
            kind = "verify"
        con.create_function("mask", 1, mask_person_numbers, deterministic=True)
        con.execute("INSERT INTO fts(rowid, message, test, file, record, sysid) "
                    "SELECT id, mask(message), test, file, mask(record), sysid FROM f")
        con.executescript(_INDEXES)
        meta["_kind"] = kind
        meta["_report"] = str(report)
        con.executemany("INSERT INTO meta VALUES (?, ?)",
                        [(k, json.dumps(v, ensure_ascii=False, default=str)) for k, v in meta.items()])
        con.commit()
        con.execute("PRAGMA optimize")
    except BaseException:
        con.close()
        tmp.unlink(missing_ok=True)
        raise
    con.close()
    os.replace(tmp, db)


def _flat(item: dict) -> tuple:
    test = str(item.get("test") or item.get("code") or "")
    severity = str(item.get("severity") or "")
    loc = item.get("location") if isinstance(item.get("location"), dict) else {}
    line = loc.get("line")
    try:
        line = int(line) if line is not None else None
    except (TypeError, ValueError):
        line = None
    rest = {k: v for k, v in loc.items() if k not in ("file", "line", "systemID", "record") and v is not None}
    extra = {}
    if rest:
        extra["location"] = rest
    if item.get("identifiers"):
        extra["identifiers"] = item["identifiers"]
    file = loc.get("file") or loc.get("member")
    return (test, SEVERITY_RANK.get(severity, 3), severity, str(item.get("message") or ""),
            item.get("key"), str(file) if file is not None else None, line, loc.get("systemID"), loc.get("record"),
            json.dumps(extra, ensure_ascii=False) if extra else None)


# -- the pages ----------------------------------------------------------------------------------------------

SEVERITY_LABELS = {"error": N_("error"), "blocking": N_("blocking"), "warning": N_("warning"), "info": N_("info")}
SORT_LABELS = {"severity": N_("severity"), "test": N_("test"), "location": N_("place"), "message": N_("message"),
               "order": N_("report order")}
#: report JSON names looked for in a target (its folder and one level down)
REPORT_NAMES = ("analysis*.json", "analyse*.json", "validation*.json", "validate*.json", "verify*.json", "*report*.json")


def test_name(test: str) -> str | None:
    """What a check checks, in the current language (N5/NP, AN, PK, NHA), else None."""
    try:
        if test.startswith(("N5.", "NP.")):
            from ..validation import catalogue

            return catalogue.display_name(test) if test in catalogue.TESTS else None
        if test.startswith("AN."):
            from ..analysis.core import title

            return title(test)
        if test.startswith("PK."):
            from ..packaging.findings import CHECK_NAMES

            return tr(CHECK_NAMES[test]) if test in CHECK_NAMES else None
        if test.startswith("NHA."):
            from ..nha.findings import CATALOGUE

            return tr(CATALOGUE[test]) if test in CATALOGUE else None
    except Exception:  # noqa: BLE001 - a name is a help, never a reason for the page to fail
        pass
    return None


def shown(row: dict, reveal: bool) -> dict:
    """A row as the page shows it: person numbers masked and no identifiers unless ``reveal``."""
    if reveal:
        return row
    return {**row, "message": mask_person_numbers(row["message"], "***********"),
            "record": mask_person_numbers(row["record"], "***********"), "identifiers": None}


def _reports_of(ctx, target) -> list[tuple[str, str]]:
    """(label, URL) of the report JSONs of a target: its runs' reports, then those in its folder."""
    out = []
    for run in ctx.runs.list(target=target.id) if ctx.runs is not None else []:
        for name in run.reports:
            if name.endswith(".json"):
                out.append((f"{run.stage_label()} · {run.id} · {name}",
                            f"/runs/{run.id}/findings?" + urlencode({"report": name})))
    if target.path.is_dir():
        seen = set()
        for pattern in REPORT_NAMES:
            for p in sorted([*target.path.glob(pattern), *target.path.glob("*/" + pattern)]):
                if p not in seen and p.is_file() and not p.is_symlink():
                    seen.add(p)
                    rel = p.relative_to(target.path).as_posix()
                    out.append((rel, f"/t/{target.id}/findings?" + urlencode({"report": rel})))
    return out


def target_findings(ctx, request):
    target = ctx.target(request.path_params["tid"])
    rel = request.query_params.get("report")
    if not rel:
        return ctx.render(request, "findings_list.html.j2", target=target, run=None,
                          reports=_reports_of(ctx, target))
    if not target.path.is_dir():
        raise HTTPException(404)
    path = ctx.safe_path(target, rel)
    if not path.is_file():
        raise HTTPException(404)
    return _page(ctx, request, path, target, target, base=f"/t/{target.id}/findings", report=rel, run=None)


def run_findings(ctx, request):
    run = ctx.runs.get(request.path_params["rid"]) if ctx.runs is not None else None
    if run is None:
        raise HTTPException(404)
    name = request.query_params.get("report") or run.report
    if not name or name not in run.reports:
        raise HTTPException(404)
    path = ctx.runs.run_dir(run) / name
    if not path.is_file():
        raise HTTPException(404)
    target = ctx.targets.get(run.target)
    place = target
    if run.stage in ("package", "deposit") and not name.startswith("analys"):
        for out in run.outputs:  # the package the run validated: the findings are about it
            t = next((t for t in ctx.targets.values() if str(t.path) == str(Path(out).resolve())), None)
            if t is not None and t.kind in ("sip", "bag", "extract"):
                place = t
                break
    return _page(ctx, request, path, target, place, base=f"/runs/{run.id}/findings", report=name, run=run)


def _page(ctx, request, path: Path, target, place, *, base: str, report: str, run):
    try:
        store = FindingsStore.open(path, Path(ctx.state_dir) / "findings")
    except (ValueError, UnicodeDecodeError):
        return ctx.render(request, "findings_list.html.j2", status_code=422, target=target, run=run, reports=[],
                          error=tr("This file is no findings report: {name}", name=path.name))
    qp = request.query_params
    tests = [t for t in qp.getlist("test") if t]
    sevs = [s for s in qp.getlist("severity") if s]
    q = (qp.get("q") or "").strip()[:200]
    sort = qp.get("sort") or "severity"
    try:
        number = int(qp.get("page") or 1)
    except ValueError:
        number = 1
    page = store.page(test=tests, severity=sevs, q=q, sort=sort, page=number)
    reveal = ctx.reveal(request)
    state = {"report": report, "test": tests, "severity": sevs, "q": q, "sort": page.sort, "page": page.page}

    def url(**change) -> str:
        pairs = []
        for k, v in {**state, **change}.items():
            for x in v if isinstance(v, list) else [v]:
                if x not in (None, "") and not (k == "page" and x == 1):
                    pairs.append((k, x))
        return base + "?" + urlencode(pairs)

    from .fileplaces import browse_place_of
    from .places import finding_links

    browse_place = browse_place_of(ctx, place) if "browse" in ctx.modules and store.kind != "analysis" else None
    rows = [{**shown(r, reveal), "links": finding_links(r, store_kind=store.kind, target=target, place=place,
                                                        browse_place=browse_place, browse="browse" in ctx.modules)}
            for r in page.rows]
    return ctx.render(request, "findings.html.j2", target=target, run=run, report=report, kind=store.kind,
                      page=page, rows=rows, facets=store.facets(), tests=tests, sevs=sevs, q=q, url=url,
                      test_name=test_name, severity_label=lambda s: tr(SEVERITY_LABELS[s])
                      if s in SEVERITY_LABELS else s, sort_labels={k: tr(v) for k, v in SORT_LABELS.items()},
                      meta=store.meta, back=base + "?" + urlencode({"report": report}))


def routes(ctx) -> list:
    from starlette.routing import Route

    from .context import bind

    return [Route("/t/{tid}/findings", bind(target_findings, ctx), name="target_findings"),
            Route("/runs/{rid}/findings", bind(run_findings, ctx), name="run_findings")]
