#!/usr/bin/env python3
"""Load the invented legacy EPJ database of ``examples/legacydb/`` into SQLite, PostgreSQL or MariaDB.

"Kveldsro EPJ 2" is a fictitious hospital ward journal system (Solbakken sjukehus, also invented).  Its
database keeps everything inside: patients keyed by fødselsnummer, journals, journal entries whose notes are
in text columns (plain UTF-8 text, RTF, and — from the system's older module — Windows-1252 bytes in a BLOB),
scanned paper pages as BLOBs (PDF and TIFF bytes built here), code tables and a correction log.
The SAME rows go into every database (SQLAlchemy Core, one schema), so an import from each must give the same
staging rows and a byte-identical extract.  Everything is invented; person numbers are computed here (valid
control digits), not taken from any register.

    python3 examples/legacydb/generate.py                        # writes examples/legacydb/legacy.sqlite
    python3 examples/legacydb/generate.py --url postgresql+psycopg://postgres@127.0.0.1/kveldsro
    python3 examples/legacydb/generate.py --url mysql+pymysql://root@127.0.0.1/kveldsro

A server database must exist and be empty (the script creates the tables, never drops anything).
"""

from __future__ import annotations

import argparse
import struct
from datetime import date, datetime
from pathlib import Path

import sqlalchemy as sa

HERE = Path(__file__).resolve().parent
W1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
W2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)

md = sa.MetaData()
kode_avdeling = sa.Table("kode_avdeling", md, sa.Column("kode", sa.String(8), primary_key=True),
                         sa.Column("navn", sa.String(80), nullable=False),
                         sa.Column("tjeneste", sa.String(8), nullable=False))
kode_notattype = sa.Table("kode_notattype", md, sa.Column("kode", sa.String(8), primary_key=True),
                          sa.Column("tekst", sa.String(80), nullable=False))
pasient = sa.Table("pasient", md, sa.Column("fnr", sa.String(11), primary_key=True),
                   sa.Column("fornavn", sa.String(80)), sa.Column("etternavn", sa.String(80)),
                   sa.Column("kjonn", sa.String(1)), sa.Column("dod", sa.Date))
journal = sa.Table("journal", md, sa.Column("journal_id", sa.Integer, primary_key=True, autoincrement=False),
                   sa.Column("fnr", sa.String(11), sa.ForeignKey("pasient.fnr"), nullable=False),
                   sa.Column("avdeling", sa.String(8), sa.ForeignKey("kode_avdeling.kode"), nullable=False),
                   sa.Column("ansvarlig", sa.String(80)), sa.Column("opprettet", sa.DateTime),
                   sa.Column("opprettet_av", sa.String(40)), sa.Column("avsluttet", sa.DateTime),
                   sa.Column("avsluttet_av", sa.String(40)))
notat = sa.Table("notat", md, sa.Column("notat_id", sa.Integer, primary_key=True, autoincrement=False),
                 sa.Column("journal_id", sa.Integer, sa.ForeignKey("journal.journal_id"), nullable=False),
                 sa.Column("notattype", sa.String(8), sa.ForeignKey("kode_notattype.kode")),
                 sa.Column("tittel", sa.String(200)), sa.Column("forfatter", sa.String(80)),
                 sa.Column("skrevet", sa.DateTime), sa.Column("signert", sa.DateTime),
                 sa.Column("signert_av", sa.String(40)),
                 sa.Column("posttype", sa.String(1)),      # I/U: a letter in or out (a journalpost), else NULL
                 sa.Column("postdato", sa.Date),
                 sa.Column("tekst", sa.Text),             # plain text notes (UTF-8 in the database)
                 sa.Column("rtf", sa.Text),               # notes written in the RTF editor
                 sa.Column("tekst_gammel", sa.LargeBinary))  # the old module's notes: Windows-1252 bytes
skanning = sa.Table("skanning", md, sa.Column("skann_id", sa.Integer, primary_key=True, autoincrement=False),
                    sa.Column("notat_id", sa.Integer, sa.ForeignKey("notat.notat_id"), nullable=False),
                    sa.Column("side", sa.Integer, nullable=False), sa.Column("beskrivelse", sa.String(200)),
                    sa.Column("data", sa.LargeBinary))
mottaker = sa.Table("mottaker", md, sa.Column("notat_id", sa.Integer, sa.ForeignKey("notat.notat_id"),
                                                primary_key=True),
                    sa.Column("rolle", sa.String(3), primary_key=True), sa.Column("navn", sa.String(120)))
endringslogg = sa.Table("endringslogg", md, sa.Column("logg_id", sa.Integer, primary_key=True, autoincrement=False),
                        sa.Column("notat_id", sa.Integer, sa.ForeignKey("notat.notat_id"), nullable=False),
                        sa.Column("felt", sa.String(40)), sa.Column("fra", sa.String(200)),
                        sa.Column("til", sa.String(200)), sa.Column("endret", sa.DateTime),
                        sa.Column("endret_av", sa.String(40)))


def mod11(digits: str, weights) -> int | None:
    k = 11 - sum(int(d) * w for d, w in zip(digits, weights)) % 11
    return 0 if k == 11 else None if k == 10 else k


def fnr(born: str, start: int, sex: str) -> str:
    y, m, d = born.split("-")
    for individ in range(start, 500):
        if individ % 2 != (1 if sex == "M" else 0):  # the 9th digit: odd for a man, even for a woman
            continue
        nine = f"{d}{m}{y[2:]}{individ:03d}"
        k1 = mod11(nine, W1)
        if k1 is None:
            continue
        k2 = mod11(nine + str(k1), W2)
        if k2 is not None:
            return f"{nine}{k1}{k2}"
    raise ValueError(born)


def pdf_page(text: str) -> bytes:
    """A one-page PDF 1.4 with ``text`` in Helvetica (a scanned page's stand-in), with a correct xref table."""
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode("ascii")
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>",
            b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> "
            b"/Contents 5 0 R >>",
            b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
            b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream"]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for i, o in enumerate(objs, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + o + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for off in offsets:
        out += b"%010d 00000 n \n" % off
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


def tiff_page(seed: int, width: int = 64, height: int = 32) -> bytes:
    """A baseline TIFF 6.0 bilevel image (uncompressed, one strip), a pattern from ``seed``."""
    row_bytes = (width + 7) // 8
    pixels = bytes(((x * 7 + y * 3 + seed) % 5 == 0) * 0xFF for y in range(height) for x in range(row_bytes))
    header = 8
    entries = [(256, 3, 1, width), (257, 3, 1, height), (258, 3, 1, 1), (259, 3, 1, 1), (262, 3, 1, 0),
               (273, 4, 1, 0), (277, 3, 1, 1), (278, 3, 1, height), (279, 4, 1, len(pixels)),
               (282, 5, 1, 0), (283, 5, 1, 0), (296, 3, 1, 2)]
    res_off = header + 2 + len(entries) * 12 + 4  # the two resolutions (RATIONAL) follow the IFD
    data_off = res_off + 16
    offsets = {273: data_off, 282: res_off, 283: res_off + 8}
    entries = [(t, ty, c, offsets.get(t, v)) for t, ty, c, v in entries]
    out = bytearray(b"II*\x00" + struct.pack("<I", header))
    out += struct.pack("<H", len(entries))
    for tag, typ, count, value in entries:
        if typ == 3:
            out += struct.pack("<HHIHH", tag, typ, count, value, 0)
        else:
            out += struct.pack("<HHII", tag, typ, count, value)
    out += struct.pack("<I", 0)
    out += struct.pack("<IIII", 200, 1, 200, 1)
    out += pixels
    return bytes(out)


def rtf(text: str) -> str:
    """An RTF document of one paragraph (non-ASCII letters as \\'xx Windows-1252 escapes)."""
    body = "".join(c if ord(c) < 128 else f"\\'{c.encode('cp1252')[0]:02x}" for c in text)
    return ("{\\rtf1\\ansi\\ansicpg1252\\deff0{\\fonttbl{\\f0\\froman Times New Roman;}}"
            f"\\f0\\fs24 {body}\\par}}")


def rows() -> dict[str, list[dict]]:
    p = [(fnr("1938-04-12", 101, "K"), "Ragnhild", "Solstad", "K", date(2008, 6, 30)),
         (fnr("1951-11-02", 212, "M"), "Torbjørn", "Ås", "M", None),
         (fnr("1966-01-23", 330, "K"), "Eirin", "Bakketun", "K", None),
         (fnr("1944-08-09", 150, "M"), "Oddvar", "Nygård", "M", date(2007, 2, 14))]
    t = datetime
    journals = [(1001, p[0][0], "MED", "dr. Lunde", t(2004, 3, 2, 9, 15), "lunde", t(2008, 7, 15, 10, 0), "lunde"),
                (1002, p[1][0], "KIR", "dr. Haugen", t(2005, 9, 12, 13, 0), "haugen", t(2006, 1, 20, 12, 0), "haugen"),
                (1003, p[2][0], "MED", "dr. Lunde", t(2006, 5, 5, 8, 0), "lunde", t(2007, 11, 30, 9, 0), "lunde"),
                (1004, p[3][0], "PSY", "dr. Vik", t(2003, 1, 10, 10, 30), "vik", t(2007, 3, 1, 8, 0), "vik"),
                (1005, p[2][0], "KIR", "dr. Haugen", t(2008, 2, 1, 11, 0), "haugen", None, None)]  # still open
    notes = [
        (1, 1001, "INN", "Innkomstnotat", "Kari Lunde", t(2004, 3, 2, 9, 30), t(2004, 3, 2, 11, 0), "lunde",
         "Innlagt med pustebesvær. Kjent KOLS. Startet oksygen 2 l/min.", None, None),
        (2, 1001, "EPI", "Epikrise", "Kari Lunde", t(2004, 3, 9, 14, 0), t(2004, 3, 10, 9, 0), "lunde", None,
         rtf("Epikrise: Pasienten ble behandlet for KOLS-forverring. Utskrevet til hjemmet i god form."), None),
        (3, 1001, "SKA", "Innskannet henvisning", "Post", t(2004, 3, 2, 9, 20), t(2004, 3, 2, 9, 30), "post",
         None, None, None),
        (4, 1002, "INN", "Innkomstnotat", "Per Haugen", t(2005, 9, 12, 13, 30), t(2005, 9, 12, 15, 0), "haugen",
         "Planlagt kneprotese høyre side. Operasjonen gikk uten komplikasjoner.", None, None),
        (5, 1002, "NOT", "Tilsyn", "Per Haugen", t(2005, 9, 14, 10, 0), t(2005, 9, 14, 10, 30), "haugen", None,
         None, "Sårtilsyn: såret er rolig – ingen tegn til infeksjon. «Føler seg bra.»".encode("cp1252")),
        (6, 1002, "SKA", "Innskannet samtykkeskjema", "Post", t(2005, 9, 12, 13, 10), t(2005, 9, 12, 13, 30), "post",
         None, None, None),
        (7, 1003, "INN", "Poliklinisk notat", "Kari Lunde", t(2006, 5, 5, 8, 15), t(2006, 5, 5, 9, 0), "lunde",
         "Kontroll etter utskrivning. Blodtrykk 135/85.", None, None),
        (8, 1003, "NOT", "Telefonnotat", "Kari Lunde", t(2007, 11, 29, 13, 0), t(2007, 11, 29, 13, 10), "lunde",
         None, None, "Pasienten ringte – spør om prøvesvar. Svar gitt.".encode("cp1252")),
        (9, 1004, "INN", "Innkomstnotat", "Jon Vik", t(2003, 1, 10, 11, 0), t(2003, 1, 10, 12, 0), "vik", None,
         rtf("Innleggelse etter henvisning fra fastlege. Samtale med pasient og pårørende."), None),
        (10, 1004, "EPI", "Epikrise", "Jon Vik", t(2007, 2, 20, 9, 0), t(2007, 2, 21, 9, 0), "vik",
         "Epikrise sendt fastlege. Journalen avsluttes.", None, None),
        (11, 1005, "INN", "Innkomstnotat", "Per Haugen", t(2008, 2, 1, 11, 30), t(2008, 2, 1, 12, 0), "haugen",
         "Innlagt for planlagt operasjon.", None, None),
    ]
    scans = [(1, 3, 1, "Henvisning side 1", pdf_page("Henvisning - side 1")),
             (2, 3, 2, "Henvisning side 2", tiff_page(2)),
             (3, 6, 1, "Samtykkeskjema", tiff_page(6))]
    # letters: the scanned referral came in, the epikrises went out to the GP
    post = {3: ("I", date(2004, 2, 25)), 2: ("U", date(2004, 3, 10)), 10: ("U", date(2007, 2, 21)),
            6: ("I", date(2005, 9, 12))}
    parts = [(3, "AVS", "Fastlege Ola Berg"), (2, "MOT", "Fastlege Ola Berg"), (10, "MOT", "Fastlege Siv Dahl"),
             (6, "AVS", "Pasienten")]
    log = [(1, 4, "tittel", "Innkomst", "Innkomstnotat", t(2005, 9, 12, 15, 5), "haugen"),
           (2, 7, "tittel", "Notat", "Poliklinisk notat", t(2006, 5, 5, 9, 10), "lunde")]
    return {
        "kode_avdeling": [dict(kode="MED", navn="Medisinsk avdeling", tjeneste="SOM"),
                          dict(kode="KIR", navn="Kirurgisk avdeling", tjeneste="SOM"),
                          dict(kode="PSY", navn="Psykiatrisk poliklinikk", tjeneste="PHV")],
        "kode_notattype": [dict(kode=k, tekst=v) for k, v in (("INN", "Innkomstnotat"), ("EPI", "Epikrise"),
                                                              ("NOT", "Notat"), ("SKA", "Skannet dokument"))],
        "pasient": [dict(fnr=a, fornavn=b, etternavn=c, kjonn=d, dod=e) for a, b, c, d, e in p],
        "journal": [dict(zip(("journal_id", "fnr", "avdeling", "ansvarlig", "opprettet", "opprettet_av", "avsluttet",
                              "avsluttet_av"), j)) for j in journals],
        "notat": [dict(zip(("notat_id", "journal_id", "notattype", "tittel", "forfatter", "skrevet", "signert",
                            "signert_av", "tekst", "rtf", "tekst_gammel", "posttype", "postdato"), n + post.get(n[0], (None, None))))
                  for n in notes],
        "mottaker": [dict(zip(("notat_id", "rolle", "navn"), m)) for m in parts],
        "skanning": [dict(skann_id=a, notat_id=b, side=c, beskrivelse=d, data=e) for a, b, c, d, e in scans],
        "endringslogg": [dict(zip(("logg_id", "notat_id", "felt", "fra", "til", "endret", "endret_av"), r))
                         for r in log],
    }


def load(url: str) -> None:
    """Create the tables in the (empty) database at ``url`` and insert the rows."""
    engine = sa.create_engine(url)
    try:
        with engine.begin() as conn:
            md.create_all(conn)
            data = rows()
            for table in md.sorted_tables:
                conn.execute(table.insert(), data[table.name])
    finally:
        engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--url", help="SQLAlchemy URL of an empty database (default: write legacy.sqlite here)")
    args = ap.parse_args()
    if args.url:
        load(args.url)
        return
    target = HERE / "legacy.sqlite"
    tmp = target.with_suffix(".sqlite.partial")
    tmp.unlink(missing_ok=True)
    load(f"sqlite:///{tmp}")
    tmp.replace(target)
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
