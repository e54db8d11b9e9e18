"""Benchmark: write a large synthetic extract and report peak RSS and throughput.

    .venv/bin/python benchmarks/extract_scale.py --registreringer 100000 --out /tmp/bench
    (schemas: `noarkpack schemas install` first, or pass --schemas-from ../shared/reference)

Journals are generated on the fly (never held in memory), grouped by patient;
every fourth entry has a small text document, every fifth is correspondence.
Goal (issue 2): peak RSS < 200 MB at 100 000 registreringer.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from noarkpack import ArkivskaperInfo, ExtractSettings, ExtractWriter  # noqa: E402
from noarkpack.model.epj import (  # noqa: E402
    Dokumentfil,
    Journalinnslag,
    Korrespondanse,
    Korrespondansepart,
    Pasient,
    Pasientjournal,
)
from noarkpack.model.identifiers import control_digits  # noqa: E402
from noarkpack.schemas import SchemaStore, default_store  # noqa: E402

OSLO = ZoneInfo("Europe/Oslo")


def fnr(n: int) -> str:
    for individ in range(n % 400, 500):
        nine = f"{1 + n % 28:02d}{1 + n % 12:02d}{30 + n % 60:02d}{individ:03d}"
        cd = control_digits(nine)
        if cd:
            return nine + cd
    raise ValueError


def journals(total_entries: int, per_journal: int, docs: Path):
    n_journals = max(1, total_entries // per_journal)
    for j in range(n_journals):
        pid = j // 2  # two journals per patient
        opened = datetime(2005, 1, 1, 8, tzinfo=OSLO) + timedelta(days=j % 3000)
        entries = []
        for e in range(per_journal):
            t = opened + timedelta(hours=e * 7)
            dokumenter = []
            if e % 4 == 0:
                rel = f"{j // 1000:04d}/{j}-{e}.txt"
                p = docs / rel
                if not p.exists():
                    p.parent.mkdir(parents=True, exist_ok=True)
                    p.write_text(f"Journalnotat {j}-{e}.\nTilsyn utført, pasienten sov godt.\n" * 20,
                                 encoding="utf-8")
                dokumenter.append(Dokumentfil(fil=rel, tittel="Journalnotat", format="x-fmt/111"))
            korr = None
            if e % 5 == 1:
                korr = Korrespondanse("Inngående dokument", t.date(),
                                      [Korrespondansepart("Avsender", "St. Olavs hospital HF")])
            entries.append(Journalinnslag(innslag_id=f"{j}-{e}", type="notat", tittel=f"Tilsyn {e}",
                                          forfatter="Per Ås", opprettet=t, arkivert=t + timedelta(minutes=15),
                                          arkivert_av="per.as", korrespondanse=korr, dokumenter=dokumenter))
        yield Pasientjournal(
            journal_id=f"J{j}", arkivskaper="helse", journalsted="Hjemmetjenesten", journalansvarlig="Kari Lie",
            opprettet=opened, opprettet_av="kari", avsluttet=opened + timedelta(days=per_journal),
            avsluttet_av="kari",
            pasient=Pasient(pasient_id=f"P{pid}", navn=f"Pasient {pid} Ås", kjonn="K", fodselsnummer=fnr(pid)),
            innslag=entries)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--registreringer", type=int, default=100_000)
    ap.add_argument("--per-journal", type=int, default=20)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--schemas-from", type=Path, default=None)
    ap.add_argument("--no-identify", action="store_true", help="skip Siegfried (measures the writer alone)")
    args = ap.parse_args()
    work = args.out or Path(tempfile.mkdtemp(prefix="noarkpack-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    store = default_store()
    if args.schemas_from:
        store = SchemaStore(work / "schemas")
        store.install(from_dir=args.schemas_from, download=False)
    docs = work / "docs"
    settings = ExtractSettings(
        system_id="bench", system_name="Bench", arkiv_tittel="Benchmark", arkiv_opprettet=datetime(2005, 1, 1),
        arkiv_opprettet_av="a", arkiv_avsluttet=datetime(2024, 1, 1), arkiv_avsluttet_av="a",
        arkivdel_tittel="Del", periode_start=date(2005, 1, 1), periode_slutt=date(2023, 12, 31),
        arkivdel_opprettet=datetime(2005, 1, 1), arkivdel_opprettet_av="a", arkivdel_avsluttet=datetime(2024, 1, 1),
        arkivdel_avsluttet_av="a", arkivskapere=(ArkivskaperInfo("helse", "964965226", "Bench kommune"),),
        documents_root=docs)
    # Generate the documents first so the timed run measures extraction only.
    for _ in journals(args.registreringer, args.per_journal, docs):
        pass
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out = work / "out"
    shutil.rmtree(out, ignore_errors=True)
    t0 = time.perf_counter()
    with ExtractWriter(out, settings, store=store, identify_formats=not args.no_identify) as w:
        for j in journals(args.registreringer, args.per_journal, docs):
            w.add(j)
    secs = time.perf_counter() - t0
    r = w.result
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    as_size = (out / "avleveringspakke" / "arkivstruktur.xml").stat().st_size
    print(f"registreringer:      {r.registrering}")
    print(f"mapper:              {r.mappe}")
    print(f"dokumentfiler:       {r.dokumentfiler} ({r.document_bytes / 1e6:.1f} MB)")
    print(f"arkivstruktur.xml:   {as_size / 1e6:.1f} MB")
    print(f"time:                {secs:.1f} s")
    print(f"throughput:          {r.registrering / secs:,.0f} registreringer/s, "
          f"{r.total_bytes / 1e6 / secs:.1f} MB/s written")
    print(f"peak RSS:            {peak / 1024:.0f} MB (before extract: {rss_before / 1024:.0f} MB)")
    if args.out is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    main()
