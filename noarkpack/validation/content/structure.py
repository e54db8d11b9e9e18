"""The archive's structure (N5.04–N5.27): arkiv, arkivdel, classification systems, classes, folders,
registrations and document descriptions, counted and checked as they open and close."""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date

from ...locale import tr
from .base import FIELD, Group, parse_date, up

#: the dokumentstatus of a deposited document (N5.25)
_FINISHED = "Dokumentet er ferdigstilt"


class Structure(Group):
    NAME = "structure"
    TESTS = ("N5.04", "N5.05", "N5.06", "N5.07", "N5.08", "N5.09", "N5.10", "N5.11", "N5.12", "N5.13", "N5.14",
             "N5.15", "N5.16", "N5.17", "N5.18", "N5.19", "N5.20", "N5.21", "N5.22", "N5.23", "N5.24", "N5.25",
             "N5.26", "N5.27")
    START = {"arkiv": "_s_arkiv", "arkivdel": "_s_arkivdel", "klassifikasjonssystem": "_s_ks",
             "klasse": "_s_klasse", "mappe": "_s_mappe", "registrering": "_s_registrering",
             "dokumentbeskrivelse": "_s_dokbesk", "dokumentobjekt": "_s_dokobj"}
    END = {"klassifikasjonssystem": "_e_ks", "klasse": "_e_klasse", "mappe": "_e_mappe",
           "registrering": "_e_registrering", "dokumentbeskrivelse": "_e_dokbesk"}
    VALUE = {"arkivdelstatus": "_v_arkivdelstatus", "opprettetDato": "_v_opprettetDato",
             "saksstatus": "_v_saksstatus", "journalposttype": "_v_journalposttype",
             "journalstatus": "_v_journalstatus", "moeteregistreringsstatus": "_v_journalstatus",
             "dokumentstatus": "_v_dokumentstatus", "journaldato": "_v_journaldato",
             "dokumentmedium": FIELD, "registreringsID": FIELD, "mappeID": FIELD, "offentligTittel": FIELD,
             "dokumentnummer": FIELD}

    def reset(self) -> None:
        self.n = Counter()  # simple counts: "arkivdel", "registrering", ...
        self.per = defaultdict(Counter)  # keyed breakdowns, per test
        self.arkiv_levels = Counter()
        self.arkivdel_per_arkiv = Counter()
        self.arkivdel_status = []
        self.ks_per_arkivdel = Counter()
        self.ks_info = []  # (arkivdel, ks sid, primary, classes per level, empty classes)
        self.mappe_years = Counter()
        self.reg_years = Counter()
        self.reg_dates: list[date | None] = [None, None]  # N5.27 min/max
        self.invalid_reg_dates: list[int] = []
        self.journal_dates: list[date | None] = [None, None]  # N5.60 (validation.journals)
        self.journalposts = 0  # N5.59 (validation.journals)
        self.head_ks: list[int] = []  # split pass: ks_info entries of classification systems opened before it

    _COUNTERS = ("n", "arkiv_levels", "arkivdel_per_arkiv", "ks_per_arkivdel", "mappe_years", "reg_years")
    _LISTS = ("arkivdel_status", "ks_info", "invalid_reg_dates", "head_ks")

    def export_state(self, workdir=None) -> dict:
        state = {name: getattr(self, name) for name in (*self._COUNTERS, *self._LISTS)}
        state.update(per=self.per, reg_dates=self.reg_dates, journal_dates=self.journal_dates,
                     journalposts=self.journalposts)
        return state

    def merge(self, state: dict, read_lines) -> None:
        # the classification system open at the split closed in the other half: one entry
        open_ks = [f for _el, f in self.cp._stack if f is not None and f.name == "klassifikasjonssystem"]
        ks_info = list(state["ks_info"])
        for f, idx in zip(open_ks, state["head_ks"]):
            ad, sid, primary, levels, empty = ks_info[idx]
            d = f.data
            levels = Counter(d["levels"]) + Counter(levels)
            ks_info[idx] = (ad, sid, primary or d["primary"], levels, empty + d["empty"])
        self.ks_info.extend(ks_info)
        for name in self._COUNTERS:
            getattr(self, name).update(state[name])
        for key, counter in state["per"].items():
            self.per[key].update(counter)
        self.arkivdel_status.extend(state["arkivdel_status"])
        self.invalid_reg_dates.extend(state["invalid_reg_dates"])
        self.journalposts += state["journalposts"]
        for mine, theirs in ((self.reg_dates, state["reg_dates"]), (self.journal_dates, state["journal_dates"])):
            lo, hi = theirs
            if lo is not None and (mine[0] is None or lo < mine[0]):
                mine[0] = lo
            if hi is not None and (mine[1] is None or hi > mine[1]):
                mine[1] = hi

    def begin_tail(self, open_frames) -> None:
        for f in open_frames:
            if f.name == "klassifikasjonssystem":
                f.data = {"primary": False, "levels": Counter(), "empty": 0, "head": True}

    # ------------------------------------------------------------------ arkiv, arkivdel, classes

    def _s_arkiv(self, f):
        level = 1
        p = f.parent
        while p is not None:
            if p.name == "arkiv":
                level += 1
            p = p.parent
        self.arkiv_levels[level] += 1

    def _s_arkivdel(self, f):
        self.n["arkivdel"] += 1
        self.arkivdel_per_arkiv[(f.parent.sid if f.parent else None) or "?"] += 1

    def _s_ks(self, f):
        f.data = {"primary": False, "levels": Counter(), "empty": 0}
        if f.parent and f.parent.name == "arkivdel":
            self.ks_per_arkivdel[f.parent.sid or "?"] += 1

    def _e_ks(self, f):
        d = f.data
        if d.get("head"):
            self.head_ks.append(len(self.ks_info))
        self.ks_info.append((self.cp.arkivdel_sid, f.sid, d["primary"], d["levels"], d["empty"]))

    def _s_klasse(self, f):
        ks = up(f, "klassifikasjonssystem")
        level = 1
        p = f.parent
        while p is not None and p.name == "klasse":
            level += 1
            p = p.parent
        if ks is not None:
            ks.data["levels"][level] += 1
        # [sub-klasse, mappe, registrering] directly under this class
        f.data = [0, 0, 0]
        if f.parent is not None and f.parent.name == "klasse":
            f.parent.data[0] += 1

    def _e_klasse(self, f):
        sub, mapper, regs = f.data
        sid = f.sid or "?"
        if sub and mapper:
            self.add("N5.12", "error", tr("klasse {systemid} has both sub-classes and folders (mappe)", systemid=sid), f)
        if sub and regs:
            self.add("N5.19", "error", tr("klasse {systemid} has both sub-classes and registrations", systemid=sid), f)
        self.per["N5.13"]["with" if mapper else "without"] += 1
        self.n["N5.13 mapper"] += mapper
        self.per["N5.20"]["with" if regs else "without"] += 1
        self.n["N5.20 regs"] += regs
        if not (sub or mapper or regs):
            ks = up(f, "klassifikasjonssystem")
            if ks is not None:
                ks.data["empty"] += 1

    @staticmethod
    def _mark_primary(f):
        ks = up(f, "klassifikasjonssystem")
        if ks is not None:
            ks.data["primary"] = True

    # ------------------------------------------------------------------ folders and registrations

    def _s_mappe(self, f):
        self._mark_primary(f)
        level = 1
        p = f.parent
        while p is not None and p.name == "mappe":
            level += 1
            p = p.parent
        self.per["N5.10"][(f.type or "mappe", level)] += 1
        # state: [has sub-mappe or registrering, candidate lists for N5.21/N5.24/N5.64, status]
        f.data = {"content": False, "pending": [], "status": None}
        if f.parent is not None:
            if f.parent.name == "klasse":
                f.parent.data[1] += 1
            elif f.parent.name == "mappe":
                f.parent.data["content"] = True

    def _e_mappe(self, f):
        d = f.data
        if not d["content"]:
            self.n["N5.14"] += 1
            self.add("N5.14", "info",
                     tr("folder without registrations or sub-folders: systemID {systemid}, mappeID {mappeid}, "
                        "offentligTittel {title}", systemid=f.sid or "?", mappeid=d.get("mappeID") or "?",
                        title=d.get("offentligTittel") or "?"), f)
        utgaar = (d["status"] or "").lower() == "utgår"
        parent_mappe = f.parent if f.parent is not None and f.parent.name == "mappe" else None
        if not utgaar:
            if parent_mappe is not None:
                parent_mappe.data["pending"].extend(d["pending"])
            else:
                self.cp.commit(d["pending"])

    def _s_registrering(self, f):
        self._mark_primary(f)
        self.n["registrering"] += 1
        self.per["N5.16"][f.type or "registrering"] += 1
        if f.type == "journalpost":
            self.journalposts += 1
        f.data = {"dokbesk": False, "status": None, "pending": []}
        if f.parent is not None:
            if f.parent.name == "klasse":
                f.parent.data[2] += 1
            elif f.parent.name == "mappe":
                f.parent.data["content"] = True

    def _e_registrering(self, f):
        d = f.data
        utgaar = (d["status"] or "").lower() == "utgår"
        if utgaar:
            return
        items = d["pending"]
        if not d["dokbesk"]:
            items.append(("N5.21", tr("registration without document description: systemID {systemid}, "
                                      "registreringsID {registreringsid}", systemid=f.sid or "?",
                                      registreringsid=d.get("registreringsID") or "?"), f.line, f.sid))
        if items:
            m = up(f, "mappe")
            if m is not None:
                m.data["pending"].extend(items)
            else:
                self.cp.commit(items)

    # ------------------------------------------------------------------ document descriptions and objects

    def _s_dokbesk(self, f):
        self.n["dokumentbeskrivelse"] += 1
        f.data = {"objects": 0}
        reg = f.parent if f.parent is not None and f.parent.name == "registrering" else None
        if reg is not None:
            reg.data["dokbesk"] = True

    def _e_dokbesk(self, f):
        d = f.data
        if d["objects"] == 0:
            medium = (d.get("dokumentmedium") or "").lower()
            if medium in ("fysisk medium", "fysisk arkiv"):
                self.n["N5.24 physical"] += 1
            else:
                reg = up(f, "registrering")
                item = ("N5.24", tr("document description without document object: systemID {systemid}, "
                                    "registreringsID {registreringsid}, dokumentnummer {dokumentnummer}",
                                    systemid=f.sid or "?",
                                    registreringsid=(reg.data or {}).get("registreringsID") if reg else "?",
                                    dokumentnummer=d.get("dokumentnummer") or "?"), f.line, f.sid)
                if reg is not None:
                    reg.data["pending"].append(item)
                else:
                    self.cp.defer(f, item)

    def _s_dokobj(self, f):
        self.n["dokumentobjekt"] += 1
        f.data = {}  # the fields the document tests read (content.documents)
        db = f.parent if f.parent is not None and f.parent.name == "dokumentbeskrivelse" else None
        if db is not None:
            db.data["objects"] += 1

    # ------------------------------------------------------------------ values

    def _v_arkivdelstatus(self, f, value):
        if f.parent is not None and f.parent.name == "arkivdel":
            self.arkivdel_status.append((f.parent.sid, value))

    def _v_opprettetDato(self, f, value):
        p = f.parent
        if p is None:
            return
        if p.name == "mappe":
            d = parse_date(value)
            if d is not None:
                self.mappe_years[d.year] += 1
        elif p.name == "registrering":
            d = parse_date(value)
            if d is None:
                self.invalid_reg_dates.append(f.line)
                self.add("N5.27", "error", tr("invalid registrering/opprettetDato {value!r}", value=value), f)
                return
            self.reg_years[d.year] += 1
            lo, hi = self.reg_dates
            if lo is None or d < lo:
                self.reg_dates[0] = d
            if hi is None or d > hi:
                self.reg_dates[1] = d

    def _v_journaldato(self, f, value):
        if f.parent is None or f.parent.name != "registrering":
            return
        d = parse_date(value)
        if d is None:
            return
        lo, hi = self.journal_dates
        if lo is None or d < lo:
            self.journal_dates[0] = d
        if hi is None or d > hi:
            self.journal_dates[1] = d

    def _v_saksstatus(self, f, value):
        p = f.parent
        if p is None or p.name != "mappe":
            return
        p.data["status"] = value
        self.per["N5.15"][value] += 1
        if value not in ("Avsluttet", "Utgår"):
            self.add("N5.15", "error", tr("saksstatus {value!r}: a deposited folder must be 'Avsluttet' (or 'Utgår')",
                                          value=value), f)

    def _v_journalposttype(self, f, value):
        p = f.parent
        if p is None or p.name != "registrering" or p.type != "journalpost":
            return
        self.per["N5.17"][value] += 1
        if not value:
            self.add("N5.17", "error", tr("empty journalposttype"), f)

    def _v_journalstatus(self, f, value):
        p = f.parent
        if p is None or p.name != "registrering":
            return
        p.data["status"] = value
        if f.name != "journalstatus":
            return
        self.per["N5.22"][value] += 1
        if value not in ("Arkivert", "Utgår"):
            self.add("N5.22", "error", tr("journalstatus {value!r}: a deposited journal record must be 'Arkivert' "
                                          "(or 'Utgår')", value=value), f)

    def _v_dokumentstatus(self, f, value):
        if f.parent is None or f.parent.name != "dokumentbeskrivelse":
            return
        self.per["N5.25"][value] += 1
        if value != "Dokumentet er ferdigstilt":
            self.add("N5.25", "error", tr("dokumentstatus {value!r}: must be {expected!r}", value=value,
                                          expected=_FINISHED), f)

    # ------------------------------------------------------------------ after the pass

    def report(self, addml_name: str | None) -> None:
        r, a, info, per, n = self.cp.r, self.cp.addml, self.info, self.per, self.n
        archives = sum(self.arkiv_levels.values())
        if len(self.arkiv_levels) > 1:
            info("N5.04", tr("archives: {count} (per level: {per_level})", count=archives,
                             per_level=dict(sorted(self.arkiv_levels.items()))))
        else:
            info("N5.04", tr("archives: {count}", count=archives))
        if len(self.arkivdel_per_arkiv) > 1:
            info("N5.05", tr("archive parts: {count} (per arkiv: {per_arkiv})", count=n["arkivdel"],
                             per_arkiv=dict(self.arkivdel_per_arkiv)))
        else:
            info("N5.05", tr("archive parts: {count}", count=n["arkivdel"]))
        for sid, status in self.arkivdel_status:
            info("N5.06", tr("arkivdel {systemid}: {status}", systemid=sid, status=status), systemID=sid)
        info("N5.07", tr("classification systems: {count}", count=sum(self.ks_per_arkivdel.values())))
        total_classes = sum(sum(k[3].values()) for k in self.ks_info)
        info("N5.08", tr("classes: {count}", count=total_classes))
        for arkivdel, sid, primary, levels, empty in self.ks_info:
            if primary:
                message = tr("classification system {systemid} (primary): {count} classes, per level {per_level}",
                             systemid=sid, count=sum(levels.values()), per_level=dict(sorted(levels.items())))
            else:
                message = tr("classification system {systemid} (secondary): {count} classes, per level {per_level}",
                             systemid=sid, count=sum(levels.values()), per_level=dict(sorted(levels.items())))
            info("N5.08", message, systemID=sid)
            if primary and empty:
                info("N5.09", tr("classification system {systemid}: {count} classes without sub-classes, folders or "
                                 "registrations", systemid=sid, count=empty), systemID=sid)
        empty_total = sum(k[4] for k in self.ks_info if k[2])
        info("N5.09", tr("empty classes in primary classification systems: {count}", count=empty_total))
        # N5.10
        folders = sum(per["N5.10"].values())
        info("N5.10", tr("folders: {count}", count=folders))
        for (typ, level), k in sorted(per["N5.10"].items()):
            info("N5.10", tr("{type} at level {level}: {count}", type=typ, level=level, count=k))
        documented = a.occurrences("mappe") if a.parsed else None
        if (documented or 0) != folders:
            if documented is None:
                message = tr("the ADDML documents no folders (numberOfOccurrences mappe), arkivstruktur.xml has "
                             "{count}", count=folders)
            else:
                message = tr("the ADDML documents {documented} folders (numberOfOccurrences mappe), "
                             "arkivstruktur.xml has {count}", documented=documented, count=folders)
            r.add("N5.10", "error", message, file=addml_name or "arkivuttrekk.xml")
        for y, k in sorted(self.mappe_years.items()):
            info("N5.11", tr("{year}: {count} folders", year=y, count=k))
        info("N5.13", tr("classes with folders: {with_folders}, without: {without}", with_folders=per["N5.13"]["with"],
                         without=per["N5.13"]["without"]))
        info("N5.14", tr("folders without registrations or sub-folders: {count}", count=n["N5.14"]))
        for v, k in per["N5.15"].items():
            info("N5.15", tr("saksstatus {value!r}: {count}", value=v, count=k))
        regs = n["registrering"]
        info("N5.16", tr("registrations: {count}", count=regs))
        for typ, k in per["N5.16"].items():
            info("N5.16", tr("{type}: {count}", type=typ, count=k))
        documented = a.occurrences("registrering") if a.parsed else None
        if (documented or 0) != regs:
            if documented is None:
                message = tr("the ADDML documents no registrations (numberOfOccurrences registrering), "
                             "arkivstruktur.xml has {count}", count=regs)
            else:
                message = tr("the ADDML documents {documented} registrations (numberOfOccurrences registrering), "
                             "arkivstruktur.xml has {count}", documented=documented, count=regs)
            r.add("N5.16", "error", message, file=addml_name or "arkivuttrekk.xml")
        for v, k in per["N5.17"].items():
            info("N5.17", tr("journalposttype {value!r}: {count}", value=v, count=k))
        if not per["N5.17"]:
            info("N5.17", tr("journal records: 0"))
        for y, k in sorted(self.reg_years.items()):
            info("N5.18", tr("{year}: {count} registrations", year=y, count=k))
        info("N5.20", tr("registrations directly under classes: {count}; classes without: {without}",
                         count=n["N5.20 regs"], without=per["N5.20"]["without"]))
        info("N5.21", tr("registrations without document description: {count}", count=self.cp.committed["N5.21"]))
        for v, k in per["N5.22"].items():
            info("N5.22", tr("journalstatus {value!r}: {count}", value=v, count=k))
        info("N5.23", tr("document descriptions: {count}", count=n["dokumentbeskrivelse"]))
        info("N5.24", tr("document descriptions without document object: {count} (on physical media: {physical})",
                         count=self.cp.committed["N5.24"], physical=n["N5.24 physical"]))
        for v, k in per["N5.25"].items():
            info("N5.25", tr("dokumentstatus {value!r}: {count}", value=v, count=k))
        info("N5.26", tr("document objects: {count}", count=n["dokumentobjekt"]))
        lo, hi = self.reg_dates
        info("N5.27", tr("registrations: {count}; first created {first}, last {last}", count=regs, first=lo or "-",
                         last=hi or "-"))
        if self.invalid_reg_dates:
            r.add("N5.27", "error", tr("{count} registrations have an invalid opprettetDato",
                                       count=len(self.invalid_reg_dates)),
                  file="arkivstruktur.xml", line=self.invalid_reg_dates[0])
