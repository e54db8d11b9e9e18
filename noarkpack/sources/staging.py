"""The staging database: one SQLite file in the deposit project (docs/migration.md).

``noarkpack import`` fills it from the legacy export through the mapping in
noarkpack.toml; analysis and extraction read it back with streaming queries.
The schema is versioned with ``PRAGMA user_version``; the database holds
derived data only (the export is the source), so an older database is
upgraded by importing again.

Reading never loads all rows: :meth:`StagingDB.journals` walks the journals
ordered by patient (so each patient's journals are consecutive, as the
extract writer needs) and fetches each journal's entries, documents and the
rest with one small query per table.

Writing: :func:`new_database` sets up a new database (schema, arkivskapere) for the importer
(:mod:`noarkpack.sources.importer`) and for :func:`stage_journals`, which stages model objects directly.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import unicodedata
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Iterable, Iterator, Protocol

from .._version import __version__
from ..errors import SourceError
from ..locale import tr
from ..model.epj import (
    Avskrivning,
    Diagnose,
    Dokumentfil,
    Endring,
    InnslagSkjerming,
    Journalinnslag,
    Korrespondanse,
    Korrespondansepart,
    Merknad,
    Pasient,
    Pasientjournal,
)
from ..model.noark5 import ArkivskaperInfo
from .content_store import PREFIX as STORED_PREFIX
from .content_store import ContentStore


class _Declares(Protocol):
    """What :func:`stage_journals` reads of its ``settings`` (an ExtractSettings): the declared arkivskapere."""

    arkivskapere: tuple[ArkivskaperInfo, ...]


#: PRAGMA user_version of the schema this noarkpack writes and reads (2: innslag.opprettet_av, innslag.avskrivning_*;
#: 3: pasient.skjult_adresse / skjult_navn NULL where the source records nothing)
SCHEMA_VERSION = 3

#: data tables in dependency order (parents first); the import fills them in this order
DATA_TABLES = ("pasient", "pasientjournal", "innslag", "dokument", "korrespondansepart", "endring", "merknad",
               "diagnose")
#: bookkeeping tables of the last import
LOG_TABLES = ("import_run", "import_file", "rejected", "unmapped")

# Every data row keeps where it came from (src_file, src_line) and its place in the export (seq:
# a running number over the whole import, so children keep the export's order).
SCHEMA = """
CREATE TABLE arkivskaper (
    key TEXT PRIMARY KEY, id TEXT NOT NULL, navn TEXT NOT NULL, beskrivelse TEXT
);
CREATE TABLE pasient (
    pasient_id TEXT PRIMARY KEY, fodselsnummer TEXT, navn TEXT, kjonn TEXT, fodselsdato TEXT, dodsdato TEXT,
    dodsdato_ukjent INTEGER NOT NULL DEFAULT 0, skjult_adresse INTEGER, skjult_navn INTEGER,
    seq INTEGER NOT NULL, src_file TEXT NOT NULL, src_line INTEGER NOT NULL
);
CREATE INDEX pasient_fnr ON pasient (fodselsnummer);
CREATE TABLE pasientjournal (
    journal_id TEXT PRIMARY KEY, pasient_id TEXT NOT NULL REFERENCES pasient (pasient_id),
    arkivskaper TEXT NOT NULL, journalsted TEXT, journalansvarlig TEXT, opprettet TEXT, opprettet_av TEXT,
    avsluttet TEXT, avsluttet_av TEXT,
    seq INTEGER NOT NULL, src_file TEXT NOT NULL, src_line INTEGER NOT NULL
);
CREATE INDEX journal_by_patient ON pasientjournal (pasient_id, seq);
CREATE INDEX journal_by_arkivskaper ON pasientjournal (arkivskaper, pasient_id, seq);
CREATE TABLE innslag (
    journal_id TEXT NOT NULL REFERENCES pasientjournal (journal_id), innslag_id TEXT NOT NULL,
    type TEXT, tittel TEXT, forfatter TEXT, opprettet TEXT, opprettet_av TEXT, arkivert TEXT, arkivert_av TEXT,
    skjerming_tilgangsrestriksjon TEXT, skjerming_hjemmel TEXT, skjerming_metadata TEXT, skjerming_dokument TEXT,
    korrespondanse_type TEXT, korrespondanse_dato TEXT,
    avskrivning_maate TEXT, avskrivning_dato TEXT, avskrivning_av TEXT, avskrivning_innslag TEXT,
    seq INTEGER NOT NULL, src_file TEXT NOT NULL, src_line INTEGER NOT NULL,
    PRIMARY KEY (journal_id, innslag_id)
);
CREATE INDEX innslag_by_id ON innslag (innslag_id);
CREATE INDEX innslag_by_journal ON innslag (journal_id, seq);
CREATE TABLE dokument (
    journal_id TEXT NOT NULL, innslag_id TEXT NOT NULL, fil TEXT NOT NULL, fil_norm TEXT NOT NULL,
    tittel TEXT, tilknyttet_som TEXT, format TEXT, nr INTEGER,
    seq INTEGER NOT NULL, src_file TEXT NOT NULL, src_line INTEGER NOT NULL,
    PRIMARY KEY (journal_id, innslag_id, fil),
    FOREIGN KEY (journal_id, innslag_id) REFERENCES innslag (journal_id, innslag_id)
);
CREATE INDEX dokument_by_journal ON dokument (journal_id, seq);
CREATE INDEX dokument_by_file ON dokument (fil_norm);
CREATE TABLE korrespondansepart (
    journal_id TEXT NOT NULL, innslag_id TEXT NOT NULL, type TEXT NOT NULL, navn TEXT NOT NULL,
    seq INTEGER NOT NULL, src_file TEXT NOT NULL, src_line INTEGER NOT NULL,
    PRIMARY KEY (journal_id, innslag_id, type, navn)
);
CREATE INDEX part_by_journal ON korrespondansepart (journal_id, seq);
CREATE TABLE endring (
    journal_id TEXT NOT NULL, innslag_id TEXT NOT NULL, felt TEXT NOT NULL, tidligere TEXT, ny TEXT,
    dato TEXT NOT NULL, av TEXT,
    seq INTEGER NOT NULL, src_file TEXT NOT NULL, src_line INTEGER NOT NULL,
    PRIMARY KEY (journal_id, innslag_id, felt, dato)
);
CREATE INDEX endring_by_journal ON endring (journal_id, seq);
CREATE TABLE merknad (
    journal_id TEXT NOT NULL, tekst TEXT NOT NULL, dato TEXT NOT NULL, registrert_av TEXT, type TEXT,
    seq INTEGER NOT NULL, src_file TEXT NOT NULL, src_line INTEGER NOT NULL,
    PRIMARY KEY (journal_id, dato, tekst)
);
CREATE TABLE diagnose (
    journal_id TEXT NOT NULL, kode TEXT NOT NULL, kodeverk TEXT NOT NULL, tekst TEXT, dato TEXT,
    seq INTEGER NOT NULL, src_file TEXT NOT NULL, src_line INTEGER NOT NULL,
    PRIMARY KEY (journal_id, kodeverk, kode, dato)
);
CREATE TABLE import_run (
    id INTEGER PRIMARY KEY, started TEXT NOT NULL, finished TEXT NOT NULL, noarkpack TEXT NOT NULL,
    mapping_sha256 TEXT NOT NULL, rows_read INTEGER NOT NULL, rows_imported INTEGER NOT NULL,
    rows_rejected INTEGER NOT NULL
);
CREATE TABLE import_file (
    path TEXT PRIMARY KEY, format TEXT NOT NULL, encoding TEXT, size INTEGER NOT NULL, mtime_ns INTEGER NOT NULL,
    sha256 TEXT NOT NULL, rows_read INTEGER NOT NULL, rows_imported INTEGER NOT NULL, rows_rejected INTEGER NOT NULL
);
CREATE TABLE rejected (
    file TEXT NOT NULL, line INTEGER NOT NULL, tabell TEXT NOT NULL, record TEXT, reason TEXT NOT NULL
);
CREATE TABLE unmapped (
    tabell TEXT NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL, value_map TEXT NOT NULL,
    rows INTEGER NOT NULL, first_file TEXT NOT NULL, first_line INTEGER NOT NULL,
    PRIMARY KEY (tabell, field, value)
);
"""

_ORDERED_DUMP = {
    "arkivskaper": "key", "pasient": "pasient_id", "pasientjournal": "journal_id",
    "innslag": "journal_id, innslag_id", "dokument": "journal_id, innslag_id, fil",
    "korrespondansepart": "journal_id, innslag_id, type, navn", "endring": "journal_id, innslag_id, felt, dato",
    "merknad": "journal_id, dato, tekst", "diagnose": "journal_id, kodeverk, kode, dato",
    "rejected": "file, line, tabell, reason", "unmapped": "tabell, field, value",
}


class StagingError(SourceError):
    """The staging database is missing, stale, or of another schema version."""


def _project(project_root: Path | None) -> str:
    return str(project_root) if project_root is not None else "PROJECT"


def import_hint(project_root: Path | None) -> str:
    return tr("run `noarkpack import {project}`", project=_project(project_root))


def create_schema(conn: sqlite3.Connection) -> None:
    conn.executescript(SCHEMA)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def new_database(path: Path, arkivskapere: Iterable[ArkivskaperInfo]) -> sqlite3.Connection:
    """A new staging database at ``path`` (a private file nobody reads before the caller is done with it): the
    schema and the arkivskapere, open in a transaction that the caller fills and commits (``COMMIT``)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = OFF")  # a private new file: the import's atomicity is its rename
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA cache_size = -65536")
        conn.execute("PRAGMA temp_store = FILE")
        create_schema(conn)  # executescript commits: before the transaction
        conn.execute("BEGIN")
        for a in arkivskapere:
            conn.execute("INSERT INTO arkivskaper VALUES (?, ?, ?, ?)", (a.key, a.id, a.navn, a.beskrivelse))
    except BaseException:
        conn.close()
        raise
    return conn


def normalise_path(fil: str) -> str:
    """A document path as ``dokument.fil_norm`` holds it: NFC, ``/``-separated, without a leading ``./``."""
    p = unicodedata.normalize("NFC", fil.replace("\\", "/"))
    while p.startswith("./"):
        p = p[2:]
    return p


def schema_version(path: Path) -> int:
    """The file's PRAGMA user_version; 0 for a file that is not an SQLite database."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error:
        return 0
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError:
        return 0
    finally:
        conn.close()


def check_version(path: Path, version: int, project_root: Path | None) -> None:
    if version == SCHEMA_VERSION:
        return
    if version == 0:
        raise StagingError(tr("the file is not a noarkpack staging database (no schema version)"), file=path,
                           hint=tr("remove it or point [import] database elsewhere, then run `noarkpack import "
                                   "{project}`", project=_project(project_root)))
    if version < SCHEMA_VERSION:
        raise StagingError(tr("the staging database has schema version {version}, this noarkpack reads version "
                              "{supported}", version=version, supported=SCHEMA_VERSION), file=path,
                           hint=tr("it holds only imported data: run `noarkpack import {project}` to rebuild it "
                                   "from the export", project=_project(project_root)))
    raise StagingError(tr("the staging database has schema version {version}, newer than this noarkpack "
                          "({supported})", version=version, supported=SCHEMA_VERSION), file=path,
                       hint=tr("upgrade noarkpack (pip install -U noarkpack), or remove the file and run "
                               "`noarkpack import {project}` with this version", project=_project(project_root)))


def _flag(value: int | None) -> bool | None:
    """A three-state flag from its column: NULL is "the source records nothing" (never false)."""
    return None if value is None else bool(value)


def _flag_int(value: bool | None) -> int | None:
    return None if value is None else int(value)


def _d(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _dt(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


class StagingDB:
    """Read access to a staging database (opened read-only)."""

    def __init__(self, path: Path, *, project_root: Path | None = None) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise StagingError(tr("the staging database does not exist yet"), file=self.path,
                               hint=import_hint(project_root))
        check_version(self.path, schema_version(self.path), project_root)
        self.conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        self.conn.row_factory = sqlite3.Row

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> StagingDB:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- facts -------------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        return {t: self.conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in (*DATA_TABLES, "rejected", "unmapped")}

    def last_run(self) -> sqlite3.Row | None:
        return self.conn.execute("SELECT * FROM import_run ORDER BY id DESC LIMIT 1").fetchone()

    def imported_files(self) -> list[sqlite3.Row]:
        return self.conn.execute("SELECT * FROM import_file ORDER BY path").fetchall()

    def journal_count(self, arkivskaper: str | None = None) -> int:
        if arkivskaper is None:
            return self.conn.execute("SELECT count(*) FROM pasientjournal").fetchone()[0]
        return self.conn.execute("SELECT count(*) FROM pasientjournal WHERE arkivskaper = ?",
                                 (arkivskaper,)).fetchone()[0]

    def arkivskapere_with_journals(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT DISTINCT arkivskaper FROM pasientjournal ORDER BY 1")]

    # -- journals ------------------------------------------------------------------------------

    def journals(self, *, arkivskaper: str | None = None) -> Iterator[Pasientjournal]:
        """Every staged journal as a model object, grouped by patient, streamed.

        Each journal carries ``source_file``/``source_line`` (where its row was in the export).
        """
        sql = ("SELECT j.*, p.fodselsnummer, p.navn, p.kjonn, p.fodselsdato, p.dodsdato, p.dodsdato_ukjent, "
               "p.skjult_adresse, p.skjult_navn FROM pasientjournal j JOIN pasient p USING (pasient_id)")
        args: tuple = ()
        if arkivskaper is not None:
            sql += " WHERE j.arkivskaper = ?"
            args = (arkivskaper,)
        sql += " ORDER BY j.pasient_id, j.seq"
        outer = self.conn.cursor()
        outer.arraysize = 256
        outer.execute(sql, args)
        while True:
            rows = outer.fetchmany()
            if not rows:
                break
            for r in rows:
                yield self._journal(r)

    def _stored(self, fil: str) -> str | None:
        """The content store file of a document whose bytes came from the source (see content_store)."""
        if not fil.startswith(STORED_PREFIX):
            return None
        return str(ContentStore.beside(self.path).path_of(fil))

    def _journal(self, r: sqlite3.Row) -> Pasientjournal:
        c = self.conn
        jid = r["journal_id"]
        docs: dict[str, list[Dokumentfil]] = {}
        for d in c.execute("SELECT innslag_id, fil, tittel, tilknyttet_som, format FROM dokument "
                           "WHERE journal_id = ? ORDER BY coalesce(nr, 0), seq", (jid,)):
            docs.setdefault(d[0], []).append(Dokumentfil(fil=d[1], tittel=d[2], tilknyttet_som=d[3], format=d[4],
                                                         innhold=self._stored(d[1])))
        parts: dict[str, list[Korrespondansepart]] = {}
        for p in c.execute("SELECT innslag_id, type, navn FROM korrespondansepart WHERE journal_id = ? ORDER BY seq",
                           (jid,)):
            parts.setdefault(p[0], []).append(Korrespondansepart(type=p[1], navn=p[2]))
        changes: dict[str, list[Endring]] = {}
        for e in c.execute("SELECT innslag_id, felt, tidligere, ny, dato, av FROM endring WHERE journal_id = ? "
                           "ORDER BY seq", (jid,)):
            changes.setdefault(e[0], []).append(Endring(felt=e[1], tidligere=e[2], ny=e[3], dato=_dt(e[4]), av=e[5]))
        innslag = []
        for i in c.execute("SELECT * FROM innslag WHERE journal_id = ? ORDER BY seq", (jid,)):
            iid = i["innslag_id"]
            skj = None
            if i["skjerming_tilgangsrestriksjon"] or i["skjerming_hjemmel"] or i["skjerming_metadata"]:
                skj = InnslagSkjerming(tilgangsrestriksjon=i["skjerming_tilgangsrestriksjon"],
                                       hjemmel=i["skjerming_hjemmel"],
                                       metadata=[m for m in (i["skjerming_metadata"] or "").split("\x1f") if m],
                                       dokument=i["skjerming_dokument"])
            korr = None
            avskr = None
            if i["avskrivning_maate"] or i["avskrivning_dato"] or i["avskrivning_av"] or i["avskrivning_innslag"]:
                avskr = Avskrivning(maate=i["avskrivning_maate"], dato=_d(i["avskrivning_dato"]),
                                    av=i["avskrivning_av"], innslag_id=i["avskrivning_innslag"])
            if i["korrespondanse_type"] or parts.get(iid) or avskr is not None:
                korr = Korrespondanse(type=i["korrespondanse_type"], dato=_d(i["korrespondanse_dato"])
                                      or (_dt(i["opprettet"]).date() if i["opprettet"] else None),
                                      parter=parts.get(iid, []), avskrivning=avskr)
            innslag.append(Journalinnslag(
                innslag_id=iid, type=i["type"], tittel=i["tittel"], forfatter=i["forfatter"],
                opprettet=_dt(i["opprettet"]), arkivert=_dt(i["arkivert"]), arkivert_av=i["arkivert_av"],
                skjerming=skj, korrespondanse=korr, dokumenter=docs.get(iid, []), endringer=changes.get(iid, []),
                opprettet_av=i["opprettet_av"]))
        merknader = [Merknad(tekst=m[0], dato=_dt(m[1]), registrert_av=m[2], type=m[3]) for m in c.execute(
            "SELECT tekst, dato, registrert_av, type FROM merknad WHERE journal_id = ? ORDER BY seq", (jid,))]
        diagnoser = [Diagnose(kode=d[0], kodeverk=d[1], tekst=d[2], dato=_d(d[3])) for d in c.execute(
            "SELECT kode, kodeverk, tekst, dato FROM diagnose WHERE journal_id = ? ORDER BY seq", (jid,))]
        pasient = Pasient(
            pasient_id=r["pasient_id"], navn=r["navn"], kjonn=r["kjonn"], fodselsnummer=r["fodselsnummer"],
            fodselsdato=_d(r["fodselsdato"]), dodsdato=_d(r["dodsdato"]), dodsdato_ukjent=bool(r["dodsdato_ukjent"]),
            skjult_adresse=_flag(r["skjult_adresse"]), skjult_navn=_flag(r["skjult_navn"]))
        j = Pasientjournal(
            journal_id=jid, arkivskaper=r["arkivskaper"], journalsted=r["journalsted"],
            journalansvarlig=r["journalansvarlig"], opprettet=_dt(r["opprettet"]), opprettet_av=r["opprettet_av"],
            avsluttet=_dt(r["avsluttet"]), avsluttet_av=r["avsluttet_av"], pasient=pasient, innslag=innslag,
            merknader=merknader, diagnoser=diagnoser)
        j.source_file = r["src_file"]  # type: ignore[attr-defined]
        j.source_line = r["src_line"]  # type: ignore[attr-defined]
        return j


def stage_journals(path: Path, journals: Iterable[Pasientjournal], settings: _Declares | None = None,
                   source: str = "journals") -> dict[str, int]:
    """Write journals (model objects) into a new staging database at ``path`` (for analysis of a
    project that reads noarkpack's JSON Lines directly, or for a migration script)."""
    conn = new_database(path, settings.arkivskapere if settings is not None else ())
    try:
        seq = 0

        def ins(table: str, values: dict, line: int) -> None:
            nonlocal seq
            seq += 1
            cols = list(values)
            conn.execute(f"INSERT INTO {table} ({', '.join(cols)}, seq, src_file, src_line) "
                         f"VALUES ({', '.join('?' * (len(cols) + 3))}) ON CONFLICT DO NOTHING",
                         (*values.values(), seq, source, line))

        def iso(v):
            return v.isoformat() if v is not None else None

        for j in journals:
            line = getattr(j, "source_line", 0) or 0
            p = j.pasient
            ins("pasient", dict(pasient_id=p.pasient_id, fodselsnummer=p.fodselsnummer, navn=p.navn, kjonn=p.kjonn,
                                fodselsdato=iso(p.fodselsdato), dodsdato=iso(p.dodsdato),
                                dodsdato_ukjent=int(p.dodsdato_ukjent), skjult_adresse=_flag_int(p.skjult_adresse),
                                skjult_navn=_flag_int(p.skjult_navn)), line)
            ins("pasientjournal", dict(journal_id=j.journal_id, pasient_id=p.pasient_id, arkivskaper=j.arkivskaper,
                                       journalsted=j.journalsted, journalansvarlig=j.journalansvarlig,
                                       opprettet=iso(j.opprettet), opprettet_av=j.opprettet_av,
                                       avsluttet=iso(j.avsluttet), avsluttet_av=j.avsluttet_av), line)
            for i in j.innslag:
                s, k = i.skjerming, i.korrespondanse
                a = k.avskrivning if k else None
                ins("innslag", dict(
                    journal_id=j.journal_id, innslag_id=i.innslag_id, type=i.type, tittel=i.tittel,
                    forfatter=i.forfatter, opprettet=iso(i.opprettet), opprettet_av=i.opprettet_av,
                    arkivert=iso(i.arkivert), arkivert_av=i.arkivert_av, skjerming_tilgangsrestriksjon=s.tilgangsrestriksjon if s else None,
                    skjerming_hjemmel=s.hjemmel if s else None,
                    skjerming_metadata="\x1f".join(s.metadata) if s else None,
                    skjerming_dokument=s.dokument if s else None, korrespondanse_type=k.type if k else None,
                    korrespondanse_dato=iso(k.dato) if k else None,
                    avskrivning_maate=a.maate if a else None, avskrivning_dato=iso(a.dato) if a else None,
                    avskrivning_av=a.av if a else None, avskrivning_innslag=a.innslag_id if a else None), line)
                for n, d in enumerate(i.dokumenter, start=1):
                    ins("dokument", dict(journal_id=j.journal_id, innslag_id=i.innslag_id, fil=d.fil,
                                         fil_norm=normalise_path(d.fil), tittel=d.tittel,
                                         tilknyttet_som=d.tilknyttet_som, format=d.format, nr=n), line)
                for part in (k.parter if k else []):
                    ins("korrespondansepart", dict(journal_id=j.journal_id, innslag_id=i.innslag_id, type=part.type,
                                                   navn=part.navn), line)
                for e in i.endringer:
                    ins("endring", dict(journal_id=j.journal_id, innslag_id=i.innslag_id, felt=e.felt,
                                        tidligere=e.tidligere, ny=e.ny, dato=iso(e.dato), av=e.av), line)
            for m in j.merknader:
                ins("merknad", dict(journal_id=j.journal_id, tekst=m.tekst, dato=iso(m.dato),
                                    registrert_av=m.registrert_av, type=m.type), line)
            for d in j.diagnoser:
                ins("diagnose", dict(journal_id=j.journal_id, kode=d.kode, kodeverk=d.kodeverk, tekst=d.tekst,
                                     dato=iso(d.dato)), line)
        conn.execute("INSERT INTO import_run (started, finished, noarkpack, mapping_sha256, rows_read, "
                     "rows_imported, rows_rejected) VALUES (?, ?, ?, '', ?, ?, 0)",
                     (datetime.now(timezone.utc).isoformat(), datetime.now(timezone.utc).isoformat(), __version__,
                      seq, seq))
        conn.execute("COMMIT")
        return {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in DATA_TABLES}
    finally:
        conn.close()


def dump_digest(path: Path, *, data_only: bool = False) -> str:
    """SHA-256 over every row in key order (tests: "the database is unchanged").

    ``data_only`` leaves out the import log (import_run, import_file), which records each run's time.
    A missing file digests as the empty string's hash, so "did not exist, still does not" compares equal.
    """
    h = hashlib.sha256()
    if not Path(path).exists():
        return h.hexdigest()
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        h.update(str(conn.execute("PRAGMA user_version").fetchone()[0]).encode())
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        for t in tables:
            if data_only and t in ("import_run", "import_file"):
                continue
            order = _ORDERED_DUMP.get(t, "rowid")
            h.update(f"\x1e{t}".encode())
            for row in conn.execute(f"SELECT * FROM {t} ORDER BY {order}"):
                h.update(repr(tuple(row)).encode())
    finally:
        conn.close()
    return h.hexdigest()


def file_fingerprint(path: Path) -> tuple[int, int]:
    st = os.stat(path)
    return st.st_size, st.st_mtime_ns
