"""The journals and the changelog: offentligJournal.xml and loependeJournal.xml against the archive
(N5.59, N5.60; NP.03 reads offentligJournal.xml on the way, content.screening, and NP.06 checks both
are sorted by løpenummer, content.creation_order), endringslogg.xml
(N5.61, N5.62).  Each file is streamed once, with its XSD check (N5.03).  A mixin of engine._Run."""

from __future__ import annotations

from ..locale import tr
from .content import ContentPass, parse_date

TESTS = ("N5.59", "N5.60", "N5.61", "N5.62")


def _both(handlers):
    """One stream handler calling each of ``handlers`` (None when there are none)."""
    if not handlers:
        return None
    if len(handlers) == 1:
        return handlers[0]

    def both(ev, el, local):
        for h in handlers:
            h(ev, el, local)
    return both


class Journals:
    """The run provides src, r, addml, addml_name and stream()."""

    def journal_head(self, name: str, extra_handler=None):
        """(antallJournalposter, start, end) from a journal's journalhode; None if unreadable."""
        head: dict[str, str] = {}
        state = {"in_head": False}

        def handler(ev, el):
            local = el.tag.rpartition("}")[2]
            if local == "journalhode":
                state["in_head"] = ev == "start"
            elif state["in_head"] and ev == "end":
                head[local] = (el.text or "").strip()
            if extra_handler is not None:
                extra_handler(ev, el, local)

        unit = name[:-4]
        res = self.stream(unit, name, handler)
        if res is None:
            return None
        try:
            return (int(head["antallJournalposter"]), parse_date(head.get("journalStartDato", "")),
                    parse_date(head.get("journalSluttDato", "")))
        except (KeyError, ValueError):
            return None

    def sharp(self) -> bool:
        """Both period separations sharp; 'skarp' is accepted with a warning (Arkade wants 'skarpt')."""
        vals = [self.addml.periode.get("inngaaendeSkille"), self.addml.periode.get("utgaaendeSkille")]
        for t in ("N5.59", "N5.60"):
            for v in vals:
                if v is not None and v.strip().lower() == "skarp":
                    self.r.add(t, "warning", tr("the ADDML says period separation 'skarp'; read as 'skarpt' "
                                                "(Arkade would treat it as soft)"), file=self.addml_name)
        return all(v is not None and v.strip().lower() in ("skarpt", "skarp") for v in vals)

    def journals(self, cp: ContentPass) -> None:
        r = self.r
        wanted = any(r.wants(t) for t in ("N5.59", "N5.60", "NP.03", "NP.06", "NP.10", "N5.03"))
        if not wanted:
            return
        screening = cp.screening
        # loependeJournal.xml first: its korrespondansepart/skjermingMetadata says which names are screened
        screens = screening.active()
        oj_handlers = [screening.check_public_journal] if screens else []
        lj_handlers = [screening.check_running_journal] if screens else []
        if r.wants("NP.06"):  # both journals sorted by løpenummer (content.creation_order)
            oj_handlers.append(cp.creation_order.journal_handler("offentligJournal.xml"))
            lj_handlers.append(cp.creation_order.journal_handler("loependeJournal.xml"))
        lj = self.journal_head("loependeJournal.xml", _both(lj_handlers))
        oj = self.journal_head("offentligJournal.xml", _both(oj_handlers))
        if screens:
            screening.report_public_journal(self.src.exists("offentligJournal.xml"))
        sharp = self.sharp()
        # N5.59
        r.mark_ran("N5.59")
        if oj is None or lj is None:
            r.add("N5.59", "error", tr("the number of journal records could not be read from offentligJournal.xml "
                                       "and loependeJournal.xml (missing or unreadable)"), file="")
        else:
            r.add("N5.59", "info", tr("journal records: {archive} in arkivstruktur.xml, {public} in "
                                      "offentligJournal.xml, {running} in loependeJournal.xml",
                                      archive=cp.structure.journalposts, public=oj[0], running=lj[0]), file="")
            if oj[0] != lj[0]:
                r.add("N5.59", "error", tr("the journals disagree: offentligJournal.xml has {public} journal records, "
                                           "loependeJournal.xml {running}", public=oj[0], running=lj[0]),
                      file="offentligJournal.xml")
            if sharp and not (cp.structure.journalposts == oj[0] == lj[0]):
                r.add("N5.59", "error", tr("with sharp period separation the journals ({public}, {running}) must list "
                                           "every journal record of arkivstruktur.xml ({archive})", public=oj[0],
                                           running=lj[0], archive=cp.structure.journalposts),
                      file="arkivstruktur.xml")
        # N5.60
        r.mark_ran("N5.60")
        lo, hi = cp.structure.journal_dates
        if oj is None or lj is None:
            r.add("N5.60", "error", tr("start and end dates could not be read from the journals (missing or "
                                       "unreadable)"), file="")
        elif lo is None:
            r.add("N5.60", "error", tr("no valid registrering/journaldato found in arkivstruktur.xml"),
                  file="arkivstruktur.xml")
        else:
            r.add("N5.60", "info", tr("journaldato in arkivstruktur.xml {first} – {last}; offentligJournal "
                                      "{public_start} – {public_end}; loependeJournal {running_start} – {running_end}",
                                      first=str(lo), last=str(hi), public_start=str(oj[1]), public_end=str(oj[2]),
                                      running_start=str(lj[1]), running_end=str(lj[2])), file="")
            if (oj[1], oj[2]) != (lj[1], lj[2]):
                r.add("N5.60", "error", tr("the journals' start and end dates disagree"), file="offentligJournal.xml")
            if sharp and not ((lo, hi) == (oj[1], oj[2]) == (lj[1], lj[2])):
                r.add("N5.60", "error", tr("with sharp period separation the journals' dates ({start} – {end}) must "
                                           "equal the first and last journaldato of arkivstruktur.xml "
                                           "({first} – {last})", start=str(oj[1]), end=str(oj[2]), first=str(lo),
                                           last=str(hi)),
                      file="arkivstruktur.xml")

    def changelog(self, cp: ContentPass) -> None:
        r = self.r
        name = "endringslogg.xml"
        count = {"endring": 0, "bad": 0}
        ids = cp.identifiers.ids

        def handler(ev, el):
            if ev != "end":
                return
            local = el.tag.rpartition("}")[2]
            if local == "endring":
                count["endring"] += 1
            elif local == "referanseArkivenhet":
                v = (el.text or "").strip()
                if v not in ids:
                    count["bad"] += 1
                    r.add("N5.62", "error", tr("referanseArkivenhet {value!r} is not a systemID in arkivstruktur.xml",
                                               value=v),
                          file=name, line=el.sourceline, systemID=v or None)

        res = self.stream("endringslogg", name, handler)
        r.mark_ran("N5.61")
        r.mark_ran("N5.62")
        if res is None:
            r.add("N5.61", "error", tr("{file} not found", file=name), file=name)
            r.add("N5.62", "error", tr("{file} not found", file=name), file=name)
            return
        r.add("N5.61", "info", tr("logged changes: {count}", count=count["endring"]), file=name)
        if not res.read_ok:
            r.add("N5.61", "error", tr("{file} could not be read to the end", file=name), file=name,
                  line=res.fatal_line)
