"""arkivuttrekk.xml: the ADDML 8.3 description of the extract (jinja2 template).

The content is fixed by krav 6.4.22 and Riksarkivarens v5.0 template; the
checksums are the ones computed while each file was written or copied.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import jinja2

from ..model.mapping import EPJ_SCHEMA_FILE
from ..resources import templates_dir


@dataclass
class _Schema:
    name: str
    sha256: str | None
    main: bool = False


@dataclass
class _DataObject:
    name: str
    file: str
    sha256: str
    schemas: list[_Schema] = field(default_factory=list)
    counts: list[tuple[str, int]] = field(default_factory=list)


def environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        autoescape=jinja2.select_autoescape(enabled_extensions=("xml", "j2", "html"), default=True),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
    )


def render_arkivuttrekk(settings, result, flags, arkivskapere) -> str:
    f = result.files

    def sha(name: str) -> str:
        return f[name].sha256

    as_schemas = [_Schema("arkivstruktur.xsd", sha("arkivstruktur.xsd"), main=True)]
    if EPJ_SCHEMA_FILE in f:
        as_schemas.append(_Schema(EPJ_SCHEMA_FILE, sha(EPJ_SCHEMA_FILE)))
    # metadatakatalog.xsd carries its checksum at its first occurrence only.
    as_schemas.append(_Schema("metadatakatalog.xsd", sha("metadatakatalog.xsd")))
    objects = [
        _DataObject("arkivstruktur", "arkivstruktur.xml", sha("arkivstruktur.xml"), as_schemas,
                    [("mappe", result.mappe), ("registrering", result.registrering)]),
        _DataObject("endringslogg", "endringslogg.xml", sha("endringslogg.xml"),
                    [_Schema("endringslogg.xsd", sha("endringslogg.xsd"), main=True), _Schema("metadatakatalog.xsd", None)],
                    [("endring", result.endringer)]),
    ]
    for j in ("loependeJournal", "offentligJournal"):
        if f"{j}.xml" in f:
            objects.append(_DataObject(j, f"{j}.xml", sha(f"{j}.xml"),
                                       [_Schema(f"{j}.xsd", sha(f"{j}.xsd"), main=True),
                                        _Schema("metadatakatalog.xsd", None)],
                                       [("journalregistrering", result.journalregistreringer)]))
    system_name = settings.system_name
    if settings.system_version:
        system_name = f"{system_name} {settings.system_version}"
    return environment().get_template("arkivuttrekk.xml.j2").render(
        record_creators=[a.navn for a in arkivskapere],
        system_type=settings.system_type,
        system_name=system_name,
        archive=settings.arkiv_tittel,
        start_date=settings.periode_start.isoformat(),
        end_date=settings.periode_slutt.isoformat(),
        inngaaende_skille=settings.inngaaende_skille,
        utgaaende_skille=result.utgaaende_skille or settings.utgaaende_skille,
        flags=flags,
        antall_dokumentfiler=result.dokumentfiler,
        data_objects=objects,
    )
