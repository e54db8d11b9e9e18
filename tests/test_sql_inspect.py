"""``noarkpack source inspect`` and ``source sample`` on SQL sources (issue 18, point 6)."""

from __future__ import annotations

import json
import subprocess
import sys

import sqlalchemy as sa

from noarkpack.project import load_project
from noarkpack.sources.inspect import inspect_source, resolve_target, sample_rows

from .test_sql import EXAMPLE, _generator, project_for

NOARKPACK = [sys.executable, "-m", "noarkpack.cli"]


def _counts(url: str) -> dict[str, int]:
    engine = sa.create_engine(url)
    try:
        md = sa.MetaData()
        md.reflect(engine)
        with engine.connect() as c:
            return {t.name: c.execute(sa.select(sa.func.count()).select_from(t)).scalar() for t in md.sorted_tables}
    finally:
        engine.dispose()


def test_inspect_of_the_example_project_gives_counts_lobs_and_what_the_mapping_reads():
    cat = inspect_source(resolve_target(str(EXAMPLE), load_project))
    assert cat.kind == "sql" and cat.location == "sqlite:///legacy.sqlite"
    (schema,) = cat.schemas
    counts = {t.name: t.rows for t in schema.tables}
    assert counts == _counts(f"sqlite:///{EXAMPLE / 'legacy.sqlite'}")
    notat = cat.table(None, "notat")
    assert set(notat.lob_columns) == {"tekst", "rtf", "tekst_gammel"}
    assert cat.table(None, "skanning").lob_columns == ("data",)
    cols = {c.name: c for c in cat.table(None, "endringslogg").columns}
    assert cols["endret_av"].used_by == ("query endringslogg: av",)
    assert cols["logg_id"].used_by == ()
    assert "query skanning: innhold" in {c.name: c for c in cat.table(None, "skanning").columns}["data"].used_by
    assert cat.table(None, "kode_notattype").columns[0].used_by == ()


def test_inspect_cli_json_and_a_url(tmp_path):
    r = subprocess.run([*NOARKPACK, "source", "inspect", f"sqlite:///{EXAMPLE / 'legacy.sqlite'}", "--json"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["kind"] == "sql"
    tables = {t["name"]: t for t in data["schemas"][0]["tables"]}
    assert tables["pasient"]["rows"] == 4 and tables["skanning"]["rows"] == 3


def test_inspect_postgresql_lists_its_schemas_tables_and_counts(pg_url):
    _generator().load(pg_url)
    cat = inspect_source(resolve_target(pg_url))
    assert "***" not in cat.location or "@" in cat.location
    assert [s.name for s in cat.schemas] == ["public"]
    assert cat.table("public", "notat").rows == 11
    assert "tekst_gammel" in cat.table("public", "notat").lob_columns
    assert cat.table("public", "skanning").lob_columns == ("data",)


def test_sample_masks_person_numbers_and_names_unless_asked(tmp_path):
    root = project_for(tmp_path)
    t = resolve_target(str(root), load_project)
    cols, rows = sample_rows(t, "pasient", 2)
    assert cols[:3] == ["fnr", "fornavn", "etternavn"]
    assert all(r[0] == "***" and r[1] == "***" and r[2] == "***" for r in rows)
    _, shown = sample_rows(t, "pasient", 2, show_identifiers=True)
    assert all(len(r[0]) == 11 and r[0].isdigit() for r in shown)
    # a person number in a column of any name is masked too (journal.fnr is masked by its value)
    cols, rows = sample_rows(t, "journal", 5)
    assert all(r[cols.index("fnr")] == "***" for r in rows)
    _, blobs = sample_rows(t, "skanning", 3)
    assert all(r[-1].startswith("<") and r[-1].endswith(" bytes>") for r in blobs)
    r = subprocess.run([*NOARKPACK, "source", "sample", str(root), "--table", "pasient", "--rows", "5"],
                       capture_output=True, text=True)
    assert r.returncode == 0 and "***" in r.stdout
    assert not any(ch.isdigit() and len(w) == 11 for w in r.stdout.split() for ch in w[:1])
    r = subprocess.run([*NOARKPACK, "source", "sample", str(root), "--table", "finnes_ikke"], capture_output=True,
                       text=True)
    assert r.returncode == 2 and "cannot be read" in r.stderr
