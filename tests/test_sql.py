"""SQL databases as the import source (issue 18, points 1–3, 11): the same invented legacy database in SQLite,
PostgreSQL and MariaDB imports to the same staging rows and a byte-identical extract; the source is never
written; every bad input is one clear line with the staging database unchanged.  The server tests use real
servers (tests/sql_servers.py)."""

from __future__ import annotations

import hashlib
import importlib.util
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from noarkpack.errors import ConfigError, SourceError
from noarkpack.project import load_project
from noarkpack.sources.staging import dump_digest

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "legacydb"
NOARKPACK = [sys.executable, "-m", "noarkpack.cli"]


def _generator():
    spec = importlib.util.spec_from_file_location("legacydb_generate", EXAMPLE / "generate.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def project_for(tmp: Path, url: str | None = None, *, extra: str = "") -> Path:
    """A copy of examples/legacydb whose [import.source] url is ``url`` (default: its SQLite file)."""
    root = tmp / "legacydb"
    shutil.copytree(EXAMPLE, root, ignore=shutil.ignore_patterns(".noarkpack", "__pycache__"))
    toml = root / "noarkpack.toml"
    text = toml.read_text(encoding="utf-8")
    if url is not None:
        text = text.replace('url = "sqlite:///legacy.sqlite"', f'url = "{url}"')
    toml.write_text(text + extra, encoding="utf-8")
    return root


def extract_digest(root: Path, out: Path) -> dict[str, str]:
    from noarkpack.pipeline import extract_project

    extract_project(load_project(root), out)
    pkg = out / "avleveringspakke"
    return {str(p.relative_to(pkg)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(pkg.rglob("*")) if p.is_file()}


def source_checksum(url: str) -> list:
    """Every row of every table of the source, in key order (to prove nothing was written)."""
    engine = sa.create_engine(url)
    try:
        md = sa.MetaData()
        md.reflect(engine)
        with engine.connect() as c:
            return [(t.name, [tuple(r) for r in c.execute(sa.select(t).order_by(*t.primary_key.columns))])
                    for t in md.sorted_tables]
    finally:
        engine.dispose()


def test_the_example_imports_from_sqlite_with_every_document_from_the_database(tmp_path):
    root = project_for(tmp_path)
    before = source_checksum(f"sqlite:///{root / 'legacy.sqlite'}")
    report = load_project(root).import_export()
    assert report.exit_code == 0 and report.rejected_total == 0
    assert report.counts["dokument"] == 12 and report.counts["innslag"] == 11
    stored = sorted((root / ".noarkpack" / "content").rglob("*.*"))
    assert {p.suffix for p in stored} == {".txt", ".rtf", ".pdf", ".tif"}
    # Windows-1252 bytes of the old module became UTF-8 text
    texts = [p.read_text(encoding="utf-8") for p in stored if p.suffix == ".txt"]
    assert any("såret er rolig – ingen tegn" in t and "«Føler seg bra.»" in t for t in texts)
    assert source_checksum(f"sqlite:///{root / 'legacy.sqlite'}") == before
    # the same import again: the same store, the same staging rows
    digest = dump_digest(root / ".noarkpack" / "staging.sqlite", data_only=True)
    load_project(root).import_export()
    assert sorted((root / ".noarkpack" / "content").rglob("*.*")) == stored
    assert dump_digest(root / ".noarkpack" / "staging.sqlite", data_only=True) == digest


def test_the_committed_sqlite_file_is_what_the_generator_writes(tmp_path):
    gen = _generator()
    gen.load(f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    assert source_checksum(f"sqlite:///{tmp_path / 'fresh.sqlite'}") == \
        source_checksum(f"sqlite:///{EXAMPLE / 'legacy.sqlite'}")


def test_sqlite_postgresql_and_mariadb_give_the_same_staging_rows_and_extract(tmp_path, pg_url, mariadb_url,
                                                                             monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1709290800")
    gen = _generator()
    gen.load(pg_url)
    gen.load(mariadb_url)
    results = {}
    # One project folder, its source switched: the conversion cache (RTF → PDF/A by LibreOffice, whose output
    # carries its own timestamps) is the project's, as when an archivist moves the source to another server.
    root = project_for(tmp_path)
    toml = root / "noarkpack.toml"
    text = toml.read_text(encoding="utf-8")
    for name, url in (("sqlite", None), ("postgresql", pg_url), ("mariadb", mariadb_url)):
        if url:
            toml.write_text(text.replace('url = "sqlite:///legacy.sqlite"', f'url = "{url}"'), encoding="utf-8")
        before = source_checksum(url) if url else None
        report = load_project(root).import_export()
        assert report.rejected_total == 0, [(r.file, r.line, r.reason) for r in report.rejected]
        if url:
            assert source_checksum(url) == before, f"{name}: the source changed"
        results[name] = (dump_digest(root / ".noarkpack" / "staging.sqlite", data_only=True),
                         extract_digest(root, tmp_path / name / "out"))
    assert results["postgresql"][0] == results["sqlite"][0]
    assert results["mariadb"][0] == results["sqlite"][0]
    assert results["postgresql"][1] == results["sqlite"][1]
    assert results["mariadb"][1] == results["sqlite"][1]
    assert any(k.endswith(".tif") for k in results["sqlite"][1])


def test_postgresql_source_is_read_only_even_for_a_query_that_tries_to_write(tmp_path, pg_url):
    _generator().load(pg_url)
    engine = sa.create_engine(pg_url)
    with engine.begin() as c:  # a function that writes, called from a SELECT: only read-only stops it
        c.exec_driver_sql("CREATE FUNCTION wipe() RETURNS integer AS $$ DELETE FROM endringslogg; SELECT 1 $$ "
                          "LANGUAGE sql")
    engine.dispose()
    before = source_checksum(pg_url)
    root = project_for(tmp_path, pg_url)
    load_project(root).import_export()
    db = root / ".noarkpack" / "staging.sqlite"
    staged = dump_digest(db)
    bad = project_for(tmp_path / "w", pg_url, extra='''
[[import.query]]
name = "sneaky"
table = "merknad"
sql = "SELECT wipe() AS j, 'x' AS t"
[import.query.columns]
journal_id = "j"
tekst = "t"
dato = { value = "2005-01-01T00:00:00" }
registrert_av = "t"
''')
    shutil.copytree(root / ".noarkpack", bad / ".noarkpack")
    with pytest.raises(SourceError, match="read-only transaction") as e:
        load_project(bad).import_export()
    assert "query sneaky" in str(e.value)
    assert source_checksum(pg_url) == before
    assert dump_digest(bad / ".noarkpack" / "staging.sqlite") == staged


def test_mariadb_and_sqlite_connections_refuse_writes(tmp_path, mariadb_url):
    from noarkpack.sources.sql import SourceSpec, open_source

    _generator().load(mariadb_url)
    before = source_checksum(mariadb_url)
    with open_source(SourceSpec(url=mariadb_url), tmp_path) as src:
        with pytest.raises(sa.exc.DBAPIError, match="READ ONLY"):
            src.connection().exec_driver_sql("DELETE FROM endringslogg")
    assert source_checksum(mariadb_url) == before
    root = project_for(tmp_path)
    with open_source(SourceSpec(url="sqlite:///legacy.sqlite"), root) as src:
        with pytest.raises(sa.exc.DBAPIError, match="readonly|read-only|query_only"):
            src.connection().exec_driver_sql("DELETE FROM endringslogg")


@pytest.mark.parametrize("sql", ["DELETE FROM notat", "SELECT 1; DROP TABLE notat", "UPDATE notat SET tittel = ''",
                                 "CREATE TABLE x (a int)"])
def test_a_statement_that_is_not_a_query_is_refused_before_anything_runs(tmp_path, sql):
    root = project_for(tmp_path)
    text = (root / "noarkpack.toml").read_text(encoding="utf-8")
    text = text.replace('sql = "SELECT journal_id, notat_id, tittel, tekst FROM notat WHERE tekst IS NOT NULL ORDER BY notat_id"',
                        f'sql = "{sql}"')
    (root / "noarkpack.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match="one SELECT") as e:
        load_project(root)
    assert e.value.line and "sql" in text.splitlines()[e.value.line - 1]


def _cli(root: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    import os

    return subprocess.run([*NOARKPACK, *args, str(root)], capture_output=True, text=True,
                          env={**os.environ, **(env or {})})


@pytest.mark.parametrize("case", ["password_in_url", "unreachable", "wrong_password", "missing_table",
                                  "missing_column", "missing_from_column", "query_error", "missing_driver", "password_env_unset"])
def test_bad_sources_are_one_line_exit_2_and_the_staging_database_unchanged(tmp_path, case, mariadb_url):
    root = project_for(tmp_path)
    assert _cli(root, "import").returncode == 0
    staged = dump_digest(root / ".noarkpack" / "staging.sqlite")
    toml = root / "noarkpack.toml"
    text = toml.read_text(encoding="utf-8")
    env = {}
    url_line = 'url = "sqlite:///legacy.sqlite"'
    expect = {
        "password_in_url": (url_line, 'url = "postgresql+psycopg://kari:hemmelig@127.0.0.1/x"', "holds a password"),
        "unreachable": (url_line, 'url = "postgresql+psycopg://postgres@127.0.0.1:1/x"', "cannot connect"),
        "wrong_password": (url_line, 'url = "mysql+pymysql://noarkpack_nobody@127.0.0.1:3306/test"\n'
                           'password_env = "NP_TEST_PW"', "cannot connect"),
        "missing_table": ('from = "endringslogg"', 'from = "endringslogg_finnes_ikke"', "the query failed"),
        "missing_column": ('innhold = { column = "tekst", format = "text" }',
                           'innhold = { column = "tekst_finnes_ikke", format = "text" }', "is not in the query's result"),
        "missing_from_column": ('av = "endret_av"', 'av = "endret_av_finnes_ikke"', "endret_av_finnes_ikke"),
        "query_error": ('FROM notat WHERE tekst IS NOT NULL', 'FROM notat WHERE tekst IS NOT NULL AND ', "failed"),
        "missing_driver": (url_line, 'url = "oracle+oracledb://scott@127.0.0.1/x"', "pip install 'noarkpack[oracle]'"),
        "password_env_unset": (url_line, 'url = "mysql+pymysql://root@127.0.0.1:3306/test"\n'
                               'password_env = "NP_TEST_UNSET"', "NP_TEST_UNSET"),
    }[case]
    if case == "wrong_password":
        env["NP_TEST_PW"] = "feil-passord-123"
    if case == "missing_driver" and importlib.util.find_spec("oracledb") is not None:
        pytest.skip("oracledb is installed here")
    assert expect[0] in text
    toml.write_text(text.replace(expect[0], expect[1]), encoding="utf-8")
    r = _cli(root, "import", env=env)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert expect[2] in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and "hemmelig" not in r.stderr and "feil-passord" not in r.stderr
    assert len([ln for ln in r.stderr.splitlines() if ln.strip()]) <= 2, r.stderr
    assert dump_digest(root / ".noarkpack" / "staging.sqlite") == staged


def test_mssql_and_oracle_compile_every_query_noarkpack_issues():
    """No SQL Server or Oracle here: every statement noarkpack sends compiles with their dialects."""
    from sqlalchemy.dialects import mssql, oracle

    from noarkpack.sources.inspect import catalog_statements
    from noarkpack.sources.sql import query_for

    mapping = load_project(EXAMPLE).import_mapping
    for dialect in (mssql.dialect(), oracle.dialect()):
        for fm in mapping.files:
            compiled = str(query_for(fm).compile(dialect=dialect))
            assert compiled.lstrip().upper().startswith(("SELECT", "WITH")), compiled
        for stmt in catalog_statements("pasient", "dbo", sample_rows=5):
            compiled = str(stmt.compile(dialect=dialect))
            assert re.search(r"\bpasient\b", compiled), compiled
        # a from = "schema.table" query names the schema, quoted as the dialect quotes
        fm = next(f for f in mapping.files if f.source_table == "pasient")
        fm.source_table = "EPJ.PASIENT"
        assert "EPJ" in str(query_for(fm).compile(dialect=dialect))
        fm.source_table = "pasient"


def test_a_migration_script_streams_rows_and_documents_through_the_library(tmp_path):
    """Point 8: open the source, stream rows read-only; read the staged documents' bytes from the model."""
    from noarkpack.sources.sql import SourceSpec, open_source

    root = project_for(tmp_path)
    with open_source(SourceSpec(url="sqlite:///legacy.sqlite"), root) as src:
        ids = [r["notat_id"] for r in src.stream("SELECT notat_id FROM notat WHERE tekst IS NOT NULL "
                                                 "ORDER BY notat_id")]
        assert ids == [1, 4, 7, 10, 11]
        assert sum(1 for _ in src.stream("skanning")) == 3
        with pytest.raises(SourceError, match="never writes"):
            list(src.stream("DELETE FROM notat"))
    project = load_project(root)
    project.import_export()
    stored = [d for j in project.journals() for i in j.innslag for d in i.dokumenter]
    assert len(stored) == 12 and all(d.innhold and Path(d.innhold).is_file() for d in stored)
    assert all(d.fil.startswith("@innhold/") for d in stored)


def test_text_kept_as_bytes_in_the_database_is_decoded_in_the_query_encoding(tmp_path):
    """A legacy column of bytes mapped to a text field: decoded in [[import.query]] encoding, or the row is
    rejected naming the column (never the value)."""
    root = project_for(tmp_path, extra='''
[[import.query]]
name = "merknad"
table = "merknad"
encoding = "windows-1252"
sql = "SELECT journal_id, tekst_gammel AS t, skrevet, signert_av FROM notat WHERE tekst_gammel IS NOT NULL ORDER BY notat_id"
[import.query.columns]
journal_id = "journal_id"
tekst = "t"
dato = "skrevet"
registrert_av = "signert_av"
''')
    report = load_project(root).import_export()
    assert report.rejected_total == 0
    texts = [j.merknader[0].tekst for j in load_project(root).journals() if j.merknader]
    assert any("såret er rolig – ingen tegn" in t for t in texts)
    toml = root / "noarkpack.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('encoding = "windows-1252"\nsql', 'encoding = "utf-8"\nsql'),
                    encoding="utf-8")
    report = load_project(root).import_export()
    assert {r.reason for r in report.rejected} == {"merknad.tekst (column t) is not UTF-8 text; set encoding for "
                                                   "this query"}


def test_a_numeric_code_column_is_looked_up_in_its_value_map(tmp_path, pg_url):
    """PostgreSQL returns NUMERIC as Decimal: the value map sees the code as text, as from a CSV file."""
    _generator().load(pg_url)
    root = project_for(tmp_path, pg_url, extra='''
[[import.query]]
name = "merknad"
table = "merknad"
sql = "SELECT journal_id, CAST(notat_id % 2 AS NUMERIC(2,0)) AS k, tittel, skrevet, signert_av FROM notat ORDER BY notat_id"
[import.query.columns]
journal_id = "journal_id"
tekst = "tittel"
type = { column = "k", values = { 0 = "partall", 1 = "oddetall" }, unmapped = "reject" }
dato = "skrevet"
registrert_av = "signert_av"
''')
    report = load_project(root).import_export()
    assert report.rejected_total == 0, [r.reason for r in report.rejected]
    types = sorted({m.type for j in load_project(root).journals() for m in j.merknader})
    assert types == ["oddetall", "partall"]
