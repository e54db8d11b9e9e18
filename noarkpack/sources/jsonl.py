"""Read journals from the JSON Lines source format (docs/source-format.md).

One pasientjournal per line, read one line at a time.  A bad line raises
:class:`~noarkpack.errors.SourceError` with the file, the line number and the
journal id — never a name or a fødselsnummer.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterator
from zoneinfo import ZoneInfo

from ..errors import SourceError
from ..locale import tr
from ..model.epj import (
    Avskrivning,
    Diagnose,
    Dokumentfil,
    Endring,
    InnslagSkjerming,
    Journalinnslag,
    Korrespondanse,
    Korrespondansepart,
    Merknad,
    Pasient,
    Pasientjournal,
)

OSLO = ZoneInfo("Europe/Oslo")


class _Line:
    """Field access for one source line, with errors that say where."""

    def __init__(self, file: Path, line: int) -> None:
        self.file = file
        self.line = line
        self.record: str | None = None

    def fail(self, message: str) -> SourceError:
        return SourceError(message, file=self.file, line=self.line, record=self.record)

    def get(self, obj: dict, key: str, where: str, *, required: bool = True, kind: type | tuple = str):
        if not isinstance(obj, dict):
            raise self.fail(tr("{field} must be a JSON object", field=where))
        value = obj.get(key)
        if value is None:
            if required:
                raise self.fail(tr("{field} is missing", field=where + key))
            return None
        if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
            raise self.fail(tr("{field} has the wrong type ({type})", field=where + key,
                               type=type(value).__name__))
        if isinstance(value, str):
            value = value.strip()
            if not value:
                if required:
                    raise self.fail(tr("{field} is empty", field=where + key))
                return None
        return value

    def datetime(self, obj: dict, key: str, where: str, *, required: bool = True) -> datetime | None:
        text = self.get(obj, key, where, required=required)
        if text is None:
            return None
        try:
            value = datetime.fromisoformat(text)
        except ValueError:
            raise self.fail(tr("{field} is not an ISO 8601 date-time (e.g. 2019-05-12T14:00:00+02:00)",
                               field=where + key)) from None
        if value.tzinfo is None:
            value = value.replace(tzinfo=OSLO)
        return value

    def date(self, obj: dict, key: str, where: str, *, required: bool = True) -> date | None:
        text = self.get(obj, key, where, required=required)
        if text is None:
            return None
        try:
            return date.fromisoformat(text)
        except ValueError:
            raise self.fail(tr("{field} is not a date (YYYY-MM-DD)", field=where + key)) from None

    def list(self, obj: dict, key: str, where: str) -> list:
        if not isinstance(obj, dict):
            raise self.fail(tr("{field} must be a JSON object", field=where))
        value = obj.get(key)
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(tr("{field} must be a JSON array", field=where + key))
        return value


def parse_journal(obj: Any, file: Path, line: int) -> Pasientjournal:
    """One journal from a decoded JSON object."""
    L = _Line(file, line)
    if not isinstance(obj, dict):
        raise L.fail(tr("the line is not a JSON object"))
    L.record = tr("journal {journal}", journal=obj["journal_id"]) if isinstance(obj.get("journal_id"), str) else None
    p = obj.get("pasient")
    pw = "pasient."
    pasient = Pasient(
        pasient_id=L.get(p, "pasient_id", pw),
        navn=L.get(p, "navn", pw),
        kjonn=L.get(p, "kjonn", pw),
        fodselsnummer=L.get(p, "fodselsnummer", pw, required=False),
        fodselsdato=L.date(p, "fodselsdato", pw, required=False),
        dodsdato=L.date(p, "dodsdato", pw, required=False),
        dodsdato_ukjent=bool(L.get(p, "dodsdato_ukjent", pw, required=False, kind=bool)),
        # three states: true, false, or absent (None: the source records nothing)
        skjult_adresse=L.get(p, "skjult_adresse", pw, required=False, kind=bool),
        skjult_navn=L.get(p, "skjult_navn", pw, required=False, kind=bool),
    )
    innslag = []
    for n, e in enumerate(L.list(obj, "innslag", ""), start=1):
        w = f"innslag[{n}]."
        if not isinstance(e, dict):
            raise L.fail(tr("{field} must be a JSON object", field="innslag[" + str(n) + "]"))
        if isinstance(e, dict) and isinstance(e.get("innslag_id"), str):
            w = f"innslag {e['innslag_id']}: "
        skj = None
        if e.get("skjerming") is not None:
            s = e["skjerming"]
            sw = w + "skjerming."
            metadata = L.list(s, "metadata", sw) if isinstance(s, dict) else []
            if not all(isinstance(m, str) and m.strip() for m in metadata):
                raise L.fail(tr("{field} must be a list of non-empty strings", field=sw + "metadata"))
            skj = InnslagSkjerming(tilgangsrestriksjon=L.get(s, "tilgangsrestriksjon", sw),
                                   hjemmel=L.get(s, "hjemmel", sw), metadata=[m.strip() for m in metadata],
                                   dokument=L.get(s, "dokument", sw, required=False))
        korr = None
        if e.get("korrespondanse") is not None:
            k = e["korrespondanse"]
            kw = w + "korrespondanse."
            parter = [Korrespondansepart(type=L.get(pt, "type", kw + "parter."), navn=L.get(pt, "navn", kw + "parter."))
                      for pt in L.list(k, "parter", kw)]
            avskr = None
            if isinstance(k, dict) and k.get("avskrivning") is not None:
                a, aw = k["avskrivning"], kw + "avskrivning."
                avskr = Avskrivning(maate=L.get(a, "maate", aw, required=False),
                                    dato=L.date(a, "dato", aw, required=False),
                                    av=L.get(a, "av", aw, required=False),
                                    innslag_id=L.get(a, "innslag_id", aw, required=False))
            korr = Korrespondanse(type=L.get(k, "type", kw), dato=L.date(k, "dato", kw), parter=parter,
                                  avskrivning=avskr)
        dokumenter = [
            Dokumentfil(fil=L.get(d, "fil", w + "dokumenter."), tittel=L.get(d, "tittel", w + "dokumenter."),
                        tilknyttet_som=L.get(d, "tilknyttet_som", w + "dokumenter.", required=False),
                        format=L.get(d, "format", w + "dokumenter.", required=False))
            for d in L.list(e, "dokumenter", w)
        ]
        endringer = [
            Endring(felt=L.get(c, "felt", w + "endringer."), tidligere=L.get(c, "tidligere", w + "endringer."),
                    ny=L.get(c, "ny", w + "endringer."), dato=L.datetime(c, "dato", w + "endringer."),
                    av=L.get(c, "av", w + "endringer."))
            for c in L.list(e, "endringer", w)
        ]
        innslag.append(Journalinnslag(
            innslag_id=L.get(e, "innslag_id", w), type=L.get(e, "type", w), tittel=L.get(e, "tittel", w),
            forfatter=L.get(e, "forfatter", w), opprettet=L.datetime(e, "opprettet", w),
            arkivert=L.datetime(e, "arkivert", w), arkivert_av=L.get(e, "arkivert_av", w),
            skjerming=skj, korrespondanse=korr, dokumenter=dokumenter, endringer=endringer,
            opprettet_av=L.get(e, "opprettet_av", w, required=False)))
    merknader = [
        Merknad(tekst=L.get(m, "tekst", "merknader."), dato=L.datetime(m, "dato", "merknader."),
                registrert_av=L.get(m, "registrert_av", "merknader."),
                type=L.get(m, "type", "merknader.", required=False))
        for m in L.list(obj, "merknader", "")
    ]
    diagnoser = [
        Diagnose(kode=L.get(d, "kode", "diagnoser."), kodeverk=L.get(d, "kodeverk", "diagnoser.", required=False)
                 or "ICD-10", tekst=L.get(d, "tekst", "diagnoser.", required=False),
                 dato=L.date(d, "dato", "diagnoser.", required=False))
        for d in L.list(obj, "diagnoser", "")
    ]
    return Pasientjournal(
        journal_id=L.get(obj, "journal_id", ""),
        arkivskaper=L.get(obj, "arkivskaper", ""),
        journalsted=L.get(obj, "journalsted", ""),
        journalansvarlig=L.get(obj, "journalansvarlig", ""),
        opprettet=L.datetime(obj, "opprettet", ""),
        opprettet_av=L.get(obj, "opprettet_av", ""),
        avsluttet=L.datetime(obj, "avsluttet", "", required=False),
        avsluttet_av=L.get(obj, "avsluttet_av", "", required=False),
        pasient=pasient,
        innslag=innslag,
        merknader=merknader,
        diagnoser=diagnoser,
        source_file=str(file),
        source_line=line,
    )


def read_journals(path: Path) -> Iterator[Pasientjournal]:
    """Stream the journals of a JSON Lines file."""
    path = Path(path)
    try:
        f = open(path, encoding="utf-8-sig")
    except FileNotFoundError:
        raise SourceError(tr("the source file does not exist"), file=path) from None
    with f:
        n = 0
        while True:
            try:
                text = f.readline()
            except UnicodeDecodeError:
                raise SourceError(tr("the file is not UTF-8 text"), file=path, line=n + 1,
                                  hint=tr("convert the export to UTF-8")) from None
            if not text:
                break
            n += 1
            if not text.strip():
                continue
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as e:
                raise SourceError(tr("not valid JSON: {problem} (column {column})", problem=e.msg, column=e.colno),
                                  file=path, line=n) from None
            yield parse_journal(obj, path, n)
