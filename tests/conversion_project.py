"""A tiny deposit project whose one document needs conversion (an RTF letter), for the tests of
conversion dates (tests/test_conversion_dates.py) and of NP.08 (tests/test_conversions.py)."""

from __future__ import annotations

import json
from pathlib import Path

TOML = """\
[project]
name = "Konverteringsprøve"
source = "journals.jsonl"
documents = "dok"

[system]
id = "test-conversion-dates"
name = "Testjournal"

[arkiv]
tittel = "Testarkiv"
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
navn = "Testkommune, Helse og omsorg"
"""

#: the entry's facts, which the original keeps (and the converted file's dokumentobjekt must not claim)
WRITTEN = "2015-05-04T09:10:00+02:00"
SIGNED = "2015-05-04T10:00:00+02:00"
AUTHOR = "Per Ås"
SIGNER = "per.as"

JOURNAL = {
    "journal_id": "J1", "arkivskaper": "helse", "journalsted": "Sone nord", "journalansvarlig": "Kari Lie",
    "opprettet": "2014-02-03T09:00:00+01:00", "opprettet_av": "kari.lie",
    "avsluttet": "2019-06-30T15:00:00+02:00", "avsluttet_av": "kari.lie",
    "pasient": {"pasient_id": "P1", "fodselsnummer": "31129956634", "navn": "Åse Bjørnstad",
                "fodselsdato": "1999-12-31", "dodsdato": "2019-06-01", "kjonn": "K"},
    "innslag": [
        {"innslag_id": "B1", "type": "brev", "tittel": "Brev til pasient", "forfatter": AUTHOR,
         "opprettet": WRITTEN, "arkivert": SIGNED, "arkivert_av": SIGNER,
         "dokumenter": [{"fil": "brev.rtf", "tittel": "Brev"}],
         # a letter out: a journalpost, so the extract has its journals (N5.59/N5.60)
         "korrespondanse": {"type": "Utgående dokument", "dato": "2015-05-04",
                            "parter": [{"type": "Mottaker", "navn": "Åse Bjørnstad"}]}}],
}

RTF = r"{\rtf1\ansi\deff0 {\fonttbl {\f0 Times New Roman;}}\f0\fs24 Brev til pasienten.\par }"


def write_project(root: Path) -> Path:
    """The project in ``root``: noarkpack.toml, journals.jsonl and dok/brev.rtf."""
    (root / "dok").mkdir(parents=True)
    (root / "dok" / "brev.rtf").write_text(RTF, encoding="ascii")
    (root / "noarkpack.toml").write_text(TOML, encoding="utf-8")
    (root / "journals.jsonl").write_text(json.dumps(JOURNAL, ensure_ascii=False) + "\n", encoding="utf-8")
    return root
