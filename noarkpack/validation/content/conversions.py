"""NP.08: a converted file's dokumentobjekt is not older than the conversion that made it.

A dokumentobjekt describes one file in one format (M701 format "Kan ikke endres"); a conversion to a new
format therefore makes a new dokumentobjekt, and its ``konvertering`` elements log how that file came
about (krav 6.4.42).  Its opprettetDato (M600: when *this* arkivenhet was created) cannot lie before the
konvertertDato (M615) of any of them: that would say the file existed before it was made, the mark of a
system that copied the original's creation date onto its converted variant.

Date-times are compared as instants.  When exactly one of the two has no offset (xs:dateTime allows
that), the order is reported only if it holds whatever the offset (±14 hours); values that are not
date-times are left to the schema test (N5.03).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from ...locale import tr
from .base import FIELD_AT, Group

#: the widest UTC offset an xs:dateTime may carry
_SLACK = timedelta(hours=14)


def _instant(value: str | None) -> datetime | None:
    if not value:
        return None
    text = value.strip()
    if "T" not in text:
        return None  # an xs:date: not what M600/M615 hold (the schema test reports it)
    try:
        return datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
    except ValueError:
        return None


def _before(a: datetime, b: datetime) -> bool:
    """Whether ``a`` certainly lies before ``b``."""
    if (a.tzinfo is None) == (b.tzinfo is None):
        return a < b
    a_utc = a.replace(tzinfo=timezone.utc) if a.tzinfo is None else a
    b_utc = b.replace(tzinfo=timezone.utc) if b.tzinfo is None else b
    return a_utc + _SLACK < b_utc


class Conversions(Group):
    NAME = "conversions"
    TESTS = ("NP.08",)
    START = {"konvertering": "_s_konvertering"}
    END = {"konvertering": "_e_konvertering", "dokumentobjekt": "_e_dokobj"}
    VALUE = {"konvertertDato": FIELD_AT, "opprettetDato": "_v_opprettetDato"}

    def active(self) -> bool:
        return self.cp.r.wants("NP.08")

    def reset(self) -> None:
        self.checked = 0  # dokumentobjekt with a konvertering

    def export_state(self, workdir=None) -> dict:
        return {"checked": self.checked}

    def merge(self, state: dict, read_lines) -> None:
        self.checked += state["checked"]

    def _s_konvertering(self, f):
        f.data = {}

    def _e_konvertering(self, f):
        p = f.parent
        if p is None or p.name != "dokumentobjekt" or p.data.__class__ is not dict:
            return
        d = f.data
        p.data.setdefault("konverteringer", []).append((d.get("konvertertDato"), d.get("konvertertDato_line", f.line)))

    def _v_opprettetDato(self, f, value):
        p = f.parent
        if p is not None and p.name == "dokumentobjekt" and p.data.__class__ is dict:
            p.data["opprettetDato"] = value

    def _e_dokobj(self, f):
        d = f.data
        if d.__class__ is not dict or not d.get("konverteringer"):
            return
        self.checked += 1
        created = _instant(d.get("opprettetDato"))
        if created is None:
            return
        latest = None
        for value, line in d["konverteringer"]:
            when = _instant(value)
            if when is not None and _before(created, when) and (latest is None or _before(latest[0], when)):
                latest = (when, value, line)
        if latest is not None:
            self.add("NP.08", "warning",
                     tr("dokumentobjekt/opprettetDato {created} lies before its konvertering/konvertertDato "
                        "{converted}: the object of a converted file is made by the conversion (M600, M615)",
                        created=d["opprettetDato"], converted=latest[1]),
                     f, line=latest[2])

    def report(self, addml_name: str | None) -> None:
        self.cp.r.mark_ran("NP.08")

    def report_last(self, addml_name: str | None) -> None:
        if self.checked:
            self.info("NP.08", tr("converted document objects checked: {count}", count=self.checked))
