"""Benchmark: the whole import from a SIARD archive (``noarkpack import PROJECT`` with ``[import.source] siard``)
vs ``unzip`` of the archive; and, as a second line, the load alone (noarkpack.sources.siard.load_into_sqlite).

    .venv/bin/python benchmarks/siard_import.py --rows 1000000 --blobs 100000 --work /tmp/siard-bench --repeat 2

Issue 18, figures: "the same from a SIARD file of that database: time vs `unzip` of the archive (ratio <= 2),
peak RSS <= 300 MB".  "The same" is the import benchmarks/sql_import.py times from PostgreSQL: its schema (one
patient and one journal per 10 entries, ``--rows`` journal entries, ``--blobs`` scans of 20-200 KB) and its
project and mapping (``[[import.query]]`` for pasient, journal, notat and skanning), with ``siard = FILE`` in
place of the URL.  Here the database is SQLite, written as a SIARD 2.2 archive by examples/legacydb/make_siard.py
(built once, untimed): every entry also has a note (1 in 20 long enough to be a CLOB file inside the ZIP; the
mapping does not import the notes, the load checks and copies them), and the scans are incompressible bytes
behind a PDF header, as scans are, so they are LOB files with length and MD5.

In turns (``--repeat`` rounds): ``unzip -q`` of the archive into an empty folder; ``noarkpack --quiet import``
of a new project in a child process (the archive loaded into the project's cached SQLite copy, every LOB checked,
the queries run on it, rows mapped into the staging database, every scan into the content store, fsynced); and,
unless ``--no-load-only``, ``load_into_sqlite`` alone in a child process.  Each side's output is removed before
the next side runs (disk: the archive's size about three times at most) and left to settle (see
sql_import.settle).  Reported per round and overall: wall time, the child's CPU time (user + system) and peak RSS
(``ru_maxrss`` from wait4), the ratios to the unzip of the same round; the fastest of each, the median of the
rounds' ratios, and the load average.
"""

from __future__ import annotations

import argparse
import os
import random
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from sql_import import TOML as SQL_TOML  # noqa: E402  (the PostgreSQL benchmark's project and mapping)
from sql_import import run_noarkpack, settle  # noqa: E402

TOML = SQL_TOML.replace('url = "{url}"', 'siard = "{siard}"')
assert TOML != SQL_TOML

_LOAD = ("import sys; from pathlib import Path; from noarkpack.sources.siard import load_into_sqlite; "
         "load_into_sqlite(Path(sys.argv[1]), Path(sys.argv[2]))")


def build_sqlite(path: Path, rows: int, blobs: int, seed: int = 18) -> None:
    """sql_import.load's tables and rows, in SQLite, plus a note per entry."""
    rnd = random.Random(seed)
    con = sqlite3.connect(path)
    con.executescript("""
        PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;
        CREATE TABLE pasient (pas_id TEXT PRIMARY KEY, navn VARCHAR(40), kjonn VARCHAR(1));
        CREATE TABLE journal (journal_id TEXT PRIMARY KEY, pas_id VARCHAR(12), enhet VARCHAR(20),
                              ansvarlig VARCHAR(20), opprettet TIMESTAMP, avsluttet TIMESTAMP);
        CREATE TABLE notat (notat_id VARCHAR(12), journal_id VARCHAR(12), tittel VARCHAR(40), forfatter VARCHAR(20),
                            skrevet TIMESTAMP, tekst TEXT, PRIMARY KEY (journal_id, notat_id));
        CREATE TABLE skanning (skann_id INTEGER PRIMARY KEY, notat_id VARCHAR(12), data BLOB);
    """)
    patients = max(1, rows // 10)
    con.executemany("INSERT INTO pasient VALUES (?, ?, ?)", ((f"P{i}", f"Navn {i}", "MK"[i % 2])
                                                             for i in range(patients)))
    con.executemany("INSERT INTO journal VALUES (?, ?, ?, ?, ?, ?)",
                    ((f"J{i}", f"P{i}", "Helse", "lege", "2001-01-01 08:00:00", "2020-01-01 08:00:00")
                     for i in range(patients)))
    words = "pasienten klager over smerter i ryggen følges opp av fastlege kontroll om to uker".split()

    def notes():
        for i in range(rows):
            n = 400 if i % 20 == 0 else rnd.randint(5, 40)  # every 20th note is long (> 4000 bytes: a CLOB file)
            yield (f"N{i}", f"J{i % patients}", f"Notat {i}", "lege", "2005-01-01 08:00:00",
                   " ".join(rnd.choice(words) for _ in range(n)))
    con.executemany("INSERT INTO notat VALUES (?, ?, ?, ?, ?, ?)", notes())
    for j in range(blobs):
        size = rnd.randint(20_000, 200_000)
        con.execute("INSERT INTO skanning VALUES (?, ?, ?)",
                    (j, f"N{(j * 7) % max(rows, 1)}", b"%PDF-1.4\n" + rnd.randbytes(size)))
        if j % 1000 == 0:
            con.commit()
    con.commit()
    con.close()


def _timed(cmd: list[str], cwd: Path | None = None) -> tuple[float, float, float]:
    """Wall seconds, the child's peak RSS in MB and its CPU seconds (user + system)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd)
    _, status, usage = os.wait4(proc.pid, 0)
    secs = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{cmd[0]} failed")
    return secs, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def _load_avg() -> str:
    return "/".join(f"{x:.1f}" for x in os.getloadavg())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000, help="journal entries")
    ap.add_argument("--blobs", type=int, default=100_000, help="scans of 20-200 KB")
    ap.add_argument("--work", type=Path, default=Path("/tmp/siard-bench"),
                    help="the archive is built here once (and kept: remove the folder after)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-load-only", action="store_true", help="time the whole import only")
    ap.add_argument("--settle", type=float, default=65, metavar="SECONDS",
                    help="after removing a side's files: wait this long before the next side (sql_import.settle)")
    a = ap.parse_args()
    a.work.mkdir(parents=True, exist_ok=True)
    siard = (a.work / f"source-{a.rows}-{a.blobs}.siard").resolve()
    if not siard.exists():
        db = a.work / "source.sqlite"
        db.unlink(missing_ok=True)
        t0 = time.perf_counter()
        build_sqlite(db, a.rows, a.blobs)
        subprocess.run([sys.executable, str(ROOT / "examples/legacydb/make_siard.py"), str(db), str(siard) + ".tmp",
                        "--archival-date", date(2026, 12, 1).isoformat()], check=True)
        os.replace(str(siard) + ".tmp", siard)
        db.unlink()
        print(f"built {siard} ({siard.stat().st_size / 1e6:.0f} MB, {a.rows} entries, {a.blobs} BLOBs) "
              f"in {time.perf_counter() - t0:.0f} s", flush=True)
    scratch = a.work / "scratch"  # every side's output; emptied (and settled) before each side
    scratch.mkdir(exist_ok=True)
    rounds = []
    for _ in range(a.repeat):
        settle(scratch, a.settle)
        subprocess.run(["sync"])
        unzip = _timed(["unzip", "-q", str(siard), "-d", str(scratch / "unzipped")])
        settle(scratch, a.settle)
        project = scratch / "project"
        project.mkdir()
        (project / "noarkpack.toml").write_text(TOML.format(siard=siard), encoding="utf-8")
        subprocess.run(["sync"])
        imp = run_noarkpack(project)
        line = (f"unzip {unzip[0]:.1f} s (CPU {unzip[2]:.1f} s, {unzip[1]:.0f} MB)  "
                f"import {imp[0]:.1f} s (CPU {imp[2]:.1f} s, {imp[1]:.0f} MB) ratio {imp[0] / unzip[0]:.2f}")
        load = None
        if not a.no_load_only:
            settle(scratch, a.settle)
            subprocess.run(["sync"])
            (scratch / "load").mkdir()
            load = _timed([sys.executable, "-c", _LOAD, str(siard), str(scratch / "load" / "loaded.sqlite")], cwd=ROOT)
            line += (f"  load_into_sqlite {load[0]:.1f} s (CPU {load[2]:.1f} s, {load[1]:.0f} MB) "
                     f"ratio {load[0] / unzip[0]:.2f}")
        rounds.append((unzip, imp, load))
        print(f"{line}  load average {_load_avg()}", flush=True)
    settle(scratch, 0)
    if not rounds:  # --repeat 0: the archive built only
        return
    best_unzip = min(r[0][0] for r in rounds)
    for label, i in (("import", 1), ("load_into_sqlite", 2)):
        runs = [(r[0], r[i]) for r in rounds if r[i] is not None]
        if not runs:
            continue
        best = min(x[1][0] for x in runs)
        print(f"{label}: fastest {best:.1f} s vs unzip {best_unzip:.1f} s, ratio {best / best_unzip:.2f}; "
              f"median of rounds {statistics.median(x[1][0] / x[0][0] for x in runs):.2f}; "
              f"CPU {min(x[1][2] for x in runs):.1f} s vs unzip {min(x[0][2] for x in runs):.1f} s; "
              f"peak RSS {max(x[1][1] for x in runs):.0f} MB (unzip {max(x[0][1] for x in runs):.0f} MB); "
              f"{a.rows} entries, {a.blobs} BLOBs, {siard.stat().st_size / 1e9:.2f} GB; load average {_load_avg()}",
              flush=True)


if __name__ == "__main__":
    main()
