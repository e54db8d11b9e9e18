"""NP.03: what arkivstruktur.xml screens (skjermingMetadata: titles, party names) must not show in
offentligJournal.xml.  The pass remembers each screened value of a journalpost or saksmappe (as 8-byte
digests); :mod:`..journals` then reads offentligJournal.xml through :meth:`Screening.check_public_journal`.
"""

from __future__ import annotations

from ...idset import IdSet
from .base import FIELD, Frame, Group, up


class Screening(Group):
    NAME = "screening"
    TESTS = ("NP.03",)
    # before the structure's handlers of the same elements (GROUPS order): the values are read first
    END = {"registrering": "screened_values", "mappe": "screened_values"}
    VALUE = {"skjermingMetadata": "_v_skjermingMetadata", "korrespondansepartNavn": "_v_korrespondansepartNavn",
             "tittel": FIELD, "saksaar": FIELD, "sakssekvensnummer": FIELD}

    def active(self) -> bool:
        return self.cp.r.wants("NP.03")

    def reset(self) -> None:
        self.screened = IdSet(stable=self.cp.mergeable)  # (journalpost sid | mappe key, value) hashes
        self.leaks = 0
        self._cur: dict = {}  # the journalpost or saksmappe of offentligJournal.xml read now

    def release(self) -> None:
        self.reset()
        self.screened = None

    def export_state(self, workdir=None) -> dict:
        return {"screened": self.screened}

    def merge(self, state: dict, read_lines) -> None:
        self.screened.merge(state["screened"])

    def _v_korrespondansepartNavn(self, f, value):
        # korrespondansepart/korrespondansepartNavn: the journalpost screens it via skjermingMetadata
        reg = up(f, "registrering")
        if reg is not None and reg.data is not None:
            reg.data.setdefault("names", []).append(value)

    def _v_skjermingMetadata(self, f, value):
        sk = f.parent
        owner = sk.parent if sk is not None else None
        if owner is None or owner.data is None or not isinstance(owner.data, dict):
            return
        owner.data.setdefault("screens", []).append(value.lower())

    def screened_values(self, f: Frame):
        """Remember the screened values of a journalpost (or saksmappe)."""
        d = f.data
        screens = d.get("screens") if d else None
        if not screens:
            return
        if f.name == "registrering" and f.sid:
            key = f"jp:{f.sid}"
        elif f.name == "mappe" and d.get("saksaar") and d.get("sakssekvensnummer"):
            key = f"sm:{d['saksaar']}/{d['sakssekvensnummer']}"
        else:
            return
        for s in screens:
            if s.startswith("skjerming tittel") and d.get("tittel"):
                self.screened.add(f"{key}\x1ftittel\x1f{d['tittel']}")
            if s.startswith("skjerming navn") or s.startswith("skjerming korrespondansepart"):
                for n in d.get("names", []):
                    self.screened.add(f"{key}\x1fnavn\x1f{n}")

    # ------------------------------------------------------------------ offentligJournal.xml

    def check_public_journal(self, ev, el, local) -> None:
        """A stream handler for offentligJournal.xml: a screened value shown there is an error.

        Children are cleared as they end, so their values are collected on their own end events.
        """
        cur = self._cur
        if local in ("journalpost", "saksmappe"):
            if ev == "start":
                cur.clear()
                cur["_line"] = el.sourceline
                return
            if local == "journalpost":
                key = f"jp:{(cur.get('systemID') or [''])[0]}"
            else:
                key = f"sm:{(cur.get('saksaar') or [''])[0]}/{(cur.get('sakssekvensnummer') or [''])[0]}"
            for field, kind in (("offentligTittel", "tittel"), ("tittel", "tittel"),
                                ("korrespondansepartNavn", "navn")):
                for v in cur.get(field, []):
                    if v and f"{key}\x1f{kind}\x1f{v}" in self.screened:
                        self.leaks += 1
                        what = ("journalpost " if local == "journalpost" else "saksmappe ") + key[3:]
                        self.cp.r.add("NP.03", "error", f"offentligJournal shows a {field} that arkivstruktur.xml "
                                                        f"screens ({what})", file="offentligJournal.xml",
                                      line=cur.get("_line"), systemID=key[3:] if local == "journalpost" else None)
            cur.clear()
        elif ev == "end" and "_line" in cur:
            cur.setdefault(local, []).append((el.text or "").strip())

    def report_public_journal(self, journal_read: bool) -> None:
        """NP.03's result, once offentligJournal.xml was read (``journal_read``: it exists)."""
        r = self.cp.r
        r.mark_ran("NP.03")
        if journal_read:
            r.add("NP.03", "info", f"{self.screened.count} screened values compared, {self.leaks} leaks",
                  file="offentligJournal.xml")
