"""Benchmark (issue 19): the extract's two floors, side by side in one run.

    .venv/bin/python benchmarks/issue19.py [--journals 1000] [--repeat 3] [--work /tmp/np-issue19] [--json F]

On a project of benchmarks/synth.py (every document archival: nothing to convert), in turns as
benchmarks/run.py does (each stage right after its own baseline, ``--repeat`` rounds, after ``sync``):

1. **Siegfried alone** on the same documents on both cores: one process that loads pygfried and calls
   ``pygfried.identify_many(paths, workers=2)`` on every document (the list made untimed beforehand);
   then Siegfried as the prepass runs it, two processes of one worker each on alternate batches of 128
   (it keeps both cores busy where Siegfried's own two workers keep 1.35: the stricter floor, shown beside);
   then **extract, cold** (no identification store: the prepass child identifies while the parent writes).
   Target: cold extract ≤ 1.3× Siegfried alone.
2. ``cp -r`` of the documents + ``sha256sum`` of the copies, then **extract after ``noarkpack analyse``**
   (the analysis, untimed here, identified every document into the project's store).  Target ≤ 1.5×.

Each ratio is given fastest to fastest and as the median of the pairs (each stage run over the baseline run
just before it, the fairer figure on a shared VM).  The Dask comparison (two local workers vs one) is
benchmarks/conversion_pool.py ``--dask-only``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

import run as bench  # noqa: E402

SIEGFRIED = ("import json, sys, pygfried; paths = json.load(open(sys.argv[1])); "
             "r = pygfried.identify_many(paths, workers=2); assert len(r['files']) == len(paths)")
#: Siegfried as the prepass child runs it: two processes of one worker each, on alternate batches of 128
SIEGFRIED_HALF = ("import json, sys, pygfried; paths = json.load(open(sys.argv[1])); k = int(sys.argv[2]); "
                  "mine = [p for i, p in enumerate(paths) if i // 128 % 2 == k]; "
                  "n = sum(len(pygfried.identify_many(mine[i:i + 128], workers=1)['files']) "
                  "for i in range(0, len(mine), 128)); assert n == len(mine)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--journals", type=int, default=1000)
    ap.add_argument("--entries-per-journal", type=int, default=20)
    ap.add_argument("--doc-kb", type=int, default=32)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--work", type=Path, default=Path("/tmp/np-issue19"))
    ap.add_argument("--json", type=Path, default=None)
    a = ap.parse_args()
    bench.REPEAT = max(1, a.repeat)
    from synth import generate

    base = a.work / f"j{a.journals}"
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    project = base / "project"
    generate(a.journals, project, a.entries_per_journal, a.doc_kb)
    docs = sorted(str(p) for p in (project / "dokumenter").rglob("*") if p.is_file())
    size = sum(os.stat(p).st_size for p in docs)
    listing = base / "paths.json"
    listing.write_text(json.dumps(docs), encoding="utf-8")
    store = project / ".noarkpack" / "identification.sqlite"
    copy = base / "cp-copy"
    out = base / "x"

    def forget() -> None:
        shutil.rmtree(out, ignore_errors=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{store}{suffix}").unlink(missing_ok=True)

    extract = [bench.NOARKPACK, "--quiet", "extract", str(project), "--out", str(out)]
    load_before = os.getloadavg()[0]
    cold = bench.interleaved([
        ("siegfried", [sys.executable, "-c", SIEGFRIED, str(listing)], {}),
        ("siegfried, 2 processes", ["sh", "-c", '"$0" -c "$1" "$2" 0 & "$0" -c "$1" "$2" 1; wait',
                                    sys.executable, SIEGFRIED_HALF, str(listing)], {}),
        ("extract (cold)", extract, {"before": forget}),
    ])
    forget()
    subprocess.run([bench.NOARKPACK, "--quiet", "analyse", str(project), "--json", str(base / "analysis.json")],
                   check=False, stdout=subprocess.DEVNULL)
    warm = bench.interleaved([
        ("cp -r", ["cp", "-r", str(project / "dokumenter"), str(copy)],
         {"before": lambda: shutil.rmtree(copy, ignore_errors=True)}),
        ("sha256sum", ["sh", "-c", "find . -type f -print0 | xargs -0 sha256sum > /dev/null"], {"cwd": copy}),
        ("extract (after analyse)", extract, {"before": lambda: shutil.rmtree(out, ignore_errors=True)}),
    ])
    shutil.rmtree(copy, ignore_errors=True)

    def ratio(stage: dict, *floor: dict) -> str:
        pairs = bench.pair_ratios(stage, *floor)
        fastest = stage["seconds"] / sum(f["seconds"] for f in floor)
        return f"{fastest:.2f}× / **{statistics.median(pairs):.2f}×** ({min(pairs):.2f}–{max(pairs):.2f})"

    load_after = os.getloadavg()[0]
    lines = [f"{a.journals} journals: {len(docs):,} documents ({size / 1e6:,.0f} MB); {os.cpu_count()} cores; "
             f"load average before {load_before:.1f}, after {load_after:.1f}; {bench.REPEAT} rounds",
             "", "| case | fastest | all runs (s) | CPU user+sys, all runs (s) | peak RSS, process tree |",
             "|---|---|---|---|---|"]
    for name, m in [*cold.items(), *warm.items()]:
        lines.append(f"| {name} | {m['seconds']:.2f} s | {', '.join(f'{s:.2f}' for s in m['all_seconds'])} | "
                     f"{', '.join(f'{s:.2f}' for s in m['all_cpu_seconds'])} | {m['tree_mb']:.0f} MB |")
    lines += ["", "ratio, fastest to fastest / **median of pairs** (range):",
              f"- extract cold / Siegfried alone (target ≤ 1.3×): {ratio(cold['extract (cold)'], cold['siegfried'])}",
              f"- extract cold / Siegfried alone in two processes (the prepass's way; no target): "
              f"{ratio(cold['extract (cold)'], cold['siegfried, 2 processes'])}",
              f"- extract after analyse / cp -r + sha256sum (target ≤ 1.5×): "
              f"{ratio(warm['extract (after analyse)'], warm['cp -r'], warm['sha256sum'])}"]
    print("\n".join(lines))
    if a.json:
        a.json.write_text(json.dumps({"cold": cold, "warm": warm}, indent=1, default=str), encoding="utf-8")
    shutil.rmtree(a.work, ignore_errors=True)


if __name__ == "__main__":
    main()
