"""Identifiers: Norwegian person numbers and stable systemIDs.

Person numbers (fødselsnummer, D-nummer, H-nummer) are 11 digits:
``DDMMYY`` + individnummer (3) + two control digits.  A D-nummer adds 4 to
the first digit, an H-nummer adds 4 to the third.  Until 2032 both control
digits are mod-11 digits with fixed weights.  From 2032 (Skatteetaten's new
rule set, research §4.6) numbers may be issued whose *first* control digit is
free (k1 may be any of 0, 1, 2, 3 off the mod-11 value) while the second is
computed with its weights over the first ten digits such that the weighted sum
is divisible by 11.  :func:`validate_person_number` accepts a number under
either rule set and says which.

systemIDs are UUIDs derived with uuid5 from the source system's id and the
record's source keys, so a rerun on the same input yields the same extract.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import date

from ..locale import tr

_W1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
_W2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)

#: namespace of all noarkpack systemIDs (uuid5 of the project URL name)
NOARKPACK_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:noarkpack:systemid")
_NAMESPACE_BYTES = NOARKPACK_NAMESPACE.bytes


def _mod11(digits: str, weights: tuple[int, ...]) -> int | None:
    """The mod-11 control digit of ``digits``; None where no digit is possible (remainder 1)."""
    s = sum(int(d) * w for d, w in zip(digits, weights))
    k = 11 - s % 11
    if k == 11:
        return 0
    if k == 10:
        return None
    return k


def control_digits(first_nine: str) -> str | None:
    """The two control digits (pre-2032 rules) for nine digits, or None if none exist."""
    k1 = _mod11(first_nine, _W1)
    if k1 is None:
        return None
    k2 = _mod11(first_nine + str(k1), _W2)
    if k2 is None:
        return None
    return f"{k1}{k2}"


@dataclass(frozen=True)
class PersonNumber:
    """The result of checking an 11-digit person number."""

    value: str
    kind: str  # "fødselsnummer" | "D-nummer" | "H-nummer"
    rule_set: str  # "1964" (classic) | "2032"
    birth_date: date | None

    @property
    def masked(self) -> str:
        """A form safe for screens: the kind only, never digits."""
        return f"<{self.kind}>"

    @property
    def kjonn(self) -> str | None:
        """The sex the number carries: "mann" (odd 9th digit) or "kvinne" (even).

        The 9th digit is the individnummer's last digit (Skatteetaten's rule for
        fødselsnummer, D-nummer and H-nummer alike).  A number valid only under the
        2032 rule set is issued without a sex digit: None, nothing to compare against.
        """
        if self.rule_set == "2032":
            return None
        return "mann" if int(self.value[8]) % 2 else "kvinne"


class PersonNumberError(ValueError):
    """The value is not a valid person number; the message never contains the number."""


def _birth_date(day: int, month: int, yy: int, individ: int) -> date | None:
    # The individnummer tells the century (Skatteetaten's table).
    if individ <= 499:
        centuries = [1900]
    elif individ <= 749:
        centuries = [1800, 2000] if yy >= 54 else [2000]
    elif individ <= 899:
        centuries = [2000] if yy <= 39 else []
    else:
        centuries = [2000] if yy <= 39 else [1900]
    for c in centuries:
        try:
            return date(c + yy, month, day)
        except ValueError:
            continue
    return None


def validate_person_number(value: str) -> PersonNumber:
    """Check an 11-digit fødselsnummer, D-nummer or H-nummer.

    Raises :class:`PersonNumberError` (message without the number) when it is
    not valid under either rule set.
    """
    if not isinstance(value, str) or len(value) != 11 or not value.isdigit():
        raise PersonNumberError(tr("not 11 digits"))
    d = [int(c) for c in value]
    day = d[0] * 10 + d[1]
    month = d[2] * 10 + d[3]
    kind = "fødselsnummer"
    if day > 40:
        kind = "D-nummer"
        day -= 40
    if month > 40:
        if kind == "D-nummer":
            raise PersonNumberError(tr("both D- and H-nummer markers set"))
        kind = "H-nummer"
        month -= 40
    if not (1 <= day <= 31 and 1 <= month <= 12):
        raise PersonNumberError(tr("the date part is not a date"))
    yy = d[4] * 10 + d[5]
    individ = d[6] * 100 + d[7] * 10 + d[8]
    birth = _birth_date(day, month, yy, individ)
    if birth is None and kind == "fødselsnummer":
        raise PersonNumberError(tr("the date part is not a valid date for its individnummer"))

    classic = control_digits(value[:9])
    if classic == value[9:]:
        return PersonNumber(value, kind, "1964", birth)
    # 2032 rule set: k2 is computed as before over the first ten digits;
    # k1 may be any of the mod-11 value plus 0..3 (mod 11) — see research §4.6.
    k2 = _mod11(value[:10], _W2)
    if k2 is not None and k2 == d[10]:
        s1 = sum(x * w for x, w in zip(d[:9], _W1)) + d[9]
        if s1 % 11 in (0, 1, 2, 3):
            return PersonNumber(value, kind, "2032", birth)
    raise PersonNumberError(tr("control digits do not match (neither the 1964 nor the 2032 rule set)"))


def is_valid_person_number(value: str) -> bool:
    try:
        validate_person_number(value)
    except PersonNumberError:
        return False
    return True


def message_key(value: object, also: object = None) -> str:
    """A record key fit for a message: ``(key masked)`` when it is or holds (as an 11-digit run) a valid
    fødselsnummer, D- or H-nummer, or equals ``also`` (the record's own person number) — systems that key patients
    by fødselsnummer would otherwise print it (issue 18, point 10)."""
    text = "" if value is None else str(value)
    if also is not None and text == str(also):
        return tr("(key masked)")
    for i in range(len(text) - 10):
        run = text[i:i + 11]
        if run.isdigit() and (i == 0 or not text[i - 1].isdigit()) and \
                (i + 11 == len(text) or not text[i + 11].isdigit()) and is_valid_person_number(run):
            return tr("(key masked)")
    return text


def system_id(system: str, kind: str, *keys: str) -> str:
    """A stable systemID (UUID string) for a record of ``kind`` with source ``keys``.

    ``system`` is the project's system id (noarkpack.toml ``[system] id``): the
    same source keys in two systems never give the same systemID.
    """
    name = "\x1f".join((system, kind, *keys))
    # uuid.uuid5, without building a UUID object: an extract makes ~5 of these per document.
    h = bytearray(hashlib.sha1(_NAMESPACE_BYTES + name.encode("utf-8")).digest()[:16])
    h[6] = (h[6] & 0x0F) | 0x50  # version 5
    h[8] = (h[8] & 0x3F) | 0x80  # RFC 4122 variant
    x = h.hex()
    return f"{x[:8]}-{x[8:12]}-{x[12:16]}-{x[16:20]}-{x[20:]}"
