"""The deposit project: a folder with ``noarkpack.toml``, the export and the documents.

See examples/omsorg/noarkpack.toml for a complete file.  :func:`load_project`
reads and checks it and gives the :class:`~noarkpack.noark5.settings.ExtractSettings`
and the journal source.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Iterator

from .errors import ConfigError
from .model.epj import Pasientjournal
from .noark5.settings import ArkivskaperInfo, ExtractSettings

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
    source: Path
    config: dict[str, Any]
    conversion: ConversionSettings

    def conversion_cache(self):
        """The project's cache of converted documents (None when conversion is off)."""
        from .conversion import ConversionCache

        if not self.conversion.enabled:
            return None
        folder = self.conversion.cache or self.root / ".noarkpack" / "konvertert"
        return ConversionCache(folder, timeout=self.conversion.timeout)

    def journals(self) -> Iterator[Pasientjournal]:
        """The project's journals, streamed from its source."""
        from .sources.jsonl import read_journals

        return read_journals(self.source)


def _get(table: dict, key: str, kind: type | tuple, where: str, required: bool = True, default=None):
    if key not in table:
        if required:
            raise ConfigError(f"{where}.{key} is missing", file=PROJECT_FILE,
                              hint="see examples/omsorg/noarkpack.toml for a complete file")
        return default
    value = table[key]
    if not isinstance(value, kind) or (isinstance(value, str) and not value.strip()):
        names = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        raise ConfigError(f"{where}.{key} must be a non-empty {names}", file=PROJECT_FILE)
    return value


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


def load_project(path: str | Path) -> Project:
    """Read PROJECT (a folder holding noarkpack.toml, or the file itself)."""
    path = Path(path)
    if not path.exists():
        raise ConfigError("the project folder does not exist", file=path, hint="check the path")
    if path.is_dir():
        root, file = path, path / PROJECT_FILE
    elif path.suffix == ".toml":
        root, file = path.parent, path
    else:
        raise ConfigError(f"a file stands where the project folder is expected (no {PROJECT_FILE})", file=path,
                          hint="PROJECT is a deposit folder with noarkpack.toml (see examples/omsorg)")
    if not file.is_file():
        raise ConfigError(f"no {PROJECT_FILE} in the project folder", file=root,
                          hint="PROJECT must be a deposit folder with noarkpack.toml (see examples/omsorg)")
    try:
        with open(file, "rb") as f:
            cfg = tomllib.load(f)
    except tomllib.TOMLDecodeError as e:
        line = getattr(e, "lineno", None)
        raise ConfigError(f"not valid TOML: {e}", file=file, line=line) from None
    except UnicodeDecodeError:
        raise ConfigError("not UTF-8 text", file=file) from None

    def table(name: str) -> dict:
        t = cfg.get(name)
        if not isinstance(t, dict):
            raise ConfigError(f"the [{name}] table is missing", file=file,
                              hint="see examples/omsorg/noarkpack.toml for a complete file")
        return t

    proj, system, arkiv, arkivdel = table("project"), table("system"), table("arkiv"), table("arkivdel")
    skjerming = cfg.get("skjerming", {})
    skapere = cfg.get("arkivskaper")
    if not isinstance(skapere, list) or not skapere:
        raise ConfigError("at least one [[arkivskaper]] table is required", file=file)
    arkivskapere = []
    for n, a in enumerate(skapere, start=1):
        if not isinstance(a, dict):
            raise ConfigError(f"[[arkivskaper]] number {n} is not a table", file=file)
        w = f"arkivskaper[{n}]"
        arkivskapere.append(ArkivskaperInfo(
            key=_get(a, "key", str, w), id=str(_get(a, "id", (str, int), w)), navn=_get(a, "navn", str, w),
            beskrivelse=_get(a, "beskrivelse", str, w, required=False)))

    source = root / _get(proj, "source", str, "project")
    documents = root / _get(proj, "documents", str, "project", required=False, default=".")
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
        utgaaende_skille=_get(arkivdel, "utgaaende_skille", str, "arkivdel", required=False, default="skarpt"),
        skjerming_tilgangsrestriksjon=_get(skjerming, "tilgangsrestriksjon", str, "skjerming", required=False,
                                           default="Unntatt offentlighet"),
        skjerming_hjemmel=_get(skjerming, "hjemmel", str, "skjerming", required=False,
                               default="Offl. § 13, jf. hpl. § 21"),
        open_journals=_get(proj, "open_journals", str, "project", required=False, default="skip"),
        arkivskapere=tuple(arkivskapere),
        documents_root=documents,
    )
    try:
        settings.check()
    except ConfigError as e:
        e.file = str(file)
        raise
    if not source.is_file():
        raise ConfigError("the source file named in [project] source does not exist", file=source)
    conv = cfg.get("conversion", {})
    if not isinstance(conv, dict):
        raise ConfigError("[conversion] must be a table", file=file)
    cache = _get(conv, "cache", str, "conversion", required=False)
    conversion = ConversionSettings(
        enabled=_get(conv, "enabled", bool, "conversion", required=False, default=True),
        timeout=float(_get(conv, "timeout", (int, float), "conversion", required=False, default=120)),
        workers=_get(conv, "workers", int, "conversion", required=False),
        allow_unconverted=_get(conv, "allow_unconverted", bool, "conversion", required=False, default=False),
        cache=root / cache if cache else None,
    )
    return Project(root=root, name=_get(proj, "name", str, "project"), settings=settings, source=source, config=cfg,
                   conversion=conversion)
