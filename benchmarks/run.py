"""Stage benchmark: extract, validate, package and verify on synthetic projects of growing size.

    .venv/bin/python benchmarks/run.py [--journals 200,2000] [--doc-kb 32] [--xml-mb 200] [--work /tmp/npbench]
                                       [--json results.json] [--keep]

For each size, benchmarks/synth.py writes a project; then every stage runs as the command line does, each in
its own child process (``noarkpack --quiet …``), and is measured from outside: wall time, peak RSS of the
largest process of the stage (``ru_maxrss`` from ``wait4``), and the peak of the RSS summed over the stage's
process tree (sampled from /proc every 20 ms: the stage's helper processes count).  Same-run baselines:

* ``cp -r`` of the document folder, then ``sha256sum`` of every document (the "copy + hash" floor of extract);
* ``xmllint --noout --stream --schema arkivstruktur.xsd arkivstruktur.xml`` (the floor of validate).

``--xml-mb`` adds the case the validate target is defined on: an extract whose arkivstruktur.xml is about
that many MB (benchmarks/validate_memory.py's generator: documents on paper, so the pass is XML only),
validated by ``noarkpack validate`` next to xmllint.

Every measured command runs ``--repeat`` times (default 3), each time after ``sync`` (so no run pays for the
previous one's write-back) and with its output removed first (outside the timing); the table shows the
fastest run's wall time and the highest peak RSS of all runs.  A stage and its baseline run in turns
(baseline, stage, baseline, stage, ...), and the table gives two ratios: fastest to fastest, and the median
of the ratios of each stage run to the baseline run just before it.  Timings on a shared VM vary from run
to run (xmllint on one file: 1.8-3.9 s within minutes; file creation stalls by up to 10× at times), and the
fastest runs of two commands may fall in different phases of the host's load; the pairs compare the two
under the same load.

Extract is measured twice: **cold** (no identification store: the prepass child identifies every document
while the parent copies and writes) and **after analyse** (``noarkpack analyse`` has identified the
documents into PROJECT/.noarkpack/identification.sqlite, as in the normal workflow: import → analyse →
extract).  The analysis itself is timed as its own stage.  Each extract has its own baseline run right
before it (cp -r, sha256sum, extract cold; analyse; cp -r, sha256sum, extract), so that no other stage
runs between a pair's two halves.

Nothing here is a test: figures go in docs/performance.md.  The page cache is warm in every stage (the files
were just written or read); the machine is whatever runs this (the figures in the docs say which).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
BIN = Path(sys.executable).parent
NOARKPACK = str(BIN / "noarkpack")


def _tree(pid: int) -> list[int]:
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    todo.extend(int(c) for c in f.read().split())
        except OSError:
            pass
    return out


def _rss_kb(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


REPEAT = 3


def measure(cmd: list[str], *, ok=(0,), cwd: Path | None = None, before=None) -> dict:
    """Best of REPEAT runs of ``cmd``: fastest wall time, highest peak RSS; ``before()`` runs untimed first."""
    return interleaved([("", cmd, {"ok": ok, "cwd": cwd, "before": before})])[""]


def interleaved(specs: list[tuple[str, list[str], dict]]) -> dict[str, dict]:
    """REPEAT rounds of the commands of ``specs`` (name, command, options of :func:`measure`) in turn.

    Each command's figures as :func:`measure` gives them; ``all_seconds`` keeps every run in round order,
    so a stage's run can be set against the baseline run of the same round (:func:`pair_ratios`).
    """
    runs: dict[str, list[dict]] = {name: [] for name, _, _ in specs}
    for _ in range(REPEAT):
        for name, cmd, opts in specs:
            if opts.get("before") is not None:
                opts["before"]()
            os.sync()
            runs[name].append(measure_once(cmd, ok=opts.get("ok", (0,)), cwd=opts.get("cwd")))
    out = {}
    for name, rs in runs.items():
        best = min(rs, key=lambda m: m["seconds"])
        out[name] = {**best, "maxrss_mb": max(m["maxrss_mb"] for m in rs), "tree_mb": max(m["tree_mb"] for m in rs),
                     "all_seconds": [round(m["seconds"], 3) for m in rs],
                     "all_cpu_seconds": [round(m["cpu_seconds"], 3) for m in rs]}
    return out


def pair_ratios(stage: dict, *baselines: dict) -> list[float]:
    """Each run of ``stage`` over the sum of the ``baselines``' runs of the same round."""
    rounds = zip(stage["all_seconds"], *(b["all_seconds"] for b in baselines))
    return [s / sum(base) for s, *base in rounds]


def measure_once(cmd: list[str], *, ok=(0,), cwd: Path | None = None) -> dict:
    """Run ``cmd``; wall seconds, max RSS of one process (MB), peak RSS of the process tree (MB)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=cwd)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            total = sum(_rss_kb(p) for p in _tree(proc.pid))
            peak[0] = max(peak[0], total)
            done.wait(0.02)

    t = threading.Thread(target=sample, daemon=True)
    t.start()
    output = proc.stdout.read()
    _, status, ru = os.wait4(proc.pid, 0)
    secs = time.perf_counter() - t0
    done.set()
    t.join()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode not in ok:
        sys.stderr.write(output.decode("utf-8", "replace")[-3000:])
        raise SystemExit(f"failed ({proc.returncode}): {' '.join(cmd)}")
    return {"seconds": secs, "maxrss_mb": ru.ru_maxrss / 1024, "tree_mb": peak[0] / 1024,
            # user+sys of the process and of the children it waited for (helper processes)
            "cpu_seconds": ru.ru_utime + ru.ru_stime, "output": output.decode("utf-8", "replace")}


def dir_bytes(path: Path) -> tuple[int, int]:
    n = size = 0
    for dirpath, _, files in os.walk(path):
        for f in files:
            n += 1
            size += os.stat(os.path.join(dirpath, f)).st_size
    return n, size


def run_size(journals: int, doc_kb: int, work: Path, entries: int) -> dict:
    from synth import generate

    base = work / f"j{journals}"
    shutil.rmtree(base, ignore_errors=True)
    base.mkdir(parents=True)
    project = base / "project"
    t = time.perf_counter()
    stats = generate(journals, project, entries, doc_kb)
    synth_s = time.perf_counter() - t
    n_docs, doc_bytes = dir_bytes(project / "dokumenter")
    res: dict = {"journals": journals, "doc_kb": doc_kb, "entries": stats["entries"], "documents": n_docs,
                 "document_bytes": doc_bytes, "synth_seconds": synth_s, "stages": {}}
    st = res["stages"]
    # baselines: cp -r + sha256sum of the documents
    copy = base / "cp-copy"
    store = project / ".noarkpack" / "identification.sqlite"

    def forget() -> None:
        shutil.rmtree(base / "x", ignore_errors=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{store}{suffix}").unlink(missing_ok=True)

    extract = [NOARKPACK, "--quiet", "extract", str(project), "--out", str(base / "x")]
    cp = ["cp", "-r", str(project / "dokumenter"), str(copy)]
    sha = ["sh", "-c", "find . -type f -print0 | xargs -0 sha256sum > /dev/null"]
    # Each extract runs right after its own baseline (cp -r, then sha256sum), so that a pair shares the
    # phase of the host's file system: on this VM a small cp -r takes 0.16 s in one phase and 2.5 s in the
    # next, seconds apart.
    st.update(interleaved([
        ("cp -r", cp, {"before": lambda: shutil.rmtree(copy, ignore_errors=True)}),
        ("sha256sum", sha, {"cwd": copy}),
        # extract, cold: nothing identified yet (the prepass child identifies while the parent writes)
        ("extract (cold)", extract, {"before": forget}),
        # the normal workflow: analyse (identifies every document into the project's store), then extract
        ("analyse", [NOARKPACK, "--quiet", "analyse", str(project), "--json", str(base / "analysis.json")],
         {"before": forget, "ok": (0, 1)}),  # 1: a blocking finding (the figures are still valid)
        ("cp -r, before extract", cp, {"before": lambda: shutil.rmtree(copy, ignore_errors=True)}),
        ("sha256sum, before extract", sha, {"cwd": copy}),
        ("extract", extract, {"before": lambda: shutil.rmtree(base / "x", ignore_errors=True)}),
    ]))
    shutil.rmtree(copy)
    ext = base / "x" / "avleveringspakke"
    as_xml = ext / "arkivstruktur.xml"
    res["arkivstruktur_bytes"] = as_xml.stat().st_size
    res["extract_bytes"] = dir_bytes(ext)[1]
    # baseline: xmllint streaming XSD validation
    st.update(interleaved([
        ("xmllint", ["xmllint", "--noout", "--stream", "--schema", str(ext / "arkivstruktur.xsd"), str(as_xml)], {}),
        ("validate", [NOARKPACK, "--quiet", "validate", str(ext)], {"ok": (0, 1)}),
        ("validate --no-identify", [NOARKPACK, "--quiet", "validate", "--no-identify", str(ext)], {"ok": (0, 1)}),
    ]))
    # package the extract (validates first, then writes the tar) and verify the tar (fixity + content)
    st["package"] = measure([NOARKPACK, "--quiet", "package", str(ext), "--profile", "arkivverket-sip",
                             "--metadata", str(project / "noarkpack.toml"), "--out", str(base / "pkg")],
                            before=lambda: shutil.rmtree(base / "pkg", ignore_errors=True))
    tars = sorted((base / "pkg").glob("*.tar"))
    res["tar_bytes"] = tars[0].stat().st_size
    st["verify"] = measure([NOARKPACK, "--quiet", "verify", str(tars[0])], ok=(0, 1))
    return res


def run_xml(size_mb: int, work: Path) -> dict:
    from validate_memory import generate

    from noarkpack.schemas import default_store

    folder = work / f"xml{size_mb}"
    shutil.rmtree(folder, ignore_errors=True)
    n, size = generate(folder, size_mb, default_store().set_dir("noark5-v5.0"))
    res = {"xml_mb": size_mb, "mappe": n, "registrering": 2 * n, "arkivstruktur_bytes": size, "stages": {}}
    st = res["stages"]
    st.update(interleaved([
        ("xmllint", ["xmllint", "--noout", "--stream", "--schema", str(folder / "arkivstruktur.xsd"),
                     str(folder / "arkivstruktur.xml")], {}),
        ("validate", [NOARKPACK, "--quiet", "validate", str(folder)], {"ok": (0, 1)}),
    ]))
    return res


def _row(name: str, m: dict, mb: float | None, records: int | None, base: float | None,
         pairs: list[float] | None = None) -> str:
    s = m["seconds"]
    thr = f"{mb / s:,.0f} MB/s" if mb else ""
    rec = f"{records / s:,.0f}/s" if records else ""
    ratio = f"{s / base:.2f}×" if base else ""
    paired = ""
    if pairs:
        paired = f"{statistics.median(pairs):.2f}× ({min(pairs):.2f}–{max(pairs):.2f})"
    return (f"| {name} | {s:.2f} s | {thr} | {rec} | {m['maxrss_mb']:.0f} MB | {m['tree_mb']:.0f} MB | {ratio} | "
            f"{paired} |")


HEADER = ("| stage | wall | throughput | records/s | peak RSS (largest process) | peak RSS (process tree) | "
          "ratio, fastest to fastest | ratio, median of pairs (range) |\n|---|---|---|---|---|---|---|---|")


def report(results: list[dict]) -> str:
    lines = []
    for r in results:
        st = r["stages"]
        if "journals" in r:
            docs_mb = r["document_bytes"] / 1e6
            xml_mb = r["arkivstruktur_bytes"] / 1e6
            ext_mb = r["extract_bytes"] / 1e6
            # the fastest baseline of all rounds (each stage's pairs use the baseline run just before it)
            cp_best = min(st[k]["seconds"] for k in ("cp -r", "cp -r, before extract") if k in st)
            sha_best = min(st[k]["seconds"] for k in ("sha256sum", "sha256sum, before extract") if k in st)
            floor = cp_best + sha_best
            lines.append(f"\n### {r['journals']} journals × {r['entries'] // r['journals']} entries, doc-kb "
                         f"{r['doc_kb']}: {r['documents']} documents ({docs_mb:,.0f} MB), arkivstruktur.xml "
                         f"{xml_mb:,.0f} MB, extract {ext_mb:,.0f} MB\n")
            lines.append(HEADER)
            cp_sha = (st["cp -r"], st["sha256sum"])
            cp_sha_2 = (st["cp -r, before extract"], st["sha256sum, before extract"]) if "cp -r, before extract" in st \
                else cp_sha  # figures of a run before the second baseline
            for label, m in (("cp -r documents", st["cp -r"]), ("sha256sum documents", st["sha256sum"]),
                             ("cp -r documents (before extract)", cp_sha_2[0]),
                             ("sha256sum documents (before extract)", cp_sha_2[1])):
                if label.endswith("(before extract)") and cp_sha_2 is cp_sha:
                    continue
                lines.append(_row(label, m, docs_mb, r["documents"], None))
            lines.append(f"| **baseline: cp -r + sha256sum** (fastest) | {floor:.2f} s | {docs_mb / floor:,.0f} MB/s "
                         "| | | | 1× | |")
            lines.append(_row("extract, cold (identifies too)", st["extract (cold)"], ext_mb, r["entries"], floor,
                              pair_ratios(st["extract (cold)"], *cp_sha)))
            lines.append(_row("analyse (identifies every document)", st["analyse"], docs_mb, r["entries"], None))
            lines.append(_row("**extract** (after analyse)", st["extract"], ext_mb, r["entries"], floor,
                              pair_ratios(st["extract"], *cp_sha_2)))
            lines.append(_row("**baseline: xmllint --stream --schema**", st["xmllint"], xml_mb, r["entries"], None))
            lines.append(_row("**validate** (all tests)", st["validate"], xml_mb + docs_mb, r["entries"],
                              st["xmllint"]["seconds"], pair_ratios(st["validate"], st["xmllint"])))
            lines.append(_row("validate --no-identify", st["validate --no-identify"], xml_mb + docs_mb, r["entries"],
                              st["xmllint"]["seconds"], pair_ratios(st["validate --no-identify"], st["xmllint"])))
            lines.append(_row("package (validate + tar)", st["package"], r["tar_bytes"] / 1e6, r["entries"], floor))
            lines.append(_row("verify (fixity + validate)", st["verify"], r["tar_bytes"] / 1e6, r["entries"], floor))
        else:
            xml_mb = r["arkivstruktur_bytes"] / 1e6
            lines.append(f"\n### arkivstruktur.xml {xml_mb:,.0f} MB ({r['mappe']:,} mappe, {r['registrering']:,} "
                         "registrering, documents on paper)\n")
            lines.append(HEADER)
            lines.append(_row("**baseline: xmllint --stream --schema**", st["xmllint"], xml_mb, r["registrering"], None))
            lines.append(_row("**validate** (all tests)", st["validate"], xml_mb, r["registrering"],
                              st["xmllint"]["seconds"], pair_ratios(st["validate"], st["xmllint"])))
    sized = [r for r in results if "journals" in r]
    if len(sized) >= 2:
        a, b = sized[0], sized[-1]
        k = b["journals"] / a["journals"]
        lines.append(f"\nScaling {a['journals']} → {b['journals']} journals ({k:.0f}×):")
        for name in ("extract (cold)", "extract", "validate", "package", "verify"):
            ta, tb = a["stages"][name]["seconds"], b["stages"][name]["seconds"]
            ra, rb = a["stages"][name]["tree_mb"], b["stages"][name]["tree_mb"]
            lines.append(f"- {name}: time ×{tb / ta:.1f}, peak RSS (tree) ×{rb / ra:.2f} ({ra:.0f} → {rb:.0f} MB)")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--journals", default="200,2000", help="comma-separated sizes (default 200,2000)")
    ap.add_argument("--entries-per-journal", type=int, default=20)
    ap.add_argument("--doc-kb", type=int, default=32)
    ap.add_argument("--xml-mb", type=int, default=200, help="size of the XML-only validate case (0: skip)")
    ap.add_argument("--work", type=Path, default=Path("/tmp/noarkpack-bench"))
    ap.add_argument("--json", type=Path, default=None, help="also write the raw figures here")
    ap.add_argument("--keep", action="store_true", help="keep the work folder")
    ap.add_argument("--repeat", type=int, default=3, help="runs per measured command (the fastest is shown)")
    a = ap.parse_args()
    global REPEAT
    REPEAT = max(1, a.repeat)
    a.work.mkdir(parents=True, exist_ok=True)
    results = []
    for n in [int(x) for x in a.journals.split(",") if x]:
        results.append(run_size(n, a.doc_kb, a.work, a.entries_per_journal))
        print(report(results[-1:]), flush=True)
    if a.xml_mb:
        results.append(run_xml(a.xml_mb, a.work))
        print(report(results[-1:]), flush=True)
    print(f"\nmachine: {os.cpu_count()} cores; python {sys.version.split()[0]}")
    print(report(results))
    if a.json:
        for r in results:
            for m in r["stages"].values():
                m.pop("output", None)
        a.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    if not a.keep:
        shutil.rmtree(a.work, ignore_errors=True)


if __name__ == "__main__":
    main()
