"""NP.03 and NP.10: screening covers what is confidential (NP.03: nothing screened shows in offentligJournal.xml),
and no more, where the standard says (NP.10).

The pass over arkivstruktur.xml remembers, as 8-byte digests (:class:`~noarkpack.idset.IdSet`), what each
journalpost and saksmappe screens: the names of the persons (the saksmappe's parts under "Skjerming navn part i
sak", a klasse title under "Skjerming tittel klasse", the korrespondanseparter of a role under "Skjerming navn
avsender"/"… mottaker"), whole titles where the screening leaves no word of them, and each registrering's own
skjermingMetadata.  :mod:`..journals` then streams loependeJournal.xml (:meth:`Screening.check_running_journal`)
and offentligJournal.xml (:meth:`Screening.check_public_journal`) through this group.  A name is found in a
title as a run of its words (:func:`noarkpack.model.screening.title_ngrams`), so nothing but digests is kept.

NP.03 (error): a screened name in a public title or shown as a korrespondansepartNavn, or a whole screened title.
The journals' korrespondansepart/skjermingMetadata says which party is screened where arkivstruktur.xml can
only say it by role; without it, every party of a screened role is.

NP.10 (warning; the schemas and Arkade accept each case, a depot's reception asks about it), M502 and M025:
remarks (merknad) of a screened mappe or registrering that no "Skjerming merknadstekst" screens; "Skjerming navn
part i sak" on a registrering (it belongs to the saksmappe) or "navn avsender"/"navn mottaker" on a mappe; a
role's name screened where the journalpost has no party of that role; an internal party (M087, the organisation's
own unit or staff) screened; a loependeJournal skjermingMetadata that
is not one of the registrering's; a public title replaced by asterisks as a whole though it has words that are
not a screened name (M502 screens selected words or all but the first line, never a whole title).
"""

from __future__ import annotations

from ...idset import IdSet
from ...locale import tr
from ...model import screening as sk
from .base import FIELD, Frame, Group, up

_NS = "np10"  # this group's key on the mappe's and registrering's dicts
_ROLE = {"skjerming navn avsender": True, "skjerming navn mottaker": False}  # value -> screens senders
_SECTIONS = ("klasse", "saksmappe", "journalpost", "korrespondansepart")
_PART_I_SAK = "Skjerming navn part i sak"  # a skjermingMetadata value, as messages quote it


def _d(f: Frame | None) -> dict | None:
    d = f.data if f is not None else None
    return d if d.__class__ is dict else None


class Screening(Group):
    NAME = "screening"
    TESTS = ("NP.03", "NP.10")
    # before the structure's handlers of the same elements (GROUPS order): the values are read first
    START = {"merknad": "_s_merknad", "korrespondansepart": "_s_part", "klasse": "_s_klasse"}
    END = {"registrering": "_e_registrering", "mappe": "_e_mappe", "korrespondansepart": "_e_part",
           "klasse": "_e_klasse"}
    VALUE = {"skjermingMetadata": "_v_skjermingMetadata", "korrespondansepartNavn": "_v_part_value",
             "korrespondanseparttype": "_v_part_value", "partNavn": "_v_partNavn", "tittel": "_v_tittel",
             "saksaar": FIELD, "sakssekvensnummer": FIELD}

    def active(self) -> bool:
        return self.cp.r.wants("NP.03") or self.cp.r.wants("NP.10")

    def reset(self) -> None:
        self.screened = IdSet(stable=self.cp.mergeable)  # (key, kind, value) digests
        self.leaks = 0
        self.findings = 0  # NP.10
        self._klasse: dict = {}  # open klasse frame -> {"tittel", "screens"}
        self._lj = self._oj = None  # the journals' stream handlers, made when first needed

    def release(self) -> None:
        self.reset()
        self.screened = None

    def export_state(self, workdir=None) -> dict:
        return {"screened": self.screened, "findings": self.findings}

    def merge(self, state: dict, read_lines) -> None:
        self.screened.merge(state["screened"])
        self.findings += state["findings"]

    def _np10(self, message: str, f: Frame | None = None, **where) -> None:
        if not self.cp.r.wants("NP.10"):
            return
        self.findings += 1
        if f is not None:
            self.add("NP.10", "warning", message, f)
        else:
            self.cp.r.add("NP.10", "warning", message, **where)

    # ------------------------------------------------------------------ arkivstruktur.xml

    def _own(self, f: Frame) -> dict | None:
        """The state of a mappe, registrering or klasse frame ``f``."""
        if f.name == "klasse":
            return self._klasse.get(id(f))
        d = _d(f)
        if d is None:
            return None
        return d.setdefault(_NS, {"screens": [], "parts": [], "names": [], "merknad": False})

    def _s_klasse(self, f):
        self._klasse[id(f)] = {"screens": [], "tittel": None}

    def _e_klasse(self, f):
        self._klasse.pop(id(f), None)

    def _v_tittel(self, f, value):
        p = f.parent
        if p is None:
            return
        if p.name == "klasse":
            k = self._klasse.get(id(p))
            if k is not None:
                k["tittel"] = value
        else:
            d = _d(p)
            if d is not None:
                d["tittel"] = value

    def _v_skjermingMetadata(self, f, value):
        sk_ = f.parent
        owner = sk_.parent if sk_ is not None and sk_.name == "skjerming" else None
        if owner is not None and owner.name in ("mappe", "registrering", "klasse"):
            s = self._own(owner)
            if s is not None:
                s["screens"].append(value.lower())

    def _s_merknad(self, f):
        p = f.parent
        if p is not None and p.name in ("mappe", "registrering"):
            s = self._own(p)
            if s is not None:
                s["merknad"] = True

    def _s_part(self, f):
        if f.parent is not None and f.parent.name == "registrering":
            f.data = {}

    def _v_part_value(self, f, value):
        d = _d(f.parent)
        if d is not None:
            d[f.name] = value

    def _e_part(self, f):
        d = _d(f)
        s = self._own(f.parent) if d is not None else None
        if s is not None and d.get("korrespondansepartNavn"):
            s["names"].append((sk.is_sender(d.get("korrespondanseparttype") or ""), d["korrespondansepartNavn"]))

    def _v_partNavn(self, f, value):
        owner = f.parent.parent if f.parent is not None and f.parent.name == "part" else None
        if owner is not None and owner.name in ("mappe", "registrering"):
            s = self._own(owner)
            if s is not None:
                s["parts"].append(value)

    def _screens_above(self, f: Frame) -> list[str]:
        out: list[str] = []
        p = f.parent
        while p is not None:
            if p.name in ("mappe", "registrering", "klasse"):
                s = self._own(p)
                if s is not None:
                    out += s["screens"]
            p = p.parent
        return out

    def _merknad(self, f: Frame, s: dict) -> None:
        """NP.10: the remarks of a screened unit (mappe or registrering) are screened (M502, "Skjerming
        merknadstekst")."""
        if not s["merknad"]:
            return
        screens = s["screens"] + self._screens_above(f)
        if screens and not any(v in ("skjerming merknadstekst", "midlertidig skjerming") for v in screens):
            if f.name == "mappe":
                message = tr("the mappe is screened and has merknad, but no skjermingMetadata 'Skjerming "
                             "merknadstekst' screens the remarks (M502)")
            else:
                message = tr("the registrering is screened and has merknad, but no skjermingMetadata 'Skjerming "
                             "merknadstekst' screens the remarks (M502)")
            self._np10(message, f)

    def _title(self, key: str, tittel: str | None, screens: list[str], which: str) -> None:
        """A whole title is screened where no word of it may show (a title of more lines than the first kept
        shows, or a temporary screening of everything)."""
        if not tittel:
            return
        mine = [v for v in screens if v.startswith(f"skjerming tittel {which}")]
        if "midlertidig skjerming" in screens or (any(v.endswith("unntatt første linje") for v in mine)
                                                  and "\n" in tittel):
            self.screened.add(f"{key}\x1ft\x1f{tittel}")

    def _e_mappe(self, f: Frame):
        s = self._own(f)
        if s is None:
            return
        d = f.data
        screens = s["screens"]
        self._merknad(f, s)
        for v in screens:
            if v in _ROLE:
                self._np10(tr("skjermingMetadata '{value}' on a mappe: M502 sets the names of avsender and mottaker "
                              "for the journalpost", value=v.capitalize()), f)
        if f.type != "saksmappe" or not (d.get("saksaar") and d.get("sakssekvensnummer")):
            return
        key = f"sm:{d['saksaar']}/{d['sakssekvensnummer']}"
        self._title(key, d.get("tittel"), screens, "mappe")
        if "skjerming navn part i sak" in screens or "midlertidig skjerming" in screens:
            for name in s["parts"]:
                self._add_name(f"{key}\x1fn", name)
        k = up(f, "klasse")
        ks = self._klasse.get(id(k)) if k is not None else None
        if ks and ks["tittel"] and "skjerming tittel klasse" in ks["screens"]:
            self._add_name(f"{key}\x1fn", ks["tittel"])

    def _e_registrering(self, f: Frame):
        s = self._own(f)
        if s is None:
            return
        screens = s["screens"]
        self._merknad(f, s)
        if "skjerming navn part i sak" in screens:
            self._np10(tr("skjermingMetadata '{value}' on a registrering: M502 sets it for the saksmappe (a "
                          "journalpost's parties are its avsender and mottaker)", value=_PART_I_SAK), f)
        if not f.sid:
            return
        key = f"jp:{f.sid}"
        for v in screens:
            self.screened.add(f"{f.sid}\x1fm\x1f{v}")
        self._title(key, (f.data or {}).get("tittel"), screens, "registrering")
        if f.type != "journalpost":
            return
        everything = "midlertidig skjerming" in screens
        for v, senders in _ROLE.items():
            if v not in screens and not everything:
                continue
            names = [n for is_sender, n in s["names"] if is_sender == senders]
            if not names and v in screens:
                self._np10(tr("skjermingMetadata '{value}', but the journalpost has no {role} (M502)",
                              value=v.capitalize(), role="avsender" if senders else "mottaker"), f)
            for n in names:
                self._add_name(f"{key}\x1fr", n)

    def report(self, addml_name: str | None) -> None:
        self.cp.r.mark_ran("NP.10")

    # ------------------------------------------------------------------ the journals

    def _journal_reader(self, on_record):
        """A stream handler that gathers each journalregistrering's values by section, then calls
        ``on_record(record)``; children are cleared as they end, so leaves are read on their end events."""
        rec: dict = {}
        where: list = []

        def handler(ev, el, local):
            if local == "journalregistrering":
                if ev == "start":
                    rec.clear()
                    rec.update(klasse={}, saksmappe={}, journalpost={}, parts=[], line=el.sourceline)
                else:
                    on_record(rec)
                    rec.clear()
                return
            if not rec:
                return
            if local in _SECTIONS:
                if ev == "start":
                    if local == "korrespondansepart":
                        rec["parts"].append({})
                        where.append(rec["parts"][-1])
                    else:
                        where.append(rec[local])
                        if local == "journalpost":
                            rec["line"] = el.sourceline
                elif where:
                    where.pop()
            elif ev == "end" and where:
                where[-1].setdefault(local, []).append((el.text or "").strip())
        return handler

    @staticmethod
    def _one(section: dict, name: str) -> str:
        return (section.get(name) or [""])[0]

    def _keys(self, rec: dict) -> tuple[str, str]:
        sm, jp = rec["saksmappe"], rec["journalpost"]
        return (f"sm:{self._one(sm, 'saksaar')}/{self._one(sm, 'sakssekvensnummer')}",
                f"jp:{self._one(jp, 'systemID')}")

    def _lookups(self, sm_key: str, jp_key: str | None) -> list[str]:
        """The digest prefixes of the names screened for a saksmappe (and a journalpost of it): a journal's
        korrespondansepart/skjermingMetadata ("l"), where the journal marks parties, else arkivstruktur's
        roles ("r")."""
        out = [f"{sm_key}\x1fn\x1f"]
        if jp_key is not None:
            marked = f"{jp_key}\x1flmark" in self.screened
            out += [f"{jp_key}\x1fl\x1f"] if marked else [f"{jp_key}\x1fl\x1f", f"{jp_key}\x1fr\x1f"]
        return out

    def _names_in(self, title: str, lookups: list[str], extra: set[str]) -> list[str]:
        """The runs of words of ``title`` that are screened names (digests under ``lookups``, or ``extra``)."""
        return [g for g in sk.title_ngrams(title) if g in extra or any(p + g in self.screened for p in lookups)]

    def _add_name(self, prefix: str, name: str) -> None:
        """A screened name under ``prefix`` ("key\x1fkind"), and its words for :meth:`_unscreened_words` (a
        first name or surname standing alone is masked too: model.screening.mask_names)."""
        self.screened.add(f"{prefix}\x1f{sk.name_key(name)}")
        for w in sk.words(name):
            if len(w) >= 2:
                self.screened.add(f"{prefix}w\x1f{w}")

    def _unscreened_words(self, title: str, lookups: list[str], extra: set[str]) -> bool:
        """Whether ``title`` has a word that no screened name, nor a word of one, covers."""
        covered: set[str] = set()
        for g in self._names_in(title, lookups, extra):
            covered.update(g.split(" "))
        for name in extra:
            covered.update(name.split(" "))
        words = [p[:-1] + "w\x1f" for p in lookups]
        return any(w not in covered and not any(p + w in self.screened for p in words) for w in sk.words(title))

    def check_running_journal(self, ev, el, local) -> None:
        """A stream handler for loependeJournal.xml (read before offentligJournal.xml)."""
        if self._lj is None:
            self._lj = self._journal_reader(self._running_record)
        self._lj(ev, el, local)

    def _running_record(self, rec: dict) -> None:
        sm_key, jp_key = self._keys(rec)
        sid = jp_key[3:]
        jp, klasse = rec["journalpost"], rec["klasse"]
        line = rec.get("line")
        where = {"file": "loependeJournal.xml", "line": line, "systemID": sid or None}
        extra: set[str] = set()
        if "skjerming tittel klasse" in [v.lower() for v in klasse.get("skjermingMetadata", [])]:
            extra.add(sk.name_key(self._one(klasse, "tittel")))
        senders = [sk.is_sender(self._one(p, "korrespondanseparttype")) for p in rec["parts"]]
        temporary = "midlertidig skjerming" in [m.lower() for m in jp.get("skjermingMetadata", [])]
        for n, (p, is_sender) in enumerate(zip(rec["parts"], senders)):
            internal = self._one(p, "korrespondanseparttype") in sk.INTERNAL_TYPES
            if internal and not temporary:
                if p.get("skjermingMetadata"):
                    self._internal(**where)
                else:
                    self.screened.add(f"{jp_key}\x1fi\x1f{n}")  # shown here: offentligJournal must show it
            for v in (m.lower() for m in p.get("skjermingMetadata", [])):
                if v in _ROLE:
                    name = sk.name_key(self._one(p, "korrespondansepartNavn"))
                    extra.add(name)
                    self.screened.add(f"{jp_key}\x1fl\x1f{name}")
                    self.screened.add(f"{jp_key}\x1flmark")
                    if _ROLE[v] != is_sender:
                        self._np10(tr("a korrespondansepart of type '{type}' has skjermingMetadata '{value}' (M502)",
                                      type=self._one(p, "korrespondanseparttype"), value=v.capitalize()), **where)
        if not self.cp.r.wants("NP.10"):
            return
        ids = self.cp.identifiers.ids
        for v in (m.lower() for m in jp.get("skjermingMetadata", [])):
            if v == "skjerming navn part i sak":
                self._np10(tr("skjermingMetadata '{value}' on a journalpost: M502 sets it for the saksmappe",
                              value=_PART_I_SAK), **where)
            elif v in _ROLE and _ROLE[v] not in senders:
                self._np10(tr("skjermingMetadata '{value}', but the journalpost has no {role} (M502)",
                              value=v.capitalize(), role="avsender" if _ROLE[v] else "mottaker"), **where)
            if sid and ids is not None and sid in ids and f"{sid}\x1fm\x1f{v}" not in self.screened:
                self._np10(tr("skjermingMetadata '{value}' of the journalpost is not one of its registrering's in "
                              "arkivstruktur.xml", value=v.capitalize()), **where)
        screens = [m.lower() for m in jp.get("skjermingMetadata", [])]
        for section, lookups in ((rec["saksmappe"], self._lookups(sm_key, None)), (jp, self._lookups(sm_key, jp_key))):
            title, public = self._one(section, "tittel"), self._one(section, "offentligTittel")
            if "midlertidig skjerming" in screens or not title or not self._unscreened_words(title, lookups, extra):
                continue
            if sk.wholly_masked(public):
                self._np10(tr("offentligTittel is the whole title replaced by asterisks, though only the screened "
                              "words are (M025; M502 screens selected words or all but the first line)"), **where)
            elif section is jp:
                self.screened.add(f"{jp_key}\x1fwords")

    def _internal(self, **where) -> None:
        self._np10(tr("the name of an internal korrespondansepart (the organisation's own unit or staff, M087) is "
                      "screened: a duty of confidentiality covers persons' circumstances, not the organisation's own "
                      "units (offentleglova § 13, forvaltningsloven § 13)"), **where)

    def check_public_journal(self, ev, el, local) -> None:
        """A stream handler for offentligJournal.xml: a screened value shown there is an NP.03 error."""
        if self._oj is None:
            self._oj = self._journal_reader(self._public_record)
        self._oj(ev, el, local)

    def _leak(self, message: str, rec: dict, sid: str | None) -> None:
        self.leaks += 1
        self.cp.r.add("NP.03", "error", message, file="offentligJournal.xml", line=rec.get("line"), systemID=sid)

    def _public_record(self, rec: dict) -> None:
        sm_key, jp_key = self._keys(rec)
        sid = jp_key[3:] or None
        jp = rec["journalpost"]
        np03 = self.cp.r.wants("NP.03")
        for section, keys in ((rec["saksmappe"], (sm_key,)), (jp, (sm_key, jp_key))):
            lookups = self._lookups(sm_key, jp_key if section is jp else None)
            for v in section.get("offentligTittel", []) + section.get("tittel", []):
                if not np03 or not v:
                    continue
                if any(f"{k}\x1ft\x1f{v}" in self.screened for k in keys) or self._names_in(v, lookups, set()):
                    if section is jp:
                        message = tr("offentligJournal shows a title that the extract screens (journalpost "
                                     "{systemid})", systemid=sid)
                    else:
                        message = tr("offentligJournal shows a title that the extract screens (saksmappe {saksnr})",
                                     saksnr=sm_key[3:])
                    self._leak(message, rec, sid)
            if section is jp and self.cp.r.wants("NP.10"):
                public = self._one(jp, "offentligTittel")
                if sk.wholly_masked(public) and f"{jp_key}\x1fwords" in self.screened:
                    self._np10(tr("offentligTittel is the whole title replaced by asterisks, though only the "
                                  "screened words are (M025; M502 screens selected words or all but the first line)"),
                               file="offentligJournal.xml", line=rec.get("line"), systemID=sid)
        if self.cp.r.wants("NP.10"):
            marked = f"{jp_key}\x1flmark" in self.screened
            for n, p in enumerate(rec["parts"]):
                if (self._one(p, "korrespondanseparttype") in sk.INTERNAL_TYPES
                        and sk.wholly_masked(self._one(p, "korrespondansepartNavn"))
                        and (not marked or f"{jp_key}\x1fi\x1f{n}" in self.screened)):
                    self._internal(file="offentligJournal.xml", line=rec.get("line"), systemID=sid)
        if not np03:
            return
        lookups = self._lookups(sm_key, jp_key)
        for p in rec["parts"]:
            name = sk.name_key(self._one(p, "korrespondansepartNavn"))
            if name and any(prefix + name in self.screened for prefix in lookups):
                self._leak(tr("offentligJournal shows a korrespondansepartNavn that the extract screens (journalpost "
                              "{systemid})", systemid=sid), rec, sid)

    def report_public_journal(self, journal_read: bool) -> None:
        """NP.03's and NP.10's results, once the journals were read (``journal_read``: offentligJournal.xml
        exists)."""
        r = self.cp.r
        if r.wants("NP.03"):
            r.mark_ran("NP.03")
            if journal_read:
                r.add("NP.03", "info", tr("{count} screened values compared, {leaks} leaks", count=self.screened.count,
                                          leaks=self.leaks), file="offentligJournal.xml")
        if r.wants("NP.10"):
            r.mark_ran("NP.10")
            r.add("NP.10", "info", tr("screening metadata that does not fit what it screens: {count}",
                                      count=self.findings), file="")
