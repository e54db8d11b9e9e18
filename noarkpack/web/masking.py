"""Masking a person's numbers in text shown on a page: the bottom of the web modules' layers (the findings, the
places, the XML context and the NHA pages all mask with these).

Every valid fødselsnummer, D- or H-nummer (an 11-digit run) is replaced unless the session reveals them.
"""

from __future__ import annotations

import re

__all__ = ["MASK", "mask_person_numbers"]

#: what a masked name or value is shown as
MASK = "*****"
#: an 11-digit run: a fødselsnummer, D- or H-nummer when its check digits say so
_ELEVEN = re.compile(r"(?<!\d)\d{11}(?!\d)")


def mask_person_numbers(text: str | None, mask: str = "***********") -> str | None:
    """``text`` with every valid fødselsnummer, D- or H-nummer (an 11-digit run) replaced by ``mask``."""
    if not text or not _ELEVEN.search(text):
        return text
    from ..model.identifiers import is_valid_person_number

    return _ELEVEN.sub(lambda m: mask if is_valid_person_number(m.group(0)) else m.group(0), text)
