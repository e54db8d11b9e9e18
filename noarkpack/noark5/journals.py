"""loependeJournal.xml and offentligJournal.xml, written from a spool.

While arkivstruktur.xml streams past, each journalpost is serialised twice —
once for the running journal, once for the public journal with screened
values replaced by ``*****`` — and spooled.  The journals must be sorted
chronologically by løpenummer, journalår and journalsekvensnummer (krav
6.4.30), and journalposts arrive by patient: the spool is an external merge
sort (sorted runs of at most a few MB written to files in the spool folder,
merged when the journals are written), so memory does not grow with the
number of journalposts.
"""

from __future__ import annotations

import heapq
import shutil
import struct
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from operator import itemgetter
from pathlib import Path

from ..model import noark5 as n5
from ..model.screening import MASK, name_value
from .xmlwriter import escape, format_value

LJ_NS = "http://www.arkivverket.no/standarder/noark5/loependeJournal"
OJ_NS = "http://www.arkivverket.no/standarder/noark5/offentligJournal"


def public_title(reg: n5.Registrering) -> str:
    """offentligTittel (M025): the mapping's, with only the screened words replaced; else the title."""
    return reg.offentligTittel or reg.tittel


def _access(mappe: n5.Saksmappe, jp: n5.Journalpost) -> n5.Skjerming | None:
    """The journalpost's own skjerming, else the one it inherits from its saksmappe (M500, M501 "Arv: Ja"):
    tilgangsrestriksjon and skjermingshjemmel in the journals say the documents are exempt."""
    return jp.skjerming or mappe.skjerming


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


#: a spooled record's head: journalår, journalsekvensnummer, the two entries' lengths in bytes
_HEAD = struct.Struct(">qqII")
_KEY = itemgetter(0)


class SortedRuns:
    """(key, loepende bytes, offentlig bytes) records, given in any order, read back sorted by key.

    Records are kept in memory up to ``budget`` bytes, then sorted and written to a run file in
    ``folder``; :meth:`sorted` merges the runs (``fan_in`` at a time), so memory stays bounded.
    """

    def __init__(self, folder: Path, *, budget: int = 16 << 20, fan_in: int = 64) -> None:
        self.folder = folder
        self.budget = budget
        self.fan_in = fan_in
        self._buf: list[tuple[tuple[int, int], bytes, bytes]] = []
        self._size = 0
        self._runs: list[Path] = []
        self._made = 0

    def add(self, key: tuple[int, int], lj: bytes, oj: bytes) -> None:
        self._buf.append((key, lj, oj))
        self._size += len(lj) + len(oj) + 120
        if self._size >= self.budget:
            self._spill()

    def _new_run(self) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._made += 1
        return self.folder / f"run-{self._made}.bin"

    @staticmethod
    def _write(path: Path, records) -> None:
        with open(path, "wb") as f:
            for (aar, seq), lj, oj in records:
                f.write(_HEAD.pack(aar, seq, len(lj), len(oj)))
                f.write(lj)
                f.write(oj)

    @staticmethod
    def _read(path: Path) -> Iterator[tuple[tuple[int, int], bytes, bytes]]:
        with open(path, "rb", buffering=1 << 16) as f:
            while True:
                head = f.read(_HEAD.size)
                if not head:
                    return
                aar, seq, n_lj, n_oj = _HEAD.unpack(head)
                yield (aar, seq), f.read(n_lj), f.read(n_oj)

    def _spill(self) -> None:
        if self._buf:
            self._buf.sort(key=_KEY)
            path = self._new_run()
            self._write(path, self._buf)
            self._runs.append(path)
            self._buf = []
            self._size = 0

    def sorted(self) -> Iterator[tuple[tuple[int, int], bytes, bytes]]:
        """Every record, by key (once: the runs are consumed)."""
        if not self._runs:
            self._buf.sort(key=_KEY)
            yield from self._buf
            return
        self._spill()
        while len(self._runs) > self.fan_in:
            batch, self._runs = self._runs[:self.fan_in], self._runs[self.fan_in:]
            path = self._new_run()
            self._write(path, heapq.merge(*(self._read(p) for p in batch), key=_KEY))
            for p in batch:
                p.unlink()
            self._runs.append(path)
        yield from heapq.merge(*(self._read(p) for p in self._runs), key=_KEY)


@dataclass
class JournalSpool:
    folder: Path
    count: int = 0
    first: date | None = None
    last: date | None = None
    budget: int = 16 << 20  #: bytes of journal entries held in memory before a sorted run is written
    _runs: SortedRuns | None = field(default=None, repr=False)

    def add(self, klasse: n5.Klasse, mappe: n5.Saksmappe, jp: n5.Journalpost) -> None:
        if self._runs is None:
            self._runs = SortedRuns(self.folder, budget=self.budget)
        self._runs.add((jp.journalaar, jp.journalsekvensnummer),
                       "".join(self._loepende(klasse, mappe, jp)).encode("utf-8"),
                       "".join(self._offentlig(mappe, jp)).encode("utf-8"))
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
            # the schema takes one value here (the first: the title's, where one applies); the names'
            # values go on each screened korrespondansepart below
            _el(out, p4, "skjermingMetadata", s.skjermingMetadata[0])
        _el(out, p4, "journaldato", jp.journaldato)
        _el(out, p4, "dokumentetsDato", jp.dokumentetsDato)
        _avskrivning(out, p4, jp)
        s = _access(mappe, jp)
        if s:
            _el(out, p4, "tilgangsrestriksjon", s.tilgangsrestriksjon)
            _el(out, p4, "skjermingshjemmel", s.skjermingshjemmel)
        for part in jp.korrespondansepart:
            out.append(f"{p4}<korrespondansepart>")
            _el(out, p5, "korrespondanseparttype", part.korrespondanseparttype)
            _el(out, p5, "korrespondansepartNavn", part.korrespondansepartNavn)
            if part.skjermet:
                _el(out, p5, "skjermingMetadata", name_value(part.korrespondanseparttype))
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
        s = _access(mappe, jp)
        if s:
            _el(out, p3, "tilgangsrestriksjon", s.tilgangsrestriksjon)
            _el(out, p3, "skjermingshjemmel", s.skjermingshjemmel)
        for part in jp.korrespondansepart:
            out.append(f"{p3}<korrespondansepart>")
            _el(out, p5, "korrespondanseparttype", part.korrespondanseparttype)
            _el(out, p5, "korrespondansepartNavn", MASK if part.skjermet else part.korrespondansepartNavn)
            out.append(f"{p3}</korrespondansepart>")
        out.append("\n    </journalpost>\n  </journalregistrering>")
        return out

    def finish(self, out_loepende, out_offentlig, arkivskapere: list[n5.Arkivskaper]) -> None:
        """Write both journals (binary writers with .write(bytes)), sorted by journalår and
        journalsekvensnummer, and remove the spool."""
        roots = {"lj": "loependeJournal", "oj": "offentligJournal"}
        for kind, ns, target in (("lj", LJ_NS, out_loepende), ("oj", OJ_NS, out_offentlig)):
            root = roots[kind]
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
        if self._runs is not None:
            for _key, lj, oj in self._runs.sorted():  # one merge feeds both journals
                out_loepende.write(lj)
                out_offentlig.write(oj)
        for kind, target in (("lj", out_loepende), ("oj", out_offentlig)):
            target.write(f"\n</{roots[kind]}>\n".encode("utf-8"))
        self.discard()

    def discard(self) -> None:
        self._runs = None
        shutil.rmtree(self.folder, ignore_errors=True)


__all__ = ["JournalSpool", "MASK", "public_title", "escape"]
