"""NP.07: no restanser in closed mapper.  An incoming document, or an internal document for follow-up, stands
"i restanse" until it is avskrevet; closing its mappe avskriver every one left (Noark 5 v5.0, 3.4
"Avskrivning og saksoppfølging", krav 3.4.5; a saksmappe cannot be closed with restanser, krav 3.2.9).

A journalpost is judged when its registrering ends: its journalposttype, its journalstatus and whether it has
an ``avskrivning`` are known then.  Its mappe's state is not, in full: ``avsluttetDato`` comes before the
registreringer in the mappe's sequence, but a saksmappe's ``saksstatus`` comes after them (the saksmappe
extension follows the base type's children in arkivstruktur.xsd).  So a restanse waits on its mappe (the
nearest one) and is reported when the mappe ends: when the mappe is closed (avsluttetDato, or saksstatus
"Avsluttet") and not "Utgår".  What waits is the restanser alone, a few fields each: memory grows with the
restanser of one open mappe, not with the extract.

Severity warning: the requirements bind the system that closed the mappe, the schema makes avskrivning
optional, and Arkade only counts avskrivninger (N5.40); the deposit is valid, but the journal does not say how
these documents were closed, which arkivforskriften § 10 asks of it (as Noark 5 3.4 cites it).
"""

from __future__ import annotations

from ...locale import tr
from .base import FIELD, Group, up

#: journalposttyper in restanse until avskrevet (compared without case and surrounding blanks)
_NEEDS = ("inngående dokument", "organinternt dokument for oppfølging")
_KEY = "np07"  # this group's keys on the registrering's and mappe's dicts



def _parent_state(f, name: str) -> list | None:
    """This group's state on ``f``'s parent when the parent is a ``name`` element that has it, else None."""
    p = f.parent
    if p is not None and p.name == name and p.data.__class__ is dict:
        return p.data.get(_KEY)
    return None


class Restanser(Group):
    NAME = "restanser"
    TESTS = ("NP.07",)
    START = {"mappe": "_s_mappe", "registrering": "_s_registrering", "avskrivning": "_s_avskrivning"}
    END = {"registrering": "_e_registrering", "mappe": "_e_mappe"}
    VALUE = {"journalposttype": "_v_journalposttype", "journalstatus": "_v_journalstatus",
             "avsluttetDato": "_v_avsluttetDato", "saksstatus": "_v_saksstatus", "registreringsID": FIELD}

    def active(self) -> bool:
        return self.cp.r.wants("NP.07")

    def reset(self) -> None:
        self.judged = 0  # journalposts of a type that needs avskrivning, in closed mapper
        self.restanser = 0

    def export_state(self, workdir=None) -> dict:
        return {"judged": self.judged, "restanser": self.restanser}

    def merge(self, state: dict, read_lines) -> None:
        # a mappe never spans the split (it divides at a top-level unit): only the tallies add up
        self.judged += state["judged"]
        self.restanser += state["restanser"]

    @staticmethod
    def _state(f) -> dict:
        d = f.data
        if d.__class__ is not dict:  # the structure group gives mappe and registrering a dict; alone, we do
            d = f.data = {}
        return d

    # ------------------------------------------------------------------ mappe

    def _s_mappe(self, f):
        # [closed by avsluttetDato, saksstatus, waiting restanser, journalposts that need avskrivning]
        self._state(f)[_KEY] = [False, None, [], 0]

    def _v_avsluttetDato(self, f, value):
        s = _parent_state(f, "mappe")
        if s is not None and value:
            s[0] = True

    def _v_saksstatus(self, f, value):
        s = _parent_state(f, "mappe")
        if s is not None:
            s[1] = value

    def _e_mappe(self, f):
        d = f.data
        if d.__class__ is not dict or _KEY not in d:
            return
        closed_by_date, status, waiting, needing = d.pop(_KEY)
        status = (status or "").strip().lower()
        if status == "utgår" or not (closed_by_date or status == "avsluttet"):
            return  # void, or open (N5.15 reports an open saksmappe)
        self.judged += needing
        mappe = f.sid or "?"
        for line, sid, reg_id, typ in waiting:
            self.restanser += 1
            if reg_id:
                message = tr("journalpost {systemid} (registreringsID {registreringsid}), {type}, in a closed mappe "
                             "({mappe}) has no avskrivning: it is still a restanse (Noark 5 krav 3.2.9, 3.4.5)",
                             systemid=sid or "?", registreringsid=reg_id, type=typ, mappe=mappe)
            else:
                message = tr("journalpost {systemid}, {type}, in a closed mappe ({mappe}) has no avskrivning: it is "
                             "still a restanse (Noark 5 krav 3.2.9, 3.4.5)", systemid=sid or "?", type=typ,
                             mappe=mappe)
            self.add("NP.07", "warning", message, line=line, systemID=sid)

    # ------------------------------------------------------------------ registrering

    def _s_registrering(self, f):
        if f.type == "journalpost":
            self._state(f)[_KEY] = [None, None, False]  # [journalposttype, journalstatus, has avskrivning]

    def _s_avskrivning(self, f):
        s = _parent_state(f, "registrering")
        if s is not None:
            s[2] = True

    def _v_journalposttype(self, f, value):
        s = _parent_state(f, "registrering")
        if s is not None:
            s[0] = value

    def _v_journalstatus(self, f, value):
        s = _parent_state(f, "registrering")
        if s is not None:
            s[1] = value

    def _e_registrering(self, f):
        d = f.data
        if d.__class__ is not dict or _KEY not in d:
            return
        typ, status, avskrevet = d.pop(_KEY)
        if (typ or "").strip().lower() not in _NEEDS or (status or "").strip().lower() == "utgår":
            return
        m = up(f, "mappe")
        if m is None or m.data.__class__ is not dict or _KEY not in m.data:
            return  # directly under a klasse or arkivdel: no mappe to close
        state = m.data[_KEY]
        state[3] += 1
        if not avskrevet:
            state[2].append((f.line, f.sid, d.get("registreringsID"), typ.strip()))

    # ------------------------------------------------------------------ after the pass

    def report(self, addml_name: str | None) -> None:
        self.cp.r.mark_ran("NP.07")

    def report_last(self, addml_name: str | None) -> None:
        if self.active():
            self.info("NP.07", tr("incoming and internal journalposts in closed mapper: {count}; "
                                  "without avskrivning: {restanser}", count=self.judged, restanser=self.restanser))
