"""Write a synthetic deposit project for benchmarks (deterministic for the same arguments).

    .venv/bin/python benchmarks/synth.py --journals 2000 --out /tmp/synth-2000 [--entries-per-journal 20] [--doc-kb 32]

The project has the form of ``examples/omsorg/``: ``noarkpack.toml`` (with a ``[package]`` table and a fixed
uttrekksdato, so ``noarkpack package`` accepts it), ``journals.jsonl`` (docs/source-format.md, grouped by
patient: about 1.5 journals per patient) and ``dokumenter/``.  The document mix is what a care system holds:

* about 70 % of the entries have one document, 10 % have two, 20 % none (metadata only);
* 85 % of the documents are short text notes (1–6 KB, UTF-8 with æøå; PRONOM x-fmt/111);
* 15 % are larger "scans": uncompressed TIFF 6.0 (fmt/353) and, for entries written before 2009,
  PDF 1.4 (fmt/18, archival for material produced up to 2008-12-31); their size is chosen so that the mean
  document size is about ``--doc-kb`` KB.

Every document is in an approved archival format, so no conversion is needed.  Every fifth entry is
correspondence (a journalpost, so the journals loependeJournal/offentligJournal are written too), and a few
entries carry a logged correction (endringslogg).  Nothing here is real: names are invented and person
numbers are computed (valid control digits).

Same arguments → same bytes (fixed seeds, no clock, no file system order).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import struct
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from noarkpack.model.identifiers import control_digits  # noqa: E402

FIRST = ["Åse", "Bjørn", "Kari", "Ola", "Ingrid", "Håkon", "Sigrid", "Per", "Øystein", "Marit", "Jørgen",
         "Solveig", "Tor", "Ragnhild", "Arne", "Gunnhild", "Nils", "Liv", "Eirik", "Berit"]
LAST = ["Ærlig", "Bjørnstad", "Sæther", "Lie", "Haugen", "Østby", "Vågsæther", "Nilsen", "Dahl", "Strøm",
        "Berg", "Hågå", "Kjærstad", "Sørli", "Lund", "Holås", "Bakke", "Moen", "Fjeld", "Aas"]
STAFF = [("Per Ås", "per.as"), ("Kari Lie", "kari.lie"), ("Nina Hågå", "nina.haga"),
         ("Jonas Vågsæther", "jonas.vagsaether"), ("Siri Hæhre", "siri.haehre"), ("Anette Sørli", "anette.sorli")]
PLACES = [("helse", "Hjemmetjenesten sone nord"), ("helse", "Fjordvik sykehjem, avdeling Solsiden"),
          ("helse", "Hjemmetjenesten sone sør"), ("legevakt", "Fjordvik interkommunale legevakt")]
ENTRY_TYPES = [("notat", "Tilsyn"), ("notat", "Legevaktnotat"), ("epikrise", "Epikrise fra sykehus"),
               ("henvisning", "Henvisning fra fastlege"), ("skjema", "Kartlegging ADL"),
               ("vedtak", "Vedtak om tjenester"), ("skannet", "Skannet dokument")]
PHRASES = ["Tilsyn utført, pasienten sov godt.", "Blodtrykk 135/85, puls 72.", "Sår på venstre legg stelt og "
           "skiftet.", "Pasienten er i godt humør, spiste frokost.", "Samtale med pårørende om videre opphold.",
           "Medisiner gitt etter plan; ingen avvik.", "Fall i badet i natt, ingen synlige skader.",
           "Økt uro på kveldstid, tilsyn hver time.", "Fysioterapeut har vært innom: gåtrening i gangen.",
           "Ernæring: drikker lite, tilbudt næringsdrikk."]

TOML = """\
# Synthetic deposit project written by benchmarks/synth.py --journals {journals} --entries-per-journal {entries} \
--doc-kb {doc_kb}
# Everything here is invented.
[project]
name = "Syntetisk omsorg – benchmark"
source = "journals.jsonl"
documents = "dokumenter"
open_journals = "skip"

[system]
id = "synth-omsorgsjournal"
name = "Omsorgsjournal"
version = "7.4"
type = "Fagsystem (EPJ)"

[arkiv]
tittel = "Syntetisk kommune – pasientjournaler, pleie og omsorg"
opprettet = 2005-01-01T08:00:00+01:00
opprettet_av = "Arild Sørum"
avsluttet = 2024-03-15T12:00:00+01:00
avsluttet_av = "Arild Sørum"

[arkivdel]
tittel = "Pasientjournaler 2005–2023"
periode_start = 2005-01-01
periode_slutt = 2023-12-31
opprettet = 2005-01-01T08:00:00+01:00
opprettet_av = "Arild Sørum"
avsluttet = 2024-03-15T12:00:00+01:00
avsluttet_av = "Arild Sørum"
inngaaende_skille = "skarpt"
utgaaende_skille = "skarpt"

[skjerming]
tilgangsrestriksjon = "Unntatt offentlighet"
hjemmel = "Offl. § 13, jf. hpl. § 21"

[[arkivskaper]]
key = "helse"
id = "999999980"
navn = "Syntetisk kommune, Helse og omsorg"

[[arkivskaper]]
key = "legevakt"
id = "999999972"
navn = "Syntetisk interkommunale legevakt"

[package]
arkivbeskrivelse = "Syntetiske pasientjournaler for ytelsesmåling"
avtalenummer = "AV 2024/0001"
mottaker = "Syntetisk interkommunale arkiv IKS"
overforingstype = "Fagsystem"
pakkestatus = "NEW"
pakkenummer = "1"
referansekode = "SYNTH-{journals}"
prosjektnavn = "Benchmark"
uttrekksdato = 2024-03-01T12:00:00+01:00

[package.avleverer]
navn = "Syntetisk kommune"
kontaktperson = "Ingrid Sæther"
epost = "arkiv@syntetisk.kommune.example"

[package.produsent]
navn = "Syntetisk kommune, IKT"
kontaktperson = "Håkon Lie"

[[package.eier]]
navn = "Syntetisk kommune"
"""


def fnr(n: int) -> str:
    """A valid fødselsnummer (born 1920–1999) for patient ``n``; deterministic, invented."""
    day, month, yy = 1 + n % 28, 1 + (n // 28) % 12, 20 + (n // 336) % 80
    for individ in range((n * 7) % 500, (n * 7) % 500 + 500):
        nine = f"{day:02d}{month:02d}{yy:02d}{individ % 500:03d}"
        cd = control_digits(nine)
        if cd:
            return nine + cd
    raise ValueError(n)


def tiff(size: int, rng: random.Random) -> bytes:
    """A baseline TIFF 6.0: 8-bit grey, uncompressed, one strip, about ``size`` bytes."""
    w = 1000
    h = max(1, (size - 200) // w)
    n = w * h
    entries = [(256, 3, w), (257, 3, h), (258, 3, 8), (259, 3, 1), (262, 3, 1), (273, 4, 0), (277, 3, 1),
               (278, 3, h), (279, 4, n), (282, 5, 0), (283, 5, 0), (296, 3, 2)]
    ifd = 8
    res = ifd + 2 + 12 * len(entries) + 4
    data = res + 16
    out = bytearray(b"II*\x00" + struct.pack("<I", ifd) + struct.pack("<H", len(entries)))
    for tag, typ, val in entries:
        val = {273: data, 282: res, 283: res + 8}.get(tag, val)
        out += struct.pack("<HHIHH", tag, typ, 1, val, 0) if typ == 3 else struct.pack("<HHII", tag, typ, 1, val)
    out += struct.pack("<I", 0) + struct.pack("<IIII", 150, 1, 150, 1)
    out += rng.randbytes(n)
    return bytes(out)


def pdf(size: int, rng: random.Random) -> bytes:
    """A PDF 1.4 with one image-like stream of about ``size`` bytes."""
    body = rng.randbytes(max(0, size - 300))
    return (b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
            b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
            b"3 0 obj\n<< /Length " + str(len(body)).encode() + b" >>\nstream\n" + body
            + b"\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n")


def note(rng: random.Random, title: str) -> bytes:
    target = rng.randint(1000, 6000)
    lines = [f"{title}\n"]
    n = len(lines[0])
    while n < target:
        s = rng.choice(PHRASES) + "\n"
        lines.append(s)
        n += len(s.encode("utf-8"))
    return "".join(lines).encode("utf-8")


def generate(journals: int, out: Path, entries_per_journal: int = 20, doc_kb: int = 32) -> dict:
    """Write the project; returns counts (journals, entries, documents, bytes)."""
    if out.exists():
        shutil.rmtree(out)
    docs = out / "dokumenter"
    docs.mkdir(parents=True)
    (out / "noarkpack.toml").write_text(TOML.format(journals=journals, entries=entries_per_journal, doc_kb=doc_kb),
                                        encoding="utf-8")
    rng = random.Random(f"noarkpack-synth/{journals}/{entries_per_journal}/{doc_kb}")
    # large files make up 15 % of the documents; text notes average ~3.5 KB
    large_mean = max(8.0, (doc_kb - 0.85 * 3.5) / 0.15) * 1024
    stats = {"journals": 0, "entries": 0, "documents": 0, "document_bytes": 0, "patients": 0}
    made_dirs: set[str] = set()
    j = 0
    patient = 0
    with open(out / "journals.jsonl", "w", encoding="utf-8", newline="\n") as src:
        while j < journals:
            patient += 1
            n_j = min(journals - j, rng.choice((1, 1, 2, 2, 3)))
            p = {"pasient_id": f"P-{100000 + patient}", "fodselsnummer": fnr(patient),
                 "navn": f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                 "kjonn": rng.choice("MK")}
            for _ in range(n_j):
                j += 1
                arkivskaper, sted = rng.choice(PLACES)
                ansvarlig, ansvarlig_id = rng.choice(STAFF)
                opened = datetime(2005, 1, 3, 8) + timedelta(days=rng.randrange(0, 14 * 365), minutes=rng.randrange(600))
                t = opened
                innslag = []
                for e in range(entries_per_journal):
                    t = t + timedelta(hours=rng.randrange(4, 24 * 20))
                    if t.hour == 2:  # 02:00-03:00 does not exist on the spring DST day: no such times
                        t += timedelta(hours=1)
                    author, author_id = rng.choice(STAFF)
                    typ, title = rng.choice(ENTRY_TYPES)
                    iid = f"{j}-{e + 1}"
                    entry = {"innslag_id": iid, "type": typ, "tittel": title, "forfatter": author,
                             "opprettet": t.isoformat(), "arkivert": (t + timedelta(minutes=20)).isoformat(),
                             "arkivert_av": author_id}
                    if e % 5 == 4:
                        entry["korrespondanse"] = {"type": "Inngående dokument", "dato": t.date().isoformat(),
                                                   "parter": [{"type": "Avsender", "navn": "Fjordvik legekontor"}]}
                    if rng.random() < 0.01:
                        entry["endringer"] = [{"felt": "tittel", "tidligere": "Tilsyn", "ny": title,
                                               "dato": (t + timedelta(days=1)).isoformat(), "av": author_id}]
                    r = rng.random()
                    n_docs = 0 if r < 0.2 else (2 if r > 0.9 else 1)
                    dokumenter = []
                    for d in range(n_docs):
                        folder = f"{t.year}/{j // 500:05d}"
                        if rng.random() < 0.85:
                            data, ext = note(rng, title), "txt"
                        else:
                            size = int(large_mean * rng.uniform(0.25, 1.75))
                            if t.year <= 2008 and rng.random() < 0.6:
                                data, ext = pdf(size, rng), "pdf"
                            else:
                                data, ext = tiff(size, rng), "tif"
                        rel = f"{folder}/{iid}-{d + 1}.{ext}"
                        if folder not in made_dirs:
                            (docs / folder).mkdir(parents=True, exist_ok=True)
                            made_dirs.add(folder)
                        (docs / rel).write_bytes(data)
                        dokumenter.append({"fil": rel, "tittel": title if d == 0 else f"{title}, vedlegg"})
                        stats["documents"] += 1
                        stats["document_bytes"] += len(data)
                    entry["dokumenter"] = dokumenter
                    innslag.append(entry)
                closed = t + timedelta(days=rng.randrange(1, 60))
                if closed > datetime(2023, 12, 15):
                    closed = datetime(2023, 12, 15, 12)
                line = {"journal_id": f"J-{j}", "arkivskaper": arkivskaper, "journalsted": sted,
                        "journalansvarlig": ansvarlig, "opprettet": opened.isoformat(), "opprettet_av": ansvarlig_id,
                        "avsluttet": closed.isoformat(), "avsluttet_av": ansvarlig_id, "pasient": p,
                        "innslag": innslag}
                src.write(json.dumps(line, ensure_ascii=False) + "\n")
                stats["journals"] += 1
                stats["entries"] += len(innslag)
    stats["patients"] = patient
    return stats


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--journals", type=int, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--entries-per-journal", type=int, default=20)
    ap.add_argument("--doc-kb", type=int, default=32, help="mean document size in KB (default 32)")
    a = ap.parse_args()
    t0 = time.perf_counter()
    s = generate(a.journals, a.out, a.entries_per_journal, a.doc_kb)
    print(f"{a.out}: {s['journals']} journals, {s['patients']} patients, {s['entries']} entries, "
          f"{s['documents']} documents ({s['document_bytes'] / 1e6:.1f} MB) in {time.perf_counter() - t0:.1f} s")


if __name__ == "__main__":
    main()
