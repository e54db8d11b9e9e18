"""The numbers a Noark 5 system gives at creation: saksaar/sakssekvensnummer and journalaar/journalsekvensnummer.

The standard defines them by the moment of creation (docs/mapping.md, "Numbers in creation order"):

* saksaar (M011) "viser året saksmappen ble opprettet", sakssekvensnummer (M012) "viser rekkefølgen når
  saksmappen ble opprettet innenfor året";
* journalaar (M013) "viser året journalposten ble opprettet", journalsekvensnummer (M014) "viser
  rekkefølgen når journalposten ble opprettet under året".

The moment of creation is the entity's opprettetDato (M600): the journal's ``opprettet`` for its
saksmappe, the entry's ``opprettet`` for a journalpost.  The year is that of the value as written in the
extract (its own wall clock and offset); within a year the order is that of the instants, ties broken by
the journal's key and then the entry's place in its journal, so the numbers are the same on every run.

A legacy EPJ has no such numbers, and its journals arrive grouped by patient, not in creation order:
:class:`Numbering` sorts them in one pass over the journals, keeping only keys, years and instants, in a
temporary SQLite database (an external sort: memory does not grow with the number of journals).  Build it
over every journal of the source, selected or not (``Project.numbering``), and hand the same numbering to
every writer: then a journal has the same numbers in a split extract (``--split-by arkivskaper``) as in the
whole one, and in a later deposit of the journals that are still open today.

:class:`NumbersInOrderAdded` is the writer's fallback when it is given no numbering: the numbers then follow
the order in which the journals are added (in creation order only if they are added in that order).
"""

from __future__ import annotations

import shutil
import sqlite3
import tempfile
import weakref
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path

from ..errors import ExtractError, ModelError
from ..locale import tr
from ..model.epj import Pasientjournal
from ..progress import Progress

_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
_US = timedelta(microseconds=1)
_BATCH = 5000


def instant_us(value: datetime) -> int:
    """``value`` as microseconds since 1970 UTC (a value without an offset is read as UTC)."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return (value - _EPOCH) // _US


@dataclass
class JournalNumbers:
    """One journal's numbers: its saksmappe's (saksaar, sakssekvensnummer) and, per correspondence entry
    (by innslag_id), its journalpost's (journalaar, journalsekvensnummer)."""

    saksmappe: tuple[int, int]
    journalposts: dict[str, tuple[int, int]] = field(default_factory=dict)


class Numbering:
    """saksaar/sakssekvensnummer and journalaar/journalsekvensnummer in creation order (see the module).

    Usage::

        with Numbering.build(journals) as numbering:    # one pass: keys and creation times only
            with ExtractWriter(out, settings, numbering=numbering) as w:
                for j in journals_again:                  # any order, any subset of what was numbered
                    w.add(j)

    or :meth:`add` each journal, then :meth:`finish`.  :meth:`numbers` looks a journal up.
    """

    def __init__(self, folder: str | Path | None = None) -> None:
        self._dir = Path(tempfile.mkdtemp(prefix="noarkpack-numbering-", dir=folder))
        weakref.finalize(self, shutil.rmtree, self._dir, True)  # a numbering left unclosed leaves nothing behind
        self._db = sqlite3.connect(self._dir / "numbering.sqlite", isolation_level=None)
        for pragma in ("journal_mode = OFF", "synchronous = OFF", "cache_size = -32768"):
            self._db.execute(f"PRAGMA {pragma}")
        self._db.executescript("""
            CREATE TABLE sm (journal_id TEXT PRIMARY KEY, aar INTEGER NOT NULL, ts INTEGER NOT NULL) WITHOUT ROWID;
            CREATE TABLE jp (journal_id TEXT NOT NULL, innslag_id TEXT NOT NULL, pos INTEGER NOT NULL,
                             aar INTEGER NOT NULL, ts INTEGER NOT NULL,
                             PRIMARY KEY (journal_id, innslag_id)) WITHOUT ROWID;
        """)
        self._db.execute("BEGIN")
        self._sm: list[tuple] = []
        self._jp: list[tuple] = []
        self._finished = False
        self.saksmapper = 0  #: journals numbered
        self.journalposter = 0  #: correspondence entries numbered

    @classmethod
    def build(cls, journals: Iterable[Pasientjournal], *, progress: Progress | None = None,
              total: int | None = None, folder: str | Path | None = None) -> Numbering:
        """Number ``journals`` (one pass); ``progress("numbering", done, total)`` per journal."""
        n = cls(folder)
        try:
            for done, j in enumerate(journals, start=1):
                n.add(j)
                if progress is not None:
                    progress("numbering", done, total)
            return n.finish()
        except BaseException:
            n.close()
            raise

    def add(self, journal: Pasientjournal) -> None:
        """Record a journal's creation time and those of its correspondence entries (journalposts).

        Open journals are numbered too: a Noark 5 system numbers a saksmappe when it is created.  A journal
        or entry without a creation time is left out (it cannot be extracted: the writer says so).
        """
        if self._finished:
            raise ExtractError("the numbering is finished: add every journal before finish()")
        if journal.opprettet is None:
            return
        self._sm.append((journal.journal_id, journal.opprettet.year, instant_us(journal.opprettet)))
        for pos, i in enumerate(journal.innslag):
            if i.korrespondanse is not None and i.opprettet is not None:
                self._jp.append((journal.journal_id, i.innslag_id, pos, i.opprettet.year, instant_us(i.opprettet)))
        if len(self._sm) >= _BATCH or len(self._jp) >= _BATCH:
            self._flush()

    def _flush(self) -> None:
        self._db.execute("SAVEPOINT batch")
        try:
            self._db.executemany("INSERT INTO sm VALUES (?, ?, ?)", self._sm)
            self._db.executemany("INSERT INTO jp VALUES (?, ?, ?, ?, ?)", self._jp)
        except sqlite3.IntegrityError:
            self._db.execute("ROLLBACK TO batch")
            raise self._duplicate() from None
        self._db.execute("RELEASE batch")
        self.saksmapper += len(self._sm)
        self.journalposter += len(self._jp)
        self._sm.clear()
        self._jp.clear()

    def _duplicate(self) -> ModelError:
        """The error for a key seen twice: in the batch that failed, or before it (rolled back)."""
        for rows, table, cols, n in ((self._sm, "sm", "journal_id = ?", 1),
                                     (self._jp, "jp", "journal_id = ? AND innslag_id = ?", 2)):
            seen: set = set()
            for row in rows:
                key = row[:n]
                if key in seen or self._db.execute(f"SELECT 1 FROM {table} WHERE {cols}", key).fetchone():
                    if n == 1:
                        return ModelError(tr("journal_id occurs twice in the source"), record=f"journal {key[0]}",
                                          hint=tr("every journal needs a key of its own (its systemIDs derive "
                                                  "from it)"))
                    return ModelError(tr("innslag_id occurs twice in the journal"),
                                      record=tr("journal {journal}, entry {entry}", journal=key[0], entry=key[1]),
                                      hint=tr("every entry of a journal needs a key of its own"))
                seen.add(key)
        return ModelError(tr("a journal or entry key occurs twice in the source"))

    def finish(self) -> Numbering:
        """Assign the numbers: per year, by creation instant, then journal key, then the entry's place."""
        if self._finished:
            return self
        self._flush()
        self._db.execute("COMMIT")
        self._db.executescript("""
            CREATE TABLE sm_n (journal_id TEXT PRIMARY KEY, aar INTEGER NOT NULL, seq INTEGER NOT NULL) WITHOUT ROWID;
            INSERT INTO sm_n SELECT journal_id, aar, row_number() OVER (PARTITION BY aar ORDER BY ts, journal_id)
                FROM sm;
            DROP TABLE sm;
            CREATE TABLE jp_n (journal_id TEXT NOT NULL, innslag_id TEXT NOT NULL, aar INTEGER NOT NULL,
                               seq INTEGER NOT NULL, PRIMARY KEY (journal_id, innslag_id)) WITHOUT ROWID;
            INSERT INTO jp_n SELECT journal_id, innslag_id, aar,
                row_number() OVER (PARTITION BY aar ORDER BY ts, journal_id, pos) FROM jp;
            DROP TABLE jp;
        """)
        self._finished = True
        return self

    def numbers(self, journal: Pasientjournal) -> JournalNumbers:
        """The numbers of a journal that was numbered (ExtractError if it was not)."""
        if not self._finished:
            raise ExtractError("the numbering is not finished: call finish() before looking journals up")
        jid = journal.journal_id
        row = self._db.execute("SELECT aar, seq FROM sm_n WHERE journal_id = ?", (jid,)).fetchone()
        if row is None:
            raise ExtractError(tr("the journal is not in the numbering"), record=f"journal {jid}",
                               hint=tr("build the Numbering over every journal the extract may hold (all of the "
                                       "source's journals: Project.numbering())"))
        out = JournalNumbers((row[0], row[1]))
        for iid, aar, seq in self._db.execute("SELECT innslag_id, aar, seq FROM jp_n WHERE journal_id = ?", (jid,)):
            out.journalposts[iid] = (aar, seq)
        for i in journal.innslag:
            if i.korrespondanse is not None and i.innslag_id not in out.journalposts:
                raise ExtractError(tr("a correspondence entry of the journal is not in the numbering"),
                                   record=tr("journal {journal}, entry {entry}", journal=jid, entry=i.innslag_id),
                                   hint=tr("build the Numbering from the same journals the extract is written "
                                           "from"))
        return out

    def close(self) -> None:
        """Remove the temporary database."""
        db, self._db = getattr(self, "_db", None), None
        if db is not None:
            db.close()
        shutil.rmtree(self._dir, ignore_errors=True)

    def __enter__(self) -> Numbering:
        return self

    def __exit__(self, *exc) -> None:
        self.close()



class NumbersInOrderAdded:
    """The writer's numbering when it is given none: running numbers per creation year, in the order the
    journals are added (and their entries within each).  In creation order only if the journals are added
    in that order; ``validate`` (NP.06) reports where they are not."""

    def __init__(self) -> None:
        self._saks: dict[int, int] = {}
        self._journal: dict[int, int] = {}

    def numbers(self, journal: Pasientjournal) -> JournalNumbers:
        year = journal.opprettet.year
        self._saks[year] = self._saks.get(year, 0) + 1
        out = JournalNumbers((year, self._saks[year]))
        for i in journal.innslag:
            if i.korrespondanse is not None:
                y = i.opprettet.year
                self._journal[y] = self._journal.get(y, 0) + 1
                out.journalposts[i.innslag_id] = (y, self._journal[y])
        return out


__all__ = ["JournalNumbers", "Numbering", "NumbersInOrderAdded", "instant_us"]
