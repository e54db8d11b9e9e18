"""What an extract needs to know besides the journals: the archive description.

:class:`ExtractSettings` is built from ``noarkpack.toml`` by
:mod:`noarkpack.project`, or directly by a migration script.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

from ..errors import ConfigError
from ..locale import tr
from ..model.noark5 import ArkivskaperInfo

SKILLE = ("skarpt", "mykt")


@dataclass(frozen=True)
class ExtractSettings:
    system_id: str  # namespace of stable systemIDs: never change between runs
    system_name: str
    arkiv_tittel: str
    arkiv_opprettet: datetime
    arkiv_opprettet_av: str
    arkiv_avsluttet: datetime
    arkiv_avsluttet_av: str
    arkivdel_tittel: str
    periode_start: date
    periode_slutt: date
    arkivdel_opprettet: datetime
    arkivdel_opprettet_av: str
    arkivdel_avsluttet: datetime
    arkivdel_avsluttet_av: str
    arkivskapere: tuple[ArkivskaperInfo, ...]
    documents_root: Path
    system_version: str | None = None
    system_type: str = "Fagsystem (EPJ)"
    arkiv_beskrivelse: str | None = None
    arkivdel_beskrivelse: str | None = None
    inngaaende_skille: str = "skarpt"
    #: None: derived from what was done, "mykt" when a journal open at the end of the period stays in the
    #: system (ExtractWriter.leave_out), else "skarpt" (docs/mapping.md, "Open journals")
    utgaaende_skille: str | None = None
    skjerming_tilgangsrestriksjon: str = "Unntatt offentlighet"
    skjerming_hjemmel: str = "Offl. § 13, jf. hpl. § 21"
    #: name patterns (``*``, ``?``; without case) of the external korrespondanseparter that are institutions,
    #: shown in offentligJournal; everyone else is a natural person and screened (docs/mapping.md, "Skjerming")
    skjerming_institusjoner: tuple[str, ...] = ()
    open_journals: str = "skip"  # "skip" (report, leave out) | "refuse" (error)
    schema_set: str = "noark5-v5.0"
    extra: dict = field(default_factory=dict, compare=False)

    def check(self) -> None:
        """Raise ConfigError when the settings cannot give a valid extract."""
        where = "noarkpack.toml"
        for name in ("system_id", "system_name", "arkiv_tittel", "arkiv_opprettet_av", "arkiv_avsluttet_av",
                     "arkivdel_tittel", "arkivdel_opprettet_av", "arkivdel_avsluttet_av"):
            v = getattr(self, name)
            if not isinstance(v, str) or not v.strip():
                raise ConfigError(tr("{name} is missing or empty", name=name), file=where)
        if not self.arkivskapere:
            raise ConfigError(tr("at least one [[arkivskaper]] is required"), file=where)
        keys = [a.key for a in self.arkivskapere]
        if len(set(keys)) != len(keys):
            raise ConfigError(tr("two [[arkivskaper]] tables have the same key"), file=where)
        if self.periode_slutt < self.periode_start:
            raise ConfigError(tr("arkivdel periode_slutt is before periode_start"), file=where)
        if self.arkiv_avsluttet < self.arkiv_opprettet or self.arkivdel_avsluttet < self.arkivdel_opprettet:
            raise ConfigError(tr("avsluttet is before opprettet for arkiv or arkivdel"), file=where)
        for name in ("inngaaende_skille", "utgaaende_skille"):
            value = getattr(self, name)
            if value not in SKILLE and not (name == "utgaaende_skille" and value is None):
                raise ConfigError(tr("{name} must be 'skarpt' or 'mykt'", name=name), file=where)
        if self.open_journals not in ("skip", "refuse"):
            raise ConfigError(tr("open_journals must be 'skip' or 'refuse'"), file=where)

    def arkivskaper(self, key: str) -> ArkivskaperInfo | None:
        for a in self.arkivskapere:
            if a.key == key:
                return a
        return None

    def only(self, arkivskaper_key: str) -> ExtractSettings:
        """The settings of a split extract holding one arkivskaper's journals."""
        a = self.arkivskaper(arkivskaper_key)
        if a is None:
            raise ConfigError(tr("unknown arkivskaper {key}", key=repr(arkivskaper_key)), file="noarkpack.toml")
        return replace(self, arkivskapere=(a,))
