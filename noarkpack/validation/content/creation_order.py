"""NP.06: saksmapper and journalposts are numbered in the order they were created, and the journals are
sorted by løpenummer.

Noark 5 defines the numbers by creation: journalaar is "året journalposten ble opprettet" (M013),
journalsekvensnummer "rekkefølgen når journalposten ble opprettet under året" (M014); saksaar and
sakssekvensnummer likewise for saksmapper (M011, M012).  The moment of creation is opprettetDato (M600).
So, per element:

* journalaar (saksaar) is the year of its opprettetDato;
* within a year, a higher journalsekvensnummer (sakssekvensnummer) was not created earlier than a lower one:
  an element created before one with a lower number of its year is out of order;
* a number is not given twice in a year;
* within a saksmappe, journalpostnummer ("viser rekkefølgen av journalposter innenfor saksmappen", M015)
  follows the same order: a journalpost with a lower journalpostnummer does not have a higher løpenummer
  (journalaar, journalsekvensnummer).  Kept per open mappe only, so memory is bounded by the largest mappe.

The extract's order is arbitrary (by patient, in noarkpack's extracts), so each element's (year, number,
creation instant) is kept in a temporary SQLite table, which :meth:`CreationOrder.report` reads sorted
(``ORDER BY``: SQLite sorts on disk when it must): memory does not grow with the extract.  The split pass's
child hands its table over as a file.

Both journals must list their journalregistreringer sorted by journalaar, then journalsekvensnummer
("sortert kronologisk etter løpenummer", krav 6.4.30): :mod:`..journals` streams them through
:meth:`CreationOrder.journal_handler`, which keeps the previous løpenummer only.

Severity: numbers out of creation order, a wrong year and a number given twice are **warnings**.  Arkade
does not test them; the numbers are identities the producing system gave ("Skal ikke kunne endres", M013,
M014), which a depot cannot correct and should still receive, and the combination is "ikke obligatorisk"
(M014).  The archivist learns that the journal's order by løpenummer is not chronological.  A journal not
sorted by løpenummer is an **error**: krav 6.4.30 is obligatory for a deposit, and the producer can always
sort it.
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import weakref
from datetime import datetime, timedelta, timezone
from pathlib import Path

from ...locale import N_, tr
from .base import FIELD, FIELD_AT, Frame, Group

TEST = "NP.06"
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_US = timedelta(microseconds=1)
_BATCH = 5000
#: kind of a row: (what, year element, number element)
_KINDS = {0: ("journalpost", "journalaar", "journalsekvensnummer"),
          1: ("saksmappe", "saksaar", "sakssekvensnummer")}
#: the warnings per kind: (year not that of opprettetDato, number given twice, created before a lower number)
_MESSAGES = {
    0: (N_("journalaar {year} of journalpost {year}/{number} is not the year of its opprettetDato ({created}): "
           "journalaar is the year the journalpost was created (M013)"),
        N_("journalsekvensnummer {year}/{number} is given twice (also the journalpost at line {other_line})"),
        N_("journalpost {year}/{number} was created ({created}) before journalpost {year}/{other_number}, which "
           "has a lower journalsekvensnummer (created {other_created}): journalsekvensnummer follows the order of "
           "creation within the year (M014)")),
    1: (N_("saksaar {year} of saksmappe {year}/{number} is not the year of its opprettetDato ({created}): "
           "saksaar is the year the saksmappe was created (M011)"),
        N_("sakssekvensnummer {year}/{number} is given twice (also the saksmappe at line {other_line})"),
        N_("saksmappe {year}/{number} was created ({created}) before saksmappe {year}/{other_number}, which "
           "has a lower sakssekvensnummer (created {other_created}): sakssekvensnummer follows the order of "
           "creation within the year (M012)")),
}


def _instant(value: str) -> tuple[int, int] | None:
    """(year as written, microseconds since 1970 UTC) of an xs:dateTime (or xs:date); None if unreadable.
    A value without an offset is read as UTC."""
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return None
    year = dt.year
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return year, (dt - _EPOCH) // _US


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class CreationOrder(Group):
    NAME = "creation_order"
    TESTS = (TEST,)
    END = {"registrering": "_e_registrering", "mappe": "_e_mappe"}
    VALUE = {"journalaar": FIELD_AT, "journalsekvensnummer": FIELD, "saksaar": FIELD_AT, "sakssekvensnummer": FIELD,
             "opprettetDato": FIELD, "journalpostnummer": FIELD}

    def active(self) -> bool:
        return self.cp.r.wants(TEST)

    def reset(self) -> None:
        self._close_db()
        self._dir: Path | None = None
        self._db: sqlite3.Connection | None = None
        self._rows: list[tuple] = []
        self.checked = [0, 0]  # journalposts, saksmapper
        self._in_mappe: dict[int, list[tuple]] = {}  # id(mappe frame) → (journalpostnummer, aar, seq, line, sid)
        self.jpnr_disorder = 0
        self.unsorted = 0  # journalregistreringer out of løpenummer order, in the journals

    # ------------------------------------------------------------------ the table

    def _open_db(self) -> sqlite3.Connection:
        if self._db is None:
            self._dir = Path(tempfile.mkdtemp(prefix="noarkpack-np06-"))
            weakref.finalize(self, shutil.rmtree, self._dir, True)  # also when validate stops half-way
            # the pass may run in a worker thread and the report in the caller's: one at a time, never together
            self._db = sqlite3.connect(self._dir / "numbers.sqlite", isolation_level=None, check_same_thread=False)
            for pragma in ("journal_mode = OFF", "synchronous = OFF", "cache_size = -16384"):
                self._db.execute(f"PRAGMA {pragma}")
            self._db.execute("CREATE TABLE n (kind INTEGER, aar INTEGER, seq INTEGER, ts INTEGER, line INTEGER, "
                             "sid TEXT, dato TEXT)")
        return self._db

    def _flush(self) -> None:
        if self._rows:
            db = self._open_db()
            db.execute("BEGIN")
            db.executemany("INSERT INTO n VALUES (?, ?, ?, ?, ?, ?, ?)", self._rows)
            db.execute("COMMIT")
            self._rows.clear()

    def _close_db(self) -> None:
        db = getattr(self, "_db", None)
        if db is not None:
            db.close()
        folder = getattr(self, "_dir", None)
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
        self._db = None
        self._dir = None

    def release(self) -> None:
        self._rows = []
        self._close_db()

    def export_state(self, workdir=None) -> dict:
        """The child's rows: a database file in ``workdir`` (the split pass), else the rows themselves."""
        state = {"checked": self.checked, "unsorted": self.unsorted, "jpnr_disorder": self.jpnr_disorder}
        self._flush()
        if workdir is None:
            state["rows"] = list(self._db.execute("SELECT * FROM n")) if self._db is not None else []
        elif self._db is not None:
            self._db.close()
            path = Path(workdir) / "np06.sqlite"
            shutil.move(str(self._dir / "numbers.sqlite"), path)
            self._db = None
            self._close_db()
            state["db"] = str(path)
        return state

    def merge(self, state: dict, read_lines) -> None:
        self.checked = [a + b for a, b in zip(self.checked, state["checked"])]
        self.unsorted += state["unsorted"]
        self.jpnr_disorder += state.get("jpnr_disorder", 0)
        if state.get("rows"):
            self._rows.extend(state["rows"])
            self._flush()
        if state.get("db"):
            self._flush()
            db = self._open_db()
            db.execute("ATTACH DATABASE ? AS theirs", (state["db"],))
            db.execute("INSERT INTO n SELECT * FROM theirs.n")
            db.execute("DETACH DATABASE theirs")

    # ------------------------------------------------------------------ the pass

    def _e_registrering(self, f: Frame) -> None:
        if f.type == "journalpost" and f.data is not None:
            self._element(f, 0)
            d = f.data
            nr, aar, seq = _int(d.get("journalpostnummer")), _int(d.get("journalaar")), _int(d.get("journalsekvensnummer"))
            if nr is not None and aar is not None and seq is not None and f.parent is not None:
                self._in_mappe.setdefault(id(f.parent), []).append((nr, aar, seq, f.line, f.sid))

    def _e_mappe(self, f: Frame) -> None:
        posts = self._in_mappe.pop(id(f), None)
        if posts:
            self._check_journalpostnummer(posts)
        if f.data is not None and "saksaar" in f.data:
            self._element(f, 1)

    def _check_journalpostnummer(self, posts: list[tuple]) -> None:
        """M015: within the mappe, journalpostnummer rises with løpenummer (journalaar, journalsekvensnummer)."""
        by_nr = sorted(posts)
        for (nr0, aar0, seq0, _l0, _s0), (nr, aar, seq, line, sid) in zip(by_nr, by_nr[1:]):
            if nr != nr0 and (aar, seq) < (aar0, seq0):
                self.jpnr_disorder += 1
                self.cp.add(TEST, "warning", tr("journalpost {year}/{number} has journalpostnummer {nr} but was created "
                                                "before journalpost {other_year}/{other_number} with journalpostnummer "
                                                "{other_nr}: journalpostnummer shows the order of the journalposts "
                                                "within the saksmappe (M015)", year=aar, number=seq, nr=nr,
                                                other_year=aar0, other_number=seq0, other_nr=nr0),
                            line=line, systemID=sid)

    def _element(self, f: Frame, kind: int) -> None:
        d = f.data
        _what, year_el, number_el = _KINDS[kind]
        aar, seq, dato = _int(d.get(year_el)), _int(d.get(number_el)), d.get("opprettetDato")
        created = _instant(dato) if dato else None
        if aar is None or seq is None or created is None:
            return  # missing or invalid: the schema test (N5.03) and N5.27 report it
        self.checked[kind] += 1
        year, ts = created
        if aar != year:
            self.add(TEST, "warning", tr(_MESSAGES[kind][0], year=aar, number=seq, created=dato),
                     f, line=d.get(f"{year_el}_line"))
        self._rows.append((kind, aar, seq, ts, f.line, f.sid, dato))
        if len(self._rows) >= _BATCH:
            self._flush()

    # ------------------------------------------------------------------ the journals (called by ..journals)

    def journal_handler(self, name: str):
        """A stream handler ``(ev, el, local)`` for loependeJournal.xml or offentligJournal.xml: each
        journalregistrering's løpenummer must not be lower than the one before it."""
        cur: dict = {}
        last: list = [None]

        def handler(ev, el, local):
            if ev != "end":
                return
            if local in ("journalaar", "journalsekvensnummer"):
                cur[local] = _int((el.text or "").strip())
            elif local == "journalregistrering":
                key = (cur.get("journalaar"), cur.get("journalsekvensnummer"))
                cur.clear()
                if None in key:
                    return
                if last[0] is not None and key < last[0]:
                    self.unsorted += 1
                    self.cp.r.add(TEST, "error", tr("{journal} is not sorted by løpenummer: journalpost {year}/{number} "
                                                    "follows {other_year}/{other_number} (krav 6.4.30: sorted by "
                                                    "journalår and sekvensnummer)", journal=name, year=key[0],
                                                    number=key[1], other_year=last[0][0], other_number=last[0][1]),
                                  file=name, line=el.sourceline)
                last[0] = key

        return handler

    # ------------------------------------------------------------------ after the pass

    def report(self, addml_name: str | None) -> None:
        r = self.cp.r
        r.mark_ran(TEST)
        self._flush()
        out_of_order = [0, 0]
        if self._db is not None:
            for kind in (0, 1):
                out_of_order[kind] = self._check_order(kind)
        jp, sm = self.checked
        if jp or sm:
            self.info(TEST, tr("journalposts checked: {journalposts}, out of creation order: {journalposts_late}; "
                               "saksmapper checked: {saksmapper}, out of creation order: {saksmapper_late}; "
                               "journalpostnummer out of order within their saksmappe: {jpnr_disorder}",
                               journalposts=jp, journalposts_late=out_of_order[0], saksmapper=sm,
                               saksmapper_late=out_of_order[1], jpnr_disorder=self.jpnr_disorder))

    def _check_order(self, kind: int) -> int:
        """Warn of each element created before one with a lower number of its year, and of numbers given twice."""
        twice_msg, late_msg = _MESSAGES[kind][1:]
        year = prev = latest = None  # latest: (ts, seq, dato) of the latest-created element so far in the year
        late = 0
        rows = self._db.execute("SELECT aar, seq, ts, line, sid, dato FROM n WHERE kind = ? ORDER BY aar, seq, ts, line",
                                (kind,))
        for aar, seq, ts, line, sid, dato in rows:
            if aar != year:
                year, prev, latest = aar, None, None
            if prev is not None and seq == prev[0]:
                self.cp.add(TEST, "warning", tr(twice_msg, year=aar, number=seq, other_line=prev[1]),
                            line=line, systemID=sid)
            if latest is not None and ts < latest[0]:
                late += 1
                self.cp.add(TEST, "warning", tr(late_msg, year=aar, number=seq, created=dato, other_number=latest[1],
                                                other_created=latest[2]), line=line, systemID=sid)
            else:
                latest = (ts, seq, dato)
            prev = (seq, line)
        return late
