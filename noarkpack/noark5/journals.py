"""loependeJournal.xml and offentligJournal.xml, written from a spool.

While arkivstruktur.xml streams past, each journalpost is serialised twice —
once for the running journal, once for the public journal with screened
values replaced by ``*****`` — into per-year spool files.  Journalsekvensnummer
is assigned per journalår in stream order, so concatenating the years in
order gives the required sort (journalår, journalsekvensnummer) without
holding anything in memory.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ..model import noark5 as n5
from .xmlwriter import escape, format_value

MASK = "*****"
LJ_NS = "http://www.arkivverket.no/standarder/noark5/loependeJournal"
OJ_NS = "http://www.arkivverket.no/standarder/noark5/offentligJournal"

_SENDER_TYPES = ("Avsender", "Intern avsender")


def _masked_name(reg: n5.Registrering, part: n5.Korrespondansepart) -> bool:
    s = reg.skjerming
    if s is None:
        return False
    if part.korrespondanseparttype in _SENDER_TYPES:
        return s.screens("Skjerming navn avsender")
    return s.screens("Skjerming navn mottaker")


def public_title(reg: n5.Registrering) -> str:
    if reg.offentligTittel:
        return reg.offentligTittel
    if reg.skjerming is not None and reg.skjerming.screens("Skjerming tittel registrering"):
        return MASK
    return reg.tittel


def _el(out: list[str], pad: str, name: str, value: object) -> None:
    text = format_value(value)
    if text is not None:
        out.append(f"{pad}<{name}>{text}</{name}>")


def _avskrivning(out: list[str], pad: str, jp: n5.Journalpost) -> None:
    """avskrivningsdato, avskrivningsmaate and referanseAvskrivesAvJournalpost of the journalpost's (first)
    avskrivning: the journals show how each document was closed (arkivforskriften § 10, as Noark 5 v5.0 3.4
    cites it).  Both journals' schemas put administrativEnhet and saksbehandler between the second and the
    third; noarkpack writes neither."""
    if not jp.avskrivning:
        return
    a = jp.avskrivning[0]
    _el(out, pad, "avskrivningsdato", a.avskrivningsdato)
    _el(out, pad, "avskrivningsmaate", a.avskrivningsmaate)
    _el(out, pad, "referanseAvskrivesAvJournalpost", a.referanseAvskrivesAvJournalpost)


@dataclass
class JournalSpool:
    folder: Path
    count: int = 0
    first: date | None = None
    last: date | None = None
    _files: dict[int, tuple] = field(default_factory=dict)

    def add(self, klasse: n5.Klasse, mappe: n5.Saksmappe, jp: n5.Journalpost) -> None:
        year = jp.journalaar
        if year not in self._files:
            self.folder.mkdir(parents=True, exist_ok=True)
            self._files[year] = (
                open(self.folder / f"lj-{year}.xml", "w", encoding="utf-8", newline="\n"),
                open(self.folder / f"oj-{year}.xml", "w", encoding="utf-8", newline="\n"),
            )
        lj, oj = self._files[year]
        lj.write("".join(self._loepende(klasse, mappe, jp)))
        oj.write("".join(self._offentlig(mappe, jp)))
        self.count += 1
        d = jp.journaldato
        if self.first is None or d < self.first:
            self.first = d
        if self.last is None or d > self.last:
            self.last = d

    @staticmethod
    def _loepende(klasse: n5.Klasse, mappe: n5.Saksmappe, jp: n5.Journalpost) -> list[str]:
        out = ["\n  <journalregistrering>", "\n    <klasse>"]
        p3, p4, p5 = "\n      ", "\n      ", "\n        "
        _el(out, p3, "klasseID", klasse.klasseID)
        _el(out, p3, "tittel", klasse.tittel)
        if klasse.skjerming:
            for m in klasse.skjerming.skjermingMetadata:
                _el(out, p3, "skjermingMetadata", m)
        out.append("\n    </klasse>\n    <saksmappe>")
        _el(out, p3, "saksaar", mappe.saksaar)
        _el(out, p3, "sakssekvensnummer", mappe.sakssekvensnummer)
        _el(out, p3, "tittel", mappe.tittel)
        _el(out, p3, "offentligTittel", mappe.offentligTittel)
        if mappe.skjerming and mappe.skjerming.skjermingMetadata:
            _el(out, p3, "skjermingMetadata", mappe.skjerming.skjermingMetadata[0])
        out.append("\n    </saksmappe>\n    <journalpost>")
        _el(out, p4, "systemID", jp.systemID)
        _el(out, p4, "journalaar", jp.journalaar)
        _el(out, p4, "journalsekvensnummer", jp.journalsekvensnummer)
        _el(out, p4, "journalpostnummer", jp.journalpostnummer)
        _el(out, p4, "tittel", jp.tittel)
        _el(out, p4, "offentligTittel", public_title(jp))
        s = jp.skjerming
        if s and s.skjermingMetadata:
            _el(out, p4, "skjermingMetadata", s.skjermingMetadata[0])
        _el(out, p4, "journaldato", jp.journaldato)
        _el(out, p4, "dokumentetsDato", jp.dokumentetsDato)
        _avskrivning(out, p4, jp)
        if s:
            _el(out, p4, "tilgangsrestriksjon", s.tilgangsrestriksjon)
            _el(out, p4, "skjermingshjemmel", s.skjermingshjemmel)
        for part in jp.korrespondansepart:
            out.append(f"{p4}<korrespondansepart>")
            _el(out, p5, "korrespondanseparttype", part.korrespondanseparttype)
            _el(out, p5, "korrespondansepartNavn", part.korrespondansepartNavn)
            if _masked_name(jp, part):
                which = "avsender" if part.korrespondanseparttype in _SENDER_TYPES else "mottaker"
                _el(out, p5, "skjermingMetadata", f"Skjerming navn {which}")
            out.append(f"{p4}</korrespondansepart>")
        out.append("\n    </journalpost>\n  </journalregistrering>")
        return out

    @staticmethod
    def _offentlig(mappe: n5.Saksmappe, jp: n5.Journalpost) -> list[str]:
        out = ["\n  <journalregistrering>", "\n    <saksmappe>"]
        p3, p5 = "\n      ", "\n        "
        _el(out, p3, "saksaar", mappe.saksaar)
        _el(out, p3, "sakssekvensnummer", mappe.sakssekvensnummer)
        _el(out, p3, "offentligTittel", mappe.offentligTittel or MASK)
        out.append("\n    </saksmappe>\n    <journalpost>")
        _el(out, p3, "systemID", jp.systemID)
        _el(out, p3, "journalaar", jp.journalaar)
        _el(out, p3, "journalsekvensnummer", jp.journalsekvensnummer)
        _el(out, p3, "journalpostnummer", jp.journalpostnummer)
        _el(out, p3, "offentligTittel", public_title(jp))
        _el(out, p3, "journaldato", jp.journaldato)
        _el(out, p3, "dokumentetsDato", jp.dokumentetsDato)
        _avskrivning(out, p3, jp)
        s = jp.skjerming
        if s:
            _el(out, p3, "tilgangsrestriksjon", s.tilgangsrestriksjon)
            _el(out, p3, "skjermingshjemmel", s.skjermingshjemmel)
        for part in jp.korrespondansepart:
            out.append(f"{p3}<korrespondansepart>")
            _el(out, p5, "korrespondanseparttype", part.korrespondanseparttype)
            _el(out, p5, "korrespondansepartNavn", MASK if _masked_name(jp, part) else part.korrespondansepartNavn)
            out.append(f"{p3}</korrespondansepart>")
        out.append("\n    </journalpost>\n  </journalregistrering>")
        return out

    def finish(self, out_loepende, out_offentlig, arkivskapere: list[n5.Arkivskaper]) -> None:
        """Write both journals (binary writers with .write(bytes)) and remove the spool."""
        for f in self._files.values():
            f[0].close()
            f[1].close()
        for kind, ns, target in (("lj", LJ_NS, out_loepende), ("oj", OJ_NS, out_offentlig)):
            root = "loependeJournal" if kind == "lj" else "offentligJournal"
            head = [
                '<?xml version="1.0" encoding="UTF-8"?>\n',
                f'<{root} xmlns="{ns}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
                f' xsi:schemaLocation="{ns} {root}.xsd">',
                "\n  <journalhode>",
            ]
            p = "\n    "
            _el(head, p, "journalStartDato", self.first)
            _el(head, p, "journalSluttDato", self.last)
            _el(head, p, "seleksjon", "journaldato")
            _el(head, p, "antallJournalposter", self.count)
            for a in arkivskapere:
                head.append(f"{p}<arkivskaper>")
                _el(head, p + "  ", "arkivskaperID", a.arkivskaperID)
                _el(head, p + "  ", "arkivskaperNavn", a.arkivskaperNavn)
                _el(head, p + "  ", "beskrivelse", a.beskrivelse)
                head.append(f"{p}</arkivskaper>")
            head.append("\n  </journalhode>")
            target.write("".join(head).encode("utf-8"))
            for year in sorted(self._files):
                with open(self.folder / f"{kind}-{year}.xml", "rb") as f:
                    shutil.copyfileobj(f, target, 1 << 20)
            target.write(f"\n</{root}>\n".encode("utf-8"))
        shutil.rmtree(self.folder, ignore_errors=True)

    def discard(self) -> None:
        for f in self._files.values():
            f[0].close()
            f[1].close()
        shutil.rmtree(self.folder, ignore_errors=True)


__all__ = ["JournalSpool", "MASK", "public_title", "escape"]
