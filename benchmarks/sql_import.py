"""Benchmark: import from PostgreSQL (issue 18 figures) vs dumping the same rows with ``psql \\copy`` to CSV plus
writing the same BLOBs to files — the "dump everything to files" step that noarkpack's SQL source replaces.

    .venv/bin/python benchmarks/sql_import.py [--entries 1000000] [--blobs 100000] [--sizes 1]
        [--url postgresql+psycopg://postgres@127.0.0.1:5432/postgres]

Targets (issue 18): time ratio noarkpack / (psql \\copy + blob files) ≤ 1.5, peak RSS ≤ 300 MB, both growing
linearly (``--sizes 3`` runs at 1/4, 1/2 and the full size).  The data: one patient per 10 entries, one journal
per patient, ``entries`` journal entries, ``blobs`` scanned documents of 20–200 KB (deterministic bytes that start
like a PDF).  A database with a unique name is created on the server and dropped afterwards.  noarkpack runs as a
child process (``noarkpack import``), its peak RSS from getrusage; conversion and identification are not part of
the import (they are the same for files and for stored contents).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import sqlalchemy as sa
from import_scale import PROJECT_HEADER  # the same benchmark project as the CSV import's

ROOT = Path(__file__).resolve().parents[1]
NOARKPACK = [sys.executable, "-m", "noarkpack.cli"]

TOML = """
[project]
name = "SQL benchmark"
documents = "dokumenter"
""" + PROJECT_HEADER + """[import]
[import.source]
url = "{url}"
[[import.query]]
name = "pasient"
table = "pasient"
from = "pasient"
[import.query.columns]
pasient_id = "pas_id"
navn = "navn"
kjonn = "kjonn"
[[import.query]]
name = "journal"
table = "pasientjournal"
from = "journal"
[import.query.columns]
journal_id = "journal_id"
pasient_id = "pas_id"
arkivskaper = {{ value = "helse" }}
journalsted = "enhet"
journalansvarlig = "ansvarlig"
opprettet = "opprettet"
opprettet_av = "ansvarlig"
avsluttet = "avsluttet"
avsluttet_av = "ansvarlig"
[[import.query]]
name = "notat"
table = "innslag"
from = "notat"
[import.query.columns]
journal_id = "journal_id"
innslag_id = "notat_id"
type = {{ value = "notat" }}
tittel = "tittel"
forfatter = "forfatter"
opprettet = "skrevet"
arkivert = "skrevet"
arkivert_av = "forfatter"
[[import.query]]
name = "skanning"
table = "dokument"
sql = "SELECT s.skann_id, n.journal_id, s.notat_id, s.data FROM skanning s JOIN notat n USING (notat_id) ORDER BY s.skann_id"
[import.query.columns]
journal_id = "journal_id"
innslag_id = "notat_id"
tittel = {{ value = "Skannet dokument" }}
innhold = {{ column = "data", format = "bytes" }}
"""


def _copy(cur, table: str, rows) -> None:
    with cur.copy(f"COPY {table} FROM STDIN") as cp:
        for r in rows:
            cp.write_row(r)


def load(url: str, entries: int, blobs: int) -> None:
    """Fill the database at ``url`` (psycopg COPY: the load is not what is measured)."""
    import psycopg

    dsn = sa.engine.make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    patients = max(1, entries // 10)
    rnd = random.Random(18)
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE pasient (pas_id text PRIMARY KEY, navn text, kjonn text)")
        cur.execute("CREATE TABLE journal (journal_id text PRIMARY KEY, pas_id text, enhet text, ansvarlig text, "
                    "opprettet timestamp, avsluttet timestamp)")
        cur.execute("CREATE TABLE notat (notat_id text, journal_id text, tittel text, forfatter text, "
                    "skrevet timestamp, PRIMARY KEY (journal_id, notat_id))")
        cur.execute("CREATE TABLE skanning (skann_id integer PRIMARY KEY, notat_id text, data bytea)")
        _copy(cur, "pasient", ((f"P{i}", f"Navn {i}", "MK"[i % 2]) for i in range(patients)))
        _copy(cur, "journal", ((f"J{i}", f"P{i}", "Helse", "lege", "2001-01-01 08:00", "2020-01-01 08:00")
                               for i in range(patients)))
        _copy(cur, "notat", ((f"N{i}", f"J{i % patients}", f"Notat {i}", "lege", "2005-01-01 08:00")
                             for i in range(entries)))
        # the foreign key of the scans is indexed, as in the systems this imitates (the import joins on it)
        cur.execute("CREATE INDEX notat_by_id ON notat (notat_id)")
        base = bytes(rnd.getrandbits(8) for _ in range(4096))
        with cur.copy("COPY skanning FROM STDIN") as cp:
            for i in range(blobs):
                size = rnd.randint(20_000, 200_000)
                data = b"%PDF-1.4\n" + i.to_bytes(4, "big") + (base * (size // 4096 + 1))[:size]
                cp.write_row((i, f"N{(i * 7) % entries}", data))
        cur.execute("ANALYZE")
        conn.commit()


def _cpu() -> float:
    """CPU seconds (user + system) of this process and its waited-for children so far."""
    import resource

    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


def baseline(url: str, out: Path) -> tuple[float, float]:
    """psql \\copy of the four tables' rows to CSV, plus every BLOB written to a file of its own (streamed):
    (wall seconds, CPU seconds of this side: psql and the BLOB writing)."""
    import psycopg

    u = sa.engine.make_url(url)
    env = {**os.environ, "PGHOST": u.host or "127.0.0.1", "PGPORT": str(u.port or 5432),
           "PGUSER": u.username or "postgres", "PGDATABASE": u.database}
    t0, c0 = time.monotonic(), _cpu()
    out.mkdir(parents=True)
    for q, name in (("SELECT * FROM pasient", "pasient"), ("SELECT * FROM journal", "journal"),
                    ("SELECT * FROM notat", "notat"),
                    ("SELECT s.skann_id, n.journal_id, s.notat_id FROM skanning s JOIN notat n USING (notat_id)",
                     "skanning")):
        subprocess.run(["psql", "-q", "-c", f"\\copy ({q}) TO '{out / name}.csv' CSV HEADER"], env=env, check=True)
    blobs = out / "blobs"
    blobs.mkdir()
    dsn = u.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn) as conn, conn.cursor(name="blobs", binary=True) as cur:  # no hex: as noarkpack reads
        cur.itersize = 200
        cur.execute("SELECT skann_id, data FROM skanning")
        for sid, data in cur:
            (blobs / f"{sid}.pdf").write_bytes(data)
    return time.monotonic() - t0, _cpu() - c0


def run_noarkpack(project: Path, profile: Path | None = None,
                  src: Path | None = None) -> tuple[float, float, float]:
    """One ``noarkpack import`` of ``project`` in a child process: (wall seconds, the child's peak RSS in MB, its
    CPU seconds, user + system).
    ``src``: run the noarkpack of that source tree instead (PYTHONPATH), for a before/after comparison."""
    cmd = NOARKPACK if profile is None else [sys.executable, "-m", "cProfile", "-o", str(profile), "-m", "noarkpack.cli"]
    env = os.environ if src is None else {**os.environ, "PYTHONPATH": str(src)}
    with tempfile.TemporaryFile() as log:
        t0 = time.monotonic()
        # cwd: not this tree, whose noarkpack/ would come before PYTHONPATH on ``python -m``'s path
        child = subprocess.Popen([*cmd, "--quiet", "import", str(project)], stdout=log, stderr=subprocess.STDOUT,
                                 env=env, cwd=project.parent)
        _, status, usage = os.wait4(child.pid, 0)
        secs = time.monotonic() - t0
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            log.seek(0)
            raise SystemExit(log.read().decode("utf-8", "replace"))
    return secs, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime  # ru_maxrss: KiB


def settle(tmp: Path, wait: float) -> None:
    """Remove the previous round's files, then wait until the file system no longer counts them as just deleted.
    ext4 without a journal (this machine's root) passes over inodes freed in the last 60 s (5 min while their
    inode table block is unwritten) when it allocates a new one, reading each one's inode block: right after
    100,000 files are removed, every file created costs a scan of them (measured: 10-15 % of a run's CPU time in
    the kernel's ``recently_deleted``).  No measured run starts right after a removal: the files of a round are
    removed together, written out (``sync``) and left to age ``wait`` seconds."""
    had = False
    for p in tmp.iterdir():
        shutil.rmtree(p)
        had = True
    if had and wait > 0:
        os.sync()
        time.sleep(wait)


def one(admin: str, entries: int, blobs: int, *, keep: bool = False, profile: Path | None = None, repeat: int = 1,
        variants: dict[str, Path | None] | None = None, wait: float = 65, database: str | None = None) -> list[dict]:
    """Load a database of the given size, then ``repeat`` rounds of: the baseline, and one import per variant
    (``{"noarkpack": None}``: this tree), each into a new project folder.  ``database``: an existing database loaded
    by an earlier run with the same sizes (not loaded, not dropped).  A row per variant: the fastest run, the
    median of its ratios to the baseline run just before it (the machine's load moves between rounds), peak RSS."""
    variants = variants or {"noarkpack": None}
    engine = sa.create_engine(admin, isolation_level="AUTOCOMMIT")
    name = database or f"noarkpack_bench_{uuid.uuid4().hex[:8]}"
    if database is None:
        with engine.connect() as c:
            c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    url = sa.engine.make_url(admin).set(database=name).render_as_string(hide_password=False)
    tmp = Path(tempfile.mkdtemp(prefix="noarkpack-sqlbench-"))
    try:
        t0 = time.monotonic()
        if database is None:
            load(url, entries, blobs)
        loaded = time.monotonic() - t0
        bases: list[tuple[float, float]] = []
        runs: dict[str, list[tuple[float, float, float, float]]] = {v: [] for v in variants}
        for r in range(repeat):
            order = list(variants.items())
            if r % 2:
                order.reverse()  # interleaved: no variant always runs first after the baseline
            settle(tmp, wait)
            bases.append(baseline(url, tmp / "dump"))
            for v, src in order:
                project = tmp / f"project-{v}"  # a new content store: every blob written again
                project.mkdir()
                (project / "noarkpack.toml").write_text(TOML.format(url=url), encoding="utf-8")
                secs, rss, cpu = run_noarkpack(project, profile, src)
                runs[v].append((secs, secs / bases[-1][0], rss, cpu))
        out = []
        for v, rs in runs.items():
            out.append({"variant": v, "entries": entries, "blobs": blobs, "load_s": round(loaded, 1),
                        "baseline_s": round(min(b[0] for b in bases), 1),
                        "baseline_cpu_s": round(min(b[1] for b in bases), 1),
                        "noarkpack_s": round(min(x[0] for x in rs), 1),
                        "noarkpack_cpu_s": round(min(x[3] for x in rs), 1),
                        "ratio": round(statistics.median(x[1] for x in rs), 2),
                        "ratios": ",".join(f"{x[1]:.2f}" for x in rs), "peak_rss_mb": round(max(x[2] for x in rs)),
                        "load_avg": "/".join(f"{x:.1f}" for x in os.getloadavg())})
        return out
    finally:
        if not keep:
            shutil.rmtree(tmp, ignore_errors=True)
        if database is None:
            with engine.connect() as c:
                c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--entries", type=int, default=1_000_000)
    ap.add_argument("--blobs", type=int, default=100_000)
    ap.add_argument("--sizes", type=int, default=1, help="1: the given size; 3: 1/4, 1/2 and the full size")
    ap.add_argument("--repeat", type=int, default=1, help="rounds of baseline + import on the same database")
    ap.add_argument("--variant", action="append", default=[], metavar="NAME=SRC",
                    help="time the noarkpack of this source tree (SRC '.': this one; e.g. an older commit unpacked "
                         "with git archive) instead; repeat it to alternate several on the same database")
    ap.add_argument("--url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                    help="an admin URL of the server (a database is created and dropped)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    ap.add_argument("--database", help="use this database of the server, loaded before with the same --entries and "
                    "--blobs (e.g. by benchmarks' load()); it is kept")
    ap.add_argument("--settle", type=float, default=65, metavar="SECONDS",
                    help="between rounds, after removing their files: wait this long (see settle())")
    ap.add_argument("--profile", type=Path, help="run the import under cProfile, writing its stats to this file "
                    "(the time then includes the profiler's overhead)")
    args = ap.parse_args()
    variants: dict[str, Path | None] = {} if args.variant else {"noarkpack": None}
    for v in args.variant:
        n, _, src = v.partition("=")
        variants[n] = None if src in ("", ".") else Path(src).resolve()
    fractions = (1,) if args.sizes == 1 else (4, 2, 1)
    for f in fractions:
        for res in one(args.url, args.entries // f, args.blobs // f, keep=args.keep, profile=args.profile,
                       repeat=args.repeat, variants=variants, wait=args.settle, database=args.database):
            print("  ".join(f"{k}={v}" for k, v in res.items()), flush=True)


if __name__ == "__main__":
    main()
