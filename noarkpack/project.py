"""The deposit project: a folder with ``noarkpack.toml``, the export and the documents.

See examples/omsorg/noarkpack.toml for a complete file.  :func:`load_project`
reads and checks it and gives the :class:`~noarkpack.noark5.settings.ExtractSettings`
and the journal source, which is one of:

* ``[import]`` (a legacy export and its mapping, docs/migration.md): the
  journals are read from the staging database that ``noarkpack import``
  fills.  Until it is imported, or when the export or the mapping changed
  since, reading says exactly what to run (``noarkpack import PROJECT``).
* ``[project] source``: a file in noarkpack's own JSON Lines format
  (docs/source-format.md), read directly.

:meth:`Project.selected_journals` applies the selection rules (``[selection]``);
:meth:`Project.journals` gives every journal, selected or not.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Callable, Iterator

from .errors import ConfigError
from .locale import tr
from .model.epj import Pasientjournal
from .model.selection import SelectionRules
from .noark5.numbering import Numbering
from .noark5.settings import ArkivskaperInfo, ExtractSettings
from .progress import Progress
from .sources.freshness import check_fresh
from .sources.import_report import ImportRejected, ImportReport
from .sources.importer import import_export
from .sources.mapping import ImportMapping, parse_import
from .sources.staging import SCHEMA_VERSION, StagingDB, StagingError, schema_version

PROJECT_FILE = "noarkpack.toml"


@dataclass
class ConversionSettings:
    """``[conversion]`` of noarkpack.toml: documents not in an archival format are converted to PDF/A."""

    enabled: bool = True
    timeout: float = 120.0  # seconds per file
    workers: int | None = None  # default: one per core
    allow_unconverted: bool = False  # keep (and list) what cannot be converted instead of refusing
    cache: Path | None = None  # default: PROJECT/.noarkpack/konvertert


@dataclass
class Project:
    root: Path
    name: str
    settings: ExtractSettings
    source: Path  # the JSON Lines source, or (with [import]) the staging database
    config: dict[str, Any]
    conversion: ConversionSettings
    import_mapping: ImportMapping | None = None  # when the project has [import]
    selection: SelectionRules = SelectionRules()
    last_import: ImportReport | None = None  # the report of an automatic import, if one ran

    @property
    def uses_staging(self) -> bool:
        """True when the journals come from the staging database (``[import]``)."""
        return self.import_mapping is not None

    @property
    def database(self) -> Path | None:
        return self.import_mapping.database if self.import_mapping is not None else None

    #: commands that read the staging database import first when it is missing or older than the
    #: export or the mapping (the import is deterministic and atomic); False: say what to run instead
    auto_import: bool = True

    def import_export(self, progress: Progress | None = None) -> ImportReport:
        """Import the legacy export into the staging database through ``[import]`` (``noarkpack import``).

        An ImportReport (exit_code 1 when rows were rejected); raises NoarkpackError when the import cannot
        run (the database is then unchanged), ConfigError when the project has no ``[import]``.
        """
        if self.import_mapping is None:
            raise ConfigError(tr("the project has no [import] table: its journals are read directly from "
                                 "[project] source (noarkpack's JSON Lines format), so there is nothing to import"),
                              file=self.root / PROJECT_FILE,
                              hint=tr("describe a legacy export in [import] (docs/migration.md) to import it"))
        return import_export(self.import_mapping, self.settings.arkivskapere, project_root=self.root,
                             progress=progress)

    def staging(self, *, auto_import: bool | None = None) -> StagingDB:
        """The staging database, open for reading.

        When it is missing, or older than the export or the mapping, the export is imported first
        (``auto_import``, default on) or a StagingError says to run ``noarkpack import PROJECT``.  An
        automatic import that rejects rows raises :class:`~noarkpack.sources.import_report.ImportRejected`
        (the rows are listed by ``noarkpack import`` and ``noarkpack analyse``).  A database of a newer
        schema, or a file that is not a staging database, is never replaced automatically.
        """
        mapping = self.import_mapping
        if mapping is None:
            raise ConfigError(tr("the project has no [import] table, so it has no staging database"),
                              file=self.root / PROJECT_FILE)
        auto = self.auto_import if auto_import is None else auto_import
        try:
            check_fresh(mapping, self.root)
        except StagingError:
            db = mapping.database
            if not auto:
                raise
            if db.exists():
                version = schema_version(db)
                if version == 0 or version > SCHEMA_VERSION:
                    raise  # not ours, or newer: never replaced behind the user's back
            report = self.import_export()
            self.last_import = report
            if report.rejected_total:
                first = report.rejected[0]
                raise ImportRejected(tr("the import rejected {count} row(s) of the export (first: {file}:{line}: {reason})",
                                        count=report.rejected_total, file=first.file, line=first.line,
                                        reason=first.reason), file=db,
                                     hint=tr("run `noarkpack import {project}` to list them; fix the export or "
                                             "the mapping", project=str(self.root))) from None
        return StagingDB(mapping.database, project_root=self.root)

    def conversion_cache(self):
        """The project's cache of converted documents (None when conversion is off)."""
        from .conversion import ConversionCache

        if not self.conversion.enabled:
            return None
        folder = self.conversion.cache or self.root / ".noarkpack" / "konvertert"
        return ConversionCache(folder, timeout=self.conversion.timeout)

    @property
    def identification_store(self) -> Path:
        """Where the project keeps its documents' identifications between runs (see documents.py)."""
        return self.root / ".noarkpack" / "identification.sqlite"

    def journals(self, *, arkivskaper: str | None = None) -> Iterator[Pasientjournal]:
        """Every journal of the project (selected or not), grouped by patient, streamed.

        ``arkivskaper`` keeps only that arkivskaper's journals (a split extract).
        """
        if self.uses_staging:
            db = self.staging()  # checked now, not at the first next()
            return _closing(db, db.journals(arkivskaper=arkivskaper))
        from .sources.jsonl import read_journals

        it = read_journals(self.source)
        if arkivskaper is None:
            return it
        return (j for j in it if j.arkivskaper == arkivskaper)

    def journal_count(self, *, arkivskaper: str | None = None) -> int | None:
        """How many journals the source holds (selected or not), cheaply, for progress; None if unknown.

        The staging database counts its rows; a JSON Lines source counts its non-blank lines (one
        journal per line) when no arkivskaper filter is asked for.
        """
        if self.uses_staging:
            with self.staging() as db:
                return db.journal_count(arkivskaper)
        if arkivskaper is not None:
            return None
        try:
            n = 0
            with open(self.source, "rb") as f:
                for line in f:
                    n += bool(line.strip())
            return n
        except OSError:
            return None

    def numbering(self, progress: Progress | None = None) -> Numbering:
        """saksaar/sakssekvensnummer and journalaar/journalsekvensnummer in creation order
        (:class:`~noarkpack.noark5.numbering.Numbering`), over every journal of the project: selected or
        not, open or closed, of every arkivskaper.  A journal so has the same numbers in every extract
        (split or whole, and in a later deposit of the journals still open now).  One pass over the
        journals, keeping keys and creation times in a temporary database; close it when done (``with``)."""
        total = self.journal_count() if progress is not None else None
        return Numbering.build(self.journals(), progress=progress, total=total)

    def arkivskaper_keys(self) -> list[str]:
        """The arkivskaper keys the journals use (declared in noarkpack.toml or not)."""
        if self.uses_staging:
            with self.staging() as db:
                return db.arkivskapere_with_journals()
        return sorted({j.arkivskaper for j in self.journals()})

    def selected_journals(self, on_excluded: Callable[[Pasientjournal, str], None] | None = None, *,
                          arkivskaper: str | None = None) -> Iterator[Pasientjournal]:
        """The journals the selection rules (``[selection]``) select; only closed journals, ever.

        ``on_excluded(journal, reason)`` is called for every journal left out.
        """
        rules = self.selection
        for j in self.journals(arkivskaper=arkivskaper):
            reason = rules.reason_to_exclude(j)
            if reason is None:
                yield j
            elif on_excluded is not None:
                on_excluded(j, reason)


def _closing(db, it: Iterator[Pasientjournal]) -> Iterator[Pasientjournal]:
    try:
        yield from it
    finally:
        db.close()


def _get(table: dict, key: str, kind: type | tuple, where: str, required: bool = True, default=None):
    if key not in table:
        if required:
            raise ConfigError(tr("{where}.{key} is missing", where=where, key=key), file=PROJECT_FILE,
                              hint=tr("see examples/omsorg/noarkpack.toml for a complete file"))
        return default
    value = table[key]
    if not isinstance(value, kind) or (isinstance(value, str) and not value.strip()):
        if isinstance(kind, type):
            raise ConfigError(tr("{where}.{key} must be a non-empty {type}", where=where, key=key,
                                 type=kind.__name__), file=PROJECT_FILE)
        raise ConfigError(tr("{where}.{key} must be a non-empty value of one of these types: {types}", where=where,
                             key=key, types=", ".join(k.__name__ for k in kind)), file=PROJECT_FILE)
    return value


def _patterns(table: dict, key: str, where: str) -> tuple[str, ...]:
    """An optional list of non-empty strings (name patterns)."""
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        raise ConfigError(tr("{where}.{key} must be a list of non-empty strings", where=where, key=key), file=PROJECT_FILE)
    return tuple(value)


def _datetime(table: dict, key: str, where: str) -> datetime:
    value = _get(table, key, (datetime, date), where)
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day)
    return value


def _date(table: dict, key: str, where: str) -> date:
    value = _get(table, key, (date,), where)
    if isinstance(value, datetime):
        value = value.date()
    return value


def load_project(path: str | Path, *, database: str | Path | None = None, auto_import: bool = True) -> Project:
    """Read PROJECT (a folder holding noarkpack.toml, or the file itself).

    ``database`` puts the staging database elsewhere than ``[import] database`` says (tests, read-only
    project folders); ``auto_import=False`` makes reading a missing or stale staging database an error
    that says to run ``noarkpack import PROJECT`` instead of importing.
    """
    path = Path(path)
    if not path.exists():
        raise ConfigError(tr("the project folder does not exist"), file=path, hint=tr("check the path"))
    if path.is_dir():
        root, file = path, path / PROJECT_FILE
    elif path.suffix == ".toml":
        root, file = path.parent, path
    else:
        raise ConfigError(tr("a file stands where the project folder is expected (no {file})", file=PROJECT_FILE),
                          file=path, hint=tr("PROJECT is a deposit folder with noarkpack.toml (see examples/omsorg)"))
    if not file.is_file():
        raise ConfigError(tr("no {file} in the project folder", file=PROJECT_FILE), file=root,
                          hint=tr("PROJECT must be a deposit folder with noarkpack.toml (see examples/omsorg)"))
    try:
        raw = file.read_bytes()
        text = raw.decode("utf-8")
        cfg = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        line = getattr(e, "lineno", None)
        raise ConfigError(tr("not valid TOML: {error}", error=str(e)), file=file, line=line) from None
    except UnicodeDecodeError:
        raise ConfigError(tr("not UTF-8 text"), file=file) from None

    def table(name: str) -> dict:
        t = cfg.get(name)
        if not isinstance(t, dict):
            raise ConfigError(tr("the [{name}] table is missing", name=name), file=file,
                              hint=tr("see examples/omsorg/noarkpack.toml for a complete file"))
        return t

    proj, system, arkiv, arkivdel = table("project"), table("system"), table("arkiv"), table("arkivdel")
    skjerming = cfg.get("skjerming", {})
    skapere = cfg.get("arkivskaper")
    if not isinstance(skapere, list) or not skapere:
        raise ConfigError(tr("at least one [[arkivskaper]] table is required"), file=file)
    arkivskapere = []
    for n, a in enumerate(skapere, start=1):
        if not isinstance(a, dict):
            raise ConfigError(tr("[[arkivskaper]] number {number} is not a table", number=n), file=file)
        w = f"arkivskaper[{n}]"
        arkivskapere.append(ArkivskaperInfo(
            key=_get(a, "key", str, w), id=str(_get(a, "id", (str, int), w)), navn=_get(a, "navn", str, w),
            beskrivelse=_get(a, "beskrivelse", str, w, required=False)))

    documents = root / _get(proj, "documents", str, "project", required=False, default=".")
    mapping = None
    if "import" in cfg:
        if "source" in proj:
            raise ConfigError(tr("[project] source and [import] both name the journals' source: keep one"),
                              file=file, hint=tr("[import] for a legacy export, source for noarkpack's JSON Lines"))
        mapping = parse_import(cfg["import"], root, file, text, documents)
        if database is not None:
            mapping.database = Path(database)
        documents = mapping.documents
        source = mapping.database
    else:
        source = root / _get(proj, "source", str, "project")
    settings = ExtractSettings(
        system_id=_get(system, "id", str, "system"),
        system_name=_get(system, "name", str, "system"),
        system_version=_get(system, "version", (str, int, float), "system", required=False) and
        str(system.get("version")),
        system_type=_get(system, "type", str, "system", required=False, default="Fagsystem (EPJ)"),
        arkiv_tittel=_get(arkiv, "tittel", str, "arkiv"),
        arkiv_beskrivelse=_get(arkiv, "beskrivelse", str, "arkiv", required=False),
        arkiv_opprettet=_datetime(arkiv, "opprettet", "arkiv"),
        arkiv_opprettet_av=_get(arkiv, "opprettet_av", str, "arkiv"),
        arkiv_avsluttet=_datetime(arkiv, "avsluttet", "arkiv"),
        arkiv_avsluttet_av=_get(arkiv, "avsluttet_av", str, "arkiv"),
        arkivdel_tittel=_get(arkivdel, "tittel", str, "arkivdel"),
        arkivdel_beskrivelse=_get(arkivdel, "beskrivelse", str, "arkivdel", required=False),
        periode_start=_date(arkivdel, "periode_start", "arkivdel"),
        periode_slutt=_date(arkivdel, "periode_slutt", "arkivdel"),
        arkivdel_opprettet=_datetime(arkivdel, "opprettet", "arkivdel"),
        arkivdel_opprettet_av=_get(arkivdel, "opprettet_av", str, "arkivdel"),
        arkivdel_avsluttet=_datetime(arkivdel, "avsluttet", "arkivdel"),
        arkivdel_avsluttet_av=_get(arkivdel, "avsluttet_av", str, "arkivdel"),
        inngaaende_skille=_get(arkivdel, "inngaaende_skille", str, "arkivdel", required=False, default="skarpt"),
        utgaaende_skille=_get(arkivdel, "utgaaende_skille", str, "arkivdel", required=False),
        skjerming_tilgangsrestriksjon=_get(skjerming, "tilgangsrestriksjon", str, "skjerming", required=False,
                                           default="Unntatt offentlighet"),
        skjerming_hjemmel=_get(skjerming, "hjemmel", str, "skjerming", required=False,
                               default="Offl. § 13, jf. hpl. § 21"),
        skjerming_institusjoner=_patterns(skjerming, "institusjoner", "skjerming"),
        open_journals=_get(proj, "open_journals", str, "project", required=False, default="skip"),
        arkivskapere=tuple(arkivskapere),
        documents_root=documents,
    )
    try:
        settings.check()
    except ConfigError as e:
        e.file = str(file)
        raise
    if mapping is None and not source.is_file():
        raise ConfigError(tr("the source file named in [project] source does not exist"), file=source)
    selection = SelectionRules.from_config(cfg.get("selection"))
    conv = cfg.get("conversion", {})
    if not isinstance(conv, dict):
        raise ConfigError(tr("[conversion] must be a table"), file=file)
    cache = _get(conv, "cache", str, "conversion", required=False)
    conversion = ConversionSettings(
        enabled=_get(conv, "enabled", bool, "conversion", required=False, default=True),
        timeout=float(_get(conv, "timeout", (int, float), "conversion", required=False, default=120)),
        workers=_get(conv, "workers", int, "conversion", required=False),
        allow_unconverted=_get(conv, "allow_unconverted", bool, "conversion", required=False, default=False),
        cache=root / cache if cache else None,
    )
    return Project(root=root, name=_get(proj, "name", str, "project"), settings=settings, source=source, config=cfg,
                   conversion=conversion, import_mapping=mapping, selection=selection, auto_import=auto_import)
