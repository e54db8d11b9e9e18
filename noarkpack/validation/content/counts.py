"""Elements that are counted (N5.35–N5.46): parties, remarks, references, restrictions, disposals...;
N5.42, N5.44 and N5.45 also compare their counts with the ADDML's flags."""

from __future__ import annotations

from collections import Counter, defaultdict

from ...locale import N_, tr
from ..schema_resolve import schema_set_for
from .base import Group

#: elements counted per parent element name, and the test that lists them
PER_PARENT = {"merknad": "N5.36", "skjerming": "N5.42", "gradering": "N5.43", "kassasjon": "N5.44",
              "presedens": "N5.38", "referanseTilKlasse": "N5.37", "referanseTilMappe": "N5.37",
              "referanseTilRegistrering": "N5.37"}
#: elements counted in total
COUNTED = {"korrespondansepart": "N5.39", "dokumentflyt": "N5.41", "sakspart": "N5.35", "part": "N5.35",
           "konvertering": "N5.46"}

#: N5.42, N5.44, N5.45: (test, ADDML flag, element, messages: flag true but none / flag false or missing but some)
_ADDML_FLAGS = (
    ("N5.42", "inneholderSkjermetInformasjon", "skjerming",
     (N_("the ADDML says {flag} = true, but arkivstruktur.xml has no restrictions (skjerming)"),
      N_("the ADDML says {flag} = false, but arkivstruktur.xml has {count} restrictions (skjerming)"),
      N_("the ADDML says {flag} = (missing), but arkivstruktur.xml has {count} restrictions (skjerming)"))),
    ("N5.44", "inneholderDokumenterSomSkalKasseres", "kassasjon",
     (N_("the ADDML says {flag} = true, but arkivstruktur.xml has no disposal resolutions (kassasjon)"),
      N_("the ADDML says {flag} = false, but arkivstruktur.xml has {count} disposal resolutions (kassasjon)"),
      N_("the ADDML says {flag} = (missing), but arkivstruktur.xml has {count} disposal resolutions (kassasjon)"))),
    ("N5.45", "omfatterDokumenterSomErKassert", "utfoertKassasjon",
     (N_("the ADDML says {flag} = true, but arkivstruktur.xml has no performed disposals (utfoertKassasjon)"),
      N_("the ADDML says {flag} = false, but arkivstruktur.xml has {count} performed disposals "
         "(utfoertKassasjon)"),
      N_("the ADDML says {flag} = (missing), but arkivstruktur.xml has {count} performed disposals "
         "(utfoertKassasjon)"))),
)


class Counts(Group):
    NAME = "counts"
    TESTS = ("N5.35", "N5.36", "N5.37", "N5.38", "N5.39", "N5.40", "N5.41", "N5.42", "N5.43", "N5.44", "N5.45",
             "N5.46")
    START = {**{name: "_count_in_parent" for name in PER_PARENT}, **{name: "_count" for name in COUNTED},
             "utfoertKassasjon": "_s_utfoertKassasjon"}
    VALUE = {"avskrivningsmaate": "_v_avskrivningsmaate"}

    def reset(self) -> None:
        self.n = Counter()  # COUNTED and utfoertKassasjon
        self.per = defaultdict(Counter)  # PER_PARENT element -> parent name -> count
        self.avskrivning = Counter()  # N5.40: per avskrivningsmaate
        self.first_lines: dict[str, list[int]] = defaultdict(list)  # element -> its first lines (the ADDML checks)

    def export_state(self, workdir=None) -> dict:
        return {"n": self.n, "per": self.per, "avskrivning": self.avskrivning, "first_lines": self.first_lines}

    def merge(self, state: dict, read_lines) -> None:
        self.n.update(state["n"])
        self.avskrivning.update(state["avskrivning"])
        for key, counter in state["per"].items():
            self.per[key].update(counter)
        for name, lines in state["first_lines"].items():
            mine = self.first_lines[name]
            mine.extend(lines[:max(0, 1000 - len(mine))])

    def _count_in_parent(self, f):
        name = f.name
        parent = f.parent
        self.per[name][parent.name if parent else ""] += 1
        lines = self.first_lines[name]
        if len(lines) < 1000:
            lines.append(f.line)

    def _count(self, f):
        self.n[f.name] += 1

    def _s_utfoertKassasjon(self, f):
        parent = f.parent
        if parent and parent.name in ("arkivdel", "dokumentbeskrivelse"):
            self.n["utfoertKassasjon"] += 1
            lines = self.first_lines["utfoertKassasjon"]
            if len(lines) < 1000:
                lines.append(f.line)

    def _v_avskrivningsmaate(self, f, value):
        if f.parent is not None and f.parent.name == "avskrivning":
            self.avskrivning[value] += 1

    def report(self, addml_name: str | None) -> None:
        cp, info, n = self.cp, self.info, self.n
        r, a = cp.r, cp.addml
        # part replaced sakspart in v5.0; a 5.x extract (e.g. 5.5.0) belongs to the v5.0 series (schema_set_for)
        v5 = schema_set_for(cp.version)[0] == "5.0"
        if v5:
            info("N5.35", tr("parties (part): {count}", count=n["part"]))
        else:
            info("N5.35", tr("case parties (sakspart): {count}", count=n["sakspart"]))
        for t, names in (("N5.36", ["merknad"]), ("N5.37", ["referanseTilKlasse", "referanseTilMappe", "referanseTilRegistrering"]),
                         ("N5.38", ["presedens"]), ("N5.43", ["gradering"]), ("N5.42", ["skjerming"]),
                         ("N5.44", ["kassasjon"])):
            tot = 0
            for nm in names:
                for parent, k in self.per[nm].items():
                    tot += k
                    info(t, tr("{element} in {parent}: {count}", element=nm, parent=parent, count=k))
            info(t, tr("total: {count}", count=tot))
        info("N5.39", tr("correspondence parties: {count}", count=n["korrespondansepart"]))
        for v, k in self.avskrivning.items():
            info("N5.40", tr("avskrivningsmaate {value!r}: {count}", value=v, count=k))
        info("N5.41", tr("document flows: {count}", count=n["dokumentflyt"]))
        info("N5.45", tr("performed disposals (utfoertKassasjon): {count}", count=n["utfoertKassasjon"]))
        info("N5.46", tr("converted documents: {count}", count=n["konvertering"]))
        # N5.42 / N5.44 / N5.45 against the ADDML flags
        for t, flag, elem, (none, false, missing) in _ADDML_FLAGS:
            actual = sum(self.per[elem].values()) if elem != "utfoertKassasjon" else n[elem]
            doc = a.flag(flag) if a.parsed else None
            if doc is True and actual == 0:
                r.add(t, "error", tr(none, flag=flag), file="arkivstruktur.xml")
            elif not doc and actual > 0:
                lines = self.first_lines.get(elem) or [None]
                r.add(t, "error", tr(false if doc is False else missing, flag=flag, count=actual),
                      file="arkivstruktur.xml", line=lines[0])
