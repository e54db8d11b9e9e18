"""The deposit's own metadata: the ``[nha]`` table of ``noarkpack.toml``.

Everything NHA needs besides the journals: the agreement (avtale) and the
deposit id that NHA assigns — never invented here, always required — the
depositing organisation, and the package-list facts (who is responsible, how
it is transferred, when it is ready).  docs/nha.md lists every key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Mapping

from ..clock import build_time
from ..errors import ConfigError
from ..locale import tr

#: AVLXML's OID-like pattern for avleveringsidentifikator / avtaleidentifikator (v3)
OID = re.compile(r"[0-9]+(\.[0-9]+)+")
ORGNR = re.compile(r"\d{9}")

#: OIDs of diagnosis code systems that NHA's own registration tool (NHAREG) uses (research §1.2).
DEFAULT_KODEVERK: dict[str, str] = {
    "ICD-10": "2.16.578.1.12.4.1.1.7110",
    "ICD-9": "2.16.578.1.12.4.1.1.7120",
}

AVLXML_VERSIONS = ("3", "4")

_FILE = "noarkpack.toml"


def _where(key: str) -> str:
    return f"[nha] {key}"


@dataclass(frozen=True)
class NhaMetadata:
    """What a deposit to Norsk helsearkiv needs besides the journals."""

    # --- supplied by NHA in the deposit agreement (never invented) ---
    avleveringsidentifikator: str
    avtaleidentifikator: str
    avtaledato: date
    avtalebeskrivelse: str
    # --- the deposit and its creator ---
    avleveringsbeskrivelse: str
    arkivskaper: str  # name of the institution that created the archive (AVLXML arkivskaper)
    virksomhetsnavn: str  # the organisation that deposits (may differ from arkivskaper)
    organisasjonsnummer: str  # its 9-digit organisation number
    # --- the package list (epjpakkeliste) ---
    ansvarlig_person: str
    kontaktinformasjon: str
    lagringsenhet_beskrivelse: str
    klar_for_overforing: date
    # --- optional ---
    foretaksnavn: str | None = None
    antall_lagringsenheter: int | None = None
    pakket_dato: date | None = None  # date of the packages (pakketDato, generertdato, tar mtime)
    system_id: str | None = None  # namespace of the uuid5 names; defaults to [system] id
    resh_id: str | None = None  # RESH id of the responsible organisation (EPJ sak)
    her_id: str | None = None  # HER id of the responsible organisation (EPJ sak)
    spesialisthelsetjeneste: bool | None = None  # AVLXML v4 draft only
    avlxml_version: str = "3"
    #: file name of the deposit list; "avlxml.xml" by default, or NHA's tooling form
    #: "avlxml-{avleveringsidentifikator}.xml" ({avleveringsidentifikator} is filled in)
    avlxml_filnavn: str = "avlxml.xml"
    arkivskapere: Mapping[str, str] = field(default_factory=dict)  # journal arkivskaper key -> name
    arkivskaper_orgnr: Mapping[str, str] = field(default_factory=dict)  # key -> organisation number
    diagnosekodeverk: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_KODEVERK))
    #: the source system's name and version ([system] name, version), for the deposit's documentation
    system_navn: str | None = None
    #: [nha.komponenttyper]: entry type -> {oid, betegnelse, beskrivelse} (del 5 komponenttype; docs/nha.md)
    komponenttyper: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    #: [nha.brukere]: the source's user id -> the person's full name (del 5 fullt_navn is a name, never a login)
    brukere: Mapping[str, str] = field(default_factory=dict)
    #: [nha] epj_i_bruk_fra: the day the EPJ system came into use; a journal opened before it was opened on
    #: paper, so its opening is no registration "gjennom EPJs brukergrensesnitt" (revisjonstype 01)
    epj_i_bruk_fra: date | None = None
    #: [nha] arkivskaper_id, arkiv_id: OIDs of the archive creator and of the archive (the system) for del 5
    #: Avleveringsbeskrivelse; without them a stable 2.25 OID (X.667) of the organisation number / system id
    arkivskaper_id: str | None = None
    arkiv_id: str | None = None

    @property
    def avlxml_name(self) -> str:
        """The deposit list's file name."""
        return self.avlxml_filnavn.replace("{avleveringsidentifikator}", self.avleveringsidentifikator)

    @property
    def package_date(self) -> date:
        """The date the packages are made (pakketDato, generertdato): ``pakket_dato`` when set (the deposit
        builder sets it once per deposit), else today or SOURCE_DATE_EPOCH's day (noarkpack.clock)."""
        return self.pakket_dato or build_time().date()

    # ------------------------------------------------------------------ reading

    @classmethod
    def from_toml(cls, config: Mapping[str, Any], *, system_id: str | None = None) -> NhaMetadata:
        """Read the ``[nha]`` table.

        ``config`` is either the whole parsed ``noarkpack.toml`` (then ``[system] id`` and the
        ``[[arkivskaper]]`` names are taken from it too) or the ``[nha]`` table alone.
        """
        if "nha" in config or "project" in config:
            table = config.get("nha")
            if not isinstance(table, dict):
                raise ConfigError(tr("the [nha] table is missing"), file=_FILE,
                                  hint=tr("a deposit to Norsk helsearkiv needs an [nha] table; see docs/nha.md"))
            whole = config
        else:
            table, whole = dict(config), {}

        def get(t: Mapping, key: str, kind, where: str, required: bool = True):
            if key not in t:
                if required:
                    raise ConfigError(tr("{where} is missing", where=where), file=_FILE,
                                      hint=tr("see docs/nha.md for the [nha] keys"))
                return None
            v = t[key]
            if kind is date:
                if isinstance(v, datetime):
                    return v.date()
                if isinstance(v, date):
                    return v
                raise ConfigError(tr("{where} must be a date (YYYY-MM-DD, unquoted)", where=where), file=_FILE)
            if kind is str and isinstance(v, int) and not isinstance(v, bool):
                v = str(v)
            if not isinstance(v, kind) or (kind is int and isinstance(v, bool)):
                raise ConfigError(tr("{where} has the wrong type (expected {kind})", where=where, kind=kind.__name__),
                                  file=_FILE)
            if isinstance(v, str):
                v = v.strip()
                if not v:
                    raise ConfigError(tr("{where} is empty", where=where), file=_FILE)
            return v

        def sub(name: str) -> dict:
            t = table.get(name)
            if not isinstance(t, dict):
                raise ConfigError(tr("the [nha.{name}] table is missing", name=name), file=_FILE,
                                  hint=tr("see docs/nha.md"))
            return t

        avtale, avleverer, pakkeliste = sub("avtale"), sub("avleverer"), sub("pakkeliste")

        arkivskapere: dict[str, str] = {}
        orgnr: dict[str, str] = {}
        for a in whole.get("arkivskaper", []) or []:
            if isinstance(a, dict) and isinstance(a.get("key"), str) and isinstance(a.get("navn"), str):
                arkivskapere[a["key"]] = a["navn"]
                aid = str(a.get("id", ""))
                if ORGNR.fullmatch(aid):
                    orgnr[a["key"]] = aid
        if system_id is None:
            system_id = get(table, "system_id", str, _where("system_id"), required=False)
        if system_id is None and isinstance(whole.get("system"), dict):
            sid = whole["system"].get("id")
            system_id = sid if isinstance(sid, str) and sid.strip() else None

        kodeverk = dict(DEFAULT_KODEVERK)
        extra = table.get("diagnosekodeverk")
        if extra is not None:
            if not isinstance(extra, dict) or not all(isinstance(k, str) and isinstance(v, str)
                                                       for k, v in extra.items()):
                raise ConfigError(tr("[nha.diagnosekodeverk] must map code system names to OIDs (strings)"),
                                  file=_FILE)
            kodeverk.update(extra)

        komponenttyper = table.get("komponenttyper") or {}
        if not isinstance(komponenttyper, dict) or not all(
                isinstance(v, dict) and all(k in ("oid", "betegnelse", "beskrivelse") and isinstance(x, str)
                                            and x.strip() for k, x in v.items())
                for v in komponenttyper.values()):
            raise ConfigError(tr("[nha.komponenttyper] must map each entry type to a table with the optional text "
                                 "keys oid, betegnelse, beskrivelse"), file=_FILE, hint=tr("see docs/nha.md"))
        for name, v in komponenttyper.items():
            if "oid" in v and not OID.fullmatch(v["oid"]):
                raise ConfigError(tr("[nha.komponenttyper] {name}: oid {oid!r} is not an OID", name=name, oid=v["oid"]),
                                  file=_FILE)
        brukere = table.get("brukere") or {}
        if not isinstance(brukere, dict) or not all(isinstance(k, str) and isinstance(v, str) and v.strip()
                                                    for k, v in brukere.items()):
            raise ConfigError(tr("[nha.brukere] must map user ids to full names (strings)"), file=_FILE)
        system = whole.get("system") if isinstance(whole.get("system"), dict) else {}
        system_navn = " ".join(str(system[k]) for k in ("name", "version") if system.get(k)) or None

        version = table.get("avlxml_version", "3")
        version = str(version).split(".")[0] if isinstance(version, (str, int)) else version

        arkivskaper = get(table, "arkivskaper", str, _where("arkivskaper"), required=False)
        if arkivskaper is None and len(arkivskapere) == 1:
            arkivskaper = next(iter(arkivskapere.values()))
        if arkivskaper is None:
            raise ConfigError(tr("{where} is missing", where=_where("arkivskaper")), file=_FILE,
                              hint=tr("name the institution that created the journals (AVLXML arkivskaper)"))

        md = cls(
            avleveringsidentifikator=get(table, "avleveringsidentifikator", str, _where("avleveringsidentifikator")),
            avleveringsbeskrivelse=get(table, "avleveringsbeskrivelse", str, _where("avleveringsbeskrivelse")),
            arkivskaper=arkivskaper,
            avtaleidentifikator=get(avtale, "identifikator", str, "[nha.avtale] identifikator"),
            avtaledato=get(avtale, "dato", date, "[nha.avtale] dato"),
            avtalebeskrivelse=get(avtale, "beskrivelse", str, "[nha.avtale] beskrivelse"),
            virksomhetsnavn=get(avleverer, "navn", str, "[nha.avleverer] navn"),
            organisasjonsnummer=get(avleverer, "organisasjonsnummer", str, "[nha.avleverer] organisasjonsnummer"),
            foretaksnavn=get(avleverer, "foretaksnavn", str, "[nha.avleverer] foretaksnavn", required=False),
            ansvarlig_person=get(pakkeliste, "ansvarlig_person", str, "[nha.pakkeliste] ansvarlig_person"),
            kontaktinformasjon=get(pakkeliste, "kontaktinformasjon", str, "[nha.pakkeliste] kontaktinformasjon"),
            lagringsenhet_beskrivelse=get(pakkeliste, "lagringsenhet_beskrivelse", str,
                                          "[nha.pakkeliste] lagringsenhet_beskrivelse"),
            antall_lagringsenheter=get(pakkeliste, "antall_lagringsenheter", int,
                                       "[nha.pakkeliste] antall_lagringsenheter", required=False),
            klar_for_overforing=get(pakkeliste, "klar_for_overforing", date, "[nha.pakkeliste] klar_for_overforing"),
            pakket_dato=get(pakkeliste, "pakket_dato", date, "[nha.pakkeliste] pakket_dato", required=False),
            system_id=system_id,
            resh_id=get(table, "resh_id", str, _where("resh_id"), required=False),
            her_id=get(table, "her_id", str, _where("her_id"), required=False),
            spesialisthelsetjeneste=get(avleverer, "spesialisthelsetjeneste", bool,
                                        "[nha.avleverer] spesialisthelsetjeneste", required=False),
            avlxml_version=version,
            avlxml_filnavn=get(table, "avlxml_filnavn", str, _where("avlxml_filnavn"), required=False)
            or "avlxml.xml",
            arkivskapere=arkivskapere,
            arkivskaper_orgnr=orgnr,
            diagnosekodeverk=kodeverk,
            system_navn=system_navn,
            komponenttyper=komponenttyper,
            brukere=brukere,
            epj_i_bruk_fra=get(table, "epj_i_bruk_fra", date, _where("epj_i_bruk_fra"), required=False),
            arkivskaper_id=get(table, "arkivskaper_id", str, _where("arkivskaper_id"), required=False),
            arkiv_id=get(table, "arkiv_id", str, _where("arkiv_id"), required=False),
        )
        md.check()
        return md

    # ------------------------------------------------------------------ checking

    def check(self) -> None:
        """Raise ConfigError, naming the key, when the metadata cannot give a valid deposit."""
        for name, where in (("avleveringsidentifikator", "[nha] avleveringsidentifikator"),
                            ("avtaleidentifikator", "[nha.avtale] identifikator")):
            v = getattr(self, name)
            if not isinstance(v, str) or not v.strip():
                raise ConfigError(tr("{where} is missing", where=where), file=_FILE,
                                  hint=tr("it is assigned by Norsk helsearkiv in the deposit agreement; "
                                          "noarkpack never invents it"))
            if not OID.fullmatch(v):
                raise ConfigError(tr("{where} {value!r} is not an OID-like identifier (digits separated by dots, "
                                     "e.g. 2.16.578.1.39.100.11.9876.4)", where=where, value=v), file=_FILE,
                                  hint=tr("copy it exactly as written in the agreement with Norsk helsearkiv"))
        for name, where in (("avleveringsbeskrivelse", "[nha] avleveringsbeskrivelse"),
                            ("arkivskaper", "[nha] arkivskaper"),
                            ("avtalebeskrivelse", "[nha.avtale] beskrivelse"),
                            ("virksomhetsnavn", "[nha.avleverer] navn"),
                            ("ansvarlig_person", "[nha.pakkeliste] ansvarlig_person"),
                            ("kontaktinformasjon", "[nha.pakkeliste] kontaktinformasjon"),
                            ("lagringsenhet_beskrivelse", "[nha.pakkeliste] lagringsenhet_beskrivelse")):
            v = getattr(self, name)
            if not isinstance(v, str) or not v.strip():
                raise ConfigError(tr("{where} is missing or empty", where=where), file=_FILE,
                                  hint=tr("see docs/nha.md"))
        if not isinstance(self.organisasjonsnummer, str) or not ORGNR.fullmatch(self.organisasjonsnummer):
            raise ConfigError(tr("[nha.avleverer] organisasjonsnummer must be the 9-digit organisation number "
                                 "(Enhetsregisteret), without spaces"), file=_FILE)
        for name, where in (("avtaledato", "[nha.avtale] dato"),
                            ("klar_for_overforing", "[nha.pakkeliste] klar_for_overforing")):
            if not isinstance(getattr(self, name), date):
                raise ConfigError(tr("{where} must be a date", where=where), file=_FILE)
        if self.antall_lagringsenheter is not None and self.antall_lagringsenheter < 1:
            raise ConfigError(tr("[nha.pakkeliste] antall_lagringsenheter must be 1 or more"), file=_FILE)
        name = self.avlxml_filnavn.replace("{avleveringsidentifikator}", self.avleveringsidentifikator)
        if not re.fullmatch(r"avlxml[A-Za-z0-9._-]*\.xml", name):
            raise ConfigError(tr("[nha] avlxml_filnavn must be a file name avlxml….xml (letters, digits, . _ -)"),
                              file=_FILE)
        if self.avlxml_version not in AVLXML_VERSIONS:
            raise ConfigError(tr("[nha] avlxml_version must be one of {versions} (3 is the published version, 4 the "
                                 "draft)", versions=", ".join(AVLXML_VERSIONS)), file=_FILE)
        if not self.system_id or not str(self.system_id).strip():
            raise ConfigError(tr("no system id for the package names: set [system] id (or [nha] system_id)"),
                              file=_FILE, hint=tr("it must never change between runs: the uuid5 names derive from it"))
        for name in ("arkivskaper_id", "arkiv_id"):
            v = getattr(self, name)
            if v is not None and not OID.fullmatch(v):
                raise ConfigError(tr("[nha] {name} {value!r} is not an OID", name=name, value=v), file=_FILE)
        for k, v in self.diagnosekodeverk.items():
            if not (v == "0" or OID.fullmatch(v)):
                raise ConfigError(tr("[nha.diagnosekodeverk] {name} = {value!r} is not an OID (or 0 for unknown)",
                                     name=k, value=v), file=_FILE)
