"""systemIDs and the references between them (N5.47, N5.48, N5.51).

Every systemID goes into an open-addressing table of 8-byte digests (:class:`~noarkpack.idset.IdSet`,
~26 bytes per id); the table also serves endringslogg.xml's references (N5.62, validation.journals).
The systemID handler also gives each frame its ``sid``, which every group's messages use.
"""

from __future__ import annotations

import re
from pathlib import Path

from ...idset import IdSet
from ...locale import tr
from .base import Group

#: IdSet flags of a systemID: whose it is
KLASSE = 1
ARKIVDEL = 2


class Identifiers(Group):
    NAME = "identifiers"
    TESTS = ("N5.47", "N5.48", "N5.51")
    VALUE = {"systemID": "_v_systemID", "referanseArkivdel": "_v_referanseArkivdel",
             "referanseSekundaerKlassifikasjon": "_v_refklasse"}

    def reset(self) -> None:
        cp = self.cp
        # every systemID.  Sized for ~1 id per 500 bytes (the writer's extracts hold 1 per 700-900): no
        # rehashing of a table of millions in Python, neither while reading nor when the split pass
        # merges the child's half in (each costs ~0.1 s per 500,000)
        self.ids = IdSet(1 << 16, stable=cp.mergeable)
        self.ids.reserve(min(cp.expected_bytes // 500, 1 << 20))
        self.dup_lines: dict[str, list[int]] = {}
        self.refs_arkivdel: dict[str, list] = {}  # value -> [count, first line, first systemID, element]
        self.refs_klasse: list[tuple[str, int, str]] = []

    def release(self) -> None:
        self.reset()
        self.ids = None

    def export_state(self, workdir=None) -> dict:
        ids = self.ids if workdir is None else self.ids.spill(Path(workdir) / "ids.bin")
        return {"ids": ids, "dup_lines": self.dup_lines, "refs_arkivdel": self.refs_arkivdel,
                "refs_klasse": self.refs_klasse}

    def merge(self, state: dict, read_lines) -> None:
        # systemIDs: a value in both halves is a duplicate, as in one pass
        both = self.ids.merge(state["ids"])
        theirs = dict(state["dup_lines"])
        added = []  # (line where the value became a duplicate, value, lines): the one-pass order
        if both:
            names = {self.ids.key(v): v for v in (*self.dup_lines, *theirs)}
            unnamed = [(line_here, line_there) for k, line_here, line_there in both if k not in names]
            if unnamed:
                # libxml2 numbers lines past 65,535 one higher: the line before is read too (a value
                # is taken only if its key is the one found in both halves)
                text = read_lines([m for pair in unnamed for n in pair for m in (n, n - 1)])
                for k, line_here, line_there in both:
                    if k not in names:
                        for line in (line_here, line_here - 1, line_there, line_there - 1):
                            for v in _systemids_in(text.get(line)):
                                names.setdefault(self.ids.key(v), v)
            for k, line_here, line_there in both:
                value = names.get(k) or tr("(unreadable: see lines {line} and {other_line})", line=line_here,
                                           other_line=line_there)
                there = theirs.pop(value, None) or [line_there]
                here = self.dup_lines.get(value)
                if here is not None:
                    here.extend(there)
                else:
                    added.append((there[0], value, [line_here, *there]))
        added.extend((lines[1], value, lines) for value, lines in theirs.items())
        added.sort(key=lambda item: item[0])
        for _line, value, lines in added:
            self.dup_lines[value] = lines
        state["ids"] = None  # merged: its memory goes before the next table's
        self.refs_klasse.extend(state["refs_klasse"])
        for value, entry in state["refs_arkivdel"].items():
            mine = self.refs_arkivdel.get(value)
            if mine is None:
                self.refs_arkivdel[value] = entry
            else:
                mine[0] += entry[0]

    def _v_systemID(self, f, value):
        p = f.parent
        if p is None:
            return
        p.sid = value
        if p.name == "arkivdel":
            self.cp.arkivdel_sid = value
        flag = KLASSE if p.name == "klasse" else (ARKIVDEL if p.name == "arkivdel" else 0)
        first = self.ids.add(value, f.line, flag)
        if first is not None:
            lines = self.dup_lines.get(value)
            if lines is None:
                self.dup_lines[value] = [first, f.line]
            else:
                lines.append(f.line)

    def _v_referanseArkivdel(self, f, value):
        p = f.parent
        if p is None or p.name not in ("mappe", "registrering", "dokumentbeskrivelse"):
            return
        e = self.refs_arkivdel.get(value)
        if e is None:
            self.refs_arkivdel[value] = [1, f.line, p.systemID(), p.name]
        else:
            e[0] += 1

    def _v_refklasse(self, f, value):
        p = f.parent
        if p is not None and p.name == "mappe" and p.type == "saksmappe":
            self.refs_klasse.append((value, f.line, p.systemID()))

    def report(self, addml_name: str | None) -> None:
        r, info, ids = self.cp.r, self.info, self.ids
        # N5.47
        for sid, lines in self.dup_lines.items():
            r.add("N5.47", "error", tr("systemID {systemid} occurs {count} times (lines {lines})", systemid=sid,
                                       count=len(lines),
                                       lines=", ".join(map(str, lines[:20])) + (", ..." if len(lines) > 20 else "")),
                  file="arkivstruktur.xml", line=lines[1], systemID=sid)
        info("N5.47", tr("systemIDs: {distinct} distinct, {duplicated} duplicated", distinct=ids.count,
                         duplicated=len(self.dup_lines)))
        # N5.48
        bad = 0
        for value, (n, line, sid, elem) in self.refs_arkivdel.items():
            if (ids.get_flags(value) or 0) & ARKIVDEL == 0:
                bad += n
                if n > 1:
                    message = tr("{element} {systemid} refers to arkivdel {value!r}, which does not exist "
                                 "({count} references)", element=elem, systemid=sid or "?", value=value, count=n)
                else:
                    message = tr("{element} {systemid} refers to arkivdel {value!r}, which does not exist",
                                 element=elem, systemid=sid or "?", value=value)
                r.add("N5.48", "error", message, file="arkivstruktur.xml", line=line, systemID=sid)
        info("N5.48", tr("invalid arkivdel references: {count}", count=bad))
        # N5.51
        bad = 0
        for value, line, sid in self.refs_klasse:
            if (ids.get_flags(value) or 0) & KLASSE == 0:
                bad += 1
                r.add("N5.51", "error", tr("saksmappe {systemid} refers to klasse {value!r}, which does not exist",
                                           systemid=sid or "?", value=value),
                      file="arkivstruktur.xml", line=line, systemID=sid)
        info("N5.51", tr("invalid class references: {count} of {total}", count=bad, total=len(self.refs_klasse)))


_SYSTEMID_ELEMENT = re.compile(r"<((?:[\w.-]+:)?)systemID\b[^>]*>.*?</\1systemID\s*>", re.S)


def _systemids_in(line: str | None) -> list[str]:
    """The systemID values written on one line of the file (entities and CDATA resolved)."""
    from lxml import etree

    values = []
    for m in _SYSTEMID_ELEMENT.finditer(line or ""):
        fragment = re.sub(r"^<[\w.-]+:", "<", re.sub(r"</[\w.-]+:", "</", m.group(0)))
        try:
            el = etree.fromstring(fragment.encode("utf-8"), etree.XMLParser(resolve_entities=False, no_network=True))
        except etree.XMLSyntaxError:
            continue
        values.append((el.text or "").strip())
    return values
