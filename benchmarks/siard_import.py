"""Benchmark: load a SIARD archive into SQLite (noarkpack.sources.siard.load_into_sqlite) vs `unzip` of it.

    .venv/bin/python benchmarks/siard_import.py --rows 1000000 --blobs 100000 --work /tmp/siard-bench

Issue 18, figures: "the same from a SIARD file of that database: time vs `unzip` of the archive (ratio <= 2),
peak RSS <= 300 MB".  The archive is built once (untimed) with examples/legacydb/make_siard.py from a SQLite
database of ``--rows`` journal entries (a short note each, 1 in 20 long enough to be a CLOB file) and
``--blobs`` scanned pages of 20-200 KB (incompressible bytes, as PDF/TIFF scans are; files inside the ZIP with
length and MD5).  Then, in turns (``--repeat`` pairs): ``unzip -q`` of the archive into an empty folder, and
``load_into_sqlite`` in a child process (every LOB read, checked against length and MD5, written as a BLOB).
Reported: fastest wall time of each, the ratio, the median ratio of the pairs, and each side's peak RSS
(``ru_maxrss`` of the child, from wait4).
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

_LOAD = ("import sys; from pathlib import Path; from noarkpack.sources.siard import load_into_sqlite; "
         "load_into_sqlite(Path(sys.argv[1]), Path(sys.argv[2]))")


def build_sqlite(path: Path, rows: int, blobs: int, seed: int = 18) -> None:
    rnd = random.Random(seed)
    con = sqlite3.connect(path)
    con.executescript("""
        CREATE TABLE innslag (id INTEGER PRIMARY KEY, journal_id INTEGER NOT NULL, dato DATE, kode VARCHAR(8),
                              notat TEXT);
        CREATE TABLE skann (id INTEGER PRIMARY KEY, innslag_id INTEGER NOT NULL, side INTEGER, bilde BLOB);
    """)
    words = "pasienten klager over smerter i ryggen følges opp av fastlege kontroll om to uker".split()
    batch = []
    for i in range(1, rows + 1):
        n = 400 if i % 20 == 0 else rnd.randint(5, 40)  # every 20th note is long (> 4000 bytes: a CLOB file)
        note = " ".join(rnd.choice(words) for _ in range(n))
        batch.append((i, i // 20 + 1, f"20{i % 24:02d}-{i % 12 + 1:02d}-{i % 28 + 1:02d}", f"K{i % 97}", note))
        if len(batch) == 10_000:
            con.executemany("INSERT INTO innslag VALUES (?, ?, ?, ?, ?)", batch)
            batch.clear()
    con.executemany("INSERT INTO innslag VALUES (?, ?, ?, ?, ?)", batch)
    for j in range(1, blobs + 1):
        size = rnd.randint(20_000, 200_000)
        con.execute("INSERT INTO skann VALUES (?, ?, ?, ?)", (j, rnd.randint(1, max(rows, 1)), 1, rnd.randbytes(size)))
        if j % 1000 == 0:
            con.commit()
    con.commit()
    con.close()


def _timed(cmd: list[str]) -> tuple[float, float, float]:
    """Wall seconds, the child's peak RSS in MB and its CPU seconds (user + system)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd)
    _, status, usage = os.wait4(proc.pid, 0)
    secs = time.perf_counter() - t0
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{cmd[0]} failed")
    return secs, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--blobs", type=int, default=100_000)
    ap.add_argument("--work", type=Path, default=Path("/tmp/siard-bench"))
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    a.work.mkdir(parents=True, exist_ok=True)
    db, siard = a.work / "source.sqlite", a.work / "source.siard"
    if not siard.exists():
        db.unlink(missing_ok=True)
        t0 = time.perf_counter()
        build_sqlite(db, a.rows, a.blobs)
        subprocess.run([sys.executable, str(ROOT / "examples/legacydb/make_siard.py"), str(db), str(siard),
                        "--archival-date", date(2026, 12, 1).isoformat()], check=True)
        print(f"built {siard} ({siard.stat().st_size / 1e6:.0f} MB, {a.rows} rows, {a.blobs} BLOBs) "
              f"in {time.perf_counter() - t0:.0f} s", flush=True)
    pairs = []
    for _ in range(a.repeat):
        out_dir, out_db = a.work / "unzipped", a.work / "loaded.sqlite"
        shutil.rmtree(out_dir, ignore_errors=True)
        out_db.unlink(missing_ok=True)
        subprocess.run(["sync"])
        unzip = _timed(["unzip", "-q", str(siard), "-d", str(out_dir)])
        subprocess.run(["sync"])
        load = _timed([sys.executable, "-c", _LOAD, str(siard), str(out_db)])
        pairs.append((unzip, load))
        print(f"unzip {unzip[0]:.1f} s ({unzip[1]:.0f} MB, CPU {unzip[2]:.1f} s)  load_into_sqlite {load[0]:.1f} s "
              f"({load[1]:.0f} MB, CPU {load[2]:.1f} s)  ratio {load[0] / unzip[0]:.2f}  "
              f"load average {'/'.join(f'{x:.1f}' for x in os.getloadavg())}", flush=True)
    best_unzip = min(p[0][0] for p in pairs)
    best_load = min(p[1][0] for p in pairs)
    print(f"fastest: unzip {best_unzip:.1f} s, load_into_sqlite {best_load:.1f} s, ratio {best_load / best_unzip:.2f}; "
          f"median of pairs {statistics.median(p[1][0] / p[0][0] for p in pairs):.2f}; "
          f"peak RSS load {max(p[1][1] for p in pairs):.0f} MB, unzip {max(p[0][1] for p in pairs):.0f} MB")


if __name__ == "__main__":
    main()
