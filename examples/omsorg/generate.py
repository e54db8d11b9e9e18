#!/usr/bin/env python3
"""Generate the bundled example ``examples/omsorg/``: ``journals.jsonl``, ``eksport/`` and ``dokumenter/``.

``eksport/`` is the legacy system's CSV export that noarkpack.toml's ``[import]`` reads; it is derived from
``journals.jsonl`` (see :func:`write_export`), with four planted defects for the analysis.
``python3 generate.py --export`` rewrites only ``eksport/`` from the committed ``journals.jsonl`` (stdlib only).

Everything here is invented: the municipality (Fjordvik), its care system
("Omsorgsjournal"), the patients, the staff, the addresses and the person
numbers.  The person numbers are computed by this script (valid control digits,
consistent with the date of birth), not taken from any register; a match with a
real person would be a coincidence.

This script is run by maintainers, not by users or CI: its output is committed,
and the example works without running it.  It is deterministic (fixed seed,
fixed document dates and PDF IDs), so a rerun with the same Pillow and zlib
gives the same files.  It deletes and rewrites ``journals.jsonl``, ``eksport/`` and
``dokumenter/`` next to itself, and nothing else (``noarkpack.toml`` and
``README.md`` are written by hand); the two documents LibreOffice makes (a
Word 97 ``.doc`` and a GIF, see "legacy documents" below) are kept from the
previous run when they are there, since another LibreOffice version may write
other bytes.

Requirements: Python 3.11+, Pillow (to draw the letters and scanned pages),
the DejaVu fonts (Debian/Ubuntu: ``apt-get install fonts-dejavu-core``), and
LibreOffice (``soffice``) only when the ``.doc`` or the ``.gif`` is missing::

    python3 -m venv /tmp/omsorg-gen && /tmp/omsorg-gen/bin/pip install pillow
    /tmp/omsorg-gen/bin/python examples/omsorg/generate.py

The PDFs are written by this script itself (no PDF library): one 1-bit image
per page at 150 dpi, compressed with CCITT Group 4 (Pillow's libtiff encoder),
an embedded sRGB ICC profile (version 2, built here) as the PDF/A output
intent, and XMP metadata that matches the document information dictionary.
Scans are PDF/A-1b, letters from the system are PDF/A-2b.  Six legacy documents
(RTF, Word 97, GIF, BMP and a plain PDF 1.4 of 2011) are not archival: noarkpack
converts them to PDF/A on extract.
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import random
import shutil
import struct
import subprocess
import sys
import tempfile
import unicodedata
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
DOCS = HERE / "dokumenter"
SOURCE = HERE / "journals.jsonl"
SEED = 20240917
OSLO = ZoneInfo("Europe/Oslo")
LAST_DAY = date(2023, 12, 15)  # nothing after this (the arkivdel ends 2023-12-31)
LAST_OPEN = date(2018, 12, 31)  # journals are opened 2005-2018

rng = random.Random(SEED)


# --------------------------------------------------------------------------- person numbers

_W1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
_W2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


def _mod11(digits: str, weights: tuple[int, ...]) -> int | None:
    k = 11 - sum(int(d) * w for d, w in zip(digits, weights)) % 11
    return 0 if k == 11 else None if k == 10 else k


def _individ_ranges(year: int, high: bool) -> list[tuple[int, int]]:
    if 1854 <= year <= 1899:
        return [(500, 749)]
    if 1900 <= year <= 1999:
        if high:
            assert year >= 1940, "900-999 is only used for 1940-1999"
            return [(900, 999)]
        return [(0, 499)]
    if 2000 <= year <= 2039:
        return [(500, 999)]
    raise ValueError(year)


_used_numbers: set[str] = set()


def _number(day: int, month: int, born: date, individ: int) -> str | None:
    nine = f"{day:02d}{month:02d}{born.year % 100:02d}{individ:03d}"
    k1 = _mod11(nine, _W1)
    if k1 is None:
        return None  # remainder 1: no control digit
    k2 = _mod11(nine + str(k1), _W2)
    return None if k2 is None else f"{nine}{k1}{k2}"


def person_number(born: date, kind: str = "fnr", high: bool = False, sex: str = "U") -> str:
    """A valid fødselsnummer (kind "fnr"), D-nummer ("D": day + 40) or H-nummer ("H": month + 40).

    ``sex`` "M" or "K" makes the individnummer's last digit (the number's 9th) odd or even, as
    Skatteetaten's numbers carry the sex; "U" leaves it as drawn.  The draw itself is unchanged
    (the same random numbers are taken whatever ``sex`` is): a drawn individnummer of the wrong
    parity is moved to the nearest one of the right parity with control digits, so the rest of
    the example stays as it was.
    """
    lo, hi = _individ_ranges(born.year, high)[0]
    day = born.day + (40 if kind == "D" else 0)
    month = born.month + (40 if kind == "H" else 0)
    for _ in range(10000):
        individ = rng.randint(lo, hi)
        number = _number(day, month, born, individ)
        if number is None or number in _used_numbers:
            continue  # take another individnummer
        if sex in ("M", "K") and individ % 2 != (1 if sex == "M" else 0):
            number = None
            for step in range(1, hi - lo + 1, 2):
                for moved in (individ + step, individ - step):
                    candidate = _number(day, month, born, moved) if lo <= moved <= hi else None
                    if candidate is not None and candidate not in _used_numbers:
                        number = candidate
                        break
                if number is not None:
                    break
            if number is None:
                continue
        _used_numbers.add(number)
        return number
    raise RuntimeError("no person number found")


# --------------------------------------------------------------------------- small helpers


def at(d: date, hour: int, minute: int) -> datetime:
    assert hour != 2, "02:00-03:00 does not exist or is ambiguous on DST days"
    return datetime(d.year, d.month, d.day, hour, minute, tzinfo=OSLO)


def iso(dt: datetime) -> str:
    return dt.isoformat()


def no_date(d: date | datetime) -> str:
    return f"{d.day:02d}.{d.month:02d}.{d.year}"


def rand_date(a: date, b: date) -> date:
    if b <= a:
        return a
    return a + timedelta(days=rng.randint(0, (b - a).days))


def plus_minutes(dt: datetime, minutes: int) -> datetime:
    """``dt`` plus wall-clock minutes, kept clear of the DST gap."""
    naive = dt.replace(tzinfo=None) + timedelta(minutes=minutes)
    if naive.hour == 2:
        naive += timedelta(hours=1)
    return naive.replace(tzinfo=OSLO)


_ASCII = str.maketrans({"æ": "ae", "ø": "o", "å": "a", "é": "e", "ü": "u", "ö": "o", "ä": "a"})


def username(name: str) -> str:
    parts = name.lower().translate(_ASCII).replace("-", "").split()
    return f"{parts[0]}.{parts[-1]}"


def cap(s: str) -> str:
    return s[:1].upper() + s[1:]


def low(s: str) -> str:
    """Lower-case the first letter, but leave acronyms (KOLS) alone."""
    return s if s[1:2].isupper() else s[:1].lower() + s[1:]


# --------------------------------------------------------------------------- people

FEMALE = ["Åse", "Ragnhild", "Solveig", "Gunvor", "Bjørg", "Målfrid", "Ingrid", "Astrid", "Sigrid", "Borghild",
          "Torbjørg", "Margit", "Gudrun", "Marit", "Jorunn", "Randi", "Åslaug", "Signe", "Dagny", "Hjørdis",
          "Ingeborg", "Oddny", "Tordis", "Gerd", "Edel", "Karen", "Bodil", "Synnøve", "Jenny", "Ruth"]
MALE = ["Kåre", "Bjørn", "Øystein", "Håkon", "Ivar", "Sverre", "Odd", "Arne", "Olav", "Trygve", "Knut", "Einar",
        "Jørgen", "Asbjørn", "Halvard", "Torleif", "Egil", "Nils", "Ragnar", "Leif", "Steinar", "Gunnar",
        "Oddvar", "Magnus", "Sigurd", "Åsmund", "Bård", "Alf", "Reidar", "Hans"]
SECOND = {"K": ["Marie", "Kristine", "Johanne", "Elise"], "M": ["Kristian", "Johan", "Petter", "Martin"]}
SURNAMES = ["Bjørnstad", "Løvås", "Sæther", "Østby", "Haugen", "Nøstvik", "Grønli", "Brækken", "Åsen",
            "Dæhli",
            "Fjærli", "Kjærnes", "Strøm", "Hågensen", "Rønning", "Løkken", "Sølberg", "Mælen", "Bråten",
            "Tønnessen", "Næss", "Ødegård", "Skjærvø", "Håland", "Vågen", "Bøe", "Aune", "Hoel", "Tangen",
            "Kvåle", "Øien", "Flønes", "Hegstad", "Sæterbakk", "Rødsjø", "Gjærde", "Fossli", "Brøndbo",
            "Nygård"]
CHILD_F = ["Anne", "Bente", "Hege", "Kjersti", "Siv", "Åshild", "Gro", "Grete", "Liv Marit", "Turid", "Berit",
           "Tove"]
CHILD_M = ["Tor", "Geir", "Morten", "Trond", "Øyvind", "Rune", "Eirik", "Jan Erik", "Bjørnar", "Ståle", "Frode",
           "Terje"]
OTHER_SURNAMES = ["Lie", "Moe", "Berg", "Hansen", "Solberg", "Eggen", "Wold", "Myrvang", "Kristiansen", "Lund"]
STREETS = ["Storgata", "Sjøgata", "Kirkebakken", "Fjæreveien", "Skolegata", "Åsveien", "Tømmerholtet",
           "Løkkeveien", "Granåsen", "Nedre Sæter vei", "Øvre Bøveien", "Hågenstadvegen", "Fjellstuvegen",
           "Bjørkelia", "Måkeveien", "Strandvegen", "Kvernhusbakken", "Prestegårdsvegen", "Lyngåsen",
           "Bølgeveien", "Søndre Ålvik"]
PLACES = {"nord": "7198 Nordvika", "sør": "7199 Fjordvik"}
RELATIVE_PLACES = ["7199 Fjordvik", "7198 Nordvika", "7030 Trondheim", "7600 Levanger", "7800 Namsos",
                   "0467 Oslo", "5003 Bergen", "7500 Stjørdal"]

STAFF = {
    "sykehjem": [("Kari Lie", "sykepleier"), ("Siri Hæhre", "sykepleier"), ("Jørn Øverås", "helsefagarbeider"),
                 ("Mari Sæbø", "sykepleier"), ("Tone Kjærstad", "helsefagarbeider"),
                 ("Hilde Ødegaard", "avdelingssykepleier"), ("Ingvild Mæhlum", "sykepleier"),
                 ("Emil Frøseth", "helsefagarbeider")],
    "korttid": [("Liv Strømsnes", "sykepleier"), ("Åsmund Fløtten", "sykepleier"),
                ("Marianne Holtån", "helsefagarbeider")],
    "hjem_nord": [("Per Ås", "sykepleier"), ("Marte Bjørgum", "helsefagarbeider"), ("Nina Hågå", "sykepleier"),
                  ("Solveig Rønneberg", "fagleder")],
    "hjem_sør": [("Thea Skåre", "sykepleier"), ("Håvard Løken", "helsefagarbeider"),
                 ("Guri Bakkefjærd", "sykepleier"), ("Ragnar Bøe", "fagleder")],
    "lege": [("Ellen Dybvik", "sykehjemslege"), ("Thomas Grøtting", "sykehjemslege")],
    "tildeling": [("Randi Nyhus", "saksbehandler"), ("Anette Sørli", "saksbehandler"),
                  ("Bjørnar Hætta", "saksbehandler")],
    "terapi": [("Trude Aas", "fysioterapeut"), ("Sunniva Kråkenes", "ergoterapeut")],
    "merkantil": [("Wenche Hølås", "konsulent"), ("Arild Sørum", "arkivleder")],
    "lv_lege": [("Anders Kvåle", "legevaktlege"), ("Karoline Brå", "legevaktlege"), ("Omar Haddad", "legevaktlege"),
                ("Jonas Vågsæther", "legevaktlege")],
    "lv_spl": [("Øyvind Sand", "sykepleier"), ("Camilla Lund", "sykepleier"), ("Åshild Mørkved", "sykepleier")],
}
ROLE = {name: role for group in STAFF.values() for name, role in group}

UNITS = {
    "solsiden": ("helse", "Fjordvik sykehjem, avdeling Solsiden", "sykehjem", "sykehjem"),
    "fjellstua": ("helse", "Fjordvik sykehjem, avdeling Fjellstua (skjermet enhet)", "sykehjem", "sykehjem"),
    "korttid": ("helse", "Fjordvik sykehjem, korttidsavdelingen", "korttid", "korttid"),
    "hj_nord": ("helse", "Hjemmetjenesten sone nord", "hjem", "hjem_nord"),
    "hj_sør": ("helse", "Hjemmetjenesten sone sør", "hjem", "hjem_sør"),
    "legevakt": ("legevakt", "Fjordvik interkommunale legevakt", "legevakt", "lv_spl"),
    "kad": ("legevakt", "Fjordvik interkommunale legevakt, KAD-enheten", "kad", "lv_spl"),
}

FASTLEGER = ["Fjordvik legesenter v/ lege Ingrid Moe", "Fjordvik legesenter v/ lege Kristian Holm",
             "Nordvika legekontor v/ lege Sara Bjørkås"]
HOSPITALS = [("St. Olavs hospital HF", "St. Olavs hospital"),
             ("Helse Nord-Trøndelag HF, Sykehuset Namsos", "Sykehuset Namsos"),
             ("Helse Nord-Trøndelag HF, Sykehuset Levanger", "Sykehuset Levanger")]
DEPARTMENTS = ["Ortopedisk avdeling", "Medisinsk klinikk, geriatrisk seksjon", "Lungemedisinsk avdeling",
               "Nevrologisk avdeling, slageenheten", "Kirurgisk klinikk"]
DIAGNOSES = [("Lårhalsbrudd, venstre side", "S72.0", "Ortopedisk avdeling"),
             ("Lungebetennelse", "J18.9", "Lungemedisinsk avdeling"),
             ("Hjerneinfarkt", "I63.9", "Nevrologisk avdeling, slageenheten"),
             ("Hjertesvikt med væskeretensjon", "I50.0", "Medisinsk klinikk, geriatrisk seksjon"),
             ("KOLS med akutt forverring", "J44.1", "Lungemedisinsk avdeling"),
             ("Urinveisinfeksjon med delirium", "N39.0", "Medisinsk klinikk, geriatrisk seksjon"),
             ("Dehydrering og nedsatt allmenntilstand", "E86", "Medisinsk klinikk, geriatrisk seksjon"),
             ("Atrieflimmer med rask ventrikkelfrekvens", "I48.9", "Medisinsk klinikk, geriatrisk seksjon"),
             ("Brudd i overarm, høyre side", "S42.2", "Ortopedisk avdeling")]
CHRONIC = [("Demens ved Alzheimers sykdom", "F00.1"), ("Diabetes mellitus type 2", "E11.9"),
           ("Hypertensjon", "I10"), ("Parkinsons sykdom", "G20"), ("Artrose i kneledd", "M17.9"),
           ("Osteoporose", "M81.9"), ("Hypotyreose", "E03.9"), ("Kronisk nyresvikt", "N18.9")]
MEDICINES = ["Paracet 500 mg, 2 tabletter x 3", "Albyl-E 75 mg x 1", "Furix 40 mg x 1 morgen",
             "Metformin 500 mg x 2", "Levaxin 50 mikrog x 1", "Sobril 10 mg ved behov, maks 2 per døgn",
             "Marevan etter INR-skjema", "Cipralex 10 mg x 1", "Movicol 1 pose x 1", "Calcigran Forte 1 x 1",
             "Zopiklon 3,75 mg ved behov", "Selo-Zok 50 mg x 1", "Aricept 10 mg x 1 kveld",
             "Madopar 125 mg x 3", "OxyNorm 5 mg ved behov", "Eliquis 2,5 mg x 2"]


@dataclass
class Relative:
    navn: str
    relasjon: str
    adresse: str


@dataclass
class Patient:
    pasient_id: str
    fornavn: str
    etternavn: str
    kjonn: str
    born: date
    adresse: str
    sone: str
    fastlege: str
    relative: Relative | None
    fodselsnummer: str | None = None
    give_birth_date: bool = True
    death: date | None = None
    death_unknown: bool = False
    skjult_adresse: bool = False
    chronic: list = field(default_factory=list)
    medicines: list = field(default_factory=list)

    @property
    def navn(self) -> str:
        return f"{self.fornavn} {self.etternavn}"

    @property
    def fn(self) -> str:
        return self.fornavn.split()[0]

    def pron(self) -> tuple[str, str, str]:
        return {"K": ("hun", "henne", "hennes"), "M": ("han", "ham", "hans")}.get(
            self.kjonn, ("pasienten", "pasienten", "pasientens"))

    def json(self) -> dict:
        p = {"pasient_id": self.pasient_id}
        if self.fodselsnummer:
            p["fodselsnummer"] = self.fodselsnummer
        p["navn"] = self.navn
        if self.give_birth_date:
            p["fodselsdato"] = self.born.isoformat()
        if self.death:
            p["dodsdato"] = self.death.isoformat()
        if self.death_unknown:
            p["dodsdato_ukjent"] = True
        p["kjonn"] = self.kjonn
        if self.skjult_adresse:
            p["skjult_adresse"] = True
        return p


# --------------------------------------------------------------------------- entries and journals


@dataclass
class Doc:
    kind: str  # "txt" | "letter" | "scan" | "photo"
    tittel: str
    content: object  # text for txt; a dict for the rest
    tilknyttet_som: str | None = None
    fil: str | None = None


@dataclass
class Entry:
    type: str
    tittel: str
    forfatter: str
    opprettet: datetime
    arkivert: datetime
    arkivert_av: str
    korrespondanse: dict | None = None
    docs: list[Doc] = field(default_factory=list)
    skjerming: dict | None = None
    endringer: list[dict] = field(default_factory=list)
    innslag_id: str = ""
    sensitive: bool = False
    extra: dict = field(default_factory=dict)  # what the generator knows beyond the record (not exported)


@dataclass
class Journal:
    unit: str
    patient: Patient
    opened: datetime
    closed: datetime | None
    ansvarlig: str
    opened_by: str
    closed_by: str | None
    entries: list[Entry] = field(default_factory=list)
    merknader: list[dict] = field(default_factory=list)
    journal_id: str = ""

    @property
    def kind(self) -> str:
        return UNITS[self.unit][2]

    @property
    def staff(self) -> list[tuple[str, str]]:
        return STAFF[UNITS[self.unit][3]]

    def last_entry_day(self) -> date:
        """The last day ordinary entries may be written."""
        end = (self.closed.date() - timedelta(days=3)) if self.closed else date(2023, 6, 30)
        if self.patient.death:
            end = min(end, self.patient.death - timedelta(days=1))
        return max(end, self.opened.date())

    def json(self) -> dict:
        ark, sted, _, _ = UNITS[self.unit]
        out = {
            "journal_id": self.journal_id,
            "arkivskaper": ark,
            "journalsted": sted,
            "journalansvarlig": self.ansvarlig,
            "opprettet": iso(self.opened),
            "opprettet_av": self.opened_by,
            "avsluttet": iso(self.closed) if self.closed else None,
        }
        if self.closed:
            out["avsluttet_av"] = self.closed_by
        out["pasient"] = self.patient.json()
        out["innslag"] = [entry_json(e) for e in self.entries]
        if self.merknader:
            out["merknader"] = self.merknader
        return out


def entry_json(e: Entry) -> dict:
    out = {"innslag_id": e.innslag_id, "type": e.type, "tittel": e.tittel, "forfatter": e.forfatter,
           "opprettet": iso(e.opprettet), "arkivert": iso(e.arkivert), "arkivert_av": e.arkivert_av}
    if e.skjerming:
        out["skjerming"] = e.skjerming
    if e.korrespondanse:
        out["korrespondanse"] = e.korrespondanse
    if e.docs:
        out["dokumenter"] = []
        for d in e.docs:
            dj = {"fil": d.fil, "tittel": d.tittel}
            if d.tilknyttet_som:
                dj["tilknyttet_som"] = d.tilknyttet_som
            out["dokumenter"].append(dj)
    if e.endringer:
        out["endringer"] = e.endringer
    return out


# --------------------------------------------------------------------------- note texts

NOTES = {
    "Tilsyn morgen": [
        "{Fn} sov godt i natt og var blid ved morgenstell.", "Fikk hjelp til dusj og påkledning.",
        "Spiste en halv brødskive med brunost og drakk to kopper kaffe til frokost.",
        "Morgenmedisiner gitt kl. 08.00 etter multidose.", "Noe stiv i bena, gikk med rullator til stua.",
        "Blodsukker målt til 7,4 mmol/l før frokost.", "Klaget over vondt i ryggen, fikk Paracet 1 g.",
        "Ønsket å bli liggende litt lenger i dag, fikk frokost på rommet."],
    "Tilsyn kveld": [
        "{Fn} satt i stua og så på Dagsrevyen etter kveldsmat.", "Fikk kveldsmedisiner kl. 21.00 uten problemer.",
        "Hjulpet med kveldsstell og i seng.", "Klager litt over smerter i venstre hofte, fikk Paracet 1 g.",
        "Ringeklokke lagt innen rekkevidde.", "Drakk godt i løpet av kvelden, ca. 600 ml.",
        "Hadde besøk av {rel} i ettermiddag og var i godt humør etterpå.",
        "Litt uro før leggetid, roet seg med musikk."],
    "Tilsyn natt": [
        "Rolig natt.", "{Pn} ringte på kl. 03.30 og ønsket hjelp til toalettbesøk.",
        "Var urolig rundt kl. 01.00, fikk en beroligende samtale og sovnet igjen.",
        "Snudd i seng hver tredje time etter plan.", "Bleie skiftet kl. 04.00, huden hel og fin.",
        "Våken ved tilsyn kl. 05.00, fikk et glass saft.", "Sov ved alle tilsyn."],
    "Legevisitt": [
        "Legevisitt ved {lege}.",
        "Vurdert pga. hoste og lett feber siste to døgn. Knatrelyder basalt på høyre side.",
        "Startet Apocillin 660 mg x 4 i sju dager.", "Blodtrykk 145/85, puls 78 og regelmessig.",
        "Sobril seponeres. Effekten vurderes om en uke.", "CRP 46. Ny kontroll mandag.",
        "Vekt 58,2 kg, ned 1,5 kg siste måned. Ernæringstiltak drøftet med avdelingen.",
        "Plan: fortsette som før, ny vurdering ved neste visitt."],
    "Samtale med pårørende": [
        "Samtale med {rel_navn} ({rel}) på telefon.", "{Rel_navn} lurte på hvordan {fn} har det om kveldene.",
        "Informert om at {fn} spiser mindre enn før og at vi følger med på vekten.",
        "Avtalt at {rel} tar med egne klær og bilder til rommet.",
        "Ønsker å bli ringt ved endringer i tilstanden, også om natten.", "Avtalt ny samtale om tre uker."],
    "Innkomstsamtale": [
        "{Fn} kom til avdelingen i dag, fulgt av {rel}.", "Legemiddelliste gjennomgått sammen med sykepleier.",
        "Ønsker å bli kalt {fn}. Liker å høre på radio og lese Adresseavisen.",
        "Har egen rullator og høreapparat på høyre øre.", "Ingen kjente allergier.",
        "Pårørende informert om besøkstider og rutiner i avdelingen.", "Rommet ble innredet med egne møbler."],
    "Sårstell": [
        "Sårstell sacrum etter prosedyre.", "Såret er ca. 2 x 3 cm, rent, med lite sekresjon.",
        "Skiftet til Mepilex Border.", "Avlastningsmadrass ligger i sengen.", "Neste skift om tre dager.",
        "Huden rundt såret er noe rød, ikke varm."],
    "Fall i rommet": [
        "{Fn} ble funnet sittende på gulvet ved sengen.", "Ingen synlige skader, beveger armer og ben fritt.",
        "Hjulpet opp med løftestol.", "Blodtrykk 120/70. Lege informert.", "Fallregistrering utført.",
        "Sengen er senket, og sensormatte er lagt ut."],
    "Medisinendring": [
        "Etter legevisitt er Furix økt til 40 mg x 2.", "Zopiklon er seponert.",
        "Ny dosett er bestilt fra apoteket.", "Observerer søvn og uro de neste dagene.",
        "Pårørende informert om endringen."],
    "Ernæring og væske": [
        "{Fn} har spist lite siste uke.", "Startet væske- og kostregistrering i tre døgn.",
        "Tilbys næringsdrikk mellom måltidene.", "Veid i dag: 56,8 kg.", "Liker best grøt og fiskesuppe."],
    "Aktivitet og trivsel": [
        "{Fn} var med på allsang i fellesstua og sang med på flere av sangene.",
        "Gikk en tur i hagen med ansatt, ca. 15 minutter.", "Ga uttrykk for at {pn} trives på avdelingen.",
        "Har begynt å strikke igjen."],
    "Endret allmenntilstand": [
        "{Fn} er slappere enn vanlig og har spist lite i dag.", "Temperatur 38,2, puls 96, blodtrykk 105/60.",
        "Lege kontaktet, kommer på visitt i morgen.", "Økt tilsyn i natt.", "{Rel_navn} er informert."],
    "Palliativ vurdering": [
        "Samtale med lege og {rel} om livets sluttfase.", "{Fn} er tidvis våken og virker smertefri.",
        "Innleggelse på sykehus er ikke ønskelig, i tråd med {pos} egne ønsker.",
        "Startet med morfin ved behov etter ordinasjon fra lege.", "Munnstell hver annen time."],
    "Hjemmebesøk": [
        "Hjemmebesøk etter tiltaksplanen.", "{Fn} var kledd og hadde spist frokost.",
        "Medisiner fra dosett tatt i vårt nærvær.", "Kjøleskapet er fylt opp etter at {rel} handlet i går.",
        "Litt kaldt i leiligheten, ovnen er skrudd opp.", "Går trygt med rullator innendørs.",
        "Ønsker fortsatt å bo hjemme så lenge som mulig."],
    "Kartleggingsbesøk": [
        "Kartleggingsbesøk sammen med {rel}.", "{Fn} bor alene i egen bolig over to etasjer.",
        "Trenger hjelp til medisiner og dusj.", "Har falt to ganger siste halvår, ingen alvorlige skader.",
        "Ønsker trygghetsalarm.", "Søknad om hjemmesykepleie fylt ut og sendt tildelingskontoret."],
    "Medisinhåndtering": [
        "Dosett fylt for to uker.", "Oppdaget at kveldsdosen i går ikke var tatt.",
        "Avtalt ekstra besøk kl. 21.00 for å gi kveldsmedisiner.", "Multidose fra apoteket vurderes."],
    "Fall i hjemmet": [
        "Trygghetsalarmen gikk tidlig i morges.", "{Fn} lå på baderomsgulvet, hadde ligget der siden natten.",
        "Våken og klar, klager over smerter i høyre skulder.", "Legevakt kontaktet.",
        "Hjulpet opp og lagt i seng etter vurdering fra legevaktlege."],
    "Trygghetsalarm utløst": [
        "Alarmen ble utløst, hjemmetjenesten dro ut.", "{Fn} hadde trykket ved et uhell, alt var i orden.",
        "Repetert bruk av alarmen.", "Ingen videre tiltak."],
    "Oppfølging etter sykehusopphold": [
        "{Fn} kom hjem fra sykehuset i går.", "Epikrise og legemiddelliste gjennomgått.",
        "Nytt tiltak: tilsyn to ganger daglig i to uker.", "Fysioterapeut kontaktet for opptrening."],
    "Utskrivningsnotat": [
        "{Fn} skrives ut til eget hjem i dag.", "Går nå selvstendig med rullator.",
        "Hjemmetjenesten er informert og starter tilsyn i morgen.", "Legemiddelliste sendt med."],
    "Fysioterapi – opptrening": [
        "Gangtrening i korridoren, 2 x 40 meter med rullator.", "Øvelser for lårmuskulatur, godt gjennomført.",
        "Trappetrening med støtte, fire trinn.", "Mål: gå trygt innendørs før hjemreise."],
}

SENSITIVE_NOTES = {
    "Samtale om alkoholbruk": [
        "Samtale med {fn} om alkoholbruk etter at det er funnet tomflasker i leiligheten.",
        "{Pn} erkjenner at {pn} drikker mer enn før, særlig i helgene.",
        "Informert om tilbud fra kommunens rus- og psykisk helsetjeneste.", "Fastlege orienteres med samtykke."],
    "Uro og utagering – tiltak": [
        "{Fn} har vært urolig og slått etter ansatte ved stell de siste dagene.",
        "Tiltak: to ansatte ved morgenstell, rolig tilnærming, tilby stell senere ved motstand.",
        "Lege vurderer smertebehandling som mulig årsak.", "Avvik registrert."],
    "Samtale med pårørende om økonomi og verge": [
        "Samtale med {rel_navn} om {pos} økonomi.", "Det er uenighet i familien om hvem som skal hjelpe til.",
        "Informert om ordningen med verge og om Statsforvalteren.", "Notatet er skjermet etter ønske fra pasienten."],
    "Psykisk helse – samtale": [
        "{Fn} gir uttrykk for tristhet og at {pn} ikke ser noen mening med dagene.",
        "Ingen konkrete selvmordstanker, men ønsker å snakke med noen.",
        "Lege er informert og kommer i morgen.", "Økt tilsyn og samtaletilbud."],
}


def note_text(p: Patient, title: str, when: datetime, author: str, lege: str, pool: dict = NOTES,
              r: random.Random | None = None) -> str:
    r = r or rng
    pn, po, pos = p.pron()
    rel = p.relative
    sentences = pool[title]
    k = min(len(sentences), r.randint(3, 5))
    chosen = sorted(r.sample(range(len(sentences)), k))
    fill = {"fn": p.fn, "Fn": p.fn, "pn": pn, "Pn": cap(pn), "po": po, "pos": pos, "lege": lege,
            "rel": f"{rel.relasjon}" if rel else "pårørende", "rel_navn": rel.navn if rel else "pårørende",
            "Rel_navn": rel.navn if rel else "Pårørende"}
    body = " ".join(sentences[i].format(**fill) for i in chosen)
    return (f"{title} – {no_date(when)} kl. {when:%H.%M}\n\n{wrap(body, 90)}\n\n"
            f"Skrevet av: {author}, {ROLE.get(author, 'ansatt')}\n")


def wrap(text: str, width: int) -> str:
    lines, line = [], ""
    for word in text.split():
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line:
        lines.append(line)
    return "\n".join(lines)


# --------------------------------------------------------------------------- patients

_pid = 10000


def next_pid() -> str:
    global _pid
    _pid += rng.randint(3, 41)
    return f"P-{_pid}"


_surnames = SURNAMES[:]
rng.shuffle(_surnames)


def make_relative(p_surname: str, born: date, sone: str) -> Relative:
    relasjon = rng.choice(["datter", "sønn", "datter", "sønn", "ektefelle", "niese", "nevø"])
    if relasjon == "ektefelle":
        first = rng.choice(FEMALE + MALE)
        surname = p_surname
    elif relasjon in ("datter", "niese"):
        first = rng.choice(CHILD_F)
        surname = p_surname if rng.random() < 0.5 else rng.choice(OTHER_SURNAMES)
    else:
        first = rng.choice(CHILD_M)
        surname = p_surname if rng.random() < 0.7 else rng.choice(OTHER_SURNAMES)
    place = PLACES[sone] if relasjon == "ektefelle" else rng.choice(RELATIVE_PLACES)
    return Relative(f"{first} {surname}", relasjon, f"{rng.choice(STREETS)} {rng.randint(1, 60)}, {place}")


def make_elder(kjonn: str, born: date | None = None, surname: str | None = None, **kw) -> Patient:
    if born is None:
        born = rand_date(date(1912, 1, 1), date(1940, 12, 31))
    first = rng.choice(FEMALE if kjonn == "K" else MALE)
    if rng.random() < 0.15:
        first = f"{first} {rng.choice(SECOND[kjonn])}"
    surname = surname or _surnames.pop()
    sone = rng.choice(["nord", "sør"])
    adresse = f"{rng.choice(STREETS)} {rng.randint(1, 48)}{rng.choice(['', '', '', ' B'])}, {PLACES[sone]}"
    p = Patient(next_pid(), first, surname, kjonn, born, adresse, sone, rng.choice(FASTLEGER),
                make_relative(surname, born, sone), **kw)
    p.chronic = rng.sample(CHRONIC, rng.randint(1, 3))
    p.medicines = rng.sample(MEDICINES, rng.randint(3, 7))
    return p


# --------------------------------------------------------------------------- journal building


def staff_pick(j: Journal) -> str:
    return rng.choice(j.staff)[0]


def shift_time(title: str) -> tuple[int, int]:
    """When a note is written: towards the end of the shift it is about."""
    if "natt" in title:
        return rng.randint(5, 6), rng.randint(0, 59)
    if "kveld" in title:
        return rng.randint(20, 22), rng.randint(0, 59)
    if "morgen" in title:
        return rng.randint(10, 12), rng.randint(0, 59)
    return rng.randint(8, 15), rng.randint(0, 59)


def clamp_archive(j: Journal, opprettet: datetime, arkivert: datetime) -> datetime:
    limit = j.closed - timedelta(hours=1) if j.closed else None
    if limit is not None and arkivert > limit:
        arkivert = max(opprettet, limit)
    return arkivert


def add(j: Journal, type_: str, title: str, author: str, day: date, hm: tuple[int, int] | None = None,
        delay_min: tuple[int, int] = (10, 120), **kw) -> Entry:
    hh, mm = hm if hm else shift_time(title)
    opprettet = at(day, hh, mm)
    if opprettet < j.opened:
        opprettet = plus_minutes(j.opened, rng.randint(15, 90))
    if j.closed and opprettet > j.closed - timedelta(hours=2):
        opprettet = j.closed - timedelta(hours=2)
    arkivert = plus_minutes(opprettet, rng.randint(*delay_min))
    if delay_min[1] >= 600 and not 8 <= arkivert.hour < 16:
        # office work (letters, incoming mail) is filed in office hours
        day = arkivert.date() + timedelta(days=1 if arkivert.hour >= 16 else 0)
        arkivert = at(day, rng.randint(8, 11), rng.randint(0, 59))
    arkivert = clamp_archive(j, opprettet, arkivert)
    e = Entry(type_, title, author, opprettet, arkivert, username(author), **kw)
    j.entries.append(e)
    return e


def spread_days(j: Journal, n: int, start: date | None = None, end: date | None = None) -> list[date]:
    a = start or j.opened.date()
    b = end or j.last_entry_day()
    return sorted(rand_date(a, b) for _ in range(n))


def notat(j: Journal, title: str, day: date, author: str | None = None, with_text: float = 0.55,
          pool: dict = NOTES) -> Entry:
    author = author or staff_pick(j)
    e = add(j, "notat", title, author, day)
    if rng.random() < with_text:
        lege = rng.choice(STAFF["lege"])[0]
        e.docs.append(Doc("txt", title, note_text(j.patient, title, e.opprettet, author, lege, pool)))
    return e


def outgoing(e: Entry, *names: str, kopi: tuple[str, ...] = ()) -> None:
    parter = [{"type": "Mottaker", "navn": n} for n in names]
    parter += [{"type": "Kopimottaker", "navn": n} for n in kopi]
    e.korrespondanse = {"type": "Utgående dokument", "dato": e.arkivert.date().isoformat(), "parter": parter}


def incoming(e: Entry, sender: str) -> None:
    e.korrespondanse = {"type": "Inngående dokument", "dato": e.opprettet.date().isoformat(),
                        "parter": [{"type": "Avsender", "navn": sender}]}


def addressee(p: Patient) -> tuple[str, str]:
    """Name and address a letter about the patient goes to: the patient, or the relative."""
    if p.relative and (rng.random() < 0.45 or p.skjult_adresse and rng.random() < 0.5):
        return p.relative.navn, p.relative.adresse
    return p.navn, "" if p.skjult_adresse else p.adresse


VEDTAK_TEXT = {
    "Vedtak om hjemmesykepleie": (
        "helse- og omsorgstjenesteloven § 3-2 første ledd nr. 6 bokstav a, jf. pasient- og brukerrettighetsloven "
        "§ 2-1 a andre ledd",
        ["Hjelp til medisiner morgen og kveld", "Tilsyn kveld", "Hjelp til dusj én gang i uken",
         "Støttestrømper på morgenen og av om kvelden", "Sårstell etter plan fra fastlege"],
        "Hjemmesykepleie er gratis."),
    "Vedtak om økt hjemmesykepleie": (
        "helse- og omsorgstjenesteloven § 3-2 første ledd nr. 6 bokstav a",
        ["Tilsyn fire ganger i døgnet", "Hjelp til morgenstell og kveldsstell", "Tilsyn natt ved behov"],
        "Hjemmesykepleie er gratis."),
    "Vedtak om praktisk bistand": (
        "helse- og omsorgstjenesteloven § 3-2 første ledd nr. 6 bokstav b",
        ["Rengjøring av kjøkken, bad og stue hver fjortende dag", "Handling av dagligvarer én gang i uken",
         "Skift av sengetøy hver fjortende dag"],
        "Egenandelen beregnes etter forskrift om egenandel for kommunale helse- og omsorgstjenester."),
    "Vedtak om trygghetsalarm": (
        "helse- og omsorgstjenesteloven § 3-1, jf. § 3-2 første ledd nr. 6",
        ["Trygghetsalarm med armbånd installeres i boligen", "Alarmen besvares av hjemmetjenesten hele døgnet"],
        "Leie av alarm koster kr 250 per måned."),
    "Vedtak om langtidsopphold i sykehjem": (
        "helse- og omsorgstjenesteloven § 3-2 første ledd nr. 6 bokstav c, jf. pasient- og "
        "brukerrettighetsloven § 2-1 e",
        ["Langtidsopphold med heldøgns omsorg", "Lege- og fysioterapitjeneste etter behov"],
        "Vederlag for opphold fastsettes i eget vedtak."),
    "Vedtak om sykehjemsplass": (
        "helse- og omsorgstjenesteloven § 3-2 første ledd nr. 6 bokstav c, jf. pasient- og "
        "brukerrettighetsloven § 2-1 e",
        ["Langtidsopphold med heldøgns omsorg", "Lege- og fysioterapitjeneste etter behov"],
        "Vederlag for opphold fastsettes i eget vedtak."),
    "Vedtak om vederlag for langtidsopphold": (
        "forskrift om egenandel for kommunale helse- og omsorgstjenester kapittel 3",
        ["Vederlaget er beregnet ut fra siste ligningsoppgjør",
         "Beløpet trekkes månedlig fra og med første hele måned"],
        "Du kan be om ny beregning dersom inntekten endres."),
    "Vedtak om korttidsopphold": (
        "helse- og omsorgstjenesteloven § 3-2 første ledd nr. 6 bokstav c",
        ["Korttidsopphold for opptrening etter sykehusopphold", "Fysioterapi fem dager i uken"],
        "Egenandel for korttidsopphold beregnes per døgn."),
    "Vedtak om helsehjelp uten samtykke": (
        "pasient- og brukerrettighetsloven kapittel 4 A, jf. § 4A-5",
        ["Gjennomføring av personlig hygiene ved motstand, med to ansatte til stede",
         "Vedtaket gjelder i tre måneder og evalueres hver fjortende dag"],
        "Vedtaket sendes i kopi til Statsforvalteren i Trøndelag."),
}


def vedtak(j: Journal, title: str, day: date, with_doc: float = 0.2) -> Entry:
    p = j.patient
    author = rng.choice(STAFF["tildeling"])[0]
    e = add(j, "vedtak", title, author, day, hm=(rng.randint(9, 15), rng.randint(0, 59)), delay_min=(30, 1440))
    to_name, to_addr = addressee(p)
    outgoing(e, to_name)
    if rng.random() < with_doc:
        attach = rng.random() < 0.15
        hjemmel, tiltak, betaling = VEDTAK_TEXT[title]
        unit = UNITS[j.unit][1]
        body = [
            f"Vi viser til søknad mottatt {no_date(e.opprettet - timedelta(days=rng.randint(5, 20)))} "
            f"og samtale med {p.fn} og {p.relative.relasjon if p.relative else 'pårørende'}.",
            "## Vedtak",
            f"{p.navn} får innvilget følgende tjenester fra {no_date(e.opprettet + timedelta(days=1))}, "
            f"utført av {unit}:",
        ] + [f"• {t}" for t in tiltak] + [
            f"Vedtaket er gjort med hjemmel i {hjemmel}.", betaling,
            "## Begrunnelse",
            f"Kommunen har vurdert {p.fn}s behov ut fra kartlegging og opplysninger fra fastlege. "
            "Tjenestene anses nødvendige for å gi forsvarlig helsehjelp.",
            "## Klageadgang",
            "Du kan klage på vedtaket. Klagen sendes Tildelingskontoret innen fire uker etter at du mottok "
            "dette brevet." + (" Se vedlagt orientering om klagerett." if attach else
                               " Du kan få hjelp til å skrive klagen."),
        ]
        letter = {"to_name": to_name, "to_addr": to_addr, "date": e.opprettet, "created": e.arkivert,
                  "avd": "Tildelingskontoret", "saksbehandler": author, "title": title, "body": body,
                  "about": p.navn if to_name != p.navn else None}
        e.docs.append(Doc("letter", title, letter))
        if attach:
            e.docs.append(Doc("letter", "Orientering om klagerett", {
                "to_name": to_name, "to_addr": to_addr, "date": e.opprettet, "created": e.arkivert,
                "avd": "Tildelingskontoret", "saksbehandler": author, "title": "Orientering om klagerett",
                "about": None, "body": [
                    "Du har rett til å klage på vedtak om helse- og omsorgstjenester, jf. pasient- og "
                    "brukerrettighetsloven kapittel 7.",
                    "## Frist", "Klagen må sendes innen fire uker fra du mottok vedtaket.",
                    "## Hvordan klage",
                    "Skriv hva du klager på og hvorfor. Send klagen til Fjordvik kommune, Tildelingskontoret, "
                    "Postboks 100, 7199 Fjordvik. Vi hjelper deg gjerne med å skrive klagen.",
                    "## Hva skjer videre",
                    "Kommunen vurderer saken på nytt. Blir vedtaket ikke endret, sendes klagen til "
                    "Statsforvalteren i Trøndelag for endelig avgjørelse.",
                    "## Innsyn", "Du har rett til å se dokumentene i saken, jf. forvaltningsloven § 18."]}),
            )
            e.docs[-1].tilknyttet_som = "Vedlegg"
    return e


def epikrise_text(p: Patient, hospital: str, diag: tuple, inn: date, ut: date, lege: str) -> str:
    meds = "\n".join(f"- {m}" for m in p.medicines)
    chronic = "\n".join(f"- {c[0]} ({c[1]})" for c in p.chronic)
    course = (f"{p.fn} ble innlagt med {low(diag[0])}. Behandlet etter gjeldende retningslinjer med god effekt. "
              "Mobilisert gradvis under oppholdet. Tilstanden er stabil ved utskrivning.")
    plan = ("Kontroll hos fastlege om to uker. Hjemmetjenesten/sykehjemmet følger opp ernæring, mobilisering og "
            "legemiddelhåndtering.")
    return (f"EPIKRISE\n{hospital}, {diag[2]}\n\nPasient: {p.navn}, født {no_date(p.born)}\n"
            f"Innlagt: {no_date(inn)}   Utskrevet: {no_date(ut)}\n\n"
            f"Hoveddiagnose:\n- {diag[0]} ({diag[1]})\nBidiagnoser:\n{chronic}\n\n"
            f"Forløp:\n{wrap(course, 90)}\n\n"
            f"Legemidler ved utskrivning:\n{meds}\n\n"
            f"Videre plan:\n{wrap(plan, 90)}\n\n"
            f"Med vennlig hilsen\n{lege}\nlege\n")


def epikrise_in(j: Journal, day: date) -> Entry:
    p = j.patient
    hf, short = rng.choice(HOSPITALS)
    author = staff_pick(j)
    e = add(j, "epikrise", f"Epikrise fra {short}", author, day, hm=(rng.randint(8, 15), rng.randint(0, 59)),
            delay_min=(60, 4000))
    incoming(e, hf)
    if rng.random() < 0.8:
        diag = rng.choice(DIAGNOSES)
        ut = e.opprettet.date() - timedelta(days=rng.randint(0, 3))
        inn = ut - timedelta(days=rng.randint(3, 14))
        lege = rng.choice(["Kristin Aalberg", "Henrik Sørbø", "Maja Lindstrøm", "Petter Grønvold"])
        e.docs.append(Doc("txt", e.tittel, epikrise_text(p, hf, diag, inn, ut, lege)))
        if rng.random() < 0.35:
            meds = "\n".join(f"{n}. {m}" for n, m in enumerate(p.medicines, 1))
            e.docs.append(Doc("txt", "Legemiddelliste ved utskrivning",
                              f"LEGEMIDDELLISTE VED UTSKRIVNING\n{hf}\n\nPasient: {p.navn}\n\n{meds}\n\n"
                              f"Avstemt av {lege}, {no_date(ut)}\n", "Vedlegg"))
    return e


def henvisning_in(j: Journal, day: date) -> Entry:
    p = j.patient
    author = staff_pick(j)
    e = add(j, "henvisning", "Henvisning fra fastlege", author, day, hm=(rng.randint(8, 15), rng.randint(0, 59)),
            delay_min=(60, 2880))
    incoming(e, p.fastlege)
    if rng.random() < 0.6:
        e.docs.append(Doc("txt", e.tittel, (
            f"HENVISNING TIL KOMMUNALE HELSE- OG OMSORGSTJENESTER\nFra: {p.fastlege}\n\nGjelder: {p.navn}, "
            f"født {no_date(p.born)}\n\n" + wrap(
                f"Henvises for vurdering av hjemmesykepleie. {p.fn} har {low(p.chronic[0][0])} og klarer "
                "ikke lenger å håndtere medisinene sine selv. Har falt hjemme, bor alene. Pårørende er "
                "bekymret. Ber om kartleggingsbesøk snarest.", 90) +
            "\n\nFaste legemidler:\n" + "\n".join(f"- {m}" for m in p.medicines) + "\n")))
    return e


def henvisning_intern(j: Journal, day: date) -> Entry:
    which = rng.choice(["fysioterapi", "ergoterapi"])
    what = "gangfunksjon og falltiltak" if which == "fysioterapi" else "hjelpemidler i bolig og på badet"
    author = staff_pick(j)
    e = add(j, "henvisning", f"Henvisning til {which}", author, day)
    e.korrespondanse = {"type": "Organinternt dokument for oppfølging", "dato": day.isoformat(),
                        "parter": [{"type": "Intern mottaker", "navn": "Fysio- og ergoterapitjenesten"}]}
    if rng.random() < 0.5:
        e.docs.append(Doc("txt", e.tittel, (
            f"Henvisning til {which}\n\nGjelder: {j.patient.navn}\n\n" + wrap(
                f"Ber om vurdering av {what}. "
                f"{j.patient.fn} er motivert.", 90) + f"\n\nHilsen {author}, {ROLE[author]}\n")))
    return e


SKJEMA = {
    "IPLOS-kartlegging": ["Alminnelig husarbeid", "Personlig hygiene", "Av- og påkledning", "Spise",
                          "Toalett", "Bevege seg innendørs", "Bevege seg utendørs", "Hukommelse",
                          "Styre adferd", "Ivareta egen helse"],
    "Ernæringskartlegging (MNA)": ["Redusert matinntak siste 3 mnd", "Vekttap siste 3 mnd", "Mobilitet",
                                   "Psykisk stress eller akutt sykdom", "Nevropsykologiske problemer",
                                   "KMI"],
    "Fallrisikovurdering": ["Tidligere fall", "Bruk av hjelpemidler", "Svimmelhet", "Legemidler som øker fallrisiko",
                            "Syn", "Inkontinens"],
    "Pleieplan": ["Personlig hygiene", "Ernæring", "Eliminasjon", "Søvn og hvile", "Smerte", "Sosialt"],
    "Legemiddelgjennomgang": ["Indikasjon", "Dosering", "Interaksjoner", "Bivirkninger", "Seponering vurdert"],
}


def skjema(j: Journal, title: str, day: date) -> Entry:
    author = staff_pick(j)
    e = add(j, "skjema", title, author, day)
    if rng.random() < 0.3:
        rows = "\n".join(f"{item:<40} {rng.randint(1, 5)}" for item in SKJEMA[title]) \
            if title in ("IPLOS-kartlegging",) else \
            "\n".join(f"{item:<40} {rng.choice(['Ja', 'Nei', 'Delvis', 'Se notat'])}" for item in SKJEMA[title])
        e.docs.append(Doc("txt", title, f"{title.upper()}\n{j.patient.navn}\nUtfylt {no_date(e.opprettet)} av "
                                        f"{author}\n\n{rows}\n"))
    return e


def brev_ut(j: Journal, title: str, day: date, to_name: str, to_addr: str, body: list[str],
            author: str | None = None, with_doc: float = 0.35, kopi: tuple[str, ...] = ()) -> Entry:
    author = author or staff_pick(j)
    e = add(j, "brev", title, author, day, hm=(rng.randint(9, 15), rng.randint(0, 59)), delay_min=(20, 600))
    outgoing(e, to_name, kopi=kopi)
    if rng.random() < with_doc:
        e.docs.append(Doc("letter", title, {"to_name": to_name, "to_addr": to_addr, "date": e.opprettet,
                                            "created": e.arkivert, "avd": UNITS[j.unit][1],
                                            "saksbehandler": author, "title": title, "body": body,
                                            "about": j.patient.navn if to_name != j.patient.navn else None}))
    return e


def paper_journal_lines(p: Patient, start: int, end: int) -> list[tuple[str, str, str]]:
    texts = ["Bra natt. Spist frokost.", "Besøk av datter. I godt humør.", "Klager over vondt i kne. Paracet gitt.",
             "Lege tilsett. Penicillin startet for hoste.", "Dusjet. Huden hel.", "Falt på badet, ingen skade.",
             "Urolig om kvelden, sovnet etter kl. 23.", "Vektkontroll 61 kg.", "Ny dosett fra apoteket.",
             "Fotpleier i dag.", "Trett og blek. Temp 37,9.", "Tatt blodprøver. Hb 11,2.",
             "Gått tur ute med rullator.", "Klager over svimmelhet om morgenen.", "Influensavaksine satt.",
             "Sår på legg stelt. Ny bandasje.", "Spiser dårlig. Tilbudt næringsdrikk.", "Rolig dag."]
    initials = ["KL", "AB", "GH", "SR", "TM", "BØ", "IÅ"]
    out = []
    days = sorted(rand_date(date(start, 1, 1), date(end, 12, 31)) for _ in range(rng.randint(16, 26)))
    for d in days:
        out.append((d.strftime("%d.%m.%y"), rng.choice(texts), rng.choice(initials)))
    return out


# --------------------------------------------------------------------------- the journals of one patient


def journal(unit: str, p: Patient, opened_day: date, closed_day: date | None) -> Journal:
    staff = STAFF[UNITS[unit][3]]
    ansvarlig = rng.choice([s for s in staff if s[1] in ("sykepleier", "fagleder", "avdelingssykepleier")]
                           or staff)[0]
    if UNITS[unit][0] == "legevakt":
        ansvarlig = rng.choice(STAFF["lv_lege"])[0]
    opener = rng.choice(staff)[0]
    closer = rng.choice(staff + STAFF["merkantil"])[0]
    opened = at(opened_day, rng.randint(8, 14), rng.randint(0, 59))
    closed = at(closed_day, rng.randint(9, 15), rng.randint(0, 59)) if closed_day else None
    return Journal(unit, p, opened, closed, ansvarlig, username(opener), username(closer) if closed else None)


def fill_sykehjem(j: Journal, vedtak_title: str | None = None, papir: bool = False) -> None:
    p = j.patient
    d0 = j.opened.date()
    vedtak(j, vedtak_title or rng.choice(["Vedtak om langtidsopphold i sykehjem", "Vedtak om sykehjemsplass"]),
           d0, with_doc=0.35 if vedtak_title is None else 1.0)
    notat(j, "Innkomstsamtale", d0, with_text=0.8)
    if rng.random() < 0.6:
        vedtak(j, "Vedtak om vederlag for langtidsopphold", d0 + timedelta(days=rng.randint(10, 40)))
    if rng.random() < 0.5:
        epikrise_in(j, d0 + timedelta(days=rng.randint(0, 2)))
    if papir:
        skannet_papirjournal(j, d0 + timedelta(days=rng.randint(5, 60)))
    for t in rng.sample(list(SKJEMA), rng.randint(1, 2)):
        skjema(j, t, rand_date(d0, j.last_entry_day()))
    titles = ["Tilsyn morgen", "Tilsyn kveld", "Tilsyn natt", "Samtale med pårørende", "Sårstell", "Fall i rommet",
              "Medisinendring", "Ernæring og væske", "Aktivitet og trivsel", "Endret allmenntilstand"]
    for day in spread_days(j, rng.randint(2, 5)):
        notat(j, rng.choice(titles), day)
    for day in spread_days(j, rng.randint(0, 1)):
        notat(j, "Legevisitt", day, author=rng.choice(STAFF["lege"])[0])
    if rng.random() < 0.3:
        henvisning_intern(j, rand_date(d0, j.last_entry_day()))
    if p.relative and rng.random() < 0.3:
        rel = p.relative
        brev_ut(j, "Invitasjon til pårørendesamtale", rand_date(d0, j.last_entry_day()), rel.navn, rel.adresse, [
            f"Vi ønsker å invitere deg til en samtale om {p.fn} og hvordan {p.pron()[0]} har det hos oss.",
            "Samtalen varer omtrent en time. Primærkontakt og lege deltar.",
            "Gi beskjed til avdelingen dersom tidspunktet ikke passer."])
    if p.death and j.closed and p.death <= j.closed.date():
        last = p.death - timedelta(days=rng.randint(3, 12))
        if last > d0:
            notat(j, "Palliativ vurdering", last, author=rng.choice(STAFF["lege"])[0], with_text=0.8)
        e = add(j, "notat", "Dødsfall", staff_pick(j), p.death, hm=(rng.choice([0, 1, 3, 4, 5, 6, 21, 22, 23]),
                                                                      rng.randint(0, 59)))
        if rng.random() < 0.7:
            pn, po, pos = p.pron()
            rel = p.relative
            e.docs.append(Doc("txt", "Dødsfall", (
                f"Dødsfall – {no_date(e.opprettet)} kl. {e.opprettet:%H.%M}\n\n" + wrap(
                    f"{p.fn} sovnet stille inn kl. {e.opprettet:%H.%M}"
                    f"{f' med {rel.relasjon} til stede' if rel else ''}. Lege tilkalt og dødsfallet konstatert. "
                    "Stell av avdøde utført etter ønske fra familien. Begravelsesbyrå kontaktet av pårørende.",
                    90)
                + f"\n\nSkrevet av: {e.forfatter}, {ROLE.get(e.forfatter, 'ansatt')}\n")))
        if rng.random() < 0.5:
            brev_ut(j, "Melding om dødsfall til fastlege", p.death + timedelta(days=rng.randint(1, 4)),
                    p.fastlege, "", [
                        f"Vi melder med dette at {p.navn}, født {no_date(p.born)}, døde ved "
                        f"{UNITS[j.unit][1]} {no_date(p.death)}.",
                        "Dødsfallet var forventet. Pårørende er informert."],
                    author=rng.choice(STAFF["lege"])[0])


def fill_korttid(j: Journal) -> None:
    d0 = j.opened.date()
    vedtak(j, "Vedtak om korttidsopphold", d0)
    notat(j, "Innkomstsamtale", d0, with_text=0.6)
    if rng.random() < 0.7:
        epikrise_in(j, d0)
    for day in spread_days(j, rng.randint(2, 3)):
        notat(j, rng.choice(["Tilsyn morgen", "Tilsyn kveld", "Fysioterapi – opptrening"]), day)
    notat(j, "Utskrivningsnotat", j.last_entry_day(), with_text=0.6)


def fill_hjem(j: Journal, before_sykehjem: bool = False) -> None:
    d0 = j.opened.date()
    if rng.random() < 0.45:
        henvisning_in(j, d0)
    notat(j, "Kartleggingsbesøk", d0 + timedelta(days=rng.randint(0, 3)), with_text=0.7)
    vedtak(j, "Vedtak om hjemmesykepleie", d0 + timedelta(days=rng.randint(3, 10)))
    for t in ("Vedtak om trygghetsalarm", "Vedtak om praktisk bistand"):
        if rng.random() < 0.35:
            vedtak(j, t, d0 + timedelta(days=rng.randint(5, 30)))
    if rng.random() < 0.5:
        skjema(j, "IPLOS-kartlegging", d0 + timedelta(days=rng.randint(3, 20)))
    titles = ["Hjemmebesøk", "Hjemmebesøk", "Tilsyn kveld", "Tilsyn morgen", "Medisinhåndtering",
              "Fall i hjemmet", "Trygghetsalarm utløst", "Samtale med pårørende", "Sårstell"]
    for day in spread_days(j, rng.randint(2, 4)):
        notat(j, rng.choice(titles), day)
    if rng.random() < 0.35:
        day = rand_date(d0, j.last_entry_day())
        epikrise_in(j, day)
        notat(j, "Oppfølging etter sykehusopphold", min(day + timedelta(days=1), j.last_entry_day()))
    if rng.random() < 0.3:
        henvisning_intern(j, rand_date(d0, j.last_entry_day()))
    if rng.random() < 0.3:
        vedtak(j, "Vedtak om økt hjemmesykepleie", rand_date(d0 + timedelta(days=60), j.last_entry_day()))
    if before_sykehjem and rng.random() < 0.6:
        soknad_sykehjem(j, j.last_entry_day() - timedelta(days=rng.randint(5, 40)))


def legevakt_contact(j: Journal, day: date, case: dict) -> None:
    lege = rng.choice(STAFF["lv_lege"])[0]
    hm = (rng.choice([0, 1, 3, 4, 5, 17, 18, 19, 20, 21, 22, 23, 10, 14]), rng.randint(0, 59))
    if not j.entries and day == j.opened.date():
        # the legevakt opens the journal when the patient comes in
        j.opened = plus_minutes(at(day, *hm), -rng.randint(5, 25))
    kind = case.get("kind", rng.choice(["Legevaktnotat", "Legevaktnotat", "Telefonkonsultasjon", "Sykebesøk"]))
    e = add(j, "notat", kind, lege, day, hm=hm, delay_min=(15, 240))
    e.extra["case"] = case
    if rng.random() < 0.75:
        e.docs.append(Doc("txt", kind, (
            f"{kind} – {no_date(e.opprettet)} kl. {e.opprettet:%H.%M}\n\n"
            f"Kontaktårsak: {case['aarsak']}\nFunn: {case['funn']}\nVurdering: {case['vurdering']}\n"
            f"Tiltak: {case['tiltak']}\n\nLege: {lege}\n")))
    if case.get("henvis"):
        h = add(j, "henvisning", "Henvisning til St. Olavs hospital, akuttmottaket", lege, day,
                hm=(e.opprettet.hour, e.opprettet.minute), delay_min=(5, 60))
        outgoing(h, "St. Olavs hospital HF")
        if rng.random() < 0.6:
            h.docs.append(Doc("txt", h.tittel, (
                f"HENVISNING – ØYEBLIKKELIG HJELP\nFra: Fjordvik interkommunale legevakt, {lege}\n"
                f"Til: St. Olavs hospital HF, akuttmottaket\n\nGjelder: {j.patient.navn}\n\n"
                f"{case['aarsak']} {case['funn']}\nSpørsmål: {case['vurdering']}\n")))
    if case.get("melding") and rng.random() < 0.7:
        p = j.patient
        brev_ut(j, "Melding til fastlege etter legevaktkontakt", day + timedelta(days=1), p.fastlege, "", [
            f"{p.navn} var i kontakt med legevakten {no_date(day)}.", f"Kontaktårsak: {case['aarsak']}",
            f"Vurdering: {case['vurdering']}", f"Tiltak: {case['tiltak']}",
            "Vi ber fastlegen følge opp videre."], author=lege, with_doc=0.6)


ELDER_CASES = [
    {"aarsak": "Falt hjemme, smerter i venstre hofte.", "funn": "Forkortet og utadrotert venstre ben.",
     "vurdering": "Mistanke om lårhalsbrudd.", "tiltak": "Henvist sykehus, ambulanse rekvirert.", "henvis": True},
    {"aarsak": "Feber og hoste i tre dager.", "funn": "Temp 38,6, SpO2 91 %, knatrelyder høyre side. CRP 112.",
     "vurdering": "Lungebetennelse.", "tiltak": "Oppstart Apocillin, hjemmesykepleien følger opp.", "melding": True},
    {"aarsak": "Akutt forvirring, hjemmesykepleien ringer.", "funn": "Urinstiks positiv for nitritt og leukocytter.",
     "vurdering": "Urinveisinfeksjon med delirium.", "tiltak": "Selexid, økt tilsyn, ny vurdering i morgen.",
     "melding": True},
    {"aarsak": "Brystsmerter siden i ettermiddag.", "funn": "EKG med ST-senkninger. Blek og klam.",
     "vurdering": "Mulig akutt koronarsyndrom.", "tiltak": "Henvist sykehus med ambulanse.", "henvis": True},
    {"aarsak": "Hjemmesykepleien ringer om sår som blør.", "funn": "Blødning fra leggsår, stanset ved kompresjon.",
     "vurdering": "Ingen tegn til infeksjon.", "tiltak": "Råd om kompresjon og kontroll hos fastlege.",
     "kind": "Telefonkonsultasjon"},
    {"aarsak": "Økende tung pust og hevelse i bena.", "funn": "Bilaterale ødemer, knatrelyder basalt begge sider.",
     "vurdering": "Forverring av hjertesvikt.", "tiltak": "Økt Furix, innlagt KAD-seng for observasjon.",
     "melding": True},
]
YOUNG_CASES = {
    "barn": {"aarsak": "Kuttet seg i venstre hånd på glass.", "funn": "2 cm kutt i hånden, sener og nerver intakte.",
             "vurdering": "Ukomplisert kuttskade.", "tiltak": "Sydd med tre sting. Stingfjerning om ti dager.",
             "kind": "Legevaktnotat", "melding": True},
    "arbeid": {"aarsak": "Klemskade i høyre hånd på arbeid (fiskeindustri).",
               "funn": "Hevelse og ømhet over 4. mellomhåndsben.", "vurdering": "Mistanke om brudd.",
               "tiltak": "Henvist til røntgen, gipsskinne.", "kind": "Legevaktnotat", "henvis": True},
    "rygg": {"aarsak": "Akutte ryggsmerter etter løft.", "funn": "Ingen utstrålende smerter, normale reflekser.",
             "vurdering": "Lumbago.", "tiltak": "Smertestillende og råd om aktivitet. Sykmeldt tre dager.",
             "kind": "Legevaktnotat"},
    "ankel": {"aarsak": "Overtråkk på tur.", "funn": "Hevelse lateralt over høyre ankel, kan belaste.",
              "vurdering": "Forstuet ankel.", "tiltak": "Elastisk bind, hvile, høyt leie.", "kind": "Legevaktnotat"},
    "hals": {"aarsak": "Sår hals og feber i to dager.", "funn": "Belegg på mandlene, Strep A positiv.",
             "vurdering": "Halsbetennelse.", "tiltak": "Penicillin i ti dager.", "kind": "Legevaktnotat"},
    "mage": {"aarsak": "Magesmerter siden i går kveld.", "funn": "Øm i høyre nedre kvadrant, CRP 64.",
             "vurdering": "Mistanke om blindtarmbetennelse.", "tiltak": "Henvist kirurgisk avdeling.",
             "kind": "Legevaktnotat", "henvis": True},
}


def fill_legevakt(j: Journal, cases: list[dict], days: list[date]) -> None:
    for case, day in zip(cases, days):
        legevakt_contact(j, day, case)


def fill_kad(j: Journal) -> None:
    p = j.patient
    d0 = j.opened.date()
    lege = rng.choice(STAFF["lv_lege"])[0]
    notat(j, "Innleggelse KAD-seng", d0, author=lege, with_text=0.0)
    for day in spread_days(j, rng.randint(1, 2)):
        notat(j, "Tilsyn natt" if rng.random() < 0.5 else "Tilsyn kveld", day)
    e = add(j, "epikrise", "Epikrise etter KAD-opphold", lege, j.last_entry_day(),
            hm=(rng.randint(9, 14), rng.randint(0, 59)), delay_min=(30, 600))
    outgoing(e, p.fastlege, kopi=("Hjemmetjenesten sone nord" if p.sone == "nord" else "Hjemmetjenesten sone sør",))
    if rng.random() < 0.8:
        e.docs.append(Doc("txt", e.tittel, epikrise_text(p, "Fjordvik interkommunale legevakt",
                                                         ("Forverring av hjertesvikt", "I50.9", "KAD-enheten"),
                                                         d0, j.last_entry_day(), lege)))


# --- scanned documents

def skannet_papirjournal(j: Journal, day: date) -> Entry:
    p = j.patient
    end = min(j.opened.year - 1, 2004)
    start = min(max(p.born.year + 60, rng.randint(1994, 2001)), end - 2)
    title = f"Skannet papirjournal {start}–{end}"
    author = rng.choice(STAFF["merkantil"])[0]
    e = add(j, "skannet", title, author, day, hm=(rng.randint(9, 14), rng.randint(0, 59)), delay_min=(60, 4000))
    lines = paper_journal_lines(p, start, end)
    e.docs.append(Doc("scan", title, {"kind": "papirjournal", "patient": p, "lines": lines, "scanned": e.opprettet,
                                      "by": author, "unit": "Fjordvik sykehjem" if j.kind == "sykehjem" else
                                      "Fjordvik hjemmesykepleie"}))
    if rng.random() < 0.35:
        e.docs.append(Doc("scan", "Legemiddelkort (papir)", {
            "kind": "legemiddelkort", "patient": p, "scanned": e.opprettet, "by": author,
            "year": end}, "Vedlegg"))
    return e


def kin(p: Patient) -> str:
    """What the relative calls the patient: min mor, min onkel …"""
    female = p.kjonn == "K"
    rel = p.relative.relasjon if p.relative else ""
    if rel == "ektefelle":
        return "min kone" if female else "min mann"
    if rel in ("niese", "nevø"):
        return "min tante" if female else "min onkel"
    return "min mor" if female else "min far"


def soknad_sykehjem(j: Journal, day: date) -> Entry:
    p = j.patient
    author = rng.choice(STAFF["merkantil"])[0]
    e = add(j, "skannet", "Skannet søknad om sykehjemsplass", author, day, hm=(rng.randint(9, 14), rng.randint(0, 59)),
            delay_min=(60, 3000))
    sender = p.relative.navn if p.relative and rng.random() < 0.6 else p.navn
    incoming(e, sender)
    e.docs.append(Doc("scan", "Søknad om sykehjemsplass", {
        "kind": "handskrevet", "patient": p, "sender": sender, "scanned": e.opprettet, "by": author,
        "text": [f"Fjordvik, {no_date(day - timedelta(days=3))}", "",
                 "Til Tildelingskontoret, Fjordvik kommune", "",
                 "Søknad om fast plass på sykehjem", "",
                 (f"Jeg søker på vegne av {kin(p)} {p.navn}"
                  if sender != p.navn else "Jeg søker om fast plass på sykehjemmet."),
                 "om plass på Fjordvik sykehjem.", "Det går ikke lenger å bo hjemme,",
                 "selv med hjemmesykepleie fire ganger", "om dagen. Netter er verst.", "",
                 "Med vennlig hilsen", "", sender]}))
    return e


def fullmakt(j: Journal, day: date) -> Entry:
    p = j.patient
    author = rng.choice(STAFF["merkantil"])[0]
    e = add(j, "skannet", "Skannet fullmakt til pårørende", author, day, hm=(rng.randint(9, 14), rng.randint(0, 59)),
            delay_min=(60, 3000))
    incoming(e, p.relative.navn)
    e.docs.append(Doc("scan", "Fullmakt", {"kind": "fullmakt", "patient": p, "scanned": e.opprettet, "by": author}))
    return e


def klage(j: Journal, day: date) -> Entry:
    p = j.patient
    author = rng.choice(STAFF["tildeling"])[0]
    e = add(j, "brev", "Klage på vedtak om praktisk bistand", author, day, hm=(rng.randint(9, 14), rng.randint(0, 59)),
            delay_min=(60, 3000))
    incoming(e, p.relative.navn)
    e.docs.append(Doc("scan", "Klage på vedtak", {
        "kind": "handskrevet", "patient": p, "sender": p.relative.navn, "scanned": e.opprettet, "by": author,
        "text": [f"{p.relative.adresse.split(',')[-1].strip().split(' ', 1)[-1]}, {no_date(day - timedelta(days=4))}",
                 "", "Klage på vedtak om praktisk bistand", "",
                 f"Jeg klager på vedtaket for {p.navn}.", "Rengjøring hver fjortende dag er",
                 "ikke nok. Leiligheten blir ikke holdt", "ren, og det er fare for fall.",
                 "Vi ber om hjelp hver uke.", "", "Hilsen", p.relative.navn]}))
    return e


# --------------------------------------------------------------------------- all patients


def build() -> list[Journal]:
    journals: list[Journal] = []

    def death_after(start: date, lo_years: float, hi_years: float) -> date:
        return min(start + timedelta(days=rng.randint(int(lo_years * 365), int(hi_years * 365))), date(2023, 9, 30))

    def close_after(d: date) -> date:
        return min(d + timedelta(days=rng.randint(14, 75)), LAST_DAY)

    def maybe_legevakt(p: Patient, care_start: date, end: date, chance: float = 0.45) -> None:
        if rng.random() >= chance or sum(1 for j in journals if j.patient is p) >= 3:
            return
        first = rand_date(max(date(2005, 2, 1), care_start - timedelta(days=700)),
                          min(end - timedelta(days=40), LAST_OPEN))
        if first >= end - timedelta(days=20):
            return
        if rng.random() < 0.25:
            kad_end = first + timedelta(days=rng.randint(2, 5))
            j = journal("kad", p, first, min(kad_end + timedelta(days=rng.randint(10, 60)), LAST_DAY))
            j.last_entry_day = lambda kad_end=kad_end: kad_end  # type: ignore[method-assign]
            fill_kad(j)
            journals.append(j)
            return
        n = rng.randint(1, 3)
        contact_end = min(first + timedelta(days=rng.randint(30, 900)), end - timedelta(days=10))
        days = sorted([first] + [rand_date(first, contact_end) for _ in range(n - 1)])
        close = close_after(p.death) if p.death else min(days[-1] + timedelta(days=rng.randint(60, 400)), LAST_DAY)
        j = journal("legevakt", p, first, close)
        fill_legevakt(j, rng.sample(ELDER_CASES, n), days)
        journals.append(j)

    def hjem_unit(p: Patient) -> str:
        return "hj_nord" if p.sone == "nord" else "hj_sør"

    def sh_unit(p: Patient) -> str:
        return "fjellstua" if any(c[0].startswith("Demens") for c in p.chronic) else "solsiden"

    def elder(pattern: str, p: Patient, start: date, legevakt: float = 0.45, **kw) -> list[Journal]:
        mine: list[Journal] = []
        if pattern in ("hjem-sh", "korttid-hjem-sh"):
            p.death = p.death or death_after(start, 2.0, 9.0)
            t_kort = None
            if pattern == "korttid-hjem-sh":
                t_kort = start + timedelta(days=rng.randint(14, 42))
                k = journal("korttid", p, start, t_kort + timedelta(days=rng.randint(5, 30)))
                fill_korttid_until(k, t_kort)
                mine.append(k)
            h_start = t_kort or start
            span = (p.death - h_start).days
            t1 = kw.get("t1") or min(h_start + timedelta(days=int(span * rng.uniform(0.3, 0.75))),
                                     LAST_OPEN - timedelta(days=20))
            h = journal(hjem_unit(p), p, h_start, t1 + timedelta(days=rng.randint(3, 20)))
            h_last = t1
            h.last_entry_day = lambda h_last=h_last: h_last  # type: ignore[method-assign]
            fill_hjem(h, before_sykehjem=True)
            mine.append(h)
            s = journal(sh_unit(p), p, t1, close_after(p.death))
            fill_sykehjem(s, kw.get("vedtak_title"), papir=kw.get("papir", False))
            mine.append(s)
        elif pattern == "sh":
            p.death = p.death or death_after(start, 0.8, 6.0)
            s = journal(sh_unit(p), p, start, close_after(p.death))
            fill_sykehjem(s, papir=kw.get("papir", start.year <= 2010 and rng.random() < 0.7))
            mine.append(s)
        elif pattern == "hjem-død":
            p.death = p.death or death_after(start, 1.0, 7.0)
            h = journal(hjem_unit(p), p, start, close_after(p.death))
            fill_hjem(h)
            mine.append(h)
        elif pattern == "hjem-flyttet":
            moved = min(start + timedelta(days=rng.randint(500, 2500)), date(2023, 6, 1))
            h = journal(hjem_unit(p), p, start, moved + timedelta(days=rng.randint(5, 30)))
            fill_hjem(h)
            rel = p.relative
            brev_ut(h, "Oversendelse av journalopplysninger til ny kommune", moved - timedelta(days=2),
                    "Trondheim kommune, Helse og velferd", "Postboks 2300 Torgarden, 7004 Trondheim", [
                        f"{p.navn} flytter til Trondheim kommune {no_date(moved)}"
                        f"{f', til {rel.relasjon} {rel.navn}' if rel else ''}.",
                        "Med samtykke fra pasienten oversendes vedtak, pleieplan og legemiddelliste.",
                        "Ta gjerne kontakt med hjemmetjenesten ved spørsmål."], with_doc=1.0)
            h.merknader.append({"tekst": f"Pasienten flyttet til Trondheim kommune {no_date(moved)}. "
                                         "Journalopplysninger oversendt med samtykke.",
                                "dato": iso(at(moved + timedelta(days=3), 10, 15)), "registrert_av": h.closed_by,
                                "type": "Merknad fra saksbehandler"})
            mine.append(h)
        if pattern in ("hjem-sh", "korttid-hjem-sh") and "papir" not in kw and start.year <= 2010 \
                and rng.random() < 0.6:
            skannet_papirjournal(mine[0], start + timedelta(days=rng.randint(10, 90)))
        journals.extend(mine)
        maybe_legevakt(p, start, p.death - timedelta(days=30) if p.death else mine[-1].closed.date(),
                       legevakt)
        return mine

    def fill_korttid_until(k: Journal, end: date) -> None:
        k.last_entry_day = lambda end=end: end  # type: ignore[method-assign]
        fill_korttid(k)

    # --- the special cases first (fixed, so they always exist)

    # 1. Ærlig: home care from 2013, sykehjemsplass 2018 (the file name in the docs), dies 2021
    p = make_elder("K", date(1929, 6, 3), surname="Ærlig")
    p.fornavn = "Åse"
    p.fodselsnummer = person_number(p.born, sex=p.kjonn)
    p.death = date(2021, 2, 11)
    elder("hjem-sh", p, date(2013, 4, 8), t1=date(2018, 3, 19), vedtak_title="Vedtak om sykehjemsplass",
          legevakt=1.0, papir=False)

    # 2. born 1899 (individnummer 500-749), sykehjem 2005-2006, scanned paper journal
    p = make_elder("K", date(1899, 11, 2))
    p.fodselsnummer = person_number(p.born, sex=p.kjonn)
    p.death = date(2006, 8, 14)
    elder("sh", p, date(2005, 1, 17), legevakt=0.0, papir=True)

    # 3. born 1948, individnummer 900-999, home care (MS), dies 2019
    p = make_elder("M", date(1948, 9, 23))
    p.fodselsnummer = person_number(p.born, high=True, sex=p.kjonn)
    p.chronic = [("Multippel sklerose", "G35"), ("Nevrogen blære", "N31.9")]
    p.death = date(2019, 12, 2)
    elder("hjem-død", p, date(2012, 10, 1), legevakt=1.0)

    # 4. dodsdato_ukjent: moved to Spain, reported dead without a date
    p = make_elder("M", date(1931, 2, 27))
    p.fodselsnummer = person_number(p.born, sex=p.kjonn)
    p.death_unknown = True
    h = journal(hjem_unit(p), p, date(2009, 5, 4), date(2014, 6, 20))
    h.last_entry_day = lambda: date(2012, 8, 30)  # type: ignore[method-assign]
    fill_hjem(h)
    h.merknader.append({"tekst": "Pasienten flyttet til Spania i september 2012. Melding om dødsfall mottatt "
                                 "fra pårørende 2014-06-10 uten dødsdato. Journalen avsluttet.",
                        "dato": iso(at(date(2014, 6, 20), 10, 5)), "registrert_av": "arild.sorum",
                        "type": "Merknad fra arkivet"})
    journals.append(h)

    # 5. hidden address (strengt fortrolig), home care, dies 2017
    p = make_elder("K", date(1937, 12, 9), skjult_adresse=True)
    p.fodselsnummer = person_number(p.born, sex=p.kjonn)
    p.death = date(2017, 3, 30)
    elder("hjem-død", p, date(2011, 11, 14), legevakt=0.0)

    # 6. open journal (skipped), the patient also has a closed legevakt journal
    p = make_elder("K", date(1938, 7, 21))
    p.fodselsnummer = person_number(p.born, sex=p.kjonn)
    o = journal(hjem_unit(p), p, date(2016, 9, 5), None)
    fill_hjem(o)
    journals.append(o)
    lv = journal("legevakt", p, date(2017, 1, 29), date(2018, 4, 10))
    fill_legevakt(lv, [ELDER_CASES[1], ELDER_CASES[4]], [date(2017, 1, 29), date(2017, 11, 3)])
    journals.append(lv)

    # 7. open journal (skipped), the patient's only journal
    p = make_elder("M", date(1944, 3, 15))
    p.fodselsnummer = person_number(p.born, sex=p.kjonn)
    o = journal(hjem_unit(p), p, date(2018, 10, 22), None)
    fill_hjem(o)
    o.merknader.append({"tekst": "Journalen var fortsatt i bruk da Omsorgsjournal ble faset ut; den er migrert "
                                 "til nytt journalsystem.", "dato": iso(at(date(2023, 11, 28), 14, 0)),
                        "registrert_av": "arild.sorum", "type": "Merknad fra arkivet"})
    journals.append(o)

    # 8-9. D-nummer: seasonal workers at the fish plant, legevakt only, alive
    for first, last, born, kjonn, case, day in (
            ("Tomasz", "Wójcik", date(1986, 5, 19), "M", "arbeid", date(2014, 10, 7)),
            ("Rūta", "Petrauskienė", date(1991, 1, 8), "K", "rygg", date(2017, 2, 23))):
        p = Patient(next_pid(), first, last, kjonn, born, f"Fiskebrygga 4, {PLACES['sør']}", "sør",
                    FASTLEGER[0], None)
        p.fodselsnummer = person_number(born, kind="D", sex=kjonn)
        j = journal("legevakt", p, day, day + timedelta(days=rng.randint(40, 200)))
        fill_legevakt(j, [YOUNG_CASES[case]], [day])
        journals.append(j)

    # 10. H-nummer, kjønn U as recorded: a tourist with no Norwegian number
    p = Patient(next_pid(), "Kim", "Lindqvist", "U", date(1979, 7, 30), "Fjordvik camping, hytte 12", "sør",
                FASTLEGER[0], None)
    p.fodselsnummer = person_number(p.born, kind="H", sex=p.kjonn)
    j = journal("legevakt", p, date(2016, 7, 14), date(2016, 9, 30))
    fill_legevakt(j, [YOUNG_CASES["ankel"]], [date(2016, 7, 14)])
    journals.append(j)

    # 11. no person number at all, only fodselsdato: a Danish visitor
    p = Patient(next_pid(), "Søren", "Kjærgaard", "M", date(1952, 4, 2), "Hotell Fjordgløtt, Sjøgata 1", "sør",
                FASTLEGER[0], None)
    j = journal("legevakt", p, date(2011, 8, 2), date(2011, 11, 1))
    fill_legevakt(j, [YOUNG_CASES["hals"]], [date(2011, 8, 2)])
    journals.append(j)

    # 12. a child born 2001 (individnummer 500-999), two contacts
    p = Patient(next_pid(), "Jonas", "Mæhle Strand", "M", date(2001, 3, 12), f"Lyngåsen 7, {PLACES['nord']}",
                "nord", FASTLEGER[2], Relative("Hanne Mæhle", "mor", f"Lyngåsen 7, {PLACES['nord']}"))
    p.fodselsnummer = person_number(p.born, sex=p.kjonn)
    j = journal("legevakt", p, date(2009, 6, 20), date(2015, 1, 15))
    fill_legevakt(j, [YOUNG_CASES["barn"], YOUNG_CASES["mage"]], [date(2009, 6, 20), date(2014, 11, 2)])
    journals.append(j)

    # 13. a young adult (born 1994) with legevakt and a short home-care period
    p = Patient(next_pid(), "Ida", "Fløystad", "K", date(1994, 10, 30), f"Skolegata 3, {PLACES['sør']}", "sør",
                FASTLEGER[1], Relative("Berit Fløystad", "mor", f"Skolegata 3, {PLACES['sør']}"))
    p.chronic = [("Bekkenbrudd etter trafikkulykke", "S32.8")]
    p.medicines = ["Paracet 500 mg, 2 tabletter x 4", "Fragmin 5000 IE x 1", "Movicol 1 pose x 1"]
    p.fodselsnummer = person_number(p.born, sex=p.kjonn)
    j = journal("legevakt", p, date(2015, 3, 3), date(2015, 12, 1))
    fill_legevakt(j, [YOUNG_CASES["mage"]], [date(2015, 3, 3)])
    journals.append(j)
    h = journal("hj_sør", p, date(2016, 4, 11), date(2016, 9, 28))
    fill_hjem(h)
    journals.append(h)

    # --- the ordinary population
    patterns = (["hjem-sh"] * 14 + ["korttid-hjem-sh"] * 5 + ["sh"] * 7 + ["hjem-død"] * 5 + ["hjem-flyttet"] * 2)
    for n, pattern in enumerate(patterns):
        kjonn = "M" if n % 3 == 1 else "K"  # two of three care home residents are women
        p = make_elder(kjonn)
        start = rand_date(date(2005, 2, 1), date(2016, 6, 30))
        if pattern == "hjem-flyttet":
            start = rand_date(date(2008, 1, 1), date(2017, 6, 30))
        p.fodselsnummer = person_number(p.born, sex=p.kjonn)
        mine = elder(pattern, p, start)
        # relatives bring paper and write letters
        if p.relative and rng.random() < 0.15:
            fullmakt(mine[-1], rand_date(mine[-1].opened.date(), mine[-1].last_entry_day()))
        if p.relative and pattern.startswith("hjem") and rng.random() < 0.25:
            hj = mine[0] if mine[0].kind == "hjem" else mine[1]
            klage(hj, rand_date(hj.opened.date() + timedelta(days=20), hj.last_entry_day()))
    return journals


# --------------------------------------------------------------------------- skjerming, endringer, merknader


def sensitive_entries(journals: list[Journal]) -> None:
    """Add screened entries (about 10 % of all) and the journal-level remarks."""
    closed = [j for j in journals if j.kind in ("sykehjem", "hjem")]
    target = round(0.1 * (sum(len(j.entries) for j in journals) + 45)) - 2
    added = 0
    skj = {"tilgangsrestriksjon": "Unntatt offentlighet", "hjemmel": "Offl. § 13, jf. hpl. § 21",
           "metadata": ["Skjerming tittel registrering - utvalgte ord"]}
    while added < target:
        j = rng.choice(closed)
        title = rng.choice(list(SENSITIVE_NOTES))
        day = rand_date(j.opened.date(), j.last_entry_day())
        e = notat(j, title, day, with_text=0.6, pool=SENSITIVE_NOTES)
        e.skjerming = json.loads(json.dumps(skj))
        if e.docs and rng.random() < 0.5:
            e.skjerming["metadata"].append("Skjerming tittel dokumentbeskrivelse")
            e.skjerming["dokument"] = "Skjerming av hele dokumentet"
        added += 1
    # two vedtak on health care without consent (kap. 4A), with a copy to Statsforvalteren
    for j in [j for j in journals if j.unit == "fjellstua"][:2]:
        e = vedtak(j, "Vedtak om helsehjelp uten samtykke", rand_date(j.opened.date() + timedelta(days=30),
                                                                       j.last_entry_day()), with_doc=1.0)
        e.korrespondanse["parter"].append({"type": "Kopimottaker", "navn": "Statsforvalteren i Trøndelag"})
        e.skjerming = {"tilgangsrestriksjon": "Unntatt offentlighet",
                       "hjemmel": "Offl. § 13, jf. hpl. § 21 og pbrl. § 4A-5",
                       "metadata": ["Skjerming tittel registrering - utvalgte ord", "Skjerming navn part i sak"],
                       "dokument": "Skjerming av hele dokumentet"}
        j.merknader.append({"tekst": f"Vedtak etter pbrl. kap. 4A fattet {no_date(e.opprettet)}; evaluert "
                                     "fortløpende, se journalnotater.", "dato": iso(e.arkivert),
                            "registrert_av": e.arkivert_av, "type": "Merknad fra saksbehandler"})
    # a child at the legevakt: bekymringsmelding
    for j in journals:
        if j.patient.fornavn == "Jonas" and j.kind == "legevakt":
            e = brev_ut(j, "Bekymringsmelding til barneverntjenesten", date(2014, 11, 3),
                        "Fjordvik barneverntjeneste", "Postboks 100, 7199 Fjordvik", [
                            "Legevakten sender bekymringsmelding etter kontakt 02.11.2014.",
                            "Opplysningene er gitt med hjemmel i helsepersonelloven § 33.",
                            "Ta kontakt med legevaktlege ved spørsmål."], author="Karoline Brå", with_doc=1.0)
            e.skjerming = {"tilgangsrestriksjon": "Unntatt offentlighet",
                           "hjemmel": "Offl. § 13, jf. hpl. § 21 og bvl. § 13-1",
                           "metadata": ["Skjerming tittel registrering - utvalgte ord",
                                        "Skjerming tittel dokumentbeskrivelse"],
                           "dokument": "Skjerming av hele dokumentet"}


def photos(journals: list[Journal]) -> None:
    """Two wound photos (JPEG) as attachments of Sårstell notes with text."""
    n = 0
    for j in journals:
        for e in j.entries:
            if n < 2 and e.tittel == "Sårstell" and e.docs and j.closed:
                e.docs.append(Doc("photo", f"Sårfoto {no_date(e.opprettet)}", {"when": e.opprettet}, "Vedlegg"))
                e.docs[0].content = e.docs[0].content.replace(
                    "\n\nSkrevet av", " Foto tatt for dokumentasjon av sårutviklingen.\n\nSkrevet av")
                n += 1
    assert n == 2, "no Sårstell notes for the photos"


CORRECTIONS = [
    ("Tilsyn kveld", "Tilsyn"), ("Tilsyn natt", "Tilsyn"), ("Vedtak om hjemmesykepleie", "Vedtak"),
    ("Legevisitt", "Legevisit"), ("Samtale med pårørende", "Samtale pårørende"),
    ("Kartleggingsbesøk", "Kartlegging"), ("Hjemmebesøk", "Besøk"),
]


def corrections(journals: list[Journal]) -> None:
    done = 0
    for ny, old in CORRECTIONS:
        for j in rng.sample([j for j in journals if j.closed], len([j for j in journals if j.closed])):
            cands = [e for e in j.entries if e.tittel == ny and not e.endringer]
            if cands:
                e = rng.choice(cands)
                day = e.arkivert.date() + timedelta(days=rng.randint(1, 20))
                when = at(day, rng.randint(8, 15), rng.randint(0, 59))
                when = max(min(when, j.closed - timedelta(hours=2)), e.arkivert)
                e.endringer.append({"felt": "tittel", "tidligere": old, "ny": ny, "dato": iso(when),
                                    "av": username(rng.choice(j.staff)[0])})
                done += 1
                break
    # one correction of the author
    for j in journals:
        cands = [e for e in j.entries if e.type == "notat" and not e.endringer and j.closed]
        if cands and j.kind == "sykehjem":
            e = cands[0]
            other = next(s[0] for s in j.staff if s[0] != e.forfatter)
            e.endringer.append({"felt": "forfatter", "tidligere": other, "ny": e.forfatter,
                                "dato": iso(min(e.arkivert + timedelta(hours=20), j.closed - timedelta(hours=2))),
                                "av": "hilde.odegaard"})
            done += 1
            break
    assert done >= 6, done


def remarks(journals: list[Journal]) -> None:
    for j in journals:
        titles = [e.tittel for e in j.entries]
        if any(t.startswith("Skannet papirjournal") for t in titles) and rng.random() < 0.5:
            t = next(t for t in titles if t.startswith("Skannet papirjournal"))
            e = next(e for e in j.entries if e.tittel == t)
            j.merknader.append({"tekst": f"Papirjournal for perioden {t.split()[-1]} er skannet og lagt i "
                                         "journalen. Originalen er kassert etter skanning.",
                                "dato": iso(e.arkivert), "registrert_av": e.arkivert_av})
    j = next(j for j in journals if j.kind == "korttid")
    j.merknader.append({"tekst": "Journalen ble opprettet to ganger ved innleggelse; innslag fra duplikatet er "
                                 "flyttet hit og duplikatet slettet.",
                        "dato": iso(j.opened + timedelta(days=1)), "registrert_av": "wenche.holas",
                        "type": "Merknad fra arkivet"})


# --------------------------------------------------------------------------- drawing (Pillow)

FONT_DIRS = [Path("/usr/share/fonts/truetype/dejavu"), Path("/usr/share/fonts/dejavu"),
             Path("/usr/share/fonts/TTF"), Path("/usr/local/share/fonts"), Path.home() / ".fonts",
             Path.home() / "Library/Fonts", Path("/Library/Fonts")]
_fonts: dict = {}


def font(name: str, size: int):
    from PIL import ImageFont
    key = (name, size)
    if key not in _fonts:
        for d in FONT_DIRS:
            f = d / f"{name}.ttf"
            if f.is_file():
                _fonts[key] = ImageFont.truetype(str(f), size)
                break
        else:
            sys.exit(f"font {name}.ttf not found (Debian/Ubuntu: apt-get install fonts-dejavu-core)")
    return _fonts[key]


PAGE = (1240, 1754)  # A4 at 150 dpi


def new_page():
    from PIL import Image, ImageDraw
    img = Image.new("L", PAGE, 255)
    return img, ImageDraw.Draw(img)


def wrap_px(text: str, f, width: int) -> list[str]:
    lines, line = [], ""
    for word in text.split():
        trial = f"{line} {word}" if line else word
        if line and f.getlength(trial) > width:
            lines.append(line)
            line = word
        else:
            line = trial
    return lines + ([line] if line else [])


def to_bilevel(img, threshold: int = 150):
    return img.point(lambda v: 255 if v >= threshold else 0).convert("1", dither=0)


def draw_logo(d, x: int, y: int) -> None:
    d.polygon([(x, y), (x + 70, y), (x + 70, y + 50), (x + 35, y + 85), (x, y + 50)], outline=0, width=4)
    for k in range(3):
        yy = y + 22 + k * 14
        d.arc((x + 8, yy - 8, x + 36, yy + 8), 200, 340, fill=0, width=3)
        d.arc((x + 34, yy - 8, x + 62, yy + 8), 200, 340, fill=0, width=3)


def render_letter(spec: dict) -> list:
    sans, bold, small = font("DejaVuSans", 21), font("DejaVuSans-Bold", 21), font("DejaVuSans", 17)
    big, title_f = font("DejaVuSans-Bold", 34), font("DejaVuSans-Bold", 30)
    left, right, bottom = 150, PAGE[0] - 150, PAGE[1] - 190
    pages = []

    def footer(d, n):
        d.line((left, PAGE[1] - 150, right, PAGE[1] - 150), fill=0, width=2)
        d.text((left, PAGE[1] - 135), "Fjordvik kommune · Helse og omsorg · Postboks 100, 7199 Fjordvik · "
                                      "postmottak@fjordvik.kommune.no", font=small, fill=0)
        d.text((right - 90, PAGE[1] - 105), f"Side {n}", font=small, fill=0)

    img, d = new_page()
    draw_logo(d, left, 110)
    d.text((left + 95, 112), "Fjordvik kommune", font=big, fill=0)
    d.text((left + 95, 158), spec["avd"], font=sans, fill=0)
    y = 300
    if spec["to_name"]:
        d.text((left, y), spec["to_name"], font=sans, fill=0)
        for part in (spec["to_addr"] or "").split(", "):
            if part:
                y += 32
                d.text((left, y), part, font=sans, fill=0)
    rx = 780
    for k, (a, b) in enumerate((("Vår dato:", no_date(spec["date"])),
                                ("Vår ref.:", f"{spec['date'].year}/{spec['ref']}"),
                                ("Saksbehandler:", spec["saksbehandler"]))):
        d.text((rx, 300 + k * 32), a, font=small, fill=0)
        d.text((rx + 150, 300 + k * 32), b, font=small, fill=0)
    y = 520
    title = spec["title"] + (f" – {spec['about']}" if spec.get("about") else "")
    for line in wrap_px(title, title_f, right - left):
        d.text((left, y), line, font=title_f, fill=0)
        y += 44
    y += 20
    n = 1
    body = list(spec["body"]) + ["", "Med vennlig hilsen", "", spec["saksbehandler"],
                                 ROLE.get(spec["saksbehandler"], "saksbehandler"),
                                 "", "Dokumentet er elektronisk godkjent og har derfor ingen signatur."]
    for para in body:
        f, text, indent = sans, para, 0
        if para.startswith("## "):
            f, text = bold, para[3:]
            y += 10
        if para.startswith("• "):
            indent = 30
        lines = wrap_px(text, f, right - left - indent) or [""]
        for line in lines:
            if y > bottom:
                footer(d, n)
                pages.append(img)
                img, d = new_page()
                n += 1
                y = 150
            d.text((left + indent, y), line, font=f, fill=0)
            y += 30
        y += 10 if para else 0
    footer(d, n)
    pages.append(img)
    return [to_bilevel(p) for p in pages]


def scanify(img, r: random.Random):
    """Make a clean page look scanned: a slight skew, specks, a grey edge."""
    from PIL import Image, ImageDraw
    img = img.rotate(r.uniform(-0.9, 0.9), resample=Image.Resampling.BICUBIC, fillcolor=255)
    d = ImageDraw.Draw(img)
    for _ in range(r.randint(40, 120)):
        x, y = r.randint(0, PAGE[0] - 1), r.randint(0, PAGE[1] - 1)
        s = r.choice([1, 1, 2, 2, 3])
        d.ellipse((x, y, x + s, y + s), fill=r.randint(0, 90))
    edge = r.randint(3, 9)
    d.rectangle((0, 0, edge, PAGE[1]), fill=70)
    return to_bilevel(img, r.randint(130, 165))


def stamp(d, x: int, y: int, when: datetime, by: str) -> None:
    f = font("DejaVuSans-Bold", 20)
    d.rectangle((x, y, x + 330, y + 72), outline=0, width=3)
    d.text((x + 14, y + 8), f"SKANNET {no_date(when)}", font=f, fill=0)
    d.text((x + 14, y + 38), f"Omsorgsjournal – {username(by)}", font=font("DejaVuSans", 18), fill=0)


def render_scan(spec: dict, r: random.Random) -> list:
    p: Patient = spec["patient"]
    mono, mono_b = font("DejaVuSansMono", 22), font("DejaVuSansMono-Bold", 26)
    pages = []
    kind = spec["kind"]
    if kind == "papirjournal":
        rows = spec["lines"]
        per_page = 24
        for start in range(0, len(rows), per_page):
            img, d = new_page()
            d.text((120, 100), f"{spec['unit'].upper()} – PLEIEJOURNAL", font=mono_b, fill=0)
            d.text((120, 150), f"Navn: {p.navn}", font=mono, fill=0)
            d.text((700, 150), f"Født: {no_date(p.born)}", font=mono, fill=0)
            d.text((120, 185), f"Ark nr. {start // per_page + 1}", font=mono, fill=0)
            top = 240
            d.rectangle((110, top, 1130, top + 50 * (per_page + 1)), outline=40, width=2)
            d.line((260, top, 260, top + 50 * (per_page + 1)), fill=40, width=2)
            d.line((1030, top, 1030, top + 50 * (per_page + 1)), fill=40, width=2)
            d.text((125, top + 12), "Dato", font=mono_b, fill=0)
            d.text((275, top + 12), "Observasjoner og tiltak", font=mono_b, fill=0)
            d.text((1040, top + 12), "Sign", font=mono_b, fill=0)
            for k, (dd, text, sign) in enumerate(rows[start:start + per_page], start=1):
                yy = top + 50 * k
                d.line((110, yy, 1130, yy), fill=50, width=1)
                jitter = r.randint(-3, 3)
                d.text((125, yy + 12 + jitter), dd, font=mono, fill=r.randint(0, 60))
                d.text((275 + r.randint(0, 8), yy + 12 + jitter), text, font=mono, fill=r.randint(0, 60))
                d.text((1050, yy + 12), sign, font=mono, fill=r.randint(0, 60))
            if start == 0:
                stamp(d, 780, 1580, spec["scanned"], spec["by"])
            pages.append(scanify(img, r))
    elif kind == "legemiddelkort":
        img, d = new_page()
        d.text((120, 110), "LEGEMIDDELKORT", font=mono_b, fill=0)
        d.text((120, 160), f"{p.navn}, f. {no_date(p.born)}", font=mono, fill=0)
        d.text((120, 195), f"Gjelder fra 01.01.{spec['year']}", font=mono, fill=0)
        d.text((120, 260), "Legemiddel", font=mono_b, fill=0)
        d.text((760, 260), "08  14  20  22", font=mono_b, fill=0)
        for k, m in enumerate(p.medicines):
            yy = 310 + k * 48
            d.line((110, yy - 8, 1130, yy - 8), fill=100, width=1)
            d.text((120, yy), m.split(",")[0][:36], font=mono, fill=0)
            d.text((760, yy), "  ".join(r.choice(["x ", "- "]) for _ in range(4)), font=mono, fill=0)
        d.text((120, 1500), "Sign. lege: ______________", font=mono, fill=0)
        pages.append(scanify(img, r))
    elif kind == "handskrevet":
        serif = font("DejaVuSerif", 30)
        img, d = new_page()
        y = 160
        for line in spec["text"]:
            if line:
                d.text((150 + r.randint(-6, 10), y + r.randint(-3, 3)), line, font=serif, fill=r.randint(20, 70))
            y += 58
        stamp(d, 800, 1560, spec["scanned"], spec["by"])
        pages.append(scanify(img, r))
    elif kind == "fullmakt":
        serif, serif_b = font("DejaVuSerif", 26), font("DejaVuSerif-Bold", 34)
        rel = p.relative
        img, d = new_page()
        d.text((150, 150), "FULLMAKT", font=serif_b, fill=0)
        lines = [f"Jeg, {p.navn}, født {no_date(p.born)},", f"gir med dette {rel.navn} ({rel.relasjon})",
                 "fullmakt til å ta kontakt med helse- og omsorgstjenesten", "på mine vegne, og til å få "
                 "opplysninger om min helse.", "", "Fullmakten gjelder til den trekkes tilbake.", "",
                 f"Fjordvik, {no_date(spec['scanned'] - timedelta(days=r.randint(3, 30)))}"]
        y = 260
        for line in lines:
            d.text((150, y), line, font=serif, fill=0)
            y += 48
        for k, who in enumerate((p.navn, rel.navn)):
            yy = 860 + k * 170
            d.line((150, yy, 650, yy), fill=0, width=2)
            d.text((150, yy + 10), f"Underskrift {who}", font=font("DejaVuSerif", 20), fill=0)
            amp, freq, phase = r.uniform(8, 16), r.uniform(0.12, 0.2), r.uniform(0, 6.3)
            pts = [(170 + x, yy - 24 - amp * math.sin(freq * x + phase) * math.cos(0.031 * x + k))
                   for x in range(0, r.randint(260, 380), 3)]
            d.line(pts, fill=20, width=3, joint="curve")
        stamp(d, 800, 1560, spec["scanned"], spec["by"])
        pages.append(scanify(img, r))
    return pages


def render_photo(spec: dict, r: random.Random) -> bytes:
    from PIL import Image, ImageDraw, ImageFilter
    w, h = 640, 480
    img = Image.new("RGB", (w, h), (222, 184, 160))
    d = ImageDraw.Draw(img)
    for _ in range(300):
        x, y = r.randint(0, w), r.randint(0, h)
        c = r.randint(-18, 18)
        d.ellipse((x, y, x + r.randint(10, 40), y + r.randint(10, 40)), fill=(222 + c, 184 + c, 160 + c))
    img = img.filter(ImageFilter.GaussianBlur(6))
    d = ImageDraw.Draw(img)
    cx, cy = 300 + r.randint(-30, 30), 220 + r.randint(-20, 20)
    d.ellipse((cx - 80, cy - 55, cx + 80, cy + 55), fill=(205, 110, 100))
    d.ellipse((cx - 50, cy - 32, cx + 50, cy + 32), fill=(170, 45, 50))
    d.ellipse((cx - 20, cy - 12, cx + 25, cy + 14), fill=(215, 200, 140))
    img = img.filter(ImageFilter.GaussianBlur(2))
    d = ImageDraw.Draw(img)
    d.rectangle((40, 400, 600, 450), fill=(245, 245, 240), outline=(60, 60, 60))
    for k in range(0, 56):
        x = 50 + k * 10
        d.line((x, 400, x, 410 if k % 5 else 420), fill=(30, 30, 30))
        if k % 10 == 0:
            d.text((x - 3, 424), str(k // 10), font=font("DejaVuSans", 14), fill=(30, 30, 30))
    d.text((460, 20), no_date(spec["when"]), font=font("DejaVuSans-Bold", 20), fill=(250, 250, 250))
    out = io.BytesIO()
    img.save(out, "JPEG", quality=72, optimize=True)
    return out.getvalue()


# --------------------------------------------------------------------------- PDF/A writer


def _s15(x: float) -> bytes:
    return struct.pack(">i", round(x * 65536))


def _xyz(x: float, y: float, z: float) -> bytes:
    return b"XYZ \0\0\0\0" + _s15(x) + _s15(y) + _s15(z)


def srgb_icc_v2() -> bytes:
    """A small ICC version 2.1 sRGB display profile (PDF/A-1 requires a version 2 profile)."""
    def desc(text: str) -> bytes:
        a = text.encode("ascii") + b"\0"
        return b"desc\0\0\0\0" + struct.pack(">I", len(a)) + a + b"\0" * 8 + b"\0\0\0" + b"\0" * 67

    n = 256
    curve = b"curv\0\0\0\0" + struct.pack(">I", n) + b"".join(
        struct.pack(">H", round(((v / 12.92) if v <= 0.04045 else ((v + 0.055) / 1.055) ** 2.4) * 65535))
        for v in (i / (n - 1) for i in range(n)))
    tags = [(b"desc", desc("sRGB IEC61966-2.1")), (b"cprt", b"text\0\0\0\0No copyright, use freely\0"),
            (b"wtpt", _xyz(0.9642, 1.0, 0.8249)),
            (b"rXYZ", _xyz(0.4360747, 0.2225045, 0.0139322)), (b"gXYZ", _xyz(0.3850649, 0.7168786, 0.0971045)),
            (b"bXYZ", _xyz(0.1430804, 0.0606169, 0.7141733)),
            (b"rTRC", curve), (b"gTRC", curve), (b"bTRC", curve)]
    offset = 128 + 4 + 12 * len(tags)
    table, data, seen = b"", b"", {}
    for sig, payload in tags:
        if payload not in seen:
            data += b"\0" * (-(offset + len(data)) % 4)
            seen[payload] = (offset + len(data), len(payload))
            data += payload
        table += sig + struct.pack(">II", *seen[payload])
    body = struct.pack(">I", len(tags)) + table + data
    body += b"\0" * (-len(body) % 4)
    header = (struct.pack(">I", 128 + len(body)) + b"none" + bytes([2, 0x10, 0, 0]) + b"mntrRGB XYZ "
              + struct.pack(">6H", 2024, 1, 1, 0, 0, 0) + b"acsp" + b"APPL" + b"\0" * 4 + b"\0" * 8 + b"\0" * 8
              + b"\0" * 4 + _s15(0.9642) + _s15(1.0) + _s15(0.8249) + b"\0" * 4 + b"\0" * 16 + b"\0" * 28)
    assert len(header) == 128
    return header + body


_ICC = srgb_icc_v2()


BLACK_IS_1 = "true"


def g4(img) -> bytes:
    """The CCITT Group 4 data of a 1-bit image (as in a bilevel archival scan), via a one-strip TIFF."""
    from PIL import Image
    buf = io.BytesIO()
    img.save(buf, "TIFF", compression="group4", tiffinfo={278: img.size[1]})  # RowsPerStrip: one strip
    tif = Image.open(io.BytesIO(buf.getvalue()))
    (offset,), (length,) = tif.tag_v2[273], tif.tag_v2[279]
    assert tif.tag_v2[262] == 1, "expected PhotometricInterpretation BlackIsZero"
    return buf.getvalue()[offset:offset + length]


def _pdf_text(s: str) -> bytes:
    if all(32 <= ord(c) < 127 for c in s):
        return b"(" + s.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)").encode("ascii") + b")"
    return b"<FEFF" + s.encode("utf-16-be").hex().upper().encode("ascii") + b">"


def _pdf_date(dt: datetime) -> str:
    off = dt.utcoffset()
    minutes = int(off.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"D:{dt:%Y%m%d%H%M%S}{sign}{abs(minutes) // 60:02d}'{abs(minutes) % 60:02d}'"


def _xml(s: str) -> str:
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def pdf_a(pages: list, *, part: int | None, title: str, author: str, creator_tool: str, created: datetime,
          ident: str, producer: str = "noarkpack examples/omsorg/generate.py") -> bytes:
    """A PDF/A-1b (part 1) or PDF/A-2b (part 2) file with one 1-bit image per A4 page.

    ``part=None`` gives a plain PDF 1.4 of the same pages: no XMP metadata and no output intent, as many
    systems wrote PDF before PDF/A (Siegfried: fmt/18, archival only for documents up to 2008).
    """
    xmp_date = created.isoformat()
    xmp = f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:pdf="http://ns.adobe.com/pdf/1.3/"
    xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">
   <dc:format>application/pdf</dc:format>
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{_xml(title)}</rdf:li></rdf:Alt></dc:title>
   <dc:creator><rdf:Seq><rdf:li>{_xml(author)}</rdf:li></rdf:Seq></dc:creator>
   <xmp:CreateDate>{xmp_date}</xmp:CreateDate>
   <xmp:ModifyDate>{xmp_date}</xmp:ModifyDate>
   <xmp:MetadataDate>{xmp_date}</xmp:MetadataDate>
   <xmp:CreatorTool>{_xml(creator_tool)}</xmp:CreatorTool>
   <pdf:Producer>{producer}</pdf:Producer>
   <pdfaid:part>{part}</pdfaid:part>
   <pdfaid:conformance>B</pdfaid:conformance>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
{(' ' * 99 + chr(10)) * 2}<?xpacket end="w"?>""".encode("utf-8")

    objects: list[bytes] = []

    def reserve() -> int:
        objects.append(b"")
        return len(objects)

    def stream(num: int, dict_items: bytes, data: bytes) -> None:
        objects[num - 1] = (b"<< " + dict_items + b" /Length " + str(len(data)).encode() + b" >>\nstream\n" + data
                            + b"\nendstream")

    if part is None:
        catalog, pages_obj, info = reserve(), reserve(), reserve()
        meta = icc = 0
    else:
        catalog, pages_obj, info, meta, icc = reserve(), reserve(), reserve(), reserve(), reserve()
    w_pt, h_pt = "595.276", "841.89"
    kids = []
    for img in pages:
        page, content, image = reserve(), reserve(), reserve()
        kids.append(page)
        objects[page - 1] = (f"<< /Type /Page /Parent {pages_obj} 0 R /MediaBox [0 0 {w_pt} {h_pt}] "
                             f"/Resources << /XObject << /Im0 {image} 0 R >> >> /Contents {content} 0 R >>").encode()
        stream(content, b"", f"q {w_pt} 0 0 {h_pt} 0 0 cm /Im0 Do Q".encode())
        w, h = img.size
        stream(image, f"/Type /XObject /Subtype /Image /Width {w} /Height {h} /ColorSpace /DeviceGray "
                      f"/BitsPerComponent 1 /Filter /CCITTFaxDecode "
                      f"/DecodeParms << /K -1 /Columns {w} /Rows {h} /BlackIs1 {BLACK_IS_1} >>".encode(), g4(img))
    if part is None:
        objects[catalog - 1] = f"<< /Type /Catalog /Pages {pages_obj} 0 R >>".encode()
    else:
        objects[catalog - 1] = (f"<< /Type /Catalog /Pages {pages_obj} 0 R /Metadata {meta} 0 R /OutputIntents "
                                f"[<< /Type /OutputIntent /S /GTS_PDFA1 /OutputConditionIdentifier (sRGB IEC61966-2.1) "
                                f"/Info (sRGB IEC61966-2.1) /DestOutputProfile {icc} 0 R >>] >>").encode()
    objects[pages_obj - 1] = (f"<< /Type /Pages /Kids [{' '.join(f'{k} 0 R' for k in kids)}] "
                              f"/Count {len(kids)} >>").encode()
    objects[info - 1] = (b"<< /Title " + _pdf_text(title) + b" /Author " + _pdf_text(author) + b" /Creator "
                         + _pdf_text(creator_tool) + b" /Producer " + _pdf_text(producer) + b" /CreationDate ("
                         + _pdf_date(created).encode() + b") /ModDate (" + _pdf_date(created).encode() + b") >>")
    if part is not None:
        stream(meta, b"/Type /Metadata /Subtype /XML", xmp)
        stream(icc, b"/N 3 /Filter /FlateDecode", zlib.compress(_ICC, 9))

    version = b"1.4" if part in (1, None) else b"1.7"
    out = bytearray(b"%PDF-" + version + b"\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for n, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{n} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f\r\n".encode()
    for o in offsets:
        out += f"{o:010d} 00000 n\r\n".encode()
    doc_id = hashlib.md5(ident.encode("utf-8")).hexdigest().upper()
    out += (f"trailer\n<< /Size {len(objects) + 1} /Root {catalog} 0 R /Info {info} 0 R "
            f"/ID [<{doc_id}> <{doc_id}>] >>\nstartxref\n{xref}\n%%EOF\n").encode()
    return bytes(out)


# --------------------------------------------------------------------------- writing the files


_taken: set[str] = set()


def safe(name: str) -> str:
    name = unicodedata.normalize("NFC", name)
    for ch in '<>:"/\\|?*':
        name = name.replace(ch, "-")
    return name.strip(" .")


def claim(folder: str, stem: str, ext: str) -> str:
    stem = safe(stem)
    n = 1
    while True:
        rel = f"{folder}/{stem}{'' if n == 1 else f' ({n})'}.{ext}"
        if rel.casefold() not in _taken:
            _taken.add(rel.casefold())
            return rel
        n += 1


def write_documents(journals: list[Journal], kept: dict[str, bytes] | None = None) -> None:
    legacy = []
    for j in journals:
        p = j.patient
        for e in j.entries:
            year = e.opprettet.year
            for k, doc in enumerate(e.docs):
                if doc.kind in LEGACY_KINDS:
                    legacy.append((j, e, doc))
                    continue
                if doc.kind == "txt":
                    if e.type == "notat":
                        rel = claim(f"notater/{year}", f"{e.innslag_id} {doc.tittel}", "txt")
                    else:
                        rel = claim(str(year), f"{doc.tittel} – {p.etternavn}", "txt")
                    data = doc.content.encode("utf-8")
                elif doc.kind == "letter":
                    rel = claim(str(year), f"{doc.tittel} – {p.etternavn}", "pdf")
                    spec = dict(doc.content)
                    spec["ref"] = f"{int(hashlib.md5(rel.encode()).hexdigest()[:6], 16) % 9000 + 1000}"
                    data = pdf_a(render_letter(spec), part=2, title=doc.tittel, author=spec["saksbehandler"],
                                 creator_tool="Omsorgsjournal 7.4 (brevmodul)", created=spec["created"], ident=rel)
                elif doc.kind == "scan":
                    rel = claim(f"skannet/{year}", f"{doc.tittel} – {p.etternavn}", "pdf")
                    r = random.Random(int(hashlib.md5(rel.encode()).hexdigest(), 16))
                    spec = doc.content
                    data = pdf_a(render_scan(spec, r), part=1, title=doc.tittel, author=spec["by"],
                                 creator_tool="Omsorgsjournal 7.4 (skanning)", created=spec["scanned"], ident=rel)
                elif doc.kind == "photo":
                    rel = claim(f"foto/{year}", f"{doc.tittel} – {p.etternavn}", "jpg")
                    r = random.Random(int(hashlib.md5(rel.encode()).hexdigest(), 16))
                    data = render_photo(doc.content, r)
                else:
                    raise ValueError(doc.kind)
                doc.fil = rel
                path = DOCS / rel
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_bytes(data)
    # The legacy documents last, so that they never take a name the others had before they came.
    for j, e, doc in legacy:
        doc.fil, data = legacy_file(j, e, doc, kept or {})
        path = DOCS / doc.fil
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)


# --------------------------------------------------------------------------- legacy documents (not archival)
#
# Six documents in formats a depot does not accept, as the system's older modules and outside senders left
# them; noarkpack converts them to PDF/A-2b on extract and records each konvertering (README, "Documents"):
#
#   RTF (Siegfried fmt/50)     a nurse's note and a legevakt note from the old note modules: plain ASCII RTF
#                              with \uN escapes, written here
#   Word 97 .doc (fmt/40)      a letter written in a word processor: RTF written here, saved as .doc by LibreOffice
#   GIF (fmt/4)                a GP's referral received through the fax server: a page drawn here, written as a
#                              BMP and saved as GIF by LibreOffice
#   BMP (fmt/116)              a form from an old flatbed scanner: 1 bit, 100 dpi, written here with struct
#   PDF 1.4 (fmt/18)           a discharge summary a hospital sent as plain PDF in 2011: plain PDF is archival
#                              only for documents produced up to 2008-12-31, so this one is converted
#
# Each is attached to an existing entry that had no document (the entry keeps its type and title), in a closed
# journal after the open journal J-4178 in the export's order, so that the planted defects keep their lines in
# eksport/.  Nothing here draws from the global random generator, so the rest of the example does not change.
#
# LibreOffice need not write the same bytes in another version, so the .doc and the .gif are made only when they
# are missing: a rerun keeps the committed files (read before dokumenter/ is deleted).  Delete them to make them
# anew, e.g. after changing their text here.

LEGACY = [
    # (document kind, entry type, entry titles, arkivskaper, years of the entry, document title or None: the entry's)
    ("rtf-notat", "notat", ("Tilsyn kveld", "Tilsyn natt"), "helse", (2009, 2012), "Sykepleiernotat"),
    ("rtf-legevakt", "notat", ("Legevaktnotat",), "legevakt", (2007, 2008), "Legevaktnotat"),
    ("doc", "brev", ("Invitasjon til pårørendesamtale",), "helse", (2009, 2014), None),
    ("gif", "henvisning", ("Henvisning fra fastlege",), "helse", (2005, 2009), "Henvisning fra fastlege (faks)"),
    ("bmp", "skjema", ("Fallrisikovurdering",), "helse", (2008, 2012), "Fallrisikovurdering (skannet)"),
    ("pdf14", "epikrise", ("Epikrise fra Sykehuset Levanger", "Epikrise fra Sykehuset Namsos"), "helse",
     (2010, 2023), None),
]
LEGACY_KINDS = {spec[0] for spec in LEGACY}
LIBREOFFICE_MADE = (".doc", ".gif")


def legacy_documents(journals: list[Journal]) -> None:
    """Attach the legacy documents (after :func:`number`: the choice follows the export's order)."""
    order = sorted(journals, key=lambda j: (j.patient.pasient_id, j.opened))  # as journals.jsonl and eksport/
    start = next(n for n, j in enumerate(order) if j.journal_id == MISSING_FILE_JOURNAL) + 1
    used: set[str] = set()
    for kind, type_, titles, ark, (y0, y1), title in LEGACY:
        j, e = next((j, e) for j in order[start:] if j.closed and UNITS[j.unit][0] == ark and j.journal_id not in used
                    for e in j.entries if e.type == type_ and e.tittel in titles and not e.docs and not e.skjerming
                    and y0 <= e.opprettet.year <= y1)
        used.add(j.journal_id)
        e.docs.append(Doc(kind, title or e.tittel, None))


def rtf_text(s: str) -> str:
    """``s`` as RTF text in plain ASCII: æ → \\u230\\'e6 (the Unicode escape, then its Windows-1252 fallback)."""
    out = []
    for ch in s:
        o = ord(ch)
        if ch in "\\{}":
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\line ")
        elif 32 <= o < 127:
            out.append(ch)
        else:
            assert o < 0x10000, ch
            try:
                fallback = "\\'" + ch.encode("cp1252").hex()
            except UnicodeEncodeError:
                fallback = "?"
            out.append(f"\\u{o if o < 0x8000 else o - 0x10000}{fallback}")
    return "".join(out)


def rtf_document(body: list[str], *, title: str, author: str, created: datetime, generator: str) -> bytes:
    """An RTF 1.x document (A4, Arial 10 pt, Norwegian) around ``body`` (lines of RTF)."""
    c = created
    head = [
        "{\\rtf1\\ansi\\ansicpg1252\\uc1\\deff0\\deflang1044",
        "{\\fonttbl{\\f0\\fswiss\\fcharset0 Arial;}{\\f1\\froman\\fcharset0 Times New Roman;}}",
        f"{{\\*\\generator {rtf_text(generator)};}}",
        f"{{\\info{{\\title {rtf_text(title)}}}{{\\author {rtf_text(author)}}}"
        f"{{\\creatim\\yr{c.year}\\mo{c.month}\\dy{c.day}\\hr{c.hour}\\min{c.minute}}}}}",
        "\\paperw11906\\paperh16838\\margl1418\\margr1418\\margt1418\\margb1418",
    ]
    return ("\r\n".join(head + body + ["}"]) + "\r\n").encode("ascii")


def _para(text: str, *, bold: bool = False, size: int = 20, after: int = 120) -> str:
    b = ("\\b ", "\\b0") if bold else ("", "")
    return f"\\pard\\plain\\f0\\fs{size}\\sa{after} {b[0]}{rtf_text(text)}{b[1]}\\par"


def rtf_notat(j: Journal, e: Entry, r: random.Random) -> bytes:
    p = j.patient
    lege = r.choice(STAFF["lege"])[0]
    header, body, footer = note_text(p, e.tittel, e.opprettet, e.forfatter, lege, r=r).strip().split("\n\n")
    lines = [_para(f"Omsorgsjournal – Sykepleiernotat – {UNITS[j.unit][1]}", size=16),
             _para(f"Pasient: {p.navn}, født {no_date(p.born)}", bold=True),
             _para(header, bold=True, after=240), _para(body.replace("\n", " "), after=240), _para(footer)]
    return rtf_document(lines, title=f"Sykepleiernotat – {e.tittel}", author=e.forfatter, created=e.opprettet,
                        generator="Omsorgsjournal 5.2 notatmodul")


def rtf_legevaktnotat(j: Journal, e: Entry) -> bytes:
    p, case = j.patient, e.extra["case"]
    rows = [("Kontaktårsak", case["aarsak"]), ("Funn", case["funn"]), ("Vurdering", case["vurdering"]),
            ("Tiltak", case["tiltak"])]
    lines = [_para("Fjordvik interkommunale legevakt", bold=True, size=24),
             _para(f"{e.tittel} – {no_date(e.opprettet)} kl. {e.opprettet:%H.%M}", bold=True, after=240),
             _para(f"Pasient: {p.navn}, født {no_date(p.born)}", after=240)]
    for name, text in rows:
        lines.append("\\trowd\\trgaph108\\trleft0\\clbrdrb\\brdrs\\brdrw10\\cellx2552"
                     "\\clbrdrb\\brdrs\\brdrw10\\cellx9070")
        lines.append(f"\\pard\\plain\\intbl\\f0\\fs20\\b {rtf_text(name)}\\b0\\cell "
                     f"\\pard\\plain\\intbl\\f0\\fs20 {rtf_text(text)}\\cell\\row")
    lines.append("\\pard\\plain\\f0\\fs20\\sb240 " + rtf_text(f"Lege: {e.forfatter}") + "\\par")
    return rtf_document(lines, title=e.tittel, author=e.forfatter, created=e.opprettet,
                        generator="Legevaktmodul 2.0")


def rtf_letter(j: Journal, e: Entry, r: random.Random) -> bytes:
    """The invitation as the ward wrote it in a word processor (saved as Word 97 by LibreOffice)."""
    p = j.patient
    to = e.korrespondanse["parter"][0]["navn"]
    addr = p.relative.adresse if p.relative and p.relative.navn == to else ("" if p.skjult_adresse else p.adresse)
    meeting = e.opprettet.date() + timedelta(days=10)
    meeting += timedelta(days={5: 2, 6: 1}.get(meeting.weekday(), 0))  # a weekday
    ref = f"{e.opprettet.year}/{r.randint(1000, 9999)}"
    lines = [_para("Fjordvik kommune", bold=True, size=32, after=0), _para(UNITS[j.unit][1], size=22, after=480),
             "\\pard\\plain\\f0\\fs22 " + "\\line ".join(rtf_text(x) for x in [to, *addr.split(", ")] if x) + "\\par",
             f"\\pard\\plain\\f0\\fs18\\sb480\\tx6804 \\tab {rtf_text('Vår dato: ' + no_date(e.opprettet))}\\line "
             f"\\tab {rtf_text('Vår ref.: ' + ref)}\\line \\tab {rtf_text('Saksbehandler: ' + e.forfatter)}\\par",
             "\\pard\\plain\\f0\\fs28\\sb480\\sa240\\b " + rtf_text(e.tittel) + "\\b0\\par"]
    body = [f"Vi ønsker å invitere deg til en samtale om {p.fn} og hvordan {p.pron()[0]} har det hos oss.",
            f"Tid: {no_date(meeting)} kl. 13.00. Sted: {UNITS[j.unit][1]}, møterommet.",
            "Samtalen varer omtrent en time. Primærkontakt og lege deltar.",
            "Gi beskjed til avdelingen dersom tidspunktet ikke passer.", "Med vennlig hilsen"]
    lines += [_para(x, size=22) for x in body]
    lines.append("\\pard\\plain\\f0\\fs22\\sb480 " + rtf_text(e.forfatter) + "\\line "
                 + rtf_text(ROLE.get(e.forfatter, "saksbehandler")) + "\\par")
    return rtf_document(lines, title=e.tittel, author=e.forfatter, created=e.opprettet, generator="Fjordvik brevmal")


def bmp_1bit(img, dpi: int) -> bytes:
    """A Windows BMP 3 (BITMAPINFOHEADER) with 1 bit per pixel and a black/white palette, bottom-up rows."""
    w, h = img.size
    raw = img.convert("1").tobytes()  # top-down rows, each padded to a byte; bit 1 = white
    row, stride = (w + 7) // 8, ((w + 31) // 32) * 4
    pixels = b"".join(raw[y * row:(y + 1) * row] + b"\0" * (stride - row) for y in reversed(range(h)))
    palette = b"\x00\x00\x00\x00\xff\xff\xff\x00"  # index 0 black, 1 white (BGR0)
    offset = 14 + 40 + len(palette)
    ppm = round(dpi / 0.0254)
    return (struct.pack("<2sIHHI", b"BM", offset + len(pixels), 0, 0, offset)
            + struct.pack("<IiiHHIIiiII", 40, w, h, 1, 1, 0, len(pixels), ppm, ppm, 2, 2) + palette + pixels)


def render_fax(j: Journal, e: Entry, r: random.Random):
    """A GP's referral as it came out of the fax server (150 dpi, 1 bit)."""
    p = j.patient
    office, _, doctor = p.fastlege.partition(" v/ lege ")
    sent = min(at(e.opprettet.date(), r.randint(8, 10), r.randint(0, 59)), e.opprettet - timedelta(minutes=20))
    mono, sans, bold = font("DejaVuSansMono", 18), font("DejaVuSans", 24), font("DejaVuSans-Bold", 30)
    img, d = new_page()
    d.text((60, 40), f"{no_date(sent)} {sent:%H:%M}   FRA: {office.upper()}   TIL: FJORDVIK KOMMUNE   S. 1/1",
           font=mono, fill=0)
    d.text((150, 160), office, font=bold, fill=0)
    d.text((150, 205), f"Lege {doctor}", font=sans, fill=0)
    d.text((150, 330), "HENVISNING", font=bold, fill=0)
    d.text((150, 380), "Til: Fjordvik kommune, tildelingskontoret for helse- og omsorgstjenester", font=sans, fill=0)
    d.text((150, 430), f"Gjelder: {p.navn}, født {no_date(p.born)}", font=sans, fill=0)
    chronic = low(p.chronic[0][0]) if p.chronic else "flere kroniske sykdommer"
    y = 520
    for para in [f"Henvises for vurdering av hjemmesykepleie. {p.fn} har {chronic} og klarer ikke lenger å "
                 "håndtere medisinene sine selv. Har falt hjemme og bor alene. Pårørende er bekymret.",
                 "Ber om kartleggingsbesøk snarest.", "Faste legemidler:"]:
        for line in wrap_px(para, sans, PAGE[0] - 300):
            d.text((150, y), line, font=sans, fill=0)
            y += 36
        y += 14
    for m in p.medicines:
        d.text((180, y), f"– {m}", font=sans, fill=0)
        y += 36
    y += 50
    d.text((150, y), "Med hilsen", font=sans, fill=0)
    d.text((150, y + 90), f"{doctor}, fastlege", font=sans, fill=0)
    amp, phase = r.uniform(6, 12), r.uniform(0, 6.3)
    d.line([(160 + x, y + 70 - amp * math.sin(0.15 * x + phase)) for x in range(0, 300, 3)], fill=0, width=3)
    return scanify(img, r)


def render_form(j: Journal, e: Entry, r: random.Random):
    """A filled-in paper form from the old flatbed scanner, downsampled to 100 dpi, 1 bit."""
    from PIL import Image
    p = j.patient
    mono, mono_b = font("DejaVuSansMono", 24), font("DejaVuSansMono-Bold", 30)
    hand = font("DejaVuSerif-Italic", 28) if any((dd / "DejaVuSerif-Italic.ttf").is_file() for dd in FONT_DIRS) \
        else font("DejaVuSerif", 28)
    img, d = new_page()
    d.text((120, 100), UNITS[j.unit][1].upper(), font=mono, fill=0)
    d.text((120, 150), "FALLRISIKOVURDERING", font=mono_b, fill=0)
    d.text((120, 240), "Navn:", font=mono, fill=0)
    d.text((300, 232), p.navn, font=hand, fill=30)
    d.text((120, 290), "Født:", font=mono, fill=0)
    d.text((300, 282), no_date(p.born), font=hand, fill=30)
    d.text((700, 290), "Dato:", font=mono, fill=0)
    d.text((800, 282), no_date(e.opprettet), font=hand, fill=30)
    top = 380
    d.text((130, top + 14), "Risikofaktor", font=mono_b, fill=0)
    d.text((860, top + 14), "Ja", font=mono_b, fill=0)
    d.text((990, top + 14), "Nei", font=mono_b, fill=0)
    items = SKJEMA["Fallrisikovurdering"]
    yes = 0
    for k, item in enumerate(items, start=1):
        yy = top + 70 * k
        d.line((110, yy, 1130, yy), fill=0, width=2)
        d.text((130, yy + 20), item, font=mono, fill=0)
        for x in (860, 990):
            d.rectangle((x, yy + 18, x + 32, yy + 50), outline=0, width=2)
        x = 860 if r.random() < 0.55 else 990
        yes += x == 860
        d.line((x + 4, yy + 34, x + 14, yy + 48, x + 40, yy + 8), fill=20, width=4)
    bottom = top + 70 * (len(items) + 1)
    d.rectangle((110, top, 1130, bottom), outline=0, width=2)
    d.line((840, top, 840, bottom), fill=0, width=2)
    d.line((970, top, 970, bottom), fill=0, width=2)
    risk = "høy" if yes >= 4 else "moderat" if yes >= 2 else "lav"
    y = bottom + 60
    d.text((120, y), "Samlet vurdering av fallrisiko:", font=mono, fill=0)
    d.text((620, y - 8), risk, font=hand, fill=30)
    d.text((120, y + 70), "Tiltak:", font=mono, fill=0)
    for n, t in enumerate(["Sensormatte ved sengen. Sko med godt grep.", "Fysioterapeut vurderer gangfunksjon.",
                           "Ny vurdering om tre måneder."]):
        d.text((240, y + 62 + n * 50), t, font=hand, fill=30)
    d.text((120, y + 300), "Sign.:", font=mono, fill=0)
    amp, phase = r.uniform(8, 14), r.uniform(0, 6.3)
    d.line([(250 + x, y + 310 - amp * math.sin(0.14 * x + phase)) for x in range(0, 320, 3)], fill=20, width=3)
    stamp(d, 780, 1560, e.arkivert, e.forfatter)
    page = scanify(img, r).convert("L").resize((827, 1169), Image.Resampling.BOX)
    return to_bilevel(page, 150)


def render_epikrise(j: Journal, e: Entry, r: random.Random) -> tuple[list, str, str, datetime]:
    """The hospital's discharge summary for a plain PDF: (pages, doctor, hospital, when it was written)."""
    p = j.patient
    hf, short = next(h for h in HOSPITALS if e.tittel.endswith(h[1]))
    diag = r.choice(DIAGNOSES)
    ut = e.opprettet.date() - timedelta(days=r.randint(0, 3))
    inn = ut - timedelta(days=r.randint(3, 14))
    lege = r.choice(["Kristin Aalberg", "Henrik Sørbø", "Maja Lindstrøm", "Petter Grønvold"])
    text = epikrise_text(p, hf, diag, inn, ut, lege).split("\n", 2)[2]  # without the EPIKRISE heading
    sans, bold, big = font("DejaVuSans", 21), font("DejaVuSans-Bold", 21), font("DejaVuSans-Bold", 32)
    left, right, bottom = 150, PAGE[0] - 150, PAGE[1] - 170
    pages = []
    img, d = new_page()
    d.text((left, 110), hf.split(", ")[0], font=sans, fill=0)
    d.text((left, 145), f"{short}, {diag[2]}", font=bold, fill=0)
    d.text((left, 240), "EPIKRISE", font=big, fill=0)
    y = 320
    for para in text.split("\n"):
        heading = para.endswith(":") or para.startswith(("Pasient:", "Innlagt:"))
        lines = wrap_px(para, bold if heading else sans, right - left) or [""]
        for line in lines:
            if y > bottom:
                pages.append(img)
                img, d = new_page()
                y = 150
            d.text((left, y), line, font=bold if heading else sans, fill=0)
            y += 31
    pages.append(img)
    written = min(at(ut, r.randint(12, 15), r.randint(0, 59)), e.opprettet - timedelta(hours=1))
    return [to_bilevel(pg) for pg in pages], lege, short, written


def libreoffice(data: bytes, suffix: str, target: str) -> bytes:
    """``data`` (a file ending in ``suffix``) saved by LibreOffice headless as ``target`` (--convert-to)."""
    exe = shutil.which("soffice") or shutil.which("libreoffice")
    if exe is None:
        sys.exit("LibreOffice (soffice) is needed to make the .doc and .gif documents that are not in dokumenter/ "
                 "yet (Debian: apt-get install libreoffice-writer-nogui libreoffice-draw-nogui)")
    with tempfile.TemporaryDirectory(prefix="omsorg-lo-") as tmp:
        t = Path(tmp)
        src = t / f"legacy{suffix}"
        src.write_bytes(data)
        r = subprocess.run([exe, "--headless", "--norestore", f"-env:UserInstallation={(t / 'profile').as_uri()}",
                            "--convert-to", target, "--outdir", str(t / "out"), str(src)],
                           capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL)
        made = sorted((t / "out").glob("legacy.*"))
        if r.returncode != 0 or len(made) != 1:
            sys.exit(f"LibreOffice could not save {suffix} as {target}: {(r.stderr or r.stdout).strip()[-300:]}")
        return made[0].read_bytes()


def legacy_file(j: Journal, e: Entry, doc: Doc, kept: dict[str, bytes]) -> tuple[str, bytes]:
    """(path under dokumenter/, bytes) of a legacy document."""
    p, year = j.patient, e.opprettet.year
    kind = doc.kind
    if kind.startswith("rtf"):
        rel = claim(f"notater/{year}", f"{e.innslag_id} {doc.tittel}", "rtf")
        r = random.Random(int(hashlib.md5(rel.encode()).hexdigest(), 16))
        return rel, rtf_notat(j, e, r) if kind == "rtf-notat" else rtf_legevaktnotat(j, e)
    folder = f"skannet/{year}" if kind == "bmp" else str(year)
    ext = {"doc": "doc", "gif": "gif", "bmp": "bmp", "pdf14": "pdf"}[kind]
    rel = claim(folder, f"{doc.tittel} – {p.etternavn}", ext)
    r = random.Random(int(hashlib.md5(rel.encode()).hexdigest(), 16))
    if kind == "bmp":
        return rel, bmp_1bit(render_form(j, e, r), 100)
    if kind == "pdf14":
        pages, lege, short, written = render_epikrise(j, e, r)
        return rel, pdf_a(pages, part=None, title=f"Epikrise – {short}", author=lege,
                          creator_tool="Elektronisk pasientjournal (epikrise)", created=written, ident=rel,
                          producer="PDF-utskrift 6.0")
    if rel in kept:  # made by LibreOffice in an earlier run: kept byte for byte
        return rel, kept[rel]
    if kind == "doc":
        return rel, libreoffice(rtf_letter(j, e, r), ".rtf", "doc:MS Word 97")
    return rel, libreoffice(bmp_1bit(render_fax(j, e, r), 150), ".bmp", "gif")



# --------------------------------------------------------------------------- main


def number(journals: list[Journal]) -> None:
    """Source keys as a database would hand them out: in order of creation."""
    for n, j in enumerate(sorted(journals, key=lambda j: (j.opened, j.patient.pasient_id)), start=4101):
        j.journal_id = f"J-{n}"
    prefix = {"notat": "N", "vedtak": "V", "epikrise": "E", "henvisning": "H", "skjema": "S", "skannet": "SK",
              "brev": "B"}
    everything = sorted(((e.opprettet, j.journal_id, id(e), e) for j in journals for e in j.entries),
                        key=lambda t: t[:2])
    for n, (_, _, _, e) in enumerate(everything, start=120001):
        e.innslag_id = f"{prefix[e.type]}-{n}"
    for j in journals:
        j.entries.sort(key=lambda e: (e.opprettet, e.innslag_id))


# --------------------------------------------------------------------------- the legacy export (CSV)
#
# The retired system's own export, as noarkpack import reads it through the mapping in noarkpack.toml:
# semicolon-separated CSV with CRLF line ends and local codes.  The journal tables are Windows-1252 (as
# the system wrote them); the person register module wrote PASIENT.csv in UTF-8 with a byte order mark
# (it holds a Lithuanian name that Windows-1252 cannot). Dates are dd.mm.yyyy, times dd.mm.yyyy HH:MM
# local time (Europe/Oslo). The export is derived from journals.jsonl, plus four planted defects that
# `noarkpack analyse` reports (see README.md): an invalid fødselsnummer, a document row whose file is
# missing, an unmapped entry-type code, and the two journals that are still open.

EXPORT = HERE / "eksport"
KJONN_CODE = {"M": "1", "K": "2", "U": "9"}
ARKIVSKAPER_CODE = {"helse": "HO", "legevakt": "LV"}
TYPE_CODE = {"notat": "NOT", "vedtak": "VED", "epikrise": "EPI", "henvisning": "HEN", "skjema": "SKJ",
             "skannet": "SKA", "brev": "BRV"}
POST_CODE = {"Inngående dokument": "I", "Utgående dokument": "U", "Organinternt dokument for oppfølging": "N"}
PART_CODE = {"Avsender": "AVS", "Mottaker": "MOT", "Kopimottaker": "KOP", "Intern mottaker": "INT"}
ROLE_CODE = {"Hoveddokument": "H", "Vedlegg": "V"}
ACCESS_CODE = {"Unntatt offentlighet": "UO"}
WHOLE_DOC_CODE = {"Skjerming av hele dokumentet": "H"}
INVALID_FNR_PATIENT = "P-10169"  # the patient of the open journal J-4188: kept out of the extract
MISSING_FILE_JOURNAL = "J-4178"  # open: the missing file does not stop the extract
UNMAPPED_CODE = "TLF"  # "telefonnotat": a code the mapping's value list does not know


def _local(value: str | None, with_time: bool = True) -> str:
    if not value:
        return ""
    if not with_time:
        y, m, d = value[:10].split("-")
        return f"{d}.{m}.{y}"
    dt = datetime.fromisoformat(value).astimezone(OSLO)
    assert dt.isoformat() == value, "only Oslo local times round-trip"
    return f"{dt.day:02d}.{dt.month:02d}.{dt.year} {dt.hour:02d}:{dt.minute:02d}"


def _windows_path(fil: str) -> str:
    return fil.replace("/", "\\")


def write_export(records: list[dict]) -> None:
    """Write eksport/*.csv from the journals (noarkpack's JSON Lines objects), with the planted defects."""
    import csv

    if EXPORT.exists():
        shutil.rmtree(EXPORT)
    EXPORT.mkdir()
    tables: dict[str, list[list[str]]] = {
        "PASIENT": [["PAS_ID", "FODSELSNR", "FORNAVN", "ETTERNAVN", "FODT", "DOD", "DOD_UKJENT", "KJONN",
                     "SKJULT_ADR"]],
        "JOURNAL": [["JOURNAL_ID", "PAS_ID", "TJENESTE", "ENHET", "ANSVARLIG", "OPPRETTET", "OPPRETTET_AV",
                     "AVSLUTTET", "AVSLUTTET_AV"]],
        "NOTAT": [["NOTAT_ID", "JOURNAL_ID", "NOTATTYPE", "TITTEL", "FORFATTER", "SKREVET", "SIGNERT",
                   "SIGNERT_AV", "TILGANG", "HJEMMEL", "SKJERMING", "SKJERM_DOK", "POSTTYPE", "POSTDATO"]],
        "DOKUMENT": [["NOTAT_ID", "LOPENR", "FILNAVN", "TITTEL", "ROLLE"]],
        "MOTTAKER": [["NOTAT_ID", "ROLLE", "NAVN"]],
        "ENDRING": [["NOTAT_ID", "FELT", "FRA", "TIL", "ENDRET", "ENDRET_AV"]],
        "MERKNAD": [["JOURNAL_ID", "TEKST", "DATO", "BRUKER", "MERKNADSTYPE"]],
    }
    seen_patients: set[str] = set()
    unmapped_done = False
    for j in records:
        p = j["pasient"]
        if p["pasient_id"] not in seen_patients:
            seen_patients.add(p["pasient_id"])
            fnr = p.get("fodselsnummer") or ""
            if p["pasient_id"] == INVALID_FNR_PATIENT:
                fnr = fnr[:10] + str((int(fnr[10]) + 1) % 10)  # defect: a wrong control digit
            first, _, last = p["navn"].rpartition(" ")
            tables["PASIENT"].append([p["pasient_id"], fnr, first, last, _local(p.get("fodselsdato"), False),
                                      _local(p.get("dodsdato"), False), "J" if p.get("dodsdato_ukjent") else "",
                                      KJONN_CODE[p["kjonn"]], "J" if p.get("skjult_adresse") else ""])
        tables["JOURNAL"].append([j["journal_id"], p["pasient_id"], ARKIVSKAPER_CODE[j["arkivskaper"]],
                                  j["journalsted"], j["journalansvarlig"], _local(j["opprettet"]), j["opprettet_av"],
                                  _local(j.get("avsluttet")), j.get("avsluttet_av") or ""])
        for e in j["innslag"]:
            code = TYPE_CODE[e["type"]]
            if (not unmapped_done and j.get("avsluttet") and j["arkivskaper"] == "helse" and e["type"] == "notat"
                    and not e.get("dokumenter")):
                code, unmapped_done = UNMAPPED_CODE, True  # defect: a code the value map lacks
            s = e.get("skjerming") or {}
            k = e.get("korrespondanse") or {}
            tables["NOTAT"].append([
                e["innslag_id"], j["journal_id"], code, e["tittel"], e["forfatter"], _local(e["opprettet"]),
                _local(e["arkivert"]), e["arkivert_av"], ACCESS_CODE[s["tilgangsrestriksjon"]] if s else "",
                s.get("hjemmel", ""), "|".join(s.get("metadata", [])), WHOLE_DOC_CODE[s["dokument"]]
                if s.get("dokument") else "", POST_CODE[k["type"]] if k else "", _local(k.get("dato"), False)])
            for n, d in enumerate(e.get("dokumenter", []), start=1):
                tables["DOKUMENT"].append([e["innslag_id"], str(n), _windows_path(d["fil"]), d["tittel"],
                                           ROLE_CODE.get(d.get("tilknyttet_som"), "")])
            for part in k.get("parter", []):
                tables["MOTTAKER"].append([e["innslag_id"], PART_CODE[part["type"]], part["navn"]])
            for c in e.get("endringer", []):
                tables["ENDRING"].append([e["innslag_id"], c["felt"], c["tidligere"], c["ny"], _local(c["dato"]),
                                          c["av"]])
        if j["journal_id"] == MISSING_FILE_JOURNAL:
            last = j["innslag"][-1]
            surname = p["navn"].rpartition(" ")[2]
            n = len(last.get("dokumenter", [])) + 1
            tables["DOKUMENT"].append([last["innslag_id"], str(n),
                                       _windows_path(f"skannet/2018/Samtykkeerklæring – {surname}.pdf"),
                                       "Samtykkeerklæring", "V" if n > 1 else ""])  # defect: no such file
        for m in j.get("merknader", []):
            tables["MERKNAD"].append([j["journal_id"], m["tekst"], _local(m["dato"]), m["registrert_av"],
                                      m.get("type") or ""])
    assert unmapped_done
    for name, rows in tables.items():
        encoding = "utf-8-sig" if name == "PASIENT" else "cp1252"
        with open(EXPORT / f"{name}.csv", "w", encoding=encoding, newline="") as f:
            csv.writer(f, delimiter=";", lineterminator="\r\n").writerows(rows)


def read_records() -> list[dict]:
    with open(SOURCE, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def main() -> None:
    if sys.argv[1:] == ["--export"]:
        # Only the CSV export, from the committed journals.jsonl (no Pillow needed).
        write_export(read_records())
        print(f"wrote {EXPORT.relative_to(HERE)}/")
        return
    journals = build()
    sensitive_entries(journals)
    photos(journals)
    corrections(journals)
    remarks(journals)
    number(journals)
    legacy_documents(journals)

    kept = {}  # LibreOffice-made documents of the committed example: reused, not made again
    if DOCS.exists():
        kept = {f.relative_to(DOCS).as_posix(): f.read_bytes() for f in sorted(DOCS.rglob("*"))
                if f.suffix in LIBREOFFICE_MADE and f.is_file()}
        shutil.rmtree(DOCS)
    DOCS.mkdir()
    write_documents(journals, kept)

    journals.sort(key=lambda j: (j.patient.pasient_id, j.opened))
    with open(SOURCE, "w", encoding="utf-8", newline="\n") as f:
        for j in journals:
            f.write(json.dumps(j.json(), ensure_ascii=False) + "\n")

    write_export(read_records())

    entries = [e for j in journals for e in j.entries]
    patients = {j.patient.pasient_id for j in journals}
    assert len(patients) >= 40 and len(journals) >= 80 and len(entries) >= 400, "too small: change the seed"
    assert sum(1 for j in journals if not j.closed) == 2
    assert sum(1 for e in entries if e.korrespondanse) >= 30
    assert sum(1 for e in entries for d in e.docs if d.fil.endswith(".pdf")) >= 10
    assert sum(1 for e in entries if e.endringer) >= 5
    print(f"{len({j.patient.pasient_id for j in journals})} patients, {len(journals)} journals "
          f"({sum(1 for j in journals if not j.closed)} open), {len(entries)} entries, "
          f"{sum(len(e.docs) for e in entries)} documents")


if __name__ == "__main__":
    main()
