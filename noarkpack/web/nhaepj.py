"""An NHA epj package's EPJ (nha-epj 1.80) read from inside its tar into a tree (issue 21, point 4).

An ``epj`` package (``{uuid}.tar``) holds one patient's EPJ: the pasientinfo (``{uuid}/{uuid}.xml``), the EPJ sak
file (``{uuid}/journal/{uuid}.xml``: one Arkivert_EPJ_sak per journal, each referring to its EPJ dokumenter) and
the EPJ dokumenter (``{uuid}/dokumenter/{uuid}.xml``: revisions, fragments, data elements; an ELDOK data element
points to a document file).  :func:`epj_tree` reads each XML member in place from the tar (a slice of the tar
file, nothing unpacked) with ``iterparse``, clearing every element once read (entities never resolved, no DTD,
no network), and builds the tree the page shows: pasient, EPJ, each sak with its dokumenter in their sortering,
each dokument with its revisions and data elements.  :meth:`EpjTree.shown` masks names, fødselsnummer,
fødselsdato and user ids unless the session reveals them (as the Noark browse: :func:`.browseview.is_identifying`),
and the names seen in the package in the free texts (a revision's merknad) too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from urllib.parse import unquote, urlsplit

from lxml import etree

from ..locale import N_, tr
from .browseview import is_identifying
from .masking import MASK, mask_person_numbers
from .targetio import Slice
from .xmlcontext import AUTHOR

__all__ = ["EpjNode", "EpjTree", "epj_tree", "parse_member", "anchor", "member_anchor", "sak_anchor"]

#: the elements that are nodes of the tree; every other element is flattened into its node's metadata
NODES = frozenset(("Arkivert_pasientinfo", "Arkivert_EPJ", "Arkivert_EPJ_sak", "Referanse_arkivert_EPJ_dokument",
                   "Arkivert_EPJ_dokument", "Arkivert_revisjonsinfo", "Arkivert_EPJ_fragment",
                   "Arkivert_dataelement"))
#: leaves that identify a person beyond what :func:`is_identifying` finds by name
IDENTIFYING_LEAVES = frozenset(("pasient_ID", "tjenesteyter_komponent_ID", "personens_komponent_ID"))
#: leaves whose name looks like a name's but whose value is none (a code's text, a flag)
NOT_IDENTIFYING = frozenset(("displayName", "hemmelig_navn", "hemmelig_adresse", "pasient_ID_type"))
#: leaves whose value is a person's name: masked, and masked wherever else it is written in the package
NAME_LEAVES = frozenset(("fullt_navn", "pasientnavn"))
KIND_LABELS = {"Arkivert_pasientinfo": N_("pasient"), "Arkivert_EPJ": N_("EPJ"), "Arkivert_EPJ_sak": N_("EPJ sak"),
               "Arkivert_EPJ_dokument": N_("EPJ dokument"), "Arkivert_revisjonsinfo": N_("revision"),
               "Arkivert_EPJ_fragment": N_("fragment"), "Arkivert_dataelement": N_("data element")}
ELDOK = "Arkivert_ELDOK_dataelement___elektronisk_dokument"
_XSI_TYPE = "{http://www.w3.org/2001/XMLSchema-instance}type"
_PARSER_OPTIONS = dict(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def _local(tag) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def anchor(member: str) -> str:
    """The id of an EPJ dokument's node in the tree page (its file name's stem: a uuid)."""
    return "m-" + re.sub(r"[^A-Za-z0-9_-]", "-", PurePosixPath(member).stem)


def member_anchor(member: str) -> str:
    """Where a member of an epj package is in the tree page: the pasient (``{uuid}/{uuid}.xml``), the EPJ (the sak
    file ``{uuid}/journal/…``) or the EPJ dokument."""
    parts = member.strip("/").split("/")
    if len(parts) == 2:
        return "pasient"
    if len(parts) > 2 and parts[1] == "journal":
        return "epj"
    return anchor(member)


@dataclass
class EpjNode:
    kind: str  #: the element's local name
    member: str  #: the XML member it is in
    line: int
    xtype: str | None = None  #: xsi:type without its prefix
    meta: list = field(default_factory=list)  #: [(path, value)] as read; masked by :meth:`EpjTree.shown`
    children: list = field(default_factory=list)
    document: dict | None = None  #: an ELDOK data element: {"member", "package"} of the file it points to

    def get(self, path: str) -> str | None:
        return next((v for k, v in self.meta if k == path), None)

    @property
    def label(self) -> str:
        return tr(KIND_LABELS[self.kind]) if self.kind in KIND_LABELS else self.kind

    def of(self, kind: str) -> list["EpjNode"]:
        return [c for c in self.children if c.kind == kind]


def parse_member(stream, member: str) -> EpjNode | None:
    """One XML member as a tree of :class:`EpjNode` (the root and the :data:`NODES` below it; every other leaf
    element becomes a ``(path, value)`` of the node around it), read with ``iterparse`` and every element cleared
    once read; None when it is not well-formed."""
    root: EpjNode | None = None
    nodes: list[EpjNode] = []
    frames: list[list] = []  # [local name, is a node, has element children] of the open elements
    try:
        for event, el in etree.iterparse(stream, events=("start", "end"), **_PARSER_OPTIONS):
            name = _local(el.tag)
            if event == "start":
                if frames:
                    frames[-1][2] = True
                is_node = name in NODES or root is None
                if is_node:
                    xtype = el.get(_XSI_TYPE)
                    node = EpjNode(name, member, el.sourceline or 0, xtype.rpartition(":")[2] if xtype else None)
                    if nodes:
                        nodes[-1].children.append(node)
                    else:
                        root = node
                    nodes.append(node)
                frames.append([name, is_node, False])
                continue
            name, is_node, has_children = frames.pop()
            if is_node:
                nodes.pop()
            elif not has_children and nodes:
                rel = [name]
                for f in reversed(frames):
                    if f[1]:
                        break
                    rel.append(f[0])
                nodes[-1].meta.append(("/".join(reversed(rel)), (el.text or "").strip()))
            el.clear()
            parent = el.getparent()
            while parent is not None and el.getprevious() is not None:
                del parent[0]
    except etree.XMLSyntaxError:
        return None
    return root


@dataclass
class EpjTree:
    """An epj package's EPJ: the patient, the EPJ with its saker, their dokumenter; what was not read."""

    pasient: EpjNode | None
    epj: EpjNode | None
    saker: list  #: [(sak EpjNode, [dokument EpjNode or None (a reference that does not resolve)])]
    unreferenced: list  #: the EPJ dokumenter no sak refers to
    broken: list  #: the XML members that are not well-formed
    names: set = field(default_factory=set)  #: the names seen (masked in free texts)

    def shown(self, node: EpjNode, reveal: bool) -> list[dict]:
        """``node``'s metadata as the page shows it: identifying values masked unless ``reveal``."""
        rows = []
        for path, value in node.meta:
            leaf = path.rpartition("/")[2]
            masked = not reveal and bool(value) and leaf not in NOT_IDENTIFYING and (
                leaf in IDENTIFYING_LEAVES or is_identifying("epj", path, value) or _is_id_value(node, leaf))
            if not masked and not reveal and value:
                value = self.free_text(value)
            rows.append({"path": path, "value": None if masked else value, "masked": masked})
        return rows

    def free_text(self, value: str) -> str:
        for name in sorted(self.names, key=len, reverse=True):
            if len(name) > 2:
                value = value.replace(name, MASK)
        return AUTHOR.sub(lambda m: m.group(1) + MASK, mask_person_numbers(value, MASK) or "")

    def title(self, dokument: EpjNode, reveal: bool) -> str:
        """A dokument's title: its first revision's merknad (the entry's title), masked as free text."""
        for rev in dokument.of("Arkivert_revisjonsinfo"):
            text = rev.get("merknad")
            if text:
                return text if reveal else self.free_text(text)
        return dokument.get("komponent_ID") or ""


def _resolve(member: str, uri: str) -> str | None:
    """``uri`` (relative, as the EPJ writes it) from the folder of ``member``: a path from the deposit's top (its
    first part the package's uuid); None for an absolute URI or one that leaves the deposit."""
    parts = urlsplit(uri.strip())
    if parts.scheme or parts.netloc or uri.startswith("/"):
        return None
    out: list[str] = []
    for part in (PurePosixPath(member).parent / unquote(parts.path)).parts:
        if part == "..":
            if not out:
                return None
            out.pop()
        elif part != ".":
            out.append(part)
    return "/".join(out) or None


def epj_tree(tar, members: dict[str, tuple[int, int]]) -> EpjTree:
    """The EPJ of the epj package ``tar`` (its XML ``members``: name -> (offset, size))."""
    parsed: dict[str, EpjNode] = {}
    broken = []
    with open(tar, "rb") as fp:
        for name, (offset, size) in sorted(members.items()):
            fp.seek(offset)
            node = parse_member(Slice(fp, size), name)
            if node is None:
                broken.append(name)
            else:
                parsed[name] = node
    pasient = epj = None
    dokumenter: dict[str, EpjNode] = {}
    names: set[str] = set()
    for name, node in parsed.items():
        if node.kind == "Pasientpersonalia" or node.of("Arkivert_pasientinfo"):
            pasient = (node.of("Arkivert_pasientinfo") or [node])[0]
        elif node.kind == "Arkivert_EPJ":
            epj = node
        elif node.kind == "Arkivert_EPJ_dokument":
            dokumenter[name] = node
        _collect_names(node, names)
        _link_documents(node)
    saker, used = [], set()
    for sak in epj.of("Arkivert_EPJ_sak") if epj is not None else []:
        refs = sorted(sak.of("Referanse_arkivert_EPJ_dokument"), key=lambda r: _int(r.get("sortering")))
        docs = []
        for ref in refs:
            target = _resolve(ref.member, ref.get("filreferanse") or "")
            doc = dokumenter.get(target) if target else None
            docs.append(doc)
            if target:
                used.add(target)
        saker.append((sak, docs))
    rest = [d for n, d in sorted(dokumenter.items()) if n not in used]
    return EpjTree(pasient, epj, saker, rest, broken, names)


def _int(text: str | None) -> int:
    try:
        return int(text or 0)
    except ValueError:
        return 0


def _is_id_value(node: EpjNode, leaf: str) -> bool:
    """The value of an ID data element (the journalansvarlig: a person or a user id)."""
    return leaf == "id" and (node.xtype or "").startswith("Arkivert_ID_")


def _collect_names(node: EpjNode, names: set[str]) -> None:
    for path, value in node.meta:
        leaf = path.rpartition("/")[2]
        if value and (leaf in NAME_LEAVES or _is_id_value(node, leaf)):
            names.add(value)
    for c in node.children:
        _collect_names(c, names)


def _link_documents(node: EpjNode) -> None:
    """Each ELDOK data element below ``node`` with the file it points to (resolved from its member's folder)."""
    if node.kind == "Arkivert_dataelement" and (node.xtype or "").endswith(ELDOK):
        ref = node.get("dokumentinnhold")
        target = _resolve(node.member, ref) if ref else None
        if target:
            node.document = {"member": target, "package": target.split("/", 1)[0] + ".tar"}
    for c in node.children:
        _link_documents(c)


def sak_anchor(komponent_id: str) -> str:
    """The id of an EPJ sak (a journal, by its komponent_ID: the journalidentifikator) in the tree page."""
    return "sak-" + re.sub(r"[^A-Za-z0-9_-]", "-", komponent_id)
