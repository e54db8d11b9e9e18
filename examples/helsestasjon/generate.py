#!/usr/bin/env python3
"""Write the small example export of ``examples/helsestasjon/`` (deterministic; stdlib only).

A fictitious child health station system, "Barnejournal 3", exported as JSON Lines with its own key names:
``eksport/barn.jsonl`` (one child per line, the child's journal nested in it) and
``eksport/konsultasjoner.jsonl`` (one consultation per line, its attachments nested). Everything is invented;
the person numbers are computed here (valid control digits), not taken from any register.

    python3 examples/helsestasjon/generate.py
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

HERE = Path(__file__).resolve().parent
W1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
W2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


def mod11(digits: str, weights) -> int | None:
    k = 11 - sum(int(d) * w for d, w in zip(digits, weights)) % 11
    return 0 if k == 11 else None if k == 10 else k


def fnr(born: str, start: int) -> str:
    y, m, d = born.split("-")
    for individ in range(start, 1000):
        nine = f"{d}{m}{y[2:]}{individ:03d}"
        k1 = mod11(nine, W1)
        if k1 is None:
            continue
        k2 = mod11(nine + str(k1), W2)
        if k2 is not None:
            return f"{nine}{k1}{k2}"
    raise ValueError(born)


CHILDREN = [
    # id, first, last, born, sex, journal, opened, closed, nurse
    ("B-501", "Ola", "Bråten", "2012-03-04", "gutt", "HS-9001", "2012-03-12T10:00:00", "2018-08-20T14:10:00",
     "Siv Ødegård"),
    ("B-502", "Sunniva", "Aasen", "2013-07-19", "jente", "HS-9002", "2013-07-29T09:15:00", "2019-08-19T11:00:00",
     "Siv Ødegård"),
    ("B-503", "Mikkel", "Sørli", "2014-01-30", "gutt", "HS-9003", "2014-02-10T13:30:00", "2019-12-02T09:40:00",
     "Turid Løvlie"),
    ("B-504", "Ingrid", "Hætta", "2016-11-02", "jente", "HS-9004", "2016-11-14T08:45:00", None, "Turid Løvlie"),
]
VISITS = [  # journal, type, title, date, with attachment
    ("HS-9001", "HJB", "Hjemmebesøk nyfødt", "2012-03-14T11:00:00", True),
    ("HS-9001", "KON", "6-ukerskontroll", "2012-04-16T09:30:00", False),
    ("HS-9001", "VAK", "Vaksinasjon 3 måneder", "2012-06-05T10:00:00", False),
    ("HS-9001", "KON", "4-årskontroll", "2016-03-08T13:00:00", True),
    ("HS-9002", "HJB", "Hjemmebesøk nyfødt", "2013-08-01T10:30:00", True),
    ("HS-9002", "KON", "1-årskontroll", "2014-07-22T09:00:00", False),
    ("HS-9003", "HJB", "Hjemmebesøk nyfødt", "2014-02-12T12:00:00", False),
    ("HS-9003", "HEN", "Henvisning til logoped", "2017-05-03T14:00:00", True),
    ("HS-9004", "HJB", "Hjemmebesøk nyfødt", "2016-11-16T10:00:00", True),
]


def main() -> None:
    export, docs = HERE / "eksport", HERE / "dokumenter"
    for d in (export, docs):
        if d.exists():
            shutil.rmtree(d)
        d.mkdir()
    journals = {}
    with open(export / "barn.jsonl", "w", encoding="utf-8", newline="\n") as f:
        for n, (bid, first, last, born, sex, jnr, opened, closed, nurse) in enumerate(CHILDREN):
            journals[jnr] = (last, nurse)
            rec = {"barnId": bid, "personnr": fnr(born, 500 + 37 * n), "fornavn": first, "etternavn": last,
                   "fodt": born, "kjonn": sex,
                   "journal": {"jnr": jnr, "helsestasjon": "Fjordvik helsestasjon", "ansvarlig": nurse,
                               "opprettet": opened, "opprettetAv": "hs.admin",
                               "avsluttet": closed, "avsluttetAv": "hs.admin" if closed else None}}
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")
    with open(export / "konsultasjoner.jsonl", "w", encoding="utf-8", newline="\n") as f:
        for n, (jnr, kind, title, when, attach) in enumerate(VISITS, start=1):
            last, nurse = journals[jnr]
            signed = when[:11] + f"{int(when[11:13]) + 2:02d}" + when[13:]
            rec = {"id": f"K-{700 + n}", "journal": jnr, "type": kind, "overskrift": title, "tid": when,
                   "helsesykepleier": nurse, "signert": {"tid": signed, "av": nurse.lower().replace(" ", ".")},
                   "vedlegg": []}
            if attach:
                rel = f"{when[:4]}/K-{700 + n} {title}.txt"
                (docs / rel).parent.mkdir(parents=True, exist_ok=True)
                (docs / rel).write_text(f"{title}\n\nSkrevet av {nurse}, {when[:10]}.\nAlt vel med barnet.\n",
                                        encoding="utf-8")
                rec["vedlegg"].append({"fil": rel, "navn": title})
            f.write(json.dumps(rec, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
