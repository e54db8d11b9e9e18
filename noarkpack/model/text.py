"""Text as XML 1.0 can carry it.

XML 1.0 forbids most C0 control characters (and U+FFFE/U+FFFF); legacy
exports contain them now and then (a stray form feed in a note).  They are
removed on output, and a value that is blank once they are gone counts as
missing — never as an empty element.
"""

from __future__ import annotations

import re

_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_safe(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot carry."""
    return _BAD_CHARS.sub("", text) if _BAD_CHARS.search(text) else text


def is_blank(text: str) -> bool:
    """True when nothing but white space is left of ``text`` once made XML-safe."""
    return not xml_safe(text).strip()
