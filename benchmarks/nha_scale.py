"""NHA deposit at scale: time and peak memory of build_deposit for N synthetic deceased patients.

    .venv/bin/python benchmarks/nha_scale.py 1000 4000

Each patient has two journals (one EPJ with two saker) of two entries with one small PDF/A each (the sykehus
example's files, reused). Journals are made by a generator, so the source itself takes no memory; peak RSS
must not grow with N (the per-patient rows of the deposit documentation are spooled to disk).
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
import tomllib
from datetime import date, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(n: int) -> None:
    from noarkpack.model.epj import Diagnose, Dokumentfil, Journalinnslag, Pasient, Pasientjournal
    from noarkpack.model.selection import SelectionRules
    from noarkpack.nha import NhaMetadata, build_deposit

    example = ROOT / "examples" / "sykehus"
    md = NhaMetadata.from_toml(tomllib.loads((example / "noarkpack.toml").read_text(encoding="utf-8")))

    def journals():
        for p in range(n):
            for k in (1, 2):
                t = datetime(2000 + k, 1, 2, 10)
                jid = f"J{p}-{k}"
                yield Pasientjournal(
                    jid, "sfj", "Medisinsk avdeling", "Overlege Hanne Vik", t, "kari.moen", t, "kari.moen",
                    Pasient(f"P{p}", "Test Testesen", "U", fodselsdato=date(1920, 1, 1), dodsdato=date(2005, 1, 1),
                            skjult_adresse=None if p % 2 else False),
                    [Journalinnslag(f"{jid}-{i}", "notat", "Notat", "Lege Erik Lunde", t, t, "erik.lunde",
                                    dokumenter=[Dokumentfil("2006/SFJ-1001/SFJ-1001-N1.pdf", "Notat",
                                                            format="fmt/477")]) for i in (1, 2)],
                    diagnoser=[Diagnose(kode="I21.9", tekst="Infarkt", dato=date(2001, 1, 1))])

    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        r = build_deposit(journals(), out, metadata=md, documents_root=example / "dokumenter",
                          rules=SelectionRules(profile="nha", today=date(2025, 6, 30)))
        took = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{n} patients, {len(r.included)} journals, {len(r.packages)} packages: {took:.1f} s, "
          f"{len(r.included) / took:.0f} journals/s, peak RSS {rss:.0f} MB")


if __name__ == "__main__":
    if len(sys.argv) == 2:
        run(int(sys.argv[1]))
    else:  # each size in its own process, so each peak RSS is its own
        for arg in sys.argv[1:] or ["1000", "4000"]:
            subprocess.run([sys.executable, __file__, arg], check=True)
