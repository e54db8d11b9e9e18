"""Package metadata: who delivers what to whom (the [package] table of noarkpack.toml).

The fields are those Arkade 5 asks for (``ArchiveMetadata``) and they land in the
same METS places (docs/packaging.md has the field-by-field map):

=======================  =====================================================
field                    METS (dias-mets.xml and {uuid}.xml)
=======================  =====================================================
label                    mets/@LABEL
arkivskapere[]           agent ROLE=ARCHIVIST (ORGANIZATION + INDIVIDUAL)
avleverer                agent ROLE=OTHER OTHERROLE=SUBMITTER
produsent                agent ROLE=OTHER OTHERROLE=PRODUCER
eiere[]                  agent ROLE=IPOWNER
pakkeskaper              agent ROLE=CREATOR (ORGANIZATION + INDIVIDUAL)
(noarkpack itself)       agent ROLE=CREATOR TYPE=OTHER OTHERTYPE=SOFTWARE
mottaker                 agent ROLE=PRESERVATION TYPE=ORGANIZATION
arkivskapende_system     agent ROLE=ARCHIVIST TYPE=OTHER OTHERTYPE=SOFTWARE
uttrekkssystem           agent ROLE=OTHER OTHERROLE=PRODUCER TYPE=OTHER OTHERTYPE=SOFTWARE
arkivbeskrivelse         altRecordID DELIVERYSPECIFICATION
avtalenummer             altRecordID SUBMISSIONAGREEMENT
overforingstype          altRecordID DELIVERYTYPE
prosjektnavn             altRecordID PROJECTNAME (dias-mets.xml only)
pakkenummer              altRecordID PACKAGENUMBER
referansekode            altRecordID REFERENCECODE
periode_start/_slutt     altRecordID STARTDATE / ENDDATE
pakkestatus              metsHdr/@RECORDSTATUS
uttrekksdato             fileGrp[@USE='ArchiveExtraction']/@VERSDATE
=======================  =====================================================
"""

from __future__ import annotations

import re
import uuid as uuidlib
from dataclasses import dataclass, fields
from datetime import date, datetime, timezone
from typing import Any

from ..locale import tr
from .errors import PackageMetadataError

RECORD_STATUSES = ("NEW", "SUPPLEMENT", "REPLACEMENT", "TEST", "VERSION", "OTHER")
#: system types Arkade writes as a note (others are left out, as Arkade does)
SYSTEM_TYPES = ("Noark3", "Noark4", "Noark5", "Fagsystem", "Siard")

_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_WHERE = "noarkpack.toml [package]"


@dataclass(frozen=True)
class Entity:
    """An organisation and (optionally) its contact person."""

    navn: str  # the organisation (Arkade: Entity)
    kontaktperson: str | None = None
    adresse: str | None = None
    telefon: str | None = None
    epost: str | None = None

    @property
    def has_contact(self) -> bool:
        return bool(self.kontaktperson)

    def notes(self) -> list[str]:
        """Arkade's positional notes: present values of address, telephone, email + the key note."""
        keys, values = [], []
        for key, value in (("Address", self.adresse), ("Telephone", self.telefon), ("Email", self.epost)):
            if value:
                keys.append(key)
                values.append(value)
        return values + ([f"notescontent:{','.join(keys)}"] if keys else [])


@dataclass(frozen=True)
class System:
    navn: str
    versjon: str | None = None
    type: str | None = None  # Noark3 | Noark4 | Noark5 | Fagsystem | Siard
    typeversjon: str | None = None  # only with type Noark5

    def notes(self) -> list[str]:
        keys, values = [], []
        if self.versjon:
            keys.append("Version")
            values.append(self.versjon)
        if self.type in SYSTEM_TYPES:
            keys.append("Type")
            values.append(self.type)
            if self.type == "Noark5" and self.typeversjon:
                keys.append("TypeVersion")
                values.append(self.typeversjon)
        return values + ([f"notescontent:{','.join(keys)}"] if keys else [])


@dataclass(frozen=True)
class PackageMetadata:
    """Everything the METS header, the PREMIS and the bag-info need besides the files."""

    arkivskapere: tuple[Entity, ...] = ()
    avleverer: Entity | None = None  # submitter (overfører)
    mottaker: str | None = None  # preservation (e.g. "Arkivverket")
    arkivskapende_system: System | None = None
    periode_start: date | None = None
    periode_slutt: date | None = None
    avtalenummer: str | None = None
    label: str | None = None  # default: "{system} ({start year} - {end year})", as Arkade's [standard_label]
    produsent: Entity | None = None
    eiere: tuple[Entity, ...] = ()
    pakkeskaper: Entity | None = None  # creator of the information package
    uttrekkssystem: System | None = None
    arkivbeskrivelse: str | None = None
    overforingstype: str | None = None  # e.g. "Fagsystem", "Sak-/Arkivsystem"
    prosjektnavn: str | None = None
    pakkenummer: str | None = None
    referansekode: str | None = None
    pakkestatus: str = "NEW"
    uttrekksdato: datetime | None = None  # default: newest mtime of the extract's files
    uuid: uuidlib.UUID | None = None  # default: uuid5 of the content checksums + this metadata

    # -- derived ---------------------------------------------------------------

    @property
    def effective_label(self) -> str:
        if self.label:
            return self.label
        name = self.arkivskapende_system.navn if self.arkivskapende_system else "Arkivuttrekk"
        if self.periode_start and self.periode_slutt:
            return f"{name} ({self.periode_start.year} - {self.periode_slutt.year})"
        return name

    def canonical(self) -> str:
        """A stable text of every field (input of the derived package UUID)."""
        parts = []
        for f in fields(self):
            if f.name == "uuid":
                continue
            parts.append(f"{f.name}={_canon(getattr(self, f.name))}")
        return "\n".join(parts)

    # -- checking ----------------------------------------------------------------

    def problems(self) -> list[str]:
        """Every problem, as a sentence a user can act on (empty: fine)."""
        p: list[str] = []
        if not self.arkivskapere:
            p.append(tr("at least one [[package.arkivskaper]] with 'navn' is required (ROLE=ARCHIVIST)"))
        for i, a in enumerate(self.arkivskapere, 1):
            p += _entity_problems(a, _numbered("arkivskaper", i))
        if self.avleverer is None:
            p.append(tr("[package.avleverer] (the submitter) with 'navn' is required"))
        else:
            p += _entity_problems(self.avleverer, "[package.avleverer]")
        for name in ("produsent", "pakkeskaper"):
            e = getattr(self, name)
            if e is not None:
                p += _entity_problems(e, f"[package.{name}]")
        for i, e in enumerate(self.eiere, 1):
            p += _entity_problems(e, _numbered("eier", i))
        if not _text(self.mottaker):
            p.append(tr("'mottaker' (the receiving archive, ROLE=PRESERVATION) is required, "
                        "e.g. mottaker = \"Arkivverket\""))
        if self.arkivskapende_system is None or not _text(self.arkivskapende_system.navn):
            p.append(tr("[package.arkivskapende_system] with 'navn' is required"))
        for name in ("arkivskapende_system", "uttrekkssystem"):
            s = getattr(self, name)
            if s is not None and s.type is not None and s.type not in SYSTEM_TYPES:
                p.append(tr("[package.{name}] type must be one of {allowed} (got {given})", name=name,
                            allowed=", ".join(SYSTEM_TYPES), given=repr(s.type)))
        if not _text(self.avtalenummer):
            p.append(tr("'avtalenummer' (the deposit agreement, altRecordID SUBMISSIONAGREEMENT) is required"))
        if self.periode_start is None or self.periode_slutt is None:
            p.append(tr("'periode_start' and 'periode_slutt' (dates, e.g. 2005-01-01) are required"))
        elif self.periode_slutt < self.periode_start:
            p.append(tr("'periode_slutt' is before 'periode_start'"))
        if self.pakkestatus not in RECORD_STATUSES:
            p.append(tr("'pakkestatus' must be one of {allowed} (got {given})", allowed=", ".join(RECORD_STATUSES),
                        given=repr(self.pakkestatus)))
        for name in ("label", "arkivbeskrivelse", "overforingstype", "prosjektnavn", "pakkenummer", "referansekode"):
            v = getattr(self, name)
            if v is not None and not _text(v):
                p.append(tr("'{name}' is empty: leave it out or give a value", name=name))
        return p

    def check(self) -> None:
        """Raise PackageMetadataError listing every problem at once."""
        p = self.problems()
        if p:
            raise PackageMetadataError(
                tr("the package metadata is incomplete: {problems}", problems="; ".join(p)), file=_WHERE,
                hint=tr("`noarkpack package --metadata-template` prints a complete example"))

    # -- reading -------------------------------------------------------------------

    @classmethod
    def from_toml(cls, config: dict[str, Any], *, defaults: bool = True) -> PackageMetadata:
        """Read the ``[package]`` table.

        ``config`` is the whole parsed noarkpack.toml (with a ``package`` key) or the
        ``[package]`` table itself.  With ``defaults`` and a whole file, missing
        values are taken from the project: ``[[arkivskaper]] navn`` → arkivskapere,
        ``[system] name/version`` → arkivskapende_system, ``[arkivdel]
        periode_start/periode_slutt`` → the period.  Unknown keys are errors (typos
        would silently lose metadata).  Does not call :meth:`check`.
        """
        if not isinstance(config, dict):
            raise PackageMetadataError(tr("the package metadata must be a TOML table"), file=_WHERE)
        whole = "package" in config or "project" in config  # a whole noarkpack.toml
        table = config.get("package", config if not whole else None)
        if table is None:
            table = {}
        if not isinstance(table, dict):
            raise PackageMetadataError(tr("[package] must be a table"), file="noarkpack.toml")
        problems: list[str] = []
        known = {f.name for f in fields(cls)} | {"arkivskaper", "eier"}
        for key in table:
            if key not in known:
                problems.append(tr("unknown key {key}", key=repr(key)))

        def text(key: str) -> str | None:
            v = table.get(key)
            if v is None:
                return None
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                return str(v)
            if not isinstance(v, str):
                problems.append(tr("{key} must be a string", key=repr(key)))
                return None
            return v.strip()

        def day(key: str) -> date | None:
            v = table.get(key)
            if v is None:
                return None
            if isinstance(v, datetime):
                return v.date()
            if isinstance(v, date):
                return v
            if isinstance(v, str):
                try:
                    return date.fromisoformat(v)
                except ValueError:
                    pass
            problems.append(tr("{key} must be a date (YYYY-MM-DD)", key=repr(key)))
            return None

        arkivskapere = tuple(e for e in (_entity(x, _numbered("arkivskaper", i), problems)
                                         for i, x in enumerate(_list(table.get("arkivskaper"), "arkivskaper", problems), 1))
                             if e is not None)
        eiere = tuple(e for e in (_entity(x, _numbered("eier", i), problems)
                                  for i, x in enumerate(_list(table.get("eier"), "eier", problems), 1))
                      if e is not None)
        system = _system(table.get("arkivskapende_system"), "arkivskapende_system", problems)
        start, end = day("periode_start"), day("periode_slutt")

        if whole and defaults:
            if not arkivskapere and isinstance(config.get("arkivskaper"), list):
                arkivskapere = tuple(Entity(navn=str(a["navn"])) for a in config["arkivskaper"]
                                     if isinstance(a, dict) and a.get("navn"))
            proj_system = config.get("system")
            if system is None and isinstance(proj_system, dict) and proj_system.get("name"):
                v = proj_system.get("version")
                system = System(navn=str(proj_system["name"]), versjon=str(v) if v is not None else None,
                                type="Fagsystem")
            arkivdel = config.get("arkivdel") if isinstance(config.get("arkivdel"), dict) else {}
            if start is None and isinstance(arkivdel.get("periode_start"), date):
                start = _as_date(arkivdel["periode_start"])
            if end is None and isinstance(arkivdel.get("periode_slutt"), date):
                end = _as_date(arkivdel["periode_slutt"])

        uttrekksdato = table.get("uttrekksdato")
        if uttrekksdato is not None:
            if isinstance(uttrekksdato, datetime):
                pass
            elif isinstance(uttrekksdato, date):
                uttrekksdato = datetime(uttrekksdato.year, uttrekksdato.month, uttrekksdato.day)
            else:
                problems.append(tr("'uttrekksdato' must be a TOML date or date-time"))
                uttrekksdato = None
        pkg_uuid = None
        if table.get("uuid") is not None:
            try:
                pkg_uuid = uuidlib.UUID(str(table["uuid"]))
            except ValueError:
                problems.append(tr("'uuid' is not a UUID: {value}", value=repr(table["uuid"])))

        meta = cls(
            arkivskapere=arkivskapere,
            avleverer=_entity(table.get("avleverer"), "[package.avleverer]", problems),
            mottaker=text("mottaker"),
            arkivskapende_system=system,
            periode_start=start,
            periode_slutt=end,
            avtalenummer=text("avtalenummer"),
            label=text("label"),
            produsent=_entity(table.get("produsent"), "[package.produsent]", problems),
            eiere=eiere,
            pakkeskaper=_entity(table.get("pakkeskaper"), "[package.pakkeskaper]", problems),
            uttrekkssystem=_system(table.get("uttrekkssystem"), "uttrekkssystem", problems),
            arkivbeskrivelse=text("arkivbeskrivelse"),
            overforingstype=text("overforingstype"),
            prosjektnavn=text("prosjektnavn"),
            pakkenummer=text("pakkenummer"),
            referansekode=text("referansekode"),
            pakkestatus=(text("pakkestatus") or "NEW").upper(),
            uttrekksdato=uttrekksdato,
            uuid=pkg_uuid,
        )
        if problems:
            raise PackageMetadataError(tr("invalid [package] table: {problems}", problems="; ".join(problems)),
                                       file="noarkpack.toml",
                                       hint=tr("see docs/packaging.md or `noarkpack package --metadata-template`"))
        return meta


def _as_date(v) -> date:
    return v.date() if isinstance(v, datetime) else v


def _text(v) -> bool:
    return isinstance(v, str) and bool(v.strip())


def _canon(v) -> str:
    if v is None:
        return ""
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(_canon(x) for x in v) + "]"
    if isinstance(v, (Entity, System)):
        return "(" + ",".join(f"{f.name}:{_canon(getattr(v, f.name))}" for f in fields(v)) + ")"
    if isinstance(v, datetime):
        return v.isoformat()
    return str(v)


def _list(v, key: str, problems: list[str]) -> list:
    if v is None:
        return []
    if isinstance(v, dict):
        return [v]
    if not isinstance(v, list):
        problems.append(tr("'{key}' must be an array of tables ([[package.{key}]])", key=key))
        return []
    return v


_ENTITY_KEYS = ("navn", "kontaktperson", "adresse", "telefon", "epost")
_SYSTEM_KEYS = ("navn", "versjon", "type", "typeversjon")


def _entity(v, where: str, problems: list[str]) -> Entity | None:
    if v is None:
        return None
    if isinstance(v, str):
        return Entity(navn=v.strip())
    if not isinstance(v, dict):
        problems.append(tr("{where} must be a table with {keys}", where=where, keys=", ".join(_ENTITY_KEYS)))
        return None
    for k in v:
        if k not in _ENTITY_KEYS:
            problems.append(tr("{where}: unknown key {key} (allowed: {keys})", where=where, key=repr(k),
                               keys=", ".join(_ENTITY_KEYS)))
    vals = {k: (str(v[k]).strip() if v.get(k) is not None else None) for k in _ENTITY_KEYS}
    if not vals["navn"]:
        problems.append(tr("{where}: 'navn' is required", where=where))
        return None
    return Entity(**vals)


def _system(v, key: str, problems: list[str]) -> System | None:
    if v is None:
        return None
    if isinstance(v, str):
        return System(navn=v.strip())
    where = f"[package.{key}]"
    if not isinstance(v, dict):
        problems.append(tr("{where} must be a table with {keys}", where=where,
                           keys=", ".join(_SYSTEM_KEYS)))
        return None
    for k in v:
        if k not in _SYSTEM_KEYS:
            problems.append(tr("{where}: unknown key {key} (allowed: {keys})", where=where, key=repr(k),
                               keys=", ".join(_SYSTEM_KEYS)))
    vals = {k: (str(v[k]).strip() if v.get(k) is not None else None) for k in _SYSTEM_KEYS}
    if not vals["navn"]:
        problems.append(tr("{where}: 'navn' is required", where=where))
        return None
    return System(**vals)


def _entity_problems(e: Entity, where: str) -> list[str]:
    p = []
    if not _text(e.navn):
        p.append(tr("{where}: 'navn' is empty", where=where))
    if e.epost and not _EMAIL.fullmatch(e.epost):
        p.append(tr("{where}: 'epost' is not an e-mail address", where=where))
    if (e.adresse or e.telefon or e.epost) and not e.kontaktperson:
        p.append(tr("{where}: adresse/telefon/epost belong to a 'kontaktperson'; give one", where=where))
    return p


def _numbered(key: str, number: int) -> str:
    """``[[package.arkivskaper]] number 2``: where in the [package] table a problem is."""
    return tr("[[package.{key}]] number {number}", key=key, number=number)


def metadata_template() -> str:
    """A filled-in example ``[package]`` table (TOML text) to copy into noarkpack.toml; its comments in the run's
    language."""
    return tr(
        "# Package metadata: the METS header of dias-mets.xml and of {uuid}.xml (see docs/packaging.md).\n"
        "[package]\n"
        "label = \"Omsorg Pluss (2005 - 2023)\"        # optional; default \"<system> (<start year> - <end year>)\"\n"
        "arkivbeskrivelse = \"Pasientjournaler fra pleie- og omsorgstjenesten\"   # altRecordID DELIVERYSPECIFICATION\n"
        "avtalenummer = \"AV 2024/0042\"               # altRecordID SUBMISSIONAGREEMENT (required)\n"
        "mottaker = \"Arkivverket\"                    # ROLE=PRESERVATION (required)\n"
        "overforingstype = \"Fagsystem\"               # altRecordID DELIVERYTYPE\n"
        "pakkestatus = \"NEW\"                         # NEW | SUPPLEMENT | REPLACEMENT | TEST | VERSION | OTHER\n"
        "pakkenummer = \"1\"\n"
        "referansekode = \"KA-0301-OMSORG\"\n"
        "prosjektnavn = \"Avlevering Omsorg Pluss\"\n"
        "periode_start = 2005-01-01                  # altRecordID STARTDATE (default: [arkivdel] periode_start)\n"
        "periode_slutt = 2023-12-31                  # altRecordID ENDDATE   (default: [arkivdel] periode_slutt)\n"
        "# uttrekksdato = 2024-02-01T12:00:00Z       # optional; default: the newest file time in the extract\n"
        "# uuid = \"0b7a4b8e-6b1e-4d1a-9f6a-3c2f7a1e9d10\"   # optional; default derived from the content\n"
        "\n"
        "[[package.arkivskaper]]                     # ROLE=ARCHIVIST (one table per arkivskaper)\n"
        "navn = \"Eksempel kommune, helse og omsorg\"\n"
        "kontaktperson = \"Kari Nordmann\"\n"
        "adresse = \"Rådhusgata 1, 0001 Eksempel\"\n"
        "telefon = \"+47 22 00 00 00\"\n"
        "epost = \"postmottak@eksempel.kommune.no\"\n"
        "\n"
        "[package.avleverer]                         # ROLE=OTHER OTHERROLE=SUBMITTER (required)\n"
        "navn = \"Eksempel kommune\"\n"
        "kontaktperson = \"Ola Nordmann\"\n"
        "epost = \"arkiv@eksempel.kommune.no\"\n"
        "\n"
        "[package.produsent]                         # ROLE=OTHER OTHERROLE=PRODUCER\n"
        "navn = \"Eksempel kommune, IKT\"\n"
        "kontaktperson = \"Per Hansen\"\n"
        "\n"
        "[[package.eier]]                            # ROLE=IPOWNER\n"
        "navn = \"Eksempel kommune\"\n"
        "\n"
        "[package.arkivskapende_system]              # ROLE=ARCHIVIST TYPE=OTHER OTHERTYPE=SOFTWARE (required)\n"
        "navn = \"Omsorg Pluss\"\n"
        "versjon = \"7.4\"\n"
        "type = \"Fagsystem\"                          # Noark3 | Noark4 | Noark5 | Fagsystem | Siard\n"
        "\n"
        "[package.uttrekkssystem]                    # ROLE=OTHER OTHERROLE=PRODUCER TYPE=OTHER OTHERTYPE=SOFTWARE\n"
        "navn = \"noarkpack\"\n"
        "versjon = \"0.1.0\"\n"
        "type = \"Noark5\"\n"
        "typeversjon = \"5.0\"\n"
    )


def utc(dt: datetime) -> datetime:
    """``dt`` as an aware UTC datetime without microseconds (naive values are taken as UTC)."""
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=timezone.utc)
    return dt.astimezone(timezone.utc).replace(microsecond=0)


__all__ = ["Entity", "System", "PackageMetadata", "metadata_template", "RECORD_STATUSES", "SYSTEM_TYPES", "utc"]
