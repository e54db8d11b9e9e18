"""Benchmark: conversion throughput to PDF/A-2b (documents per minute), one worker vs every core.

    .venv/bin/python benchmarks/conversion.py [--documents 40]

Makes legacy documents on the spot (RTF, Word 97 .doc, BMP, GIF, plain PDF in equal parts), converts
them with noarkpack.conversion.convert_all into a fresh cache, and prints documents per minute.
"""

from __future__ import annotations

import argparse
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from noarkpack.conversion import ConversionCache, convert_all  # noqa: E402
from noarkpack.documents import identify  # noqa: E402


def make_samples(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    lo = ["soffice", "--headless", f"-env:UserInstallation={(folder / '.lo').as_uri()}"]
    files = []
    for i in range(n):
        kind = i % 5
        stem = folder / f"doc{i:04d}"
        text = (r"{\rtf1\ansi\deff0 {\fonttbl {\f0 Times New Roman;}}\f0\fs24 Journalnotat "
                + str(i) + r". Pasienten er i god form. \u230?\u248?\u229?.\par }")
        if kind in (0, 1, 4):
            stem.with_suffix(".rtf").write_text(text, encoding="ascii")
        if kind == 0:
            files.append(stem.with_suffix(".rtf"))
        elif kind == 1:
            subprocess.run([*lo, "--convert-to", "doc", "--outdir", str(folder), str(stem.with_suffix(".rtf"))],
                           check=True, capture_output=True)
            stem.with_suffix(".rtf").unlink()
            files.append(stem.with_suffix(".doc"))
        elif kind in (2, 3):
            w, h = 600, 800
            pad = (4 - (w * 3) % 4) % 4
            rows = b"".join(bytes([(x + i) % 256, (y + i) % 256, 200]) * 1 for y in range(h) for x in range(w))
            rows = b"".join(rows[y * w * 3:(y + 1) * w * 3] + b"\0" * pad for y in range(h))
            bmp = stem.with_suffix(".bmp")
            bmp.write_bytes(struct.pack("<2sIHHI", b"BM", 54 + len(rows), 0, 0, 54)
                            + struct.pack("<IiiHHIIiiII", 40, w, h, 1, 24, 0, len(rows), 2835, 2835, 0, 0) + rows)
            if kind == 3:
                subprocess.run([*lo, "--convert-to", "gif", "--outdir", str(folder), str(bmp)], check=True,
                               capture_output=True)
                bmp.unlink()
                files.append(stem.with_suffix(".gif"))
            else:
                files.append(bmp)
        else:
            subprocess.run([*lo, "--convert-to", "pdf", "--outdir", str(folder), str(stem.with_suffix(".rtf"))],
                           check=True, capture_output=True)
            stem.with_suffix(".rtf").unlink()
            files.append(stem.with_suffix(".pdf"))
    shutil.rmtree(folder / ".lo", ignore_errors=True)
    return files


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--documents", type=int, default=40)
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="noarkpack-conv-"))
    try:
        files = make_samples(work / "in", args.documents)
        jobs = [(f.name, f, identify(f)) for f in files]
        for workers in (1, os.cpu_count() or 1):
            cache = ConversionCache(work / f"cache-{workers}")
            t0 = time.perf_counter()
            report = convert_all(jobs, cache, workers=workers)
            secs = time.perf_counter() - t0
            print(f"workers={workers}: {report.converted} converted, {len(report.failures)} failed in {secs:.1f} s "
                  f"= {report.converted / secs * 60:.0f} documents/minute")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
