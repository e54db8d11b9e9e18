#!/usr/bin/env python3
"""Generate the bundled example ``examples/sykehus/``: ``journals.jsonl`` and ``dokumenter/``.

A fictitious hospital department — Medisinsk avdeling at "Sykehuset Fjordvik
HF" — whose retired EPJ system ("Kliniaktiv EPJ") holds closed journals that
go to Norsk helsearkiv.  Everything is invented: the hospital, its
organisation number (999999999), the NHA agreement ids in noarkpack.toml, the
staff, the patients and their person numbers.  The person numbers are
computed here (valid control digits, consistent with the date of birth, one
deliberately wrong); a match with a real person would be a coincidence.

What the example exercises (selection "today" is fixed at 2025-06-30 in
noarkpack.toml):

* patients who died more than 10 years ago (deposited), one who died in 2021
  (too recent), two living patients and one open journal (never deposited);
* one "dødsdato ukjent" (sikkermors) and one patient born more than 110 years
  ago without a death date (NHA's 110-year rule);
* a hidden address, a hidden name, a D-nummer, an H-nummer and one
  fødselsnummer with wrong control digits (a warning, still deposited);
* ICD-10 and ICD-9 diagnoses, one without a date; one patient with two journals;
* scanned paper documents and system letters as small PDF/A-2b files.

This script is run by maintainers, not by users or CI: its output is committed
and the example works without running it.  It is deterministic: the PDFs are
made by Ghostscript with SOURCE_DATE_EPOCH fixed and a fixed output name, so
a rerun with the same Ghostscript gives the same bytes.  It deletes and
rewrites ``journals.jsonl`` and ``dokumenter/`` next to itself, and nothing
else (``noarkpack.toml`` and ``README.md`` are written by hand).

Requirements: Python 3.11+ and Ghostscript 10 with its sRGB ICC profile
(Debian/Ubuntu: ``apt-get install ghostscript``)::

    python3 examples/sykehus/generate.py
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
DOCS = HERE / "dokumenter"
SOURCE = HERE / "journals.jsonl"
SOURCE_DATE_EPOCH = "1735689600"  # 2025-01-01T00:00:00Z: fixed PDF dates
ICC_CANDIDATES = [
    Path("/usr/share/color/icc/ghostscript/srgb.icc"),
    *sorted(Path("/usr/share/ghostscript").glob("*/iccprofiles/srgb.icc")),
]
HOSPITAL = "Sykehuset Fjordvik HF"
UNIT = "Medisinsk avdeling"
#: the EPJ's user ids: who signs what they wrote, who registers journals, who scans paper
#: (noarkpack.toml [nha.brukere] gives their names; the export itself has only the ids)
USER = {"Lege Erik Lunde": "erik.lunde", "Overlege Hanne Vik": "hanne.vik"}
REGISTRAR = "kari.moen"  # medical secretary: opens the journals
SCANNER = "per.dahl"  # the archive's scanning operator

# --------------------------------------------------------------------------- person numbers

_W1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
_W2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


def _mod11(digits: str, weights: tuple[int, ...]) -> int | None:
    k = 11 - sum(int(d) * w for d, w in zip(digits, weights)) % 11
    return 0 if k == 11 else (None if k == 10 else k)


def person_number(born: date, sex: str, *, kind: str = "F", individ: int = 0) -> str:
    """A synthetic person number (1964 rule set) for ``born``; ``kind`` F, D (day+40) or H (month+40).

    Tries individnummer upwards from ``individ`` (within the range of the birth century) until
    its last digit carries ``sex`` (odd for "M", even for "K") and both control digits exist.
    """
    lo, hi = (0, 499) if 1900 <= born.year <= 1999 else (500, 999)
    n = max(lo, individ)
    while n <= hi:
        if n % 2 != (1 if sex == "M" else 0):
            n += 1
            continue
        day = born.day + (40 if kind == "D" else 0)
        month = born.month + (40 if kind == "H" else 0)
        nine = f"{day:02d}{month:02d}{born.year % 100:02d}{n:03d}"
        k1 = _mod11(nine, _W1)
        k2 = _mod11(nine + str(k1), _W2) if k1 is not None else None
        if k1 is not None and k2 is not None:
            return f"{nine}{k1}{k2}"
        n += 1
    raise ValueError("no individnummer gives valid control digits")


def broken(number: str) -> str:
    """The same number with its last control digit changed (a typo in the source)."""
    return number[:10] + str((int(number[10]) + 1) % 10)


# --------------------------------------------------------------------------- PDF/A via Ghostscript

PROLOG = r"""%!PS-Adobe-3.0
/reencode { % newname fontname
  findfont dup length dict begin { 1 index /FID ne { def } { pop pop } ifelse } forall
  /Encoding ISOLatin1Encoding def currentdict end definefont pop } bind def
/F-R /Helvetica reencode
/F-B /Helvetica-Bold reencode
/F-M /Courier reencode
"""


def ps_string(text: str) -> str:
    out = []
    for ch in text.encode("latin-1", errors="replace"):
        c = chr(ch)
        if c in "()\\":
            out.append("\\" + c)
        elif 32 <= ch < 127:
            out.append(c)
        else:
            out.append(f"\\{ch:03o}")
    return "(" + "".join(out) + ")"


def page_ps(title: str, header: list[str], body: list[str], *, scanned: bool) -> str:
    lines = [PROLOG]
    if scanned:
        # a scanned paper page: slightly rotated, typewriter face, a frame and a received-stamp
        lines += ["0.96 0.95 0.90 setrgbcolor 0 0 595 842 rectfill 0 setgray",
                  "297 421 translate 0.6 rotate -297 -421 translate",
                  "0.5 setlinewidth 50 60 495 730 rectstroke"]
        face, bold = "/F-M", "/F-M"
    else:
        face, bold = "/F-R", "/F-B"
    y = 780
    lines.append(f"{bold} findfont 13 scalefont setfont 72 {y} moveto {ps_string(HOSPITAL + ' - ' + UNIT)} show")
    y -= 34
    lines.append(f"{bold} findfont 16 scalefont setfont 72 {y} moveto {ps_string(title)} show")
    y -= 26
    lines.append(f"{face} findfont 10 scalefont setfont")
    for h in header:
        lines.append(f"72 {y} moveto {ps_string(h)} show")
        y -= 14
    y -= 12
    lines.append(f"{face} findfont 11 scalefont setfont")
    for b in body:
        lines.append(f"72 {y} moveto {ps_string(b)} show")
        y -= 16
    if scanned:
        lines += ["0.7 0 0 setrgbcolor 1.5 setlinewidth 400 90 140 44 rectstroke",
                  f"/F-B findfont 12 scalefont setfont 412 116 moveto {ps_string('MOTTATT')} show",
                  f"/F-B findfont 9 scalefont setfont 412 100 moveto {ps_string('Arkivet - skannet')} show",
                  "0 setgray"]
    lines.append("showpage")
    return "\n".join(lines) + "\n"


def make_pdf(target: Path, ps: str, work: Path, pdfa_def: Path, icc_dir: Path) -> None:
    src = work / "page.ps"
    out = work / "out.pdf"
    src.write_text(ps, encoding="latin-1")
    cmd = ["gs", "-q", "-dNOPAUSE", "-dBATCH", "-dSAFER", "-dPDFA=2", "-dPDFACompatibilityPolicy=1",
           "-sColorConversionStrategy=RGB", "-sDEVICE=pdfwrite", f"--permit-file-read={icc_dir}/",
           "-sOutputFile=out.pdf", pdfa_def.name, src.name]
    # run in the work folder with relative names: Ghostscript's /ID hashes the names it is given
    subprocess.run(cmd, check=True, cwd=work, env={"SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH, "PATH": "/usr/bin:/bin"})
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(out, target)


# --------------------------------------------------------------------------- the journals


def dt(d: date, hh: int, mm: int = 0) -> str:
    return datetime(d.year, d.month, d.day, hh, mm).isoformat()  # no offset: read as Europe/Oslo


@dataclass
class Entry:
    id: str
    type: str
    title: str
    author: str
    day: date
    body: list[str]
    scanned: bool = False
    scanned_on: date | None = None  # when the paper was scanned into the EPJ (its arkivert), not the paper's date


@dataclass
class Journal:
    journal_id: str
    pasient_id: str
    name: str
    sex: str
    born: date
    number: str | None
    opened: date
    closed: date | None
    entries: list[Entry]
    died: date | None = None
    died_unknown: bool = False
    # the population register's flags as the EPJ recorded them: True, False, or None where the source has
    # no value (journals from before the EPJ recorded them): None is never written as false
    hidden_address: bool | None = False
    hidden_name: bool | None = False
    diagnoses: list[dict] = field(default_factory=list)
    unit: str = UNIT
    responsible: str = "Overlege Hanne Vik"


def journals() -> list[Journal]:
    d = date
    # helper for the common two-entry stay
    def stay(jid: str, arrived: date, days: int, diagnosis: str, author: str = "Lege Erik Lunde") -> list[Entry]:
        out = arrived + timedelta(days=days)
        return [
            Entry(f"{jid}-N1", "notat", "Innkomstjournal", author, arrived,
                  ["Innlagt via akuttmottaket.", f"Arbeidsdiagnose: {diagnosis}.",
                   "Status ved innkomst beskrevet; videre plan avtalt med vakthavende overlege."]),
            Entry(f"{jid}-E1", "epikrise", "Epikrise", "Overlege Hanne Vik", out,
                  [f"Diagnose: {diagnosis}.", f"Innlagt {arrived:%d.%m.%Y}, utskrevet {out:%d.%m.%Y}.",
                   "Kontroll hos fastlege om fire uker. Epikrise sendt fastlege."]),
        ]

    js = [
        Journal("SFJ-1001", "P-501", "Astrid Holmelid", "K", d(1921, 3, 14),
                person_number(d(1921, 3, 14), "K", individ=117), d(2006, 2, 1), d(2009, 11, 20),
                stay("SFJ-1001", d(2006, 2, 1), 9, "Akutt hjerteinfarkt"), died=d(2009, 11, 2),
                diagnoses=[{"kode": "I21.9", "tekst": "Akutt hjerteinfarkt, uspesifisert", "dato": "2006-02-01"}]),
        Journal("SFJ-1002", "P-502", "Bjarne Solstad", "M", d(1930, 7, 22),
                person_number(d(1930, 7, 22), "M", individ=245), d(2010, 5, 3), d(2012, 1, 31),
                stay("SFJ-1002", d(2010, 5, 3), 14, "Lungekreft"), died=d(2012, 1, 15), hidden_address=True,
                diagnoses=[{"kode": "C34.9", "tekst": "Ondartet svulst i bronkie eller lunge", "dato": "2010-05-10"}]),
        Journal("SFJ-1003", "P-503", "Ingrid Lyngvær", "K", d(1944, 12, 5),
                person_number(d(1944, 12, 5), "K", kind="D", individ=301), d(2013, 4, 2), d(2013, 7, 15),
                stay("SFJ-1003", d(2013, 4, 2), 6, "Lungebetennelse"), died=d(2013, 6, 30),
                diagnoses=[{"kode": "J18.9", "tekst": "Pneumoni, uspesifisert", "dato": "2013-04-02"}]),
        Journal("SFJ-1004", "P-504", "Olav Brekken", "M", d(1910, 2, 2), None, d(1958, 9, 12), d(1962, 3, 1),
                [Entry("SFJ-1004-S1", "skannet", "Journalark (papir)", "Dr. med. Sverre Aune", d(1958, 9, 12),
                       ["Innlagt med brystsmerter.", "Hvile og digitalis. Bedring.", "Utskrives til hjemmet."],
                       scanned=True, scanned_on=d(2003, 5, 12)),
                 Entry("SFJ-1004-S2", "skannet", "Epikrise (papir)", "Dr. med. Sverre Aune", d(1962, 2, 20),
                       ["Ny innleggelse for hjertesvikt.", "Behandlet med diuretika.", "Sendt hjem i bedret tilstand."],
                       scanned=True, scanned_on=d(2003, 5, 12))],
                hidden_address=None, hidden_name=None,
                diagnoses=[{"kode": "Hjertesvikt", "kodeverk": "ukjent",
                            "tekst": "Hjertesvikt (fritekst fra papirjournal)"}]),
        Journal("SFJ-1005", "P-505", "Marit Haugset", "K", d(1938, 4, 18),
                person_number(d(1938, 4, 18), "K", kind="H", individ=77), d(2004, 10, 10), d(2004, 10, 30),
                stay("SFJ-1005", d(2004, 10, 10), 5, "Hoftebrudd"), died_unknown=True,
                diagnoses=[{"kode": "S72.0", "tekst": "Brudd på lårhals", "dato": "2004-10-10"}]),
        Journal("SFJ-1006", "P-506", "Henrik Vassbotn", "M", d(1952, 9, 9),
                person_number(d(1952, 9, 9), "M", individ=410), d(2015, 1, 5), d(2015, 1, 20),
                stay("SFJ-1006", d(2015, 1, 5), 4, "Atrieflimmer"),
                diagnoses=[{"kode": "I48", "tekst": "Atrieflimmer og atrieflutter", "dato": "2015-01-05"}]),
        Journal("SFJ-1007", "P-507", "Solveig Rønning", "K", d(1948, 1, 27),
                person_number(d(1948, 1, 27), "K", individ=188), d(2020, 11, 2), d(2021, 3, 20),
                stay("SFJ-1007", d(2020, 11, 2), 12, "KOLS med forverring"), died=d(2021, 3, 3),
                diagnoses=[{"kode": "J44.1", "tekst": "KOLS med akutt forverring", "dato": "2020-11-02"}]),
        Journal("SFJ-1008", "P-508", "Einar Fjellheim", "M", d(1935, 5, 11),
                person_number(d(1935, 5, 11), "M", individ=12), d(1994, 3, 7), d(2010, 9, 1),
                stay("SFJ-1008", d(1994, 3, 7), 8, "Hjerteinfarkt"), died=d(2010, 8, 19), hidden_name=True,
                diagnoses=[{"kode": "410.9", "kodeverk": "ICD-9", "tekst": "Akutt hjerteinfarkt",
                            "dato": "1994-03-07"}]),
        Journal("SFJ-1009", "P-509", "Gunnhild Aasen", "K", d(1927, 10, 30),
                broken(person_number(d(1927, 10, 30), "K", individ=350)), d(2007, 12, 1), d(2008, 2, 28),
                stay("SFJ-1009", d(2007, 12, 1), 10, "Hjerneslag"), died=d(2008, 2, 14),
                diagnoses=[{"kode": "I63.9", "tekst": "Hjerneinfarkt, uspesifisert", "dato": "2007-12-01"}]),
        Journal("SFJ-1010", "P-510", "Torstein Myrvang", "M", d(1941, 6, 6),
                person_number(d(1941, 6, 6), "M", individ=222), d(2014, 9, 1), d(2015, 1, 10),
                stay("SFJ-1010", d(2014, 9, 1), 21, "Nyresvikt"), died=d(2014, 12, 24),
                diagnoses=[{"kode": "N18.5", "tekst": "Kronisk nyresykdom, stadium 5", "dato": "2014-09-01"},
                           {"kode": "E11.9", "tekst": "Diabetes mellitus type 2"}]),
        Journal("SFJ-1011", "P-511", "Ragnhild Eide", "K", d(1956, 2, 29),
                person_number(d(1956, 2, 29), "K", individ=400), d(2024, 5, 2), None,
                stay("SFJ-1011", d(2024, 5, 2), 3, "Astma")[:1]),
        Journal("SFJ-1012", "P-512", "Nils Korsvold", "M", d(1925, 8, 8),
                person_number(d(1925, 8, 8), "M", individ=90), d(2011, 3, 1), d(2011, 4, 30),
                stay("SFJ-1012", d(2011, 3, 1), 20, "Tykktarmskreft"), died=d(2011, 4, 4),
                diagnoses=[{"kode": "C18.9", "tekst": "Ondartet svulst i tykktarm", "dato": "2011-03-05"}]),
        Journal("SFJ-1013", "P-513", "Aud Tveiten", "K", d(1933, 3, 3),
                person_number(d(1933, 3, 3), "K", individ=140), d(1999, 6, 1), d(2000, 1, 15),
                stay("SFJ-1013", d(1999, 6, 1), 7, "Galleblærebetennelse"), died=d(2007, 7, 7),
                diagnoses=[{"kode": "K81.0", "tekst": "Akutt kolecystitt", "dato": "1999-06-01"}]),
        Journal("SFJ-1014", "P-513", "Aud Tveiten", "K", d(1933, 3, 3),
                person_number(d(1933, 3, 3), "K", individ=140), d(2007, 6, 20), d(2007, 7, 31),
                stay("SFJ-1014", d(2007, 6, 20), 12, "Hjertesvikt"), died=d(2007, 7, 7),
                diagnoses=[{"kode": "I50.9", "tekst": "Hjertesvikt, uspesifisert", "dato": "2007-06-20"}]),
        Journal("SFJ-1015", "P-515", "Leif Sandnes", "M", d(1950, 11, 11),
                person_number(d(1950, 11, 11), "M", individ=460), d(2018, 2, 2), d(2018, 2, 10),
                stay("SFJ-1015", d(2018, 2, 2), 3, "Nyrestein")),
        Journal("SFJ-1016", "P-516", "Oddny Strøm", "K", d(1919, 9, 19),
                person_number(d(1919, 9, 19), "K", individ=55), d(1989, 4, 4), d(2002, 6, 1),
                [Entry("SFJ-1016-S1", "skannet", "Henvisning (papir)", "Fastlege Bodil Rye", d(1989, 4, 4),
                       ["Henvises for utredning av anemi.", "Vennlig hilsen Bodil Rye, allmennlege."], scanned=True,
                       scanned_on=d(2002, 4, 20)),
                 *stay("SFJ-1016", d(2002, 4, 20), 9, "Anemi")],
                died=d(2002, 5, 5), hidden_address=True,
                diagnoses=[{"kode": "D64.9", "tekst": "Anemi, uspesifisert", "dato": "2002-04-20"}]),
    ]
    return js


def journal_line(j: Journal) -> dict:
    pasient = {"pasient_id": j.pasient_id, "navn": j.name, "kjonn": j.sex, "fodselsdato": j.born.isoformat()}
    if j.number:
        pasient["fodselsnummer"] = j.number
    if j.died:
        pasient["dodsdato"] = j.died.isoformat()
    if j.died_unknown:
        pasient["dodsdato_ukjent"] = True
    if j.hidden_address is not None:
        pasient["skjult_adresse"] = j.hidden_address
    if j.hidden_name is not None:
        pasient["skjult_navn"] = j.hidden_name
    innslag = []
    for e in j.entries:
        folder = f"{e.day.year}/{j.journal_id}"
        # a note is signed (arkivert) by its author the same day; a paper page is arkivert when it was scanned,
        # by the scanning operator (issue 17, point 11: the scan is dated by the scan, not by the paper)
        signed = (e.scanned_on, 11) if e.scanned else (e.day, 15)
        innslag.append({
            "innslag_id": e.id, "type": e.type, "tittel": e.title, "forfatter": e.author,
            "opprettet": dt(e.day, 10, 15), "arkivert": dt(signed[0], signed[1], 40),
            "arkivert_av": SCANNER if e.scanned else USER[e.author],
            "dokumenter": [{"fil": f"{folder}/{e.id}.pdf", "tittel": e.title}],
        })
    last = max(e.day for e in j.entries)
    line = {
        "journal_id": j.journal_id, "arkivskaper": "sfj", "journalsted": j.unit, "journalansvarlig": j.responsible,
        "opprettet": dt(j.opened, 9, 0), "opprettet_av": REGISTRAR,
        "avsluttet": dt(j.closed, 16, 0) if j.closed else None,
        "avsluttet_av": "arkiv.sfj" if j.closed else None,
        "pasient": pasient, "innslag": innslag,
    }
    assert j.closed is None or j.closed >= last, j.journal_id
    if j.diagnoses:
        line["diagnoser"] = j.diagnoses
    return line


def main() -> int:
    if shutil.which("gs") is None:
        print("Ghostscript (gs) is required: apt-get install ghostscript", file=sys.stderr)
        return 2
    icc = next((p for p in ICC_CANDIDATES if p.is_file()), None)
    pdfa_defs = sorted(Path("/usr/share/ghostscript").glob("*/lib/PDFA_def.ps"))
    if icc is None or not pdfa_defs:
        print("Ghostscript's srgb.icc and PDFA_def.ps were not found", file=sys.stderr)
        return 2
    js = journals()
    if DOCS.exists():
        shutil.rmtree(DOCS)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        pdfa_def = work / "pdfa_def.ps"
        pdfa_def.write_text(pdfa_defs[-1].read_text(encoding="latin-1").replace("(srgb.icc)", f"({icc})"),
                            encoding="latin-1")
        lines = []
        for j in js:
            line = journal_line(j)
            lines.append(json.dumps(line, ensure_ascii=False))
            for e, i in zip(j.entries, line["innslag"]):
                header = [f"Pasient: {j.name}", f"Født: {j.born:%d.%m.%Y}", f"Dato: {e.day:%d.%m.%Y}",
                          f"Journal: {j.journal_id}   Dokument: {e.id}"]
                body = [*e.body, "", e.author]
                make_pdf(DOCS / i["dokumenter"][0]["fil"], page_ps(e.title, header, body, scanned=e.scanned),
                         work, pdfa_def, icc.parent)
    SOURCE.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"wrote {len(js)} journals to {SOURCE.name} and {sum(len(j.entries) for j in js)} PDF/A files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
