"""Benchmark: import a large legacy CSV export into the staging database, then extract from it.

    .venv/bin/python benchmarks/import_scale.py --entries 1000000 --out /tmp/import-bench \
        --schemas-from ../shared/reference

Writes a synthetic deposit project (the shape of examples/omsorg: semicolon CSV in Windows-1252 with local
codes, a join from the document and party files to the entries), then runs ``import`` and ``extract`` each in
its own process and reports time and peak RSS of each.  Goal (issue 3): 1 000 000 entries, peak RSS < 300 MB.

20 entries per journal, 1.5 journals per patient; every 5th entry is correspondence (one party); every 100th
entry has a 1 KB text document (the document folder stays small; copying documents is measured by
extract_scale.py).  Format identification is on (Siegfried), conversion off (every document is archival).
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: the [system], [arkiv], [arkivdel] and [[arkivskaper]] tables every benchmark project shares
PROJECT_HEADER = """\
[system]
id = "bench-import"
name = "Benchjournal"

[arkiv]
tittel = "Benchmark"
opprettet = 2000-01-01T08:00:00+01:00
opprettet_av = "arkivar"
avsluttet = 2024-01-15T12:00:00+01:00
avsluttet_av = "arkivar"

[arkivdel]
tittel = "Pasientjournaler"
periode_start = 2000-01-01
periode_slutt = 2023-12-31
opprettet = 2000-01-01T08:00:00+01:00
opprettet_av = "arkivar"
avsluttet = 2024-01-15T12:00:00+01:00
avsluttet_av = "arkivar"

[[arkivskaper]]
key = "helse"
id = "964965226"
navn = "Benchkommune, Helse og omsorg"

[conversion]
enabled = false
"""

TOML = """\
[project]
name = "Benchmark: import av {entries} innslag"
documents = "dokumenter"

""" + PROJECT_HEADER + """
[import]
encoding = "windows-1252"
delimiter = ";"
date_format = "%d.%m.%Y"
datetime_format = "%d.%m.%Y %H:%M"

[import.values.kjonn]
1 = "M"
2 = "K"

[import.values.type]
NOT = "notat"
BRV = "brev"

[[import.file]]
path = "eksport/PASIENT.csv"
table = "pasient"
[import.file.columns]
pasient_id = "PAS_ID"
fodselsnummer = "FNR"
navn = {{ columns = ["FORNAVN", "ETTERNAVN"] }}
fodselsdato = "FODT"
kjonn = {{ column = "KJONN", values = "kjonn" }}

[[import.file]]
path = "eksport/JOURNAL.csv"
table = "pasientjournal"
[import.file.columns]
journal_id = "JOURNAL_ID"
pasient_id = "PAS_ID"
arkivskaper = {{ value = "helse" }}
journalsted = "ENHET"
journalansvarlig = "ANSVARLIG"
opprettet = "OPPRETTET"
opprettet_av = "OPPRETTET_AV"
avsluttet = "AVSLUTTET"
avsluttet_av = "AVSLUTTET_AV"

[[import.file]]
path = "eksport/NOTAT.csv"
table = "innslag"
[import.file.columns]
innslag_id = "NOTAT_ID"
journal_id = "JOURNAL_ID"
type = {{ column = "TYPE", values = "type" }}
tittel = "TITTEL"
forfatter = "FORFATTER"
opprettet = "SKREVET"
arkivert = "SIGNERT"
arkivert_av = "SIGNERT_AV"
korrespondanse_type = {{ column = "POSTTYPE", values = {{ U = "Utgående dokument" }} }}
korrespondanse_dato = "POSTDATO"

[[import.file]]
path = "eksport/DOKUMENT.csv"
table = "dokument"
join = "innslag"
[import.file.columns]
innslag_id = "NOTAT_ID"
fil = "FILNAVN"
tittel = "TITTEL"

[[import.file]]
path = "eksport/MOTTAKER.csv"
table = "korrespondansepart"
join = "innslag"
[import.file.columns]
innslag_id = "NOTAT_ID"
type = {{ value = "Mottaker" }}
navn = "NAVN"
"""

FIRST = ["Åse", "Bjørn", "Kari", "Ola", "Ingrid", "Håkon", "Sigrid", "Per", "Øystein", "Marit"]
LAST = ["Ærlig", "Sæther", "Østby", "Løvås", "Brækken", "Hågensen", "Nygård", "Rønning"]


def fnr(n: int) -> str:
    from noarkpack.model.identifiers import control_digits

    base = datetime(1920, 1, 1) + timedelta(days=n % 25000)
    for individ in range(n % 400, 500):
        nine = f"{base.day:02d}{base.month:02d}{base.year % 100:02d}{individ:03d}"
        cd = control_digits(nine)
        if cd:
            return nine + cd
    return f"{base.day:02d}{base.month:02d}{base.year % 100:02d}00000"


def local(dt: datetime) -> str:
    return f"{dt.day:02d}.{dt.month:02d}.{dt.year} {dt.hour:02d}:{dt.minute:02d}"


def generate(root: Path, entries: int, per_journal: int = 20) -> None:
    if root.exists():
        shutil.rmtree(root)
    (root / "eksport").mkdir(parents=True)
    docs = root / "dokumenter"
    docs.mkdir()
    (root / "noarkpack.toml").write_text(TOML.format(entries=entries), encoding="utf-8")
    files = {name: open(root / "eksport" / f"{name}.csv", "w", encoding="cp1252", newline="")
             for name in ("PASIENT", "JOURNAL", "NOTAT", "DOKUMENT", "MOTTAKER")}
    w = {k: csv.writer(f, delimiter=";", lineterminator="\r\n") for k, f in files.items()}
    w["PASIENT"].writerow(["PAS_ID", "FNR", "FORNAVN", "ETTERNAVN", "FODT", "KJONN"])
    w["JOURNAL"].writerow(["JOURNAL_ID", "PAS_ID", "ENHET", "ANSVARLIG", "OPPRETTET", "OPPRETTET_AV", "AVSLUTTET",
                           "AVSLUTTET_AV"])
    w["NOTAT"].writerow(["NOTAT_ID", "JOURNAL_ID", "TYPE", "TITTEL", "FORFATTER", "SKREVET", "SIGNERT", "SIGNERT_AV",
                         "POSTTYPE", "POSTDATO"])
    w["DOKUMENT"].writerow(["NOTAT_ID", "FILNAVN", "TITTEL"])
    w["MOTTAKER"].writerow(["NOTAT_ID", "NAVN"])
    n_journals = (entries + per_journal - 1) // per_journal
    e = 0
    patient = -1
    for j in range(n_journals):
        if j % 3 != 1:  # 1.5 journals per patient, consecutive
            patient += 1
            number = fnr(patient)
            born = f"{number[0:2]}.{number[2:4]}.19{number[4:6]}"
            w["PASIENT"].writerow([f"P-{patient}", number, FIRST[patient % 10], LAST[patient % 8], born,
                                   "1" if patient % 2 else "2"])
        opened = datetime(2005, 1, 1, 9) + timedelta(days=j % 3000)
        closed = opened + timedelta(days=per_journal * 3 + 1)
        w["JOURNAL"].writerow([f"J-{j}", f"P-{patient}", "Hjemmetjenesten", "Kari Lie", local(opened), "kari",
                               local(closed), "kari"])
        for k in range(per_journal):
            if e >= entries:
                break
            t = opened + timedelta(days=3 * k, hours=1)
            corr = e % 5 == 4
            w["NOTAT"].writerow([f"N-{e}", f"J-{j}", "BRV" if corr else "NOT", f"Tilsyn {k}", "Per Ås", local(t),
                                 local(t + timedelta(minutes=30)), "per", "U" if corr else "",
                                 f"{t.day:02d}.{t.month:02d}.{t.year}" if corr else ""])
            if corr:
                w["MOTTAKER"].writerow([f"N-{e}", "Fjordvik legesenter"])
            if e % 100 == 0:
                rel = f"{t.year}/N-{e}.txt"
                (docs / str(t.year)).mkdir(exist_ok=True)
                (docs / rel).write_text(("Tilsyn om morgenen. Pasienten har det bra, spiste frokost. " * 18)[:1024],
                                        encoding="utf-8")
                w["DOKUMENT"].writerow([f"N-{e}", rel.replace("/", "\\"), f"Tilsyn {k}"])
            e += 1
    for f in files.values():
        f.close()


def run_stage(stage: str, root: Path, out: Path) -> None:
    """One stage in this process; prints seconds and peak RSS."""
    from noarkpack.pipeline import extract_project, import_project
    from noarkpack.project import load_project

    project = load_project(root, auto_import=False)
    t0 = time.perf_counter()
    if stage == "import":
        r = import_project(project)
        what = f"{r.counts['innslag']} innslag, {r.counts['pasientjournal']} journaler, {r.rejected_total} avvist"
    else:
        run = extract_project(project, out, overwrite=True)
        what = f"{run.result.registrering} registreringer, {run.result.mappe} mapper, {run.result.dokumentfiler} filer"
    secs = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{stage:7} {what}: {secs:.1f} s, peak RSS {peak:.0f} MB", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--entries", type=int, default=1_000_000)
    ap.add_argument("--out", type=Path, default=None)
    ap.add_argument("--schemas-from", type=Path, default=None)
    ap.add_argument("--stage", choices=("import", "extract"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.stage:
        run_stage(args.stage, args.out / "project", args.out / "extract")
        return
    work = args.out or Path(tempfile.mkdtemp(prefix="noarkpack-import-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)
    if args.schemas_from:
        from noarkpack.schemas import SchemaStore

        store = SchemaStore(work / "schemas")
        store.install(from_dir=args.schemas_from, download=False).raise_for_missing()
        env["NOARKPACK_SCHEMA_DIR"] = str(store.root)
    t0 = time.perf_counter()
    generate(work / "project", args.entries)
    size = sum(p.stat().st_size for p in (work / "project" / "eksport").iterdir())
    print(f"export  {args.entries} innslag, {size / 1e6:.0f} MB CSV: generated in {time.perf_counter() - t0:.1f} s",
          flush=True)
    for stage in ("import", "extract"):
        subprocess.run([sys.executable, __file__, "--stage", stage, "--out", str(work)], check=True, env=env)
    db = work / "project" / ".noarkpack" / "staging.sqlite"
    print(f"staging database {db.stat().st_size / 1e6:.0f} MB")
    if args.out is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
