"""NP.02: fødselsnummer, D-nummer and H-nummer in the patient metadata (epj:fodselsnummer), and
11-digit klasseID and partID values, have valid control digits and date; and a patient's epj:kjonn
does not contradict the sex digit of a valid epj:fodselsnummer (the 9th digit: odd mann, even kvinne;
``ukjent``, an invalid number and a 2032-rule number are not judged).  Never a number in a message.

Memory: the values of the one open epj:pasient element only."""

from __future__ import annotations

from ...locale import tr
from .base import Group


class Persons(Group):
    NAME = "persons"
    TESTS = ("NP.02",)
    VALUE = {"fodselsnummer": "_v_fnr", "klasseID": "_v_idnum", "partID": "_v_idnum", "kjonn": "_v_kjonn"}
    START = {"pasient": "_s_pasient"}
    END = {"pasient": "_e_pasient"}

    def reset(self) -> None:
        self.checked = 0

    def export_state(self, workdir=None) -> dict:
        return {"checked": self.checked}

    def merge(self, state: dict, read_lines) -> None:
        self.checked += state["checked"]

    def _v_fnr(self, f, value):
        if not f.name.startswith("fodselsnummer") or f.parent is None:
            return
        sex = self._person_number(f, value, "warning", "epj:fodselsnummer")
        d = self._pasient(f)
        if d is not None:
            d["sex"] = sex

    def _v_kjonn(self, f, value):
        d = self._pasient(f)
        if d is not None:
            d["kjonn"], d["kjonn_line"] = value, f.line

    @staticmethod
    def _pasient(f) -> dict | None:
        """The state of the epj:pasient element ``f`` is a child of, if it is one."""
        p = f.parent
        if p is None or p.name != "pasient" or p.data.__class__ is not dict:
            return None
        return p.data.setdefault("np02", {})

    def _s_pasient(self, f):
        if f.data is None:
            f.data = {}

    def _e_pasient(self, f):
        d = f.data.get("np02") if f.data.__class__ is dict else None
        if not d:
            return
        kjonn, sex = d.get("kjonn"), d.get("sex")
        if kjonn in ("mann", "kvinne") and sex and kjonn != sex:
            self.add("NP.02", "warning", tr("epj:kjonn contradicts the sex digit of epj:fodselsnummer (its 9th digit: "
                                            "odd for mann, even for kvinne)"), f, line=d.get("kjonn_line"))

    def _v_idnum(self, f, value):
        if len(value) == 11 and value.isdigit():
            self._person_number(f, value, "warning", f.name)

    def _person_number(self, f, value, severity, what) -> str | None:
        """Check the number; the sex it carries (None: invalid, or none to tell)."""
        from ...model.identifiers import PersonNumberError, validate_person_number

        self.checked += 1
        try:
            return validate_person_number(value).kjonn
        except PersonNumberError as exc:
            # never the number itself: the message of PersonNumberError holds no digits
            self.add("NP.02", severity, tr("{element} is not a valid fødselsnummer, D-nummer or H-nummer ({reason})",
                                           element=what, reason=str(exc)), f)
            return None

    def report(self, addml_name: str | None) -> None:
        self.cp.r.mark_ran("NP.02")

    def report_last(self, addml_name: str | None) -> None:
        if self.checked:
            self.info("NP.02", tr("person numbers checked: {count}", count=self.checked))
