"""Builders of settings and journals for tests (no files of their own but the documents they write)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from noarkpack.model.epj import (
    Dokumentfil,
    Journalinnslag,
    Korrespondanse,
    Korrespondansepart,
    Pasient,
    Pasientjournal,
)
from noarkpack.model.identifiers import control_digits
from noarkpack.noark5.settings import ArkivskaperInfo, ExtractSettings

OSLO = ZoneInfo("Europe/Oslo")


def settings(documents_root: Path, **overrides) -> ExtractSettings:
    values = dict(
        system_id="test-system",
        system_name="Testjournal",
        system_version="1.0",
        arkiv_tittel="Testarkiv",
        arkiv_opprettet=datetime(2000, 1, 1, 8, tzinfo=OSLO),
        arkiv_opprettet_av="arkivar",
        arkiv_avsluttet=datetime(2024, 1, 15, 12, tzinfo=OSLO),
        arkiv_avsluttet_av="arkivar",
        arkivdel_tittel="Pasientjournaler 2000–2023",
        periode_start=date(2000, 1, 1),
        periode_slutt=date(2023, 12, 31),
        arkivdel_opprettet=datetime(2000, 1, 1, 8, tzinfo=OSLO),
        arkivdel_opprettet_av="arkivar",
        arkivdel_avsluttet=datetime(2024, 1, 15, 12, tzinfo=OSLO),
        arkivdel_avsluttet_av="arkivar",
        arkivskapere=(ArkivskaperInfo("helse", "964965226", "Testkommune, Helse og omsorg"),
                      ArkivskaperInfo("legevakt", "974760673", "Testkommune legevakt")),
        documents_root=documents_root,
    )
    values.update(overrides)
    return ExtractSettings(**values)


def fnr(day: int, month: int, year: int, start: int = 100) -> str:
    """A synthetic fødselsnummer with valid control digits (born 1900–1999)."""
    for individ in range(start, 500):
        nine = f"{day:02d}{month:02d}{year % 100:02d}{individ:03d}"
        cd = control_digits(nine)
        if cd:
            return nine + cd
    raise ValueError("no number")


def journal(jid: str, pid: str, docs_root: Path, *, entries: int = 3, with_docs: bool = True,
            closed: bool = True, arkivskaper: str = "helse", korrespondanse_every: int = 3) -> Pasientjournal:
    opened = datetime(2010, 3, 1, 9, tzinfo=OSLO)
    innslag = []
    for n in range(entries):
        t = opened + timedelta(days=30 * n, hours=n)
        dokumenter = []
        if with_docs and n % 2 == 0:
            rel = f"{jid}/notat-{n}.txt"
            p = docs_root / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(f"Notat {n} i journal {jid}.\nPasienten har det bra.\n", encoding="utf-8")
            dokumenter.append(Dokumentfil(fil=rel, tittel=f"Notat {n}"))
        korr = None
        if korrespondanse_every and n % korrespondanse_every == 1:
            korr = Korrespondanse(type="Inngående dokument", dato=t.date(),
                                  parter=[Korrespondansepart("Avsender", "St. Olavs hospital HF")])
        innslag.append(Journalinnslag(
            innslag_id=f"{jid}-{n}", type="notat" if korr is None else "epikrise", tittel=f"Tilsyn {n}",
            forfatter="Per Ås", opprettet=t, arkivert=t + timedelta(minutes=20), arkivert_av="per.as",
            korrespondanse=korr, dokumenter=dokumenter))
    return Pasientjournal(
        journal_id=jid, arkivskaper=arkivskaper, journalsted="Hjemmetjenesten sone nord",
        journalansvarlig="Kari Lie", opprettet=opened, opprettet_av="kari.lie",
        avsluttet=datetime(2019, 6, 30, 15, tzinfo=OSLO) if closed else None,
        avsluttet_av="kari.lie" if closed else None,
        pasient=Pasient(pasient_id=pid, navn="Åse Bjørnstad", kjonn="K", fodselsnummer=fnr(12, 4, 31),
                        fodselsdato=date(1931, 4, 12), dodsdato=date(2019, 6, 1)),
        innslag=innslag)


def synth_project(folder: Path, *, journals: int, entries: int, doc_kb: int) -> Path:
    """A synthetic deposit project written by benchmarks/synth.py (deterministic) in ``folder/project``."""
    import subprocess
    import sys

    out = folder / "project"
    subprocess.run([sys.executable, str(Path(__file__).resolve().parents[1] / "benchmarks" / "synth.py"),
                    "--journals", str(journals), "--entries-per-journal", str(entries), "--doc-kb", str(doc_kb),
                    "--out", str(out)], check=True, capture_output=True)
    return out
