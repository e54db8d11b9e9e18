"""Build an EPJARK deposit for Norsk helsearkiv from a stream of journals.

Layout of the deposit folder (docs/nha.md):

    <out_dir>/epjark-<avleveringsidentifikator>/
        avlxml.xml                               AVLXML v3 (or the v4 draft); [nha] avlxml_filnavn renames it
        epjpakkeliste.xml                       the package list
        <uuid>.tar ...                          one ``epj`` tar per journal, one ``dok`` tar per
                                                journal that has document files

Journals stream through one at a time: each selected journal's XML is built
in memory (one journal's worth), its two tars are written and hashed in the
same pass, its AVLXML entry is appended to the open AVLXML stream.  The
whole deposit is written under a temporary folder in ``out_dir`` and renamed
into place only when complete and valid.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Any, Iterable

from lxml import etree

from ..clock import build_time
from ..documents import document_source, identify
from ..errors import ConfigError, DocumentError, ModelError, NoarkpackError
from ..locale import N_, tr
from ..model.epj import Pasientjournal
from ..model.identifiers import PersonNumber, PersonNumberError, message_key, system_id, validate_person_number
from ..model.selection import SelectionRules
from ..progress import Progress
from ..schemas import SchemaStore
from .codes import Komponenttyper, pasient_id_type
from .documentation import Oversikt, Tally, write_documentation
from .facts import deposit_diagnosis, mors_merknad
from .findings import WARNING, Finding, finding
from .metadata import NhaMetadata
from .tarball import TarEntry, write_tar
from .xml import (
    NS_AVLXML,
    Diagnosis,
    DocRef,
    FileRef,
    Package,
    avlxml_header,
    avlxml_journal,
    dokument_xml,
    opplysninger_xml,
    pakkeliste_xml,
    pasientinfo_xml,
    sak_xml,
)
from .xsd import NhaSchemas, safe_parser, schema_errors

PAKKELISTE_FILE = "epjpakkeliste.xml"

#: PRONOM ids NHA-friendly for long-term keeping (PDF/A, TIFF, plain text, XML); others give a warning
ARCHIVAL_PUIDS = {
    "fmt/95", "fmt/354", "fmt/476", "fmt/477", "fmt/478", "fmt/479", "fmt/480", "fmt/481", "fmt/1910",
    "fmt/1911", "fmt/1912", "fmt/353", "x-fmt/111", "fmt/101",
}

#: why a selected journal is left out of the deposit (msgids: ``tr(REASON_…, …)`` where a journal is left out)
REASON_NO_ENTRIES = N_("the journal has no innslag (an epj package needs at least one EPJ dokument)")
REASON_NO_BIRTH = N_("the date of birth is unknown: neither fodselsdato nor a valid fødselsnummer (AVLXML requires "
                     "fodtdato)")
REASON_INVALID = N_("the journal breaks a rule of the record model: {message}")
REASON_ARKIVSKAPER = N_("arkivskaper {key!r} is not described in noarkpack.toml ([[arkivskaper]])")
#: a date AVLXML cannot hold, by the AVLXML element it goes to (one whole sentence each)
REASON_DATE_RANGE = {
    "fodtdato": N_("the date of birth (fodtdato) lies outside the years 1800–2099 that AVLXML accepts"),
    "morsdato": N_("the date of death (morsdato) lies outside the years 1800–2099 that AVLXML accepts"),
    "forstekontakt": N_("the first contact (forstekontakt) lies outside the years 1800–2099 that AVLXML accepts"),
    "sistekontakt": N_("the last contact (sistekontakt) lies outside the years 1800–2099 that AVLXML accepts"),
    "diagnosedato": N_("a diagnosis date (diagnosedato) lies outside the years 1800–2099 that AVLXML accepts"),
}

_EXT = re.compile(r"\.[a-z0-9]{1,10}")


class NhaError(NoarkpackError):
    """The deposit could not be built."""


def _errors(schema: etree.XMLSchema) -> str:
    """The schema's first three validation errors, each with its line, joined by "; "."""
    return "; ".join(tr("line {line}: {message}", line=ln, message=m) for ln, m in schema_errors(schema, 3))


def avlxml_file_name(avleveringsidentifikator: str) -> str:
    return f"avlxml-{avleveringsidentifikator}.xml"


def deposit_folder_name(avleveringsidentifikator: str) -> str:
    return f"epjark-{avleveringsidentifikator}"


@dataclass(frozen=True)
class Excluded:
    """A journal that did not go into the deposit, and why (in the run's language; a reason made by
    :func:`noarkpack.locale.tr` also carries its msgid as ``reason.key``)."""

    journal_id: str
    reason: str
    source_line: int | None = None


@dataclass
class NhaResult:
    path: Path  # the deposit folder
    avlxml: Path
    pakkeliste: Path
    packages: list[Package] = field(default_factory=list)
    included: list[str] = field(default_factory=list)
    excluded: list[Excluded] = field(default_factory=list)
    warnings: list[Finding] = field(default_factory=list)
    identifiers: dict[str, int] = field(default_factory=dict)  # "fødselsnummer/1964": n, "ugyldig": n …
    documents: int = 0
    bytes: int = 0

    @property
    def epj_packages(self) -> list[Package]:
        return [p for p in self.packages if p.type == "epj"]

    @property
    def dok_packages(self) -> list[Package]:
        return [p for p in self.packages if p.type == "dok"]

    def summary(self) -> dict[str, Any]:
        reasons: dict[str, int] = {}
        for e in self.excluded:
            reasons[e.reason] = reasons.get(e.reason, 0) + 1
        return {
            "path": str(self.path),
            "journals": len(self.included),
            "excluded": len(self.excluded),
            "excluded_by_reason": reasons,
            "packages": len(self.packages),
            "epj_packages": len(self.epj_packages),
            "dok_packages": len(self.dok_packages),
            "documents": self.documents,
            "bytes": self.bytes,
            "warnings": len(self.warnings),
            "identifiers": dict(self.identifiers),
        }


def _in_range(d: date) -> bool:
    return 1800 <= d.year <= 2099


def _uuid(md: NhaMetadata, kind: str, *keys: str) -> str:
    return system_id(md.system_id, kind, *keys).lower()


def check_person_number(j: Pasientjournal) -> tuple[PersonNumber | None, Finding | None]:
    """Validate the patient's number with both rule sets; an invalid one gives a warning (never the number)."""
    value = j.pasient.fodselsnummer
    if not value:
        return None, None
    try:
        return validate_person_number(value), None
    except PersonNumberError as e:
        return None, finding("NHA.13", WARNING,
                             tr("journal {journal}: the patient's person number is not a valid fødselsnummer, "
                                "D-nummer or H-nummer under the 1964 or the 2032 rule set ({problem}); it is "
                                "deposited as recorded", journal=message_key(j.journal_id), problem=str(e)),
                             journal=message_key(j.journal_id))


@dataclass
class _Prepared:
    """A selected journal, checked and named, waiting for the rest of its patient's journals."""

    j: Pasientjournal
    key: tuple[str, str, str]
    epj_uuid: str
    pasient_id: str
    id_type: str
    merknad: str | None
    fodtdato: date
    first: date
    last: date
    diagnoser: list[Diagnosis]
    avl_diagnoser: list[Diagnosis]
    arkivskaper_navn: str
    arkivskaper_orgnr: str | None
    docs: list[DocRef]
    file_entries: list[TarEntry]
    opp_uuid: str


class _Builder:
    def __init__(self, tmp: Path, md: NhaMetadata, documents_root: Path, rules: SelectionRules,
                 schemas: NhaSchemas, progress: Progress | None, mtime: int, spool) -> None:
        self.tmp = tmp
        self.md = md
        self.documents_root = Path(documents_root)
        self.rules = rules
        self.schemas = schemas
        self.progress = progress
        self.mtime = mtime  # the tar members' time: when the deposit is made (noarkpack.clock)
        self.made = datetime.fromtimestamp(mtime, timezone.utc)
        self.seen: set[str] = set()
        self.s_pasientinfo = schemas.epj("pasientinfo")
        self.s_sak = schemas.epj("sak")
        self.s_dokument = schemas.epj("dokument")
        self.types = Komponenttyper(md.system_id, md.system_navn, dict(md.komponenttyper))
        self.tally = Tally()
        self.oversikt = Oversikt(spool)
        self.group: list[_Prepared] = []  # the journals of one patient, gathered until the next patient's
        self.done: set[tuple[str, str, str]] = set()  # patients whose EPJ is written

    def _validate(self, schema: etree.XMLSchema, data: bytes, what: str, journal_id: str) -> None:
        doc = etree.fromstring(data, parser=safe_parser())
        if not schema.validate(doc):
            raise NhaError(tr("the generated {what} is not valid against the nha-epj-1.80 schema: {errors}",
                              what=what, errors=_errors(schema)),
                           record=f"journal {message_key(journal_id)}",
                           hint=tr("a value in the source breaks a rule of the schema; fix it in the source"))

    def journal(self, j: Pasientjournal, result: NhaResult, xf) -> None:
        md = self.md
        line = getattr(j, "source_line", None)

        def exclude(reason: str) -> None:
            result.excluded.append(Excluded(j.journal_id, reason, line))

        # identifier check first: a warning whether or not the journal is deposited
        person, warn = check_person_number(j)
        if warn is not None:
            result.warnings.append(warn)
        key = "ingen" if not j.pasient.fodselsnummer else (
            f"{person.kind}/{person.rule_set}" if person else "ugyldig")
        result.identifiers[key] = result.identifiers.get(key, 0) + 1

        reason = self.rules.reason_to_exclude(j)
        if reason is not None:
            return exclude(reason)
        try:
            j.check()
        except ModelError as e:
            return exclude(tr(REASON_INVALID, message=e.message))
        if not j.innslag:
            return exclude(tr(REASON_NO_ENTRIES))
        if j.journal_id in self.seen:
            raise NhaError(tr("the journal id occurs twice in the source"),
                           record=f"journal {message_key(j.journal_id)}",
                           hint=tr("journal ids must be unique: the package names derive from them"))
        if md.arkivskapere and j.arkivskaper not in md.arkivskapere:
            return exclude(tr(REASON_ARKIVSKAPER, key=j.arkivskaper))
        arkivskaper_navn = md.arkivskapere.get(j.arkivskaper, md.arkivskaper)
        arkivskaper_orgnr = md.arkivskaper_orgnr.get(j.arkivskaper)

        p = j.pasient
        fodtdato = p.fodselsdato or (person.birth_date if person else None)
        if fodtdato is None:
            return exclude(tr(REASON_NO_BIRTH))
        first = (j.first_entry or j.opprettet).date()
        last = (j.last_entry or j.avsluttet).date()
        for what, d in (("fodtdato", fodtdato), ("morsdato", p.dodsdato), ("forstekontakt", first),
                        ("sistekontakt", last)):
            if d is not None and not _in_range(d):
                return exclude(tr(REASON_DATE_RANGE[what]))
        diagnoser: list[Diagnosis] = []  # all of the journal's diagnoses: the EPJ carries them all
        for dg in j.diagnoser:
            if dg.dato is not None and not _in_range(dg.dato):
                return exclude(tr(REASON_DATE_RANGE["diagnosedato"]))
        for dg in j.diagnoser:
            diagnoser.append(self._diagnosis(j, dg, result))
        avl_diagnoser = diagnoser
        if md.avlxml_version == "4" and any(d.dato is None for d in diagnoser):
            avl_diagnoser = [d for d in diagnoser if d.dato is not None]
            result.warnings.append(finding(
                "NHA.15", WARNING, tr("journal {journal}: a diagnosis has no date; AVLXML v4 requires diagnosedato, "
                                      "so it is left out of the list (it is kept in the EPJ and in AVLXML v3)",
                                      journal=message_key(j.journal_id)),
                journal=message_key(j.journal_id)))
        self.seen.add(j.journal_id)

        # one EPJ per patient (per arkivskaper and unit): del 5 Arkivert_EPJ "utgjør en arkivert elektronisk
        # pasientjournal tilhørende en enkelt pasient", its Arkivert_EPJ_sak (1..n) organise the documents "i
        # henhold til de behov den enkelte virksomhet måtte ha" — each source journal is one sak of it
        key = (j.arkivskaper, j.journalsted, p.pasient_id)
        if self.group and self.group[0].key != key:
            self.flush(result, xf)
        if key in self.done:
            raise NhaError(tr("the patient's journals are not next to each other in the source: one EPJ per "
                              "patient needs all of a patient's journals in a row"),
                           record=f"journal {message_key(j.journal_id)}",
                           hint=tr("order the source (or the [import] query) by patient, then by journal"))
        jid = j.journal_id
        epj_uuid = _uuid(md, "nha-epj", *key)
        docs: list[DocRef] = []
        file_entries: list[TarEntry] = []
        for n, i in enumerate(j.innslag, start=1):
            files = []
            for k, d in enumerate(i.dokumenter, start=1):
                src = document_source(self.documents_root, d)
                rec = f"journal {message_key(jid)}, innslag {i.innslag_id}, dokument {k}"
                if not src.is_file():
                    raise DocumentError(tr("document file not found (or not a file)"), record=rec,
                                        hint=tr("check dokumenter.fil in the source and [project] documents"))
                puid = d.format or identify(src).puid
                if puid not in ARCHIVAL_PUIDS:
                    result.warnings.append(finding(
                        "NHA.16", WARNING, tr("{record}: format {puid} is not an archival format NHA is known to "
                                              "take (PDF/A, TIFF, text, XML); convert it before depositing",
                                              record=rec, puid=puid), journal=message_key(jid)))
                f_uuid = _uuid(md, "nha-fil", jid, i.innslag_id, str(k))
                ext = PurePosixPath(d.fil).suffix.lower()
                ext = ext if _EXT.fullmatch(ext) else ".bin"
                # the file sits beside the EPJ dokument that refers to it, in the patient's own epj package: an
                # EPJ is whole in its package (del 5 ELDOK dokumentinnhold "Innholdet av det elektroniske
                # dokumentet"); the dok package is the deposit's documentation (docs/nha.md)
                member = f"{epj_uuid}/dokumenter/{f_uuid}{ext}"
                files.append(FileRef(uuid=f_uuid, member=member, uri=f"{f_uuid}{ext}", format=puid,
                                     tittel=d.tittel, sortering=k))
                file_entries.append(TarEntry(member, source=src))
                self.tally.bytes += src.stat().st_size
            docs.append(DocRef(innslag=i, uuid=_uuid(md, "nha-dokument", jid, i.innslag_id), sortering=n,
                               files=tuple(files)))
        # del 5 pasient_ID_type codes (codes.pasient_id_type); an invalid number is deposited as recorded,
        # typed by its form and explained in the AVLXML merknad
        id_type, id_merknad = pasient_id_type(p.fodselsnummer, person)
        self.group.append(_Prepared(
            j=j, key=key, epj_uuid=epj_uuid, pasient_id=p.fodselsnummer or p.pasient_id, id_type=id_type,
            merknad=" ".join(m for m in (id_merknad, mors_merknad(j, self.rules)) if m) or None,
            fodtdato=fodtdato, first=first, last=last, diagnoser=diagnoser, avl_diagnoser=avl_diagnoser,
            arkivskaper_navn=arkivskaper_navn, arkivskaper_orgnr=arkivskaper_orgnr, docs=docs,
            file_entries=file_entries, opp_uuid=_uuid(md, "nha-journalopplysninger", jid)))

    def flush(self, result: NhaResult, xf) -> None:
        """Write the EPJ of the patient whose journals are gathered (one epj tar) and their AVLXML entries."""
        group, self.group = self.group, []
        if not group:
            return
        md, g0 = self.md, group[0]
        self.done.add(g0.key)
        jid, epj_uuid = g0.j.journal_id, g0.epj_uuid
        pi_uuid = _uuid(md, "nha-pasientinfo", *g0.key)
        sak_uuid = _uuid(md, "nha-sak", *g0.key)
        first, last = min(x.first for x in group), max(x.last for x in group)
        pi = pasientinfo_xml(g0.j, pasient_id=g0.pasient_id, pasient_id_type=g0.id_type, fodselsdato=g0.fodtdato,
                             first=first, last=last)
        self._validate(self.s_pasientinfo, pi, "pasientinfo", jid)
        sak = sak_xml([(x.j, x.docs, (f"{x.j.journal_id}/journalopplysninger", x.opp_uuid)) for x in group], md,
                      epj_id=epj_uuid, pasientinfo_uri=f"../{pi_uuid}.xml", arkivskaper_navn=g0.arkivskaper_navn,
                      arkivskaper_orgnr=g0.arkivskaper_orgnr, types=self.types)
        self._validate(self.s_sak, sak, "EPJ sak", jid)
        entries = [TarEntry(f"{epj_uuid}/"), TarEntry(f"{epj_uuid}/journal/"), TarEntry(f"{epj_uuid}/dokumenter/"),
                   TarEntry(f"{epj_uuid}/{pi_uuid}.xml", data=pi),
                   TarEntry(f"{epj_uuid}/journal/{sak_uuid}.xml", data=sak)]
        for x in group:
            j = x.j
            data = opplysninger_xml(j, f"{j.journal_id}/journalopplysninger", md, self.types, x.diagnoser, self.made)
            self._validate(self.s_dokument, data, "EPJ dokument", j.journal_id)
            entries.append(TarEntry(f"{epj_uuid}/dokumenter/{x.opp_uuid}.xml", data=data))
            for d in x.docs:
                data = dokument_xml(j, d, md, self.types)
                self._validate(self.s_dokument, data, "EPJ dokument", j.journal_id)
                entries.append(TarEntry(f"{epj_uuid}/dokumenter/{d.uuid}.xml", data=data))
            entries += x.file_entries
        package = self._write(epj_uuid, "epj", entries, jid, tuple(x.j.journal_id for x in group))
        result.packages.append(package)
        result.bytes += package.size
        for x in group:
            j, pj = x.j, x.j.pasient
            result.documents += len(x.file_entries)
            self.tally.journal(pj.pasient_id, x.first, x.last, j.journalsted)
            self.tally.innslag += len(j.innslag)
            self.tally.filer += len(x.file_entries)
            self.oversikt.add(pj.pasient_id, pasient_id=x.pasient_id, pasient_id_type=x.id_type,
                              fodselsdato=x.fodtdato.isoformat(),
                              morsdato=pj.dodsdato.isoformat() if pj.dodsdato else None)
            result.included.append(j.journal_id)
            xf.write("\n")
            entry = avlxml_journal(j, arkivskaper_navn=x.arkivskaper_navn, identifikator=x.pasient_id,
                                   fodtdato=x.fodtdato, first=x.first, last=x.last, diagnoser=x.avl_diagnoser,
                                   lagringsenheter=[package.file], merknad=x.merknad)
            xf.write(entry, pretty_print=True)
            if self.progress:
                self.progress("journaler", len(result.included) + len(result.excluded), None)

    def _diagnosis(self, j: Pasientjournal, dg, result: NhaResult) -> Diagnosis:
        diagnosis, notes = deposit_diagnosis(j, dg, self.md.diagnosekodeverk)
        result.warnings.extend(notes)
        return diagnosis

    def _write(self, uuid: str, kind: str, entries: list[TarEntry], journal_id: str,
               journal_ids: tuple[str, ...] = ()) -> Package:
        path = self.tmp / f"{uuid}.tar"
        if path.exists():
            raise NhaError(tr("package {uuid}.tar would be written twice", uuid=uuid),
                           record=f"journal {message_key(journal_id)}")
        with open(path, "wb") as raw:
            sha, size = write_tar(raw, entries, self.mtime)
            raw.flush()
            os.fsync(raw.fileno())
        return Package(uuid=uuid, type=kind, sha256=sha, size=size, journal_id=journal_id,
                       journal_ids=journal_ids or ((journal_id,) if journal_id else ()))


def build_deposit(journals: Iterable[Pasientjournal], out_dir: str | os.PathLike[str], *, metadata: NhaMetadata,
                  documents_root: str | os.PathLike[str], rules: SelectionRules, avlxml_version: str | None = None,
                  store: SchemaStore | None = None, progress: Progress | None = None,
                  overwrite: bool = False) -> NhaResult:
    """Write the deposit folder ``out_dir/epjark-<avleveringsidentifikator>/`` and return what went in.

    Only journals that ``rules`` (profile ``nha``) select reach the deposit; every other is in
    ``result.excluded`` with its reason.  ``avlxml_version`` ("3" or "4") overrides the metadata's.
    Raises ConfigError, DocumentError, SchemaStoreError or NhaError; on any error nothing is left
    under the final name.
    """
    md = metadata
    if avlxml_version is not None:
        md = replace(md, avlxml_version=str(avlxml_version).split(".")[0])
    md.check()
    # when the deposit is made: [nha.pakkeliste] pakket_dato, else SOURCE_DATE_EPOCH, else now (pakketDato,
    # generertdato and the tar members' time all say it; noarkpack.clock)
    made = build_time(md.pakket_dato)
    md = replace(md, pakket_dato=made.date())
    if rules.profile != "nha":
        raise ConfigError(tr("a deposit to Norsk helsearkiv needs the selection profile 'nha'"),
                          file="noarkpack.toml", hint=tr("set [selection] profile = \"nha\""))
    schemas = NhaSchemas(store)
    s_avlxml = schemas.avlxml(md.avlxml_version)
    s_pakkeliste = schemas.pakkeliste()

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    final = out / deposit_folder_name(md.avleveringsidentifikator)
    if final.exists() and not overwrite:
        raise NhaError(tr("the deposit folder already exists"), file=final,
                       hint=tr("remove it or choose another --out folder"))
    tmp = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".part", dir=out))
    avl_name = md.avlxml_name
    result = NhaResult(path=final, avlxml=final / avl_name, pakkeliste=final / PAKKELISTE_FILE)
    scratch = spool = None
    try:
        scratch = Path(tempfile.mkdtemp(prefix=f".{final.name}.", suffix=".scratch", dir=out))
        spool = open(scratch / "avleveringsoversikt.jsonl", "w+", encoding="utf-8")
        b = _Builder(tmp, md, Path(documents_root), rules, schemas, progress, int(made.timestamp()), spool)
        with etree.xmlfile(str(tmp / avl_name), encoding="UTF-8") as xf:
            xf.write_declaration()
            with xf.element(f"{{{NS_AVLXML}}}avlxml", nsmap={None: NS_AVLXML}):
                avlxml_header(xf, md)
                for j in journals:
                    b.journal(j, result, xf)
                    xf.flush()
                b.flush(result, xf)
                xf.write("\n")
        if not result.included:
            raise NhaError(tr("no journal qualifies for the deposit ({count} left out; see the reasons in the "
                              "result)", count=len(result.excluded)),
                           hint=tr("NHA takes only journals of patients deceased per its rule"))
        # the deposit's documentation, del 5 (documentation.py): one dok package
        doc_uuid = _uuid(md, "nha-dok", "avleveringsdokumentasjon")
        entries = write_documentation(scratch / "dok", doc_uuid, md=md, types=b.types, tally=b.tally,
                                      oversikt=b.oversikt, utvelgelsesdato=rules.today or made.date(), made=made,
                                      avlxml_name=avl_name)
        result.packages.append(b._write(doc_uuid, "dok", entries, ""))
        result.bytes += result.packages[-1].size
        pk = pakkeliste_xml(md, result.packages)
        doc = etree.fromstring(pk)
        if not s_pakkeliste.validate(doc):
            raise NhaError(tr("the generated epjpakkeliste.xml is not valid: {errors}",
                              errors=_errors(s_pakkeliste)))
        with open(tmp / PAKKELISTE_FILE, "wb") as f:
            f.write(pk)
        # the AVLXML list streamed to disk: validate it streaming too
        try:
            for _ev, el in etree.iterparse(str(tmp / avl_name), events=("end",), schema=s_avlxml,
                                           resolve_entities=False, no_network=True, load_dtd=False):
                if el.tag == f"{{{NS_AVLXML}}}pasientjournal":
                    el.clear()
        except etree.XMLSyntaxError as e:
            raise NhaError(tr("the generated AVLXML list is not valid against AVLXML v{version}: {error}",
                              version=md.avlxml_version, error=str(e)),
                           hint=tr("a value in the source or in [nha] breaks a rule of the schema")) from None
        if final.exists():  # overwrite
            shutil.rmtree(final)
        os.replace(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        if spool is not None:
            spool.close()
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)
    return result


def run_nha_package(project_dir: str | os.PathLike[str], out_dir: str | os.PathLike[str], *,
                    avlxml_version: str | None = None, store: SchemaStore | None = None,
                    progress: Progress | None = None, overwrite: bool = False) -> NhaResult:
    """``noarkpack package PROJECT --profile nha --out DIR``: load the project and build its deposit.

    The selection always uses NHA's rule: when ``[selection]`` names another profile, its
    ``years_after_death`` and ``today`` are kept and the profile is set to ``nha``.
    """
    from ..project import load_project

    project = load_project(project_dir)
    cfg = project.config
    rules = SelectionRules.from_config(cfg.get("selection"))
    if rules.profile != "nha":
        rules = SelectionRules(profile="nha", years_after_death=rules.years_after_death, today=rules.today)
    md = NhaMetadata.from_toml(cfg, system_id=project.settings.system_id)
    if not md.arkivskapere:
        from dataclasses import replace

        md = replace(md, arkivskapere={a.key: a.navn for a in project.settings.arkivskapere})
    return build_deposit(project.journals(), out_dir, metadata=md, documents_root=project.settings.documents_root,
                         rules=rules, avlxml_version=avlxml_version, store=store, progress=progress,
                         overwrite=overwrite)
