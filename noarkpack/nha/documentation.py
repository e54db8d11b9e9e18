"""The deposit-level documentation EPJ Standard del 5 defines, in the deposit's ``dok`` package.

NHA's example package list (``epjark/EPJARK/instance1.xml``) has one ``dok`` package beside the ``epj``
packages (one per journal), and ``epjpakkeliste.xsd`` asks for at least two packages: a deposit is its journals
plus its documentation.  The ``dok`` package holds (docs/nha.md, "The dok package"):

* ``avleveringsdokumentasjon.xml`` — del 5 ``Avleveringsdokumentasjon.xsd``: one Avleveringsoversikt per
  deposited patient, Oppdateringsinfo, Avleveringsbeskrivelse;
* ``bestandsopplysninger.xml`` — del 5 ``Bestandsopplysninger.xsd`` (counts and years only, no person);
* ``uttrekksbeskrivelse/<kind>-<n>.xml`` — del 5 ``uttrekksbeskrivelse/*.xsd``: each component type the
  deposit uses (komponenttype OID, name, description, what it includes).

Every file is rendered from a jinja2 template in ``templates/`` with what the deposit holds.  The per-patient
rows stream: they are appended to a JSON Lines spool while the journals are written and rendered from it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import IO, Iterator

import jinja2

from ..resources import templates_dir
from .codes import Komponenttyper, uuid_oid
from .metadata import NhaMetadata
from .tarball import TarEntry

KINDS = {"sak": "Beskrivelse_arkivert_EPJ_sakstype", "dokument": "Beskrivelse_arkivert_EPJ_dokumenttype",
         "fragment": "Beskrivelse_arkivert_EPJ_fragmenttype"}


@dataclass
class Tally:
    """What the deposit holds, counted while it is written (no names, no numbers)."""

    journaler: int = 0
    pasienter: set[str] = field(default_factory=set)
    innslag: int = 0
    filer: int = 0
    bytes: int = 0
    fra: date | None = None
    til: date | None = None
    enheter: list[str] = field(default_factory=list)

    def journal(self, pasient_id: str, first: date, last: date, enhet: str) -> None:
        self.journaler += 1
        self.pasienter.add(pasient_id)
        self.fra = first if self.fra is None or first < self.fra else self.fra
        self.til = last if self.til is None or last > self.til else self.til
        if enhet not in self.enheter:
            self.enheter.append(enhet)


class Oversikt:
    """The Avleveringsoversikt rows, one per deposited patient, spooled to a JSON Lines file."""

    def __init__(self, spool: IO[str]) -> None:
        self.spool = spool
        self.seen: set[str] = set()

    def add(self, pasient_key: str, **row: str | None) -> None:
        if pasient_key in self.seen:  # one row per patient, also when the patient has two journals
            return
        self.seen.add(pasient_key)
        self.spool.write(json.dumps(row, ensure_ascii=False) + "\n")

    def rows(self) -> Iterator[dict]:
        self.spool.flush()
        self.spool.seek(0)
        for line in self.spool:
            yield json.loads(line)


def _env() -> jinja2.Environment:
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir())), autoescape=True,
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True)


def _render(template: str, path: Path, **ctx) -> None:
    with open(path, "w", encoding="utf-8") as f:
        for chunk in _env().get_template(template).generate(**ctx):
            f.write(chunk)


def write_documentation(folder: Path, top: str, *, md: NhaMetadata, types: Komponenttyper, tally: Tally,
                        oversikt: Oversikt, utvelgelsesdato: date, made: datetime, avlxml_name: str
                        ) -> list[TarEntry]:
    """Render the documentation under ``folder`` (a scratch folder) and return the dok package's entries."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "uttrekksbeskrivelse").mkdir(exist_ok=True)
    entries = [TarEntry(f"{top}/"), TarEntry(f"{top}/uttrekksbeskrivelse/")]
    arkivskaper_key = next(iter(md.arkivskaper_orgnr), None)
    arkivskaper_id = md.arkivskaper_id or uuid_oid(
        md.system_id, "arkivskaper", md.arkivskaper_orgnr.get(arkivskaper_key, md.arkivskaper))
    _render("nha-avleveringsdokumentasjon.xml.j2", folder / "avleveringsdokumentasjon.xml",
            oversikt=oversikt.rows(), uttrekksdato=made.date().isoformat(),
            sist_oppdatert=made.replace(microsecond=0).isoformat(), oppdatert_av=md.ansvarlig_person,
            avleveringsidentifikator=md.avleveringsidentifikator, arkivskaper_id=arkivskaper_id,
            arkiv_id=md.arkiv_id or uuid_oid(md.system_id, "arkiv", md.system_id),
            avtaledato=md.avtaledato.isoformat(), utvelgelsesdato=utvelgelsesdato.isoformat(),
            planlagt=md.klar_for_overforing.isoformat(),
            utfyllende=f"{md.avleveringsbeskrivelse}. Uttrekk fra {types.system_navn}; journalene er valgt ut etter "
                       f"NHAs regel per {utvelgelsesdato.isoformat()}, og overføringen er klar "
                       f"{md.klar_for_overforing.isoformat()} ({md.lagringsenhet_beskrivelse}).")
    _render("nha-bestandsopplysninger.xml.j2", folder / "bestandsopplysninger.xml",
            virksomhet=md.arkivskaper, enheter=tally.enheter, journaler=tally.journaler,
            pasienter=len(tally.pasienter), system=types.system_navn, innslag=tally.innslag, filer=tally.filer,
            megabyte=f"{tally.bytes / 1e6:.1f}", fra=tally.fra.isoformat() if tally.fra else "",
            til=tally.til.isoformat() if tally.til else "", typer=len(types.used),
            avleveringsidentifikator=md.avleveringsidentifikator, avtaleidentifikator=md.avtaleidentifikator,
            avlxml=avlxml_name)
    entries += [TarEntry(f"{top}/avleveringsdokumentasjon.xml", source=folder / "avleveringsdokumentasjon.xml"),
                TarEntry(f"{top}/bestandsopplysninger.xml", source=folder / "bestandsopplysninger.xml")]
    dokumenttyper = [t["oid"] for t in types.of_kind("dokument")]
    for kind, root in KINDS.items():
        for n, t in enumerate(types.of_kind(kind), start=1):
            name = f"uttrekksbeskrivelse/{'saks' if kind == 'sak' else kind}type-{n}.xml"
            if kind == "sak":
                includes, element = dokumenttyper, None
            elif kind == "dokument":
                includes, element = [types.describe(*k)["oid"] for k in t["includes"]], None
            else:
                includes, element = [], dict(types.describe(*t["includes"]))
                element["spesialisering"] = element["includes"]
            _render("nha-uttrekksbeskrivelse.xml.j2", folder / name, root=root, kind=kind, t=t,
                    includes=includes, element=element)
            entries.append(TarEntry(f"{top}/{name}", source=folder / name))
    return entries
