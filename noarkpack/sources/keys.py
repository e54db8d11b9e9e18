"""Record keys that are identifiers (issue 18, point 10).

Many legacy systems key their patients by fødselsnummer, so a record key in a message ("patient 01017012345")
would print the person number.  A key is masked when it is, or holds, a valid fødselsnummer, D- or H-nummer
(the control digits of the Folkeregister rules, :func:`noarkpack.model.identifiers.is_valid_person_number`), or
when it comes from the column the mapping also maps as ``pasient.fodselsnummer``.  The mask is a stable
pseudonym — where the row is (``pasient.csv line 17``, ``query pasient row 17``) — so the archivist can still
find the row in the export.
"""

from __future__ import annotations

import re

from ..locale import tr
from ..model.identifiers import is_valid_person_number

_ELEVEN = re.compile(r"(?<!\d)\d{11}(?!\d)")


def holds_person_number(value: object) -> bool:
    """Is ``value``, or does it hold (as an 11-digit run), a valid fødselsnummer, D- or H-nummer?"""
    if value is None:
        return False
    text = str(value)
    return any(is_valid_person_number(m.group(0)) for m in _ELEVEN.finditer(text))


def identifier_columns(mapping) -> set[str]:
    """Source columns the mapping maps as ``pasient.fodselsnummer`` (a key read from one of them is masked)."""
    cols: set[str] = set()
    for fm in mapping.files:
        spec = fm.fields.get("fodselsnummer") if fm.table == "pasient" else None
        if spec is not None:
            cols.update(c.lower() for c in spec.sources)
    return cols


def shown_key(value: object, file: str | None, line: int | None, *, also: object = None) -> str:
    """A record key as messages show it: masked with where its row is when it holds a person number (or equals
    ``also``, the record's own fødselsnummer: the key comes from that column)."""
    if value is None:
        return ""
    if holds_person_number(value) or (also is not None and str(value) == str(also)):
        if not file:
            return tr("(key masked)")
        if file.startswith("query "):
            return tr("(key masked: {file} row {row})", file=file, row=line)
        return tr("(key masked: {file} line {line})", file=file, line=line)
    return str(value)


def masked_key(value: object, *, from_identifier_column: bool, where: str) -> str:
    """``value`` as a record key fit to print, or ``key masked, <where>``."""
    if from_identifier_column or holds_person_number(value):
        return tr("key masked, {where}", where=where)
    return str(value)


__all__ = ["holds_person_number", "identifier_columns", "masked_key", "shown_key"]
