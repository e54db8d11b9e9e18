"""An SQL database as the legacy source, through SQLAlchemy 2 Core (docs/migration.md, "SQL databases").

* :class:`SourceSpec` is ``[import.source]``: a SQLAlchemy ``url`` (no password in it: ``password_env`` names
  the environment variable that holds it, or the driver's own files — ``.pgpass``, MySQL option files — supply
  it), or a ``siard`` archive (loaded once into a cached SQLite database, :mod:`noarkpack.sources.siard_cache`).
* :func:`open_source` gives a :class:`SqlSource`; :meth:`SqlSource.rows` streams the rows of one
  ``[[import.query]]`` (``sql = "SELECT …"`` or ``from = "schema.table"``) with a server-side cursor
  (``stream_results`` + ``yield_per``): memory does not grow with the row count.
* The source is **never written**: every connection is read-only where the dialect has it (PostgreSQL
  ``SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY``, MySQL/MariaDB ``SET SESSION TRANSACTION READ ONLY``,
  SQLite opened with ``mode=ro`` and ``PRAGMA query_only``), a query must be a ``SELECT`` (or ``WITH … SELECT``),
  and noarkpack issues no DDL or DML.  SQL Server has no read-only transaction and Oracle's ends at every commit:
  give noarkpack a login with read rights only there (docs/migration.md).
* Every URL shown anywhere is masked (``URL.render_as_string(hide_password=True)``); error messages carry the
  database's own message with quoted literals and long digit runs masked (they could be a value).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from ..errors import SourceError
from ..locale import tr

#: dialect name → the extra that installs its driver
EXTRAS = {"postgresql": "postgresql", "mysql": "mysql", "mariadb": "mysql", "mssql": "mssql", "oracle": "oracle"}
#: rows fetched per round trip from a server-side cursor
YIELD_PER = 1000
#: … when the query reads a LOB into the content store (rows of up to some MB each: memory stays bounded)
YIELD_PER_LOB = 16
#: the fields whose columns order the rows of a ``from`` query (the staging tables' keys)
ORDER_FIELDS = ("pasient_id", "journal_id", "innslag_id", "nr", "type", "navn", "felt", "kode", "dato")
_WRITE_START = re.compile(r"^\s*(?:--[^\n]*\n\s*|/\*.*?\*/\s*)*(select|with|values)\b", re.I | re.S)


@dataclass(frozen=True)
class SourceSpec:
    """``[import.source]``: where the rows come from."""

    url: str | None = None
    password_env: str | None = None
    siard: Path | None = None
    siard_rel: str | None = None


def is_select(sql: str) -> bool:
    """Is ``sql`` a query (SELECT, WITH … SELECT, VALUES) — never a statement that writes or changes the schema."""
    return bool(_WRITE_START.match(sql)) and ";" not in sql.strip().rstrip(";")


def masked(url: Any) -> str:
    """The URL fit to print: the password replaced by ``***``."""
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL: show only its scheme
        return str(url).split(":", 1)[0] + ":…"


def clean_message(exc: BaseException) -> str:
    """The database's message, first line, without quoted literals or digit runs (never a value)."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    text = re.sub(r"'[^']*'", "'…'", text)
    text = re.sub(r"\d{6,}", "…", text)
    return text[:300]


def _driver_error(url, exc: BaseException) -> SourceError:
    backend = url.get_backend_name()
    extra = EXTRAS.get(backend)
    hint = (f"pip install 'noarkpack[{extra}]'" if extra else tr("install the SQLAlchemy driver for this database"))
    return SourceError(tr("the database driver for {backend} is not installed ({url})", backend=backend,
                          url=masked(url)), hint=hint)


def build_engine(spec: SourceSpec, root: Path):
    """A SQLAlchemy engine for ``spec.url``, password from ``spec.password_env``, read-only on every connection."""
    import sqlalchemy as sa
    from sqlalchemy import event
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        url = make_url(spec.url)
    except ArgumentError:
        raise SourceError(tr("[import.source] url is not a database URL (e.g. postgresql+psycopg://user@host/db)"),
                          hint=tr("see docs/migration.md, SQL databases")) from None
    if url.password is not None:
        raise SourceError(tr("the database URL holds a password ({url}): noarkpack never takes one in a URL "
                             "(noarkpack.toml is shared, a command line is visible to other users)", url=masked(url)),
                          hint=tr("remove it; name an environment variable with password_env in [import.source], or "
                                  "use the driver's own: PGPASSWORD / .pgpass, a MySQL option file"))
    if spec.password_env:
        pw = os.environ.get(spec.password_env)
        if pw is None:
            raise SourceError(tr("the environment variable {variable} (password_env) is not set",
                                 variable=spec.password_env),
                              hint=tr("export {variable}=… before running noarkpack", variable=spec.password_env))
        url = url.set(password=pw)
    backend = url.get_backend_name()
    kwargs: dict[str, Any] = {}
    if backend == "sqlite":
        db = url.database
        if not db or db == ":memory:":
            raise SourceError(tr("an SQLite source needs a database file (sqlite:///path/to/file.sqlite)"))
        path = Path(db) if Path(db).is_absolute() else (root / db)
        if not path.is_file():
            raise SourceError(tr("the SQLite source database does not exist"), file=path,
                              hint=tr("check [import.source] url (a relative path is relative to the project)"))
        # mode=ro: SQLite itself refuses every write; the file is never created or changed.
        url = url.set(database=f"file:{path.resolve()}", query={"mode": "ro", "uri": "true"})
    try:
        engine = sa.create_engine(url, **kwargs)
    except (NoSuchModuleError, ModuleNotFoundError, ImportError) as e:
        raise _driver_error(url, e) from None

    @event.listens_for(engine, "connect")
    def _read_only(dbapi_conn, _record):  # every new connection, before noarkpack's first query
        cur = dbapi_conn.cursor()
        try:
            for stmt in read_only_statements(backend):
                cur.execute(stmt)
        finally:
            cur.close()
        if backend in ("postgresql", "mysql", "mariadb", "oracle"):
            dbapi_conn.commit()  # the session setting holds for every later transaction

    if backend == "postgresql" and url.get_driver_name() == "psycopg":
        @event.listens_for(engine, "before_cursor_execute")
        def _binary(conn, cursor, statement, parameters, context, executemany):
            if context is not None and context.execution_options.get("noarkpack_binary"):
                from psycopg.pq import Format

                cursor.format = Format.BINARY

    return engine


#: PostgreSQL types whose values psycopg gives identically in its binary and its text format (bool, bytea, "char",
#: name, int8, int2, int4, text, oid, bpchar, varchar, date, timestamp, numeric); a float4 (widened from 32 bits)
#: or a timestamptz (the session's zone instead of an offset) would differ, so a query with any other type is
#: read as text
BINARY_SAFE = frozenset({16, 17, 18, 19, 20, 21, 23, 25, 26, 1042, 1043, 1082, 1114, 1700})


def read_only_statements(backend: str) -> tuple[str, ...]:
    """What makes a new connection read-only, per dialect."""
    if backend == "postgresql":
        return ("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY",)
    if backend in ("mysql", "mariadb"):
        return ("SET SESSION TRANSACTION READ ONLY",)
    if backend == "sqlite":
        return ("PRAGMA query_only = ON",)
    return ()


class _Record:
    """One result row: ``get(column)`` by exact name, then case-insensitively (databases fold case differently)."""

    __slots__ = ("values", "lower", "digests")

    def __init__(self, values: dict[str, Any], lower: dict[str, str]) -> None:
        self.values, self.lower = values, lower
        self.digests: dict[str, str] | None = None  # column → SHA-256 of its binary value (the importer's)

    def get(self, key: str) -> Any:
        if key in self.values:
            return self.values[key]
        k = self.lower.get(key.lower())
        return self.values.get(k) if k is not None else None


def split_name(name: str, *, whole: bool = False) -> tuple[str | None, str]:
    """``schema.table`` → (schema, table); ``whole``: the name is one table (a SIARD table loaded into SQLite)."""
    if whole or "." not in name:
        return None, name
    schema, table = name.split(".", 1)
    return schema, table


def query_for(fm, dialect_name: str | None = None, *, whole_names: bool = False):
    """The statement of one ``[[import.query]]``: its ``sql`` as text, or a SELECT of the mapped columns of its
    ``from`` table (quoted by the dialect)."""
    import sqlalchemy as sa

    if fm.sql is not None:
        return sa.text(fm.sql)
    cols = []
    for spec in fm.fields.values():
        for c in spec.sources:
            if c not in cols:
                cols.append(c)
    schema, table = split_name(fm.source_table, whole=whole_names)
    t = sa.table(table, *(sa.column(c) for c in cols), schema=schema)
    # A table has no order of its own (each database returns its rows in its own way), and the rows' order is
    # the export's order (the staging seq, so the order of entries and documents in the extract): read them in
    # the order of the mapped key columns, the same in every database.
    order = []
    for key in ORDER_FIELDS:
        spec = fm.fields.get(key)
        if spec is not None and len(spec.sources) == 1 and spec.sources[0] not in order:
            order.append(spec.sources[0])
    return sa.select(*t.columns).select_from(t).order_by(*(t.c[c] for c in order))


class SqlSource:
    """An open legacy database: streams the rows of queries, never writes."""

    def __init__(self, engine, location: str, *, whole_names: bool = False) -> None:
        self.engine = engine
        self.location = location
        self.whole_names = whole_names
        self._conn = None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def connection(self):
        from sqlalchemy.exc import DBAPIError

        if self._conn is None:
            try:
                self._conn = self.engine.connect()
            except DBAPIError as e:
                raise SourceError(tr("cannot connect to the source database {location}: «{reason}»",
                                     location=self.location, reason=clean_message(e)),
                                  hint=tr("check [import.source] url, that the server runs, and the password "
                                          "(password_env or .pgpass)")) from None
        return self._conn

    def rows(self, fm) -> Iterator[tuple[int, Any]]:
        """(row number from 1, record) per row of the query ``fm``; SourceError for a failing query or a mapped
        column the result lacks."""
        from sqlalchemy.exc import DBAPIError

        conn = self.connection()
        stmt = query_for(fm, self.dialect, whole_names=self.whole_names)
        try:
            lob = any(s.kind == "content" for s in fm.fields.values())
            per = YIELD_PER_LOB if lob else YIELD_PER
            # PostgreSQL sends a bytea in its text format as hex (twice the bytes, encoded by the server and decoded
            # here): a LOB query is read in the binary format when every column's type reads the same in both
            # (BINARY_SAFE), else again as text.  50,000 rows with 5,000 BLOBs of 20-200 KB: 4-6 s -> 1.5-2 s.
            binary = lob and self.dialect == "postgresql" and self.engine.url.get_driver_name() == "psycopg"
            result = conn.execution_options(stream_results=True, yield_per=per, noarkpack_binary=binary).execute(stmt)
            if binary and not all(d[1] in BINARY_SAFE for d in result.cursor.description):
                result.close()
                conn.rollback()
                result = conn.execution_options(stream_results=True, yield_per=per, noarkpack_binary=False) \
                    .execute(stmt)
        except DBAPIError as e:
            conn.rollback()
            raise SourceError(tr("the query failed: «{reason}»", reason=clean_message(e)), file=fm.rel,
                              hint=tr("check its sql / from and the column names (noarkpack source inspect PROJECT "
                                      "lists the tables and columns)")) from None
        keys = list(result.keys())
        lower = {k.lower(): k for k in keys}
        for spec in fm.fields.values():
            for col in spec.sources:
                if col not in keys and col.lower() not in lower:
                    result.close()
                    raise SourceError(tr("the column {column} (mapped to {field}) is not in the query's result",
                                         column=repr(col), field=".".join((fm.table, spec.name))), file=fm.rel,
                                      hint=tr("the result has: {columns}; fix the mapping or the query",
                                              columns=", ".join(keys)[:300]))
        n = 0
        try:
            for row in result:
                n += 1
                yield n, _Record(dict(zip(keys, row)), lower)
        except DBAPIError as e:
            raise SourceError(tr("the query failed at row {row}: «{reason}»", row=n + 1, reason=clean_message(e)),
                              file=fm.rel) from None
        finally:
            result.close()
        conn.rollback()  # end the read-only transaction (nothing to commit)

    def stream(self, query: str, params: dict | None = None) -> Iterator[dict[str, Any]]:
        """The rows of one SELECT (or of a table: ``"table"``, ``"schema.table"``) as dicts, streamed from a
        server-side cursor in a read-only transaction: for a migration script's own checks and counts."""
        import sqlalchemy as sa
        from sqlalchemy.exc import DBAPIError

        if is_select(query):
            stmt = sa.text(query)
        elif re.fullmatch(r"[\w$.\-]+", query):
            schema, table = split_name(query, whole=self.whole_names)
            stmt = sa.select(sa.literal_column("*")).select_from(sa.table(table, schema=schema))
        else:
            raise SourceError(tr("only a SELECT or a table name can be streamed: noarkpack never writes to the "
                                 "source"))
        conn = self.connection()
        try:
            result = conn.execution_options(stream_results=True, yield_per=YIELD_PER, noarkpack_binary=False) \
                .execute(stmt, params or {})
            keys = list(result.keys())
            for row in result:
                yield dict(zip(keys, row))
        except DBAPIError as e:
            raise SourceError(tr("the query failed: «{reason}»", reason=clean_message(e)), file=self.location) from None
        finally:
            conn.rollback()

    def close(self) -> None:
        if self._conn is not None:
            try:
                self._conn.close()
            finally:
                self._conn = None
        self.engine.dispose()

    def __enter__(self) -> SqlSource:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def source_file(spec: SourceSpec | None, root: Path) -> tuple[str, Path] | None:
    """The file behind a source, when it is one (a SIARD archive, an SQLite database): (name as written, path).
    The import log records its size, time and SHA-256, so a changed file makes the staging database stale."""
    if spec is None:
        return None
    if spec.siard is not None:
        return spec.siard_rel or str(spec.siard), spec.siard
    if spec.url and spec.url.split(":", 1)[0].split("+", 1)[0] == "sqlite":
        db = spec.url.split(":///", 1)[1].split("?", 1)[0] if ":///" in spec.url else ""
        if db and db != ":memory:":
            return db, (Path(db) if Path(db).is_absolute() else root / db)
    return None


def open_source(spec: SourceSpec, root: Path, *, cache_dir: Path | None = None, progress=None) -> SqlSource:
    """Open ``[import.source]``: a database URL, or a SIARD archive through its cached SQLite copy."""
    if spec.siard is not None:
        from .siard_cache import cached_sqlite

        db = cached_sqlite(spec.siard, cache_dir or (root / ".noarkpack"), progress=progress)
        engine = build_engine(SourceSpec(url=f"sqlite:///{db}"), root)
        return SqlSource(engine, spec.siard_rel or str(spec.siard), whole_names=True)
    engine = build_engine(spec, root)
    return SqlSource(engine, masked(spec.url) if engine.dialect.name == "sqlite" else masked(engine.url))


__all__ = ["SourceSpec", "SqlSource", "build_engine", "clean_message", "is_select", "masked", "open_source", "source_file",
           "query_for", "read_only_statements", "split_name"]
