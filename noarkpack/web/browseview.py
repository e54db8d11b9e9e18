"""What the browse pages show of a node: its number and title, its metadata, with names and fødselsnummer masked
unless the session reveals them (issue 21, point 5)."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from ..locale import N_, tr
from ..sources.keys import holds_person_number
from .index import Node

#: (node kind, path) whose value identifies the patient
IDENTIFYING_PATHS = {("klasse", "klasseID"), ("klasse", "tittel"), ("mappe", "tittel")}
_NAMEISH = re.compile(r"(navn|name|f(o|ø)dselsn|fnr|personn|f(o|ø)dselsdato|f(o|ø)dtdato|adresse|telefon|e-?post|"
                      r"forfatter|ansvarlig|saksbehandler|partID)", re.I)
_NOT_IDENTIFYING = {"arkivskaperNavn", "partRolle", "korrespondanseparttype", "journalenhet"}

KIND_LABELS = {"arkiv": N_("arkiv"), "arkivdel": N_("arkivdel"), "klassifikasjonssystem": N_("klassifikasjonssystem"),
               "klasse": N_("klasse"), "mappe": N_("mappe"), "registrering": N_("registrering"),
               "dokumentbeskrivelse": N_("dokumentbeskrivelse"), "dokumentobjekt": N_("dokumentobjekt"),
               "avlxml": N_("AVLXML"), "pasientjournal": N_("pasientjournal"), "epjpakkeliste": N_("epjpakkeliste"),
               "pakke": N_("pakke")}
COUNTED = ("klasse", "mappe", "registrering", "dokumentobjekt", "pasientjournal", "pakke")


def is_identifying(kind: str, path: str, value: str) -> bool:
    """Is this metadata value a name or a person number (masked unless the session reveals)?"""
    if (kind, path) in IDENTIFYING_PATHS:
        return True
    leaf = path.rpartition("/")[2]
    if leaf in _NOT_IDENTIFYING:
        return False
    if _NAMEISH.search(leaf):
        return True
    return holds_person_number(value)


# --------------------------------------------------------------------------- what a node shows

def view_node(node: Node, reveal: bool) -> dict:
    """What a list or a heading shows of ``node``: its number, its title (or the offentligTittel when the title
    is masked), whether it is screened."""
    title = node.get("tittel")
    masked = False
    if title is not None and not reveal and is_identifying(node.kind, "tittel", title):
        masked = True
        title = node.get("offentligTittel")
    ident = node.ident
    ident_masked = bool(ident) and not reveal and is_identifying(node.kind, _ident_path(node.kind), ident)
    if node.kind == "dokumentobjekt":
        ref = node.get("referanseDokumentfil")
        title = PurePosixPath(ref).name if ref else node.get("format")
    elif node.kind == "pakke":
        title = node.get("filReferanse")
    elif node.kind == "pasientjournal":
        title = node.get("arkivskaper")
    return {"id": node.id, "kind": node.kind, "type": node.type, "kind_label": tr(KIND_LABELS.get(node.kind, node.kind)),
            "ident": None if ident_masked else ident, "ident_masked": ident_masked, "title": title,
            "title_masked": masked, "screened": bool(node.skjerming), "nchildren": node.nchildren,
            "date": node.get("journaldato") or node.get("opprettetDato"), "line": node.line}


def _ident_path(kind: str) -> str:
    return {"klasse": "klasseID", "mappe": "mappeID", "registrering": "registreringsID",
            "pasientjournal": "journalidentifikator", "pakke": "pakketype",
            "dokumentbeskrivelse": "dokumentnummer", "dokumentobjekt": "versjonsnummer"}.get(kind, "")


def metadata_rows(node: Node, reveal: bool) -> list[dict]:
    rows = []
    for path, value in node.meta:
        if path.startswith("skjerming/"):
            continue
        masked = not reveal and is_identifying(node.kind, path, value)
        rows.append({"path": path, "value": None if masked else value, "masked": masked})
    return rows
