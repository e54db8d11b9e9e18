"""A PostgreSQL query that reads LOBs comes in psycopg's binary format (no hex), with the same values as in the
text format; a column whose type would read differently (float4, timestamptz) makes it fall back to text."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import sqlalchemy as sa

from noarkpack.sources.sql import SourceSpec, open_source

psycopg = pytest.importorskip("psycopg", reason="pip install -e '.[postgresql]' (CI installs it)")

SAFE = ("SELECT id, CAST(1.50 AS NUMERIC) AS n, CAST('x' AS CHAR(3)) AS c, 'Blå' AS t, TRUE AS b, "
        "DATE '2001-02-03' AS d, TIMESTAMP '2001-02-03 04:05:06.789' AS ts, CAST(5 AS SMALLINT) AS s, data FROM blob "
        "ORDER BY id")
UNSAFE = "SELECT id, CAST(1.1 AS REAL) AS f, TIMESTAMPTZ '2001-02-03 04:05:06+02' AS tz, data FROM blob ORDER BY id"


def _query(sql: str, columns: tuple[str, ...]):
    fields = {c: SimpleNamespace(name=c, kind="str", sources=(c,)) for c in columns}
    fields["innhold"] = SimpleNamespace(name="innhold", kind="content", sources=("data",))
    return SimpleNamespace(sql=sql, fields=fields, rel="query q", table="dokument", source_table=None)


def _text_rows(url: str, sql: str) -> list[tuple]:
    dsn = sa.engine.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        return cur.execute(sql).fetchall()


def test_lob_queries_read_the_same_values_in_binary_and_text(tmp_path, pg_url):
    with psycopg.connect(sa.engine.make_url(pg_url).set(drivername="postgresql")
                         .render_as_string(hide_password=False)) as conn:
        conn.execute("CREATE TABLE blob (id integer PRIMARY KEY, data bytea)")
        with conn.cursor().copy("COPY blob FROM STDIN") as cp:
            for i in range(40):
                cp.write_row((i, bytes(range(256)) * (i + 1)))
    for sql, cols in ((SAFE, ("id", "n", "c", "t", "b", "d", "ts", "s")), (UNSAFE, ("id", "f", "tz"))):
        with open_source(SourceSpec(url=pg_url), tmp_path) as src:
            got = [tuple(rec.values.values()) for _, rec in src.rows(_query(sql, cols))]
            if sql is SAFE:  # the binary format was used: bytea comes as bytes without hex
                assert got[0][-1] == bytes(range(256))
            # and a later query that reads no LOB is read as before (text: the option does not stick)
            assert list(src.stream("SELECT CAST(1.1 AS REAL) AS f")) == [{"f": 1.1}]
        assert got == _text_rows(pg_url, sql)
        assert [type(v) for v in got[0]] == [type(v) for v in _text_rows(pg_url, sql)[0]]
