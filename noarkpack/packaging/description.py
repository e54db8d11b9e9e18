"""The extract's description for the depot: how the Noark 5 layer was derived from the EPJ system.

One self-contained HTML document in Norwegian bokmål (``uttrekksbeskrivelse.html``, placed by
:func:`noarkpack.packaging.dias.build_package` in ``administrative_metadata/`` beside the ADDML; see
docs/packaging.md, "The extract's description").  Every fact in it is read from the extract itself (the ADDML's
counts, period, periodeskille and flags; the registreringer, the conversions and the arkivdel titles of
arkivstruktur.xml, read in the inventory's one pass over it, :func:`..inventory.recorded_checksums`, by
:class:`StructureReader`) or given by the run that made it (the journals left out by [selection], with their reasons).  What
neither can tell is said to be unknown, never guessed.  It holds no patient's name or fødselsnummer: only the
arkivskapere, the system, counts, format ids and tool names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..validation.addml import read_addml as parse_addml
from .inventory import iter_document_refs, local

DESCRIPTION = "uttrekksbeskrivelse.html"
XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"

#: the ADDML flags (additionalInfo) and how the description names them
FLAGS = {
    "inneholderSkjermetInformasjon": "Inneholder skjermet informasjon",
    "omfatterDokumenterSomErKassert": "Omfatter dokumenter som er kassert",
    "inneholderDokumenterSomSkalKasseres": "Inneholder dokumenter som skal kasseres",
    "inneholderVirksomhetsspesifikkeMetadata": "Inneholder virksomhetsspesifikke metadata",
}


@dataclass
class ExtractFacts:
    """What the extract says about itself."""

    arkivskapere: list[str] = field(default_factory=list)
    system_type: str | None = None
    system_name: str | None = None
    arkiv: str | None = None
    start: str | None = None
    end: str | None = None
    inngaaende_skille: str | None = None
    utgaaende_skille: str | None = None
    flags: dict[str, str] = field(default_factory=dict)
    dokumentfiler: int | None = None
    occurrences: dict[tuple[str, str], int] = field(default_factory=dict)  # (file, element) → count
    registreringer: dict[str, int] = field(default_factory=dict)  # xsi:type (or "registrering") → count
    conversions: dict[tuple[str, str, str], int] = field(default_factory=dict)  # (from, to, tool) → count
    arkivdeler: list[str] = field(default_factory=list)  # arkivdel titles


def read_addml(path: Path, facts: ExtractFacts) -> None:
    """The ADDML's description of the extract, as validate reads it (:func:`noarkpack.validation.addml.read_addml`)."""
    with open(path, "rb") as fh:
        info = parse_addml(fh, path.name)
    facts.system_type, facts.system_name, facts.arkiv = info.system_type, info.system_name, info.arkiv
    facts.arkivskapere.extend(info.arkivskapere)
    facts.start, facts.end = info.start, info.end
    facts.inngaaende_skille = info.periode.get("inngaaendeSkille") or None
    facts.utgaaende_skille = info.periode.get("utgaaendeSkille") or None
    facts.flags.update({name: v for name, v in info.flags.items() if name in FLAGS and v})
    if info.antall_dokumentfiler and info.antall_dokumentfiler.isdigit():
        facts.dokumentfiler = int(info.antall_dokumentfiler)
    for obj in info.objects:
        for what, count in obj.occurrences.items():
            if what and count is not None:
                facts.occurrences[(obj.name, what)] = count


class StructureReader:
    """What the description needs of arkivstruktur.xml (registreringer by type, conversions by (from, to,
    tool), arkivdel titles), gathered as an ``observe`` callback of :func:`..inventory.iter_document_refs`:
    packaging reads the big file once, for the documents' checksums and for this."""

    def __init__(self) -> None:
        self.facts = ExtractFacts()
        self.read = False  # the pass ran to the end

    def __call__(self, name: str, el) -> None:
        facts = self.facts
        if name == "registrering":
            kind = (el.get(XSI_TYPE) or "registrering").rsplit(":", 1)[-1]
            facts.registreringer[kind] = facts.registreringer.get(kind, 0) + 1
        elif name == "konvertering":
            vals = {local(c.tag): (c.text or "").strip() for c in el if isinstance(c.tag, str)}
            key = (vals.get("konvertertFraFormat", ""), vals.get("konvertertTilFormat", ""),
                   vals.get("konverteringsverktoey", ""))
            facts.conversions[key] = facts.conversions.get(key, 0) + 1
        elif name == "tittel":
            parent = el.getparent()
            if parent is not None and local(parent.tag) == "arkivdel":
                facts.arkivdeler.append((el.text or "").strip())

    def copy_to(self, facts: ExtractFacts) -> None:
        facts.registreringer.update(self.facts.registreringer)
        facts.conversions.update(self.facts.conversions)
        facts.arkivdeler.extend(self.facts.arkivdeler)


def read_arkivstruktur(path: Path, facts: ExtractFacts) -> None:
    """A pass of its own over arkivstruktur.xml, for a caller that has not read it (see :class:`StructureReader`)."""
    reader = StructureReader()
    for _ in iter_document_refs(str(path), reader):
        pass
    reader.copy_to(facts)


def extract_facts(root: Path, addml: str = "arkivuttrekk.xml", structure: StructureReader | None = None) -> ExtractFacts:
    """The facts an extract folder (``avleveringspakke``) gives about itself; ``structure``: arkivstruktur.xml
    as already read (else it is read here)."""
    facts = ExtractFacts()
    read_addml(root / addml, facts)
    if structure is not None and structure.read:
        structure.copy_to(facts)
    elif (root / "arkivstruktur.xml").is_file():
        read_arkivstruktur(root / "arkivstruktur.xml", facts)
    return facts


def extract_description(env, root: Path, *, addml: str = "arkivuttrekk.xml", metadata=None,
                        excluded_by_reason: dict[str, int] | None = None, selection: dict | None = None,
                        software: str = "noarkpack", created: str | None = None,
                        structure: StructureReader | None = None) -> str:
    """The description as HTML, rendered with ``templates/extract-description.html.j2``.

    ``excluded_by_reason`` (journals left out by [selection], counted per reason) and ``selection`` (the
    project's [selection] rules) come from the run that made the extract; None when the extract is packaged
    without its project, and the description then says they are unknown.
    """
    facts = extract_facts(root, addml, structure)
    journalposter = facts.registreringer.get("journalpost", 0)
    return env.get_template("extract-description.html.j2").render(
        f=facts, flag_names=FLAGS, journalposter=journalposter,
        registreringer=sum(facts.registreringer.values()),
        mappe=facts.occurrences.get(("arkivstruktur", "mappe")),
        journal_entries={k[0]: v for k, v in facts.occurrences.items() if k[0] in ("loependeJournal",
                                                                                  "offentligJournal")},
        excluded=None if excluded_by_reason is None else sorted(excluded_by_reason.items()),
        excluded_total=None if excluded_by_reason is None else sum(excluded_by_reason.values()),
        selection=None if selection is None else sorted((str(k), str(v)) for k, v in selection.items()),
        conversions=sorted(facts.conversions.items()), converted=sum(facts.conversions.values()),
        meta=metadata, software=software, created=created)


def write_description(path: Path, env, root: Path, **kw) -> tuple[int, str]:
    """Render the description to ``path``; its size and SHA-256, hashed while written."""
    from ..hashing import HashingWriter

    text = extract_description(env, root, **kw)
    with open(path, "wb") as fh, HashingWriter(fh) as out:
        out.write(text.encode("utf-8"))
    return out.size, out.hexdigest()
