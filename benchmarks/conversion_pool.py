"""Benchmark (issue 19): documents per minute, one LibreOffice per file vs the pool fed batches, same run.

    .venv/bin/python benchmarks/conversion_pool.py [--notes 24] [--scans 6] [--workers 2] [--dask] [--repeat 1]

Makes, on the spot, small office notes (RTF and Word 97 .doc, 1-10 KB) and scanned pages (TIFF, BMP and
GIF, 1000 x 1400 pixels), converts each group into a fresh conversion cache twice — one soffice process
per document (the conversion of issue 7: ConversionCache.convert in ``workers`` threads) and the pool
(noarkpack.conversion.convert_all: one LibreOffice instance per worker, batches of 32) — and prints
documents per minute, the speed-up, seconds per document per format (one worker's, as ``rates.json``
keeps them) and the peak RSS of one LibreOffice instance of the pool.  ``--dask``: the notes on a Dask
LocalCluster of one worker process, then two, each of one thread (so one LibreOffice instance: noarkpack convert
--scheduler; ``--batch`` documents a task, 32 by default as in noarkpack convert), the speed-up of two
(``--dask-only``: that alone).  A task's LibreOffice start costs about as much as converting 32 notes, so compare
cases with as many tasks each (printed): ``--notes 256`` makes 8 tasks of 32 for one worker and for two; at other
counts ``split_even`` may give one worker fewer, larger tasks than two (it rounds the tasks up to a multiple of the
workers), which favours the one.
Each mode runs in a child process, so that its peak RSS is its own.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from noarkpack.conversion import ConversionCache, convert_all  # noqa: E402
from noarkpack.conversion.pool import BATCH_SIZE  # noqa: E402
from noarkpack.documents import identify  # noqa: E402

NOTE = (r"{\rtf1\ansi\deff0 {\fonttbl {\f0 Times New Roman;}}\f0\fs24 Journalnotat {n}. "
        r"Pasienten er i god form, {text}\par }")


def _bmp_bytes(w: int, h: int, seed: int) -> tuple[bytes, bytes]:
    pad = (4 - (w * 3) % 4) % 4
    row = bytes((x * 7 + seed) % 256 for x in range(w * 3)) + b"\0" * pad
    pixels = b"".join(row[y % 7:] + row[:y % 7] for y in range(h))
    return pixels, row


def bmp(path: Path, w: int, h: int, seed: int) -> None:
    pixels, _ = _bmp_bytes(w, h, seed)
    header = struct.pack("<2sIHHI", b"BM", 54 + len(pixels), 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, len(pixels), 2835, 2835, 0, 0)
    path.write_bytes(header + info + pixels)


def tiff(path: Path, w: int, h: int, seed: int) -> None:
    """An uncompressed 8-bit greyscale baseline TIFF (a scanned page)."""
    pixels = b"".join(bytes((x * 3 + y + seed) % 256 for x in range(w)) for y in range(h))
    entries = [(256, 4, 1, w), (257, 4, 1, h), (258, 3, 1, 8), (259, 3, 1, 1), (262, 3, 1, 1),
               (273, 4, 1, 8), (277, 3, 1, 1), (278, 4, 1, h), (279, 4, 1, len(pixels))]
    ifd = struct.pack("<H", len(entries)) + b"".join(
        struct.pack("<HHI", tag, typ, cnt) + (struct.pack("<HH", val, 0) if typ == 3 else struct.pack("<I", val))
        for tag, typ, cnt, val in entries) + struct.pack("<I", 0)
    path.write_bytes(b"II*\0" + struct.pack("<I", 8 + len(pixels)) + pixels + ifd)


def make_samples(folder: Path, notes: int, scans: int, pdfs: int = 0) -> dict[str, list[Path]]:
    folder.mkdir(parents=True, exist_ok=True)
    lo = ["soffice", "--headless", f"-env:UserInstallation={(folder / '.lo').as_uri()}"]
    rtf = []
    for n in range(notes):
        p = folder / f"notat{n:04d}.rtf"
        p.write_text(NOTE.replace("{n}", str(n)).replace("{text}", "lorem ipsum dolor sit amet. " * (5 + n % 30)),
                     encoding="ascii")
        rtf.append(p)
    half = rtf[notes // 2:]
    if half:
        subprocess.run([*lo, "--convert-to", "doc", "--outdir", str(folder / "doc"), *map(str, half)],
                       check=True, capture_output=True, timeout=600)
    docs = sorted((folder / "doc").glob("*.doc"))
    for p in half:
        p.unlink()
    b, t = [], []
    for n in range(scans):
        bmp(folder / f"skann{n:03d}.bmp", 1000, 1400, n)
        b.append(folder / f"skann{n:03d}.bmp")
        tiff(folder / f"side{n:03d}.tif", 1000, 1400, n)
        t.append(folder / f"side{n:03d}.tif")
    if b:  # soffice with no file to convert never ends
        subprocess.run([*lo, "--convert-to", "gif", "--outdir", str(folder / "gif"), *map(str, b)],
                       check=True, capture_output=True, timeout=600)
    g = sorted((folder / "gif").glob("*.gif"))
    plain = []
    if pdfs:
        # plain PDF (not PDF/A) as an office system exports it: Ghostscript's input
        src = []
        for n in range(pdfs):
            p = folder / "pdfsrc" / f"henvisning{n:04d}.rtf"
            p.parent.mkdir(exist_ok=True)
            p.write_text(NOTE.replace("{n}", str(n)).replace("{text}", "henvisning til poliklinikk. " * (5 + n % 30)),
                         encoding="ascii")
            src.append(p)
        subprocess.run([*lo, "--convert-to", "pdf", "--outdir", str(folder / "pdf"), *map(str, src)],
                       check=True, capture_output=True, timeout=600)
        plain = sorted((folder / "pdf").glob("*.pdf"))
    shutil.rmtree(folder / ".lo", ignore_errors=True)
    groups = {"notes (RTF, DOC)": rtf[:notes // 2] + docs, "scans (TIFF, BMP, GIF)": t + b + g}
    if plain:
        groups["plain PDF (Ghostscript)"] = plain
    return groups


def run_mode(mode: str, files: list[str], workers: int, cache_dir: str) -> dict:
    """In a child process: convert ``files`` one way; seconds, failures, per-PUID seconds, peak RSS."""
    cache = ConversionCache(Path(cache_dir))
    jobs = [(Path(f).name, Path(f), identify(Path(f))) for f in files]
    t0 = time.monotonic()
    if mode == "per-file":
        with ThreadPoolExecutor(max_workers=workers) as ex:
            list(ex.map(lambda j: cache.convert(j[1], j[2]), jobs))
        failures = 0
    else:
        failures = len(convert_all(jobs, cache, workers=workers).failures)
    secs = time.monotonic() - t0
    by_puid: dict[str, int] = {}
    for _, _, ident in jobs:
        by_puid[ident.puid] = by_puid.get(ident.puid, 0) + 1
    return {"seconds": secs, "documents": len(jobs), "failures": failures, "by_puid": by_puid,
            "maxrss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}


def run_dask(files: list[str], nworkers: int, cache_dir: str, batch: int) -> dict:
    import distributed

    from noarkpack.conversion.cluster import ClusterConverter, convert_remote

    cache = ConversionCache(Path(cache_dir))
    jobs = [(Path(f), identify(Path(f)), __import__("noarkpack.hashing").hashing.sha256_file(Path(f)))
            for f in files]
    with distributed.LocalCluster(n_workers=nworkers, threads_per_worker=1, dashboard_address=None) as lc, \
            distributed.Client(lc) as client:
        # every worker's LibreOffice profile made before the clock starts, as the local pool's are by its
        # first batch: the first start of a fresh profile costs seconds
        client.run(convert_remote, [("warm", ".rtf", NOTE.encode())], "writer_pdf_Export", 120.0)
        cpu0 = _cpu() + sum(client.run(_cpu).values())
        t0 = time.monotonic()
        converter = ClusterConverter(client, cache, batch_size=batch)
        cache.convert_many(jobs, converter)
        secs = time.monotonic() - t0
        # CPU seconds of the timed part: this process (client and scheduler) and each worker with what it reaped
        # (its LibreOffice and Ghostscript processes): divided by the seconds, the cores the run kept busy
        cpu = _cpu() + sum(client.run(_cpu).values()) - cpu0
    return {"seconds": secs, "documents": len(jobs), "cpu": cpu, "tasks": converter.tasks}


def _cpu() -> float:
    """User + system CPU seconds of this process and of the children it has waited for."""
    s, c = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return s.ru_utime + s.ru_stime + c.ru_utime + c.ru_stime


def child(args) -> None:
    spec = json.loads(args.child)
    if spec["mode"] == "dask":
        out = run_dask(spec["files"], spec["workers"], spec["cache"], spec["batch"])
    else:
        out = run_mode(spec["mode"], spec["files"], spec["workers"], spec["cache"])
    print(json.dumps(out))


def spawn(spec: dict) -> dict:
    r = subprocess.run([sys.executable, __file__, "--child", json.dumps(spec)], capture_output=True, text=True,
                       check=True)
    return json.loads(r.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--notes", type=int, default=24)
    ap.add_argument("--scans", type=int, default=6, help="pages of each of TIFF, BMP and GIF")
    ap.add_argument("--pdfs", type=int, default=0, help="plain PDFs (Ghostscript → PDF/A-2b)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--dask", action="store_true", help="also the pool on a Dask LocalCluster of 1 and 2 workers")
    ap.add_argument("--dask-only", action="store_true", help="only the Dask comparison")
    ap.add_argument("--repeat", type=int, default=1, help="rounds of the Dask comparison (1 worker, 2 workers)")
    ap.add_argument("--batch", type=int, default=BATCH_SIZE,
                    help=f"documents per Dask task (default {BATCH_SIZE}, as noarkpack convert --scheduler)")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        return child(args)
    tmp = Path(tempfile.mkdtemp(prefix="noarkpack-bench-pool-"))
    try:
        groups = make_samples(tmp / "in", args.notes, args.scans, args.pdfs)
        print(f"conversion to PDF/A-2b, {args.workers} workers, {os.cpu_count()} cores "
              f"(LibreOffice {subprocess.run(['soffice', '--version'], capture_output=True, text=True).stdout.split()[1]})")
        for name, files in ({} if args.dask_only else groups).items():
            if not files:
                continue
            res = {}
            for mode in ("per-file", "pool"):
                res[mode] = spawn({"mode": mode, "files": [str(f) for f in files], "workers": args.workers,
                                   "cache": str(tmp / f"cache-{mode}-{len(name)}")})
            pf, pool = res["per-file"], res["pool"]
            rate = {m: r["documents"] / r["seconds"] * 60 for m, r in res.items()}
            print(f"{name}: {pf['documents']} documents ({', '.join(f'{k} {v}' for k, v in pool['by_puid'].items())})")
            print(f"  one process per file:{rate['per-file']:7.0f} documents/min ({pf['seconds']:.1f} s)")
            print(f"  pool, batches:        {rate['pool']:7.0f} documents/min ({pool['seconds']:.1f} s, "
                  f"{pool['failures']} refused)  speed-up {rate['pool'] / rate['per-file']:.1f}x")
            print(f"  pool: {pool['seconds'] * args.workers / pool['documents']:.3f} s of one worker per document; "
                  f"peak RSS of one converter process {pool['maxrss_mb']:.0f} MB "
                  f"(the pool: {args.workers} x that)")
            rates = json.loads((tmp / f"cache-pool-{len(name)}" / "rates.json").read_text()) \
                if (tmp / f"cache-pool-{len(name)}" / "rates.json").exists() else {}
            for puid, r in sorted(rates.items()):
                print(f"    {puid:10} {r['seconds'] / r['documents']:.3f} s/document (rates.json)")
        if args.dask or args.dask_only:
            # one worker, then two, in turns (--repeat rounds): each pair shares the phase of the host's load
            notes = [str(f) for f in groups["notes (RTF, DOC)"]]
            pairs = []
            for r in range(args.repeat):
                one = spawn({"mode": "dask", "files": notes, "workers": 1, "cache": str(tmp / f"dask1-{r}"),
                             "batch": args.batch})
                two = spawn({"mode": "dask", "files": notes, "workers": 2, "cache": str(tmp / f"dask2-{r}"),
                             "batch": args.batch})
                pairs.append(one["seconds"] / two["seconds"])
                print(f"Dask LocalCluster, {len(notes)} notes: 1 worker {one['documents'] / one['seconds'] * 60:.0f}/min "
                      f"({one['seconds']:.1f} s), 2 workers {two['documents'] / two['seconds'] * 60:.0f}/min "
                      f"({two['seconds']:.1f} s), speed-up {pairs[-1]:.2f}x; tasks (LibreOffice starts) {one['tasks']} and "
                      f"{two['tasks']}; cores kept busy: 1 worker "
                      f"{one['cpu'] / one['seconds']:.2f}, 2 workers {two['cpu'] / two['seconds']:.2f}; "
                      f"load average {os.getloadavg()[0]:.1f}", flush=True)
            if len(pairs) > 1:
                print(f"Dask speed-up, median of {len(pairs)} pairs: {statistics.median(pairs):.2f}x "
                      f"({min(pairs):.2f}-{max(pairs):.2f})")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
