"""NP.02: fødselsnummer, D-nummer and H-nummer in the patient metadata (epj:fodselsnummer), and
11-digit klasseID and partID values, have valid control digits and date.  Never a number in a message."""

from __future__ import annotations

from .base import Group


class Persons(Group):
    NAME = "persons"
    TESTS = ("NP.02",)
    VALUE = {"fodselsnummer": "_v_fnr", "klasseID": "_v_idnum", "partID": "_v_idnum"}

    def reset(self) -> None:
        self.checked = 0

    def export_state(self, workdir=None) -> dict:
        return {"checked": self.checked}

    def merge(self, state: dict, read_lines) -> None:
        self.checked += state["checked"]

    def _v_fnr(self, f, value):
        if not f.name.startswith("fodselsnummer") or f.parent is None:
            return
        self._person_number(f, value, "warning", "epj:fodselsnummer")

    def _v_idnum(self, f, value):
        if len(value) == 11 and value.isdigit():
            self._person_number(f, value, "warning", f.name)

    def _person_number(self, f, value, severity, what):
        from ...model.identifiers import PersonNumberError, validate_person_number

        self.checked += 1
        try:
            validate_person_number(value)
        except PersonNumberError as exc:
            # never the number itself: the message of PersonNumberError holds no digits
            self.add("NP.02", severity, f"{what} is not a valid fødselsnummer, D-nummer or H-nummer ({exc})", f)

    def report(self, addml_name: str | None) -> None:
        self.cp.r.mark_ran("NP.02")

    def report_last(self, addml_name: str | None) -> None:
        if self.checked:
            self.info("NP.02", f"person numbers checked: {self.checked}")
