"""A SIARD archive as the import source (issue 18, point 5, the glue of task C): the archive is loaded once into a
cached SQLite copy (noarkpack.sources.siard.load_into_sqlite) and the same [[import.query]] mapping runs on it.
The example's SIARD twin (examples/legacydb/make_siard.py) imports to the same staging rows and a byte-identical
extract as its SQLite database."""

from __future__ import annotations

import io
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from noarkpack.project import load_project
from noarkpack.sources.staging import dump_digest

from .test_sql import EXAMPLE, extract_digest, project_for

pytest.importorskip("noarkpack.sources.siard", reason="the SIARD reader (task D) is not in this tree")
MAKE_SIARD = EXAMPLE / "make_siard.py"
NOARKPACK = [sys.executable, "-m", "noarkpack.cli"]


def _siard(root: Path, *extra: str) -> Path:
    if not MAKE_SIARD.is_file():
        pytest.skip("examples/legacydb/make_siard.py (task D) is not in this tree")
    out = root / "legacy.siard"
    subprocess.run([sys.executable, str(MAKE_SIARD), str(root / "legacy.sqlite"), str(out),
                    "--archival-date", "2009-06-01", *extra], check=True, capture_output=True)
    return out


def _use_siard(root: Path) -> None:
    toml = root / "noarkpack.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('url = "sqlite:///legacy.sqlite"',
                                                             'siard = "legacy.siard"'), encoding="utf-8")


def test_the_siard_twin_gives_the_same_staging_rows_and_extract(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1709290800")
    root = project_for(tmp_path)
    load_project(root).import_export()
    sqlite_rows = dump_digest(root / ".noarkpack" / "staging.sqlite", data_only=True)
    sqlite_extract = extract_digest(root, tmp_path / "out-sqlite")
    _siard(root)
    _use_siard(root)
    report = load_project(root).import_export()
    assert report.rejected_total == 0, [(r.file, r.line, r.reason) for r in report.rejected]
    assert dump_digest(root / ".noarkpack" / "staging.sqlite", data_only=True) == sqlite_rows
    assert extract_digest(root, tmp_path / "out-siard") == sqlite_extract
    # the SQLite copy is cached: a second import reuses it while the archive is unchanged
    (cache,) = (root / ".noarkpack" / "siard").glob("*.sqlite")
    made = cache.stat().st_mtime_ns
    load_project(root).import_export()
    assert cache.stat().st_mtime_ns == made
    # a changed archive makes the staging database stale (its fingerprint is in the import log)
    os.utime(root / "legacy.siard", ns=(made + 10**9, made + 10**9))
    with open(root / "legacy.siard", "ab") as f:
        f.write(b"\0")
    with pytest.raises(Exception, match="changed since the last import"):
        list(load_project(root, auto_import=False).journals())


def test_the_import_log_holds_the_archives_sha256_hashed_once_while_it_is_loaded(tmp_path):
    # the archive's SHA-256 is computed beside the load and recorded with the cached copy; the import log takes
    # it from there while the archive's size and time are unchanged, and hashes the archive itself otherwise
    import hashlib
    import sqlite3

    from noarkpack.sources.siard_cache import recorded_sha256

    root = project_for(tmp_path)
    siard = _siard(root)
    _use_siard(root)
    real = hashlib.sha256(siard.read_bytes()).hexdigest()

    def logged() -> str:
        con = sqlite3.connect(root / ".noarkpack" / "staging.sqlite")
        try:
            (sha,) = con.execute("SELECT sha256 FROM import_file WHERE path = 'legacy.siard'").fetchone()
        finally:
            con.close()
        return sha

    load_project(root).import_export()
    assert recorded_sha256(siard, root / ".noarkpack") == real
    assert logged() == real
    # touched, not changed: the cache re-checks the digest; a recorded digest of other bytes is never used
    (meta,) = (root / ".noarkpack" / "siard").glob("*.json")
    st = siard.stat()
    os.utime(siard, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    assert recorded_sha256(siard, root / ".noarkpack") is None
    load_project(root).import_export()
    assert logged() == real and recorded_sha256(siard, root / ".noarkpack") == real
    meta.write_text(meta.read_text(encoding="utf-8").replace(real, "0" * 64), encoding="utf-8")
    os.utime(siard, ns=(st.st_atime_ns, st.st_mtime_ns + 2 * 10**9))
    load_project(root).import_export()
    assert logged() == real


def test_a_truncated_or_tampered_siard_is_exit_2_with_the_staging_database_unchanged(tmp_path):
    root = project_for(tmp_path)
    siard = _siard(root, "--lob-inline-max", "100")  # the scans and notes as LOB files inside the ZIP
    _use_siard(root)
    r = subprocess.run([*NOARKPACK, "import", str(root)], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    staged = dump_digest(root / ".noarkpack" / "staging.sqlite")
    good = siard.read_bytes()
    siard.write_bytes(good[: len(good) // 2])
    r = subprocess.run([*NOARKPACK, "import", str(root)], capture_output=True, text=True)
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
    assert len(r.stderr.strip().splitlines()) == 1, r.stderr
    assert dump_digest(root / ".noarkpack" / "staging.sqlite") == staged
    # a LOB whose bytes do not match its recorded digest: the loader names table and row, nothing is staged
    changed = 0
    with zipfile.ZipFile(tmp_path / "t.siard", "w") as out, zipfile.ZipFile(io.BytesIO(good)) as z:
        for info in z.infolist():
            data = z.read(info)
            if "/lob" in info.filename and info.filename.endswith(".bin") and data and not changed:
                data = bytes([data[0] ^ 0xFF]) + data[1:]
                changed += 1
            out.writestr(info, data)
    assert changed == 1
    siard.write_bytes((tmp_path / "t.siard").read_bytes())
    r = subprocess.run([*NOARKPACK, "import", str(root)], capture_output=True, text=True)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "digest" in r.stderr.lower() or "md5" in r.stderr.lower(), r.stderr
    assert dump_digest(root / ".noarkpack" / "staging.sqlite") == staged


@pytest.mark.parametrize("name", ["sample.siard", "sfdboe_2_1.siard", "sql2008_2_1.siard"])
def test_source_inspect_on_the_siard_suite_samples_gives_the_metadata_row_counts(shared_dir, name):
    """The issue's "done when": `noarkpack source inspect FILE.siard --json` states every table's rows as the
    archive's header/metadata.xml does (read here independently)."""
    import json

    from lxml import etree

    path = shared_dir / "reference" / "samples" / "siard" / name
    with zipfile.ZipFile(path) as z:
        md = etree.fromstring(z.read("header/metadata.xml"))
    ns = {"s": md.nsmap[None]}
    expect = {(s.findtext("s:name", namespaces=ns), t.findtext("s:name", namespaces=ns)):
              int(t.findtext("s:rows", namespaces=ns))
              for s in md.iterfind("s:schemas/s:schema", ns) for t in s.iterfind("s:tables/s:table", ns)}
    r = subprocess.run([*NOARKPACK, "source", "inspect", str(path), "--json"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["kind"] == "siard"
    got = {(s["name"], t["name"]): t["rows"] for s in data["schemas"] for t in s["tables"]}
    assert got == expect
    r = subprocess.run([*NOARKPACK, "source", "inspect", str(path)], capture_output=True, text=True)
    assert r.returncode == 0 and all(t in r.stdout for _, t in expect)


def test_source_sample_of_a_siard_file_reads_the_zip_and_masks_identifying_columns(shared_dir):
    path = shared_dir / "reference" / "samples" / "siard" / "sfdboe_2_1.siard"
    r = subprocess.run([*NOARKPACK, "source", "sample", str(path), "--table", "HR.EMPLOYEES", "--rows", "3"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    head, *rows = r.stdout.splitlines()
    assert head.split()[:4] == ["EMPLOYEE_ID", "FIRST_NAME", "LAST_NAME", "EMAIL"] and len(rows) == 3
    assert all(line.split()[1:5] == ["***"] * 4 for line in rows)  # names, e-mail, phone
    r = subprocess.run([*NOARKPACK, "source", "sample", str(path), "--table", "EMPLOYEES", "--rows", "1",
                        "--show-identifiers"], capture_output=True, text=True)
    assert r.returncode == 0 and "***" not in r.stdout
    r = subprocess.run([*NOARKPACK, "source", "sample", str(path), "--table", "NO_SUCH"], capture_output=True,
                       text=True)
    assert r.returncode == 2 and "HR.EMPLOYEES" in r.stderr
