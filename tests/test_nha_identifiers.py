"""Fødselsnummer, D-nummer and H-nummer under both mod-11 rule sets, as the NHA deposit uses them.

All numbers are synthetic: computed here from invented dates and individnummer.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from noarkpack.model.epj import Pasient, Pasientjournal
from noarkpack.model.identifiers import PersonNumberError, validate_person_number
from noarkpack.nha import check_person_number

W1 = (3, 7, 6, 1, 8, 9, 4, 5, 2)
W2 = (5, 4, 3, 2, 7, 6, 5, 4, 3, 2)


def _k(digits: str, weights) -> int | None:
    k = 11 - sum(int(d) * w for d, w in zip(digits, weights)) % 11
    return 0 if k == 11 else (None if k == 10 else k)


def nine(born: date, kind: str, individ: int) -> str:
    day = born.day + (40 if kind == "D-nummer" else 0)
    month = born.month + (40 if kind == "H-nummer" else 0)
    return f"{day:02d}{month:02d}{born.year % 100:02d}{individ:03d}"


def make(born: date, kind: str, rule_set: str, individ: int = 100) -> str:
    """A synthetic number of ``kind`` valid under ``rule_set`` only ("1964" or "2032")."""
    for n in range(individ, individ + 200):
        base = nine(born, kind, n)
        if rule_set == "1964":
            k1 = _k(base, W1)
            if k1 is None:
                continue
        else:  # 2032: the weighted sum including k1 leaves remainder 1, 2 or 3 (not 0: that is 1964)
            s = sum(int(d) * w for d, w in zip(base, W1))
            k1 = next((c for c in range(10) if (s + c) % 11 in (1, 2, 3)), None)
            if k1 is None:
                continue
        k2 = _k(base + str(k1), W2)
        if k2 is None:
            continue
        return f"{base}{k1}{k2}"
    raise AssertionError("no number found")


BORN = [date(1921, 3, 14), date(1944, 12, 5), date(1999, 1, 31), date(1938, 4, 18)]
CASES = [(b, kind, rs) for b in BORN for kind in ("fødselsnummer", "D-nummer", "H-nummer")
         for rs in ("1964", "2032")]


@pytest.mark.parametrize(("born", "kind", "rule_set"), CASES,
                         ids=[f"{b.isoformat()}-{k}-{r}" for b, k, r in CASES])
def test_valid_numbers_both_rule_sets(born: date, kind: str, rule_set: str) -> None:
    number = make(born, kind, rule_set)
    pn = validate_person_number(number)
    assert pn.kind == kind
    assert pn.rule_set == rule_set
    if kind != "D-nummer":  # the date part of a D-nummer is the real date + 40 days
        assert pn.birth_date == born
    assert number not in pn.masked


def test_worked_example_from_fnrinfo() -> None:
    pn = validate_person_number("31129956715")
    # individnummer 567 with year 99 is a birth in the 1800s
    assert (pn.kind, pn.rule_set, pn.birth_date) == ("fødselsnummer", "1964", date(1899, 12, 31))


INVALID = [
    ("wrong second control digit", lambda n: n[:10] + str((int(n[10]) + 1) % 10)),
    ("wrong first control digit", lambda n: n[:9] + str((int(n[9]) + 5) % 10) + n[10]),
    ("ten digits", lambda n: n[:10]),
    ("twelve digits", lambda n: n + "0"),
    ("letters", lambda n: n[:5] + "X" + n[6:]),
    ("spaces", lambda n: n[:6] + " " + n[6:10]),
    ("empty", lambda n: ""),
]


@pytest.mark.parametrize(("what", "spoil"), INVALID, ids=[w for w, _ in INVALID])
@pytest.mark.parametrize("kind", ["fødselsnummer", "D-nummer", "H-nummer"])
def test_invalid_numbers(what: str, spoil, kind: str) -> None:
    bad = spoil(make(date(1950, 6, 15), kind, "1964"))
    with pytest.raises(PersonNumberError) as e:
        validate_person_number(bad)
    assert bad not in str(e.value) or not bad


@pytest.mark.parametrize("number", [
    "31029912345",  # 31 February
    "00019912345",  # day 0
    "15139912345",  # month 13
    "55559912345",  # both D- and H-nummer markers
])
def test_impossible_dates(number: str) -> None:
    with pytest.raises(PersonNumberError):
        validate_person_number(number)


def _journal(number: str | None) -> Pasientjournal:
    return Pasientjournal(
        journal_id="J-1", arkivskaper="a", journalsted="Medisinsk avdeling", journalansvarlig="Lege",
        opprettet=datetime(2000, 1, 1), opprettet_av="x", avsluttet=datetime(2001, 1, 1), avsluttet_av="x",
        pasient=Pasient(pasient_id="P-1", navn="Testa Testesen", kjonn="K", fodselsnummer=number,
                        fodselsdato=date(1950, 6, 15)))


@pytest.mark.parametrize("kind", ["fødselsnummer", "D-nummer", "H-nummer"])
@pytest.mark.parametrize("rule_set", ["1964", "2032"])
def test_nha_check_accepts_valid(kind: str, rule_set: str) -> None:
    pn, warning = check_person_number(_journal(make(date(1950, 6, 15), kind, rule_set)))
    assert warning is None
    assert (pn.kind, pn.rule_set) == (kind, rule_set)


def test_nha_check_warns_on_invalid_without_the_number() -> None:
    good = make(date(1950, 6, 15), "fødselsnummer", "1964")
    bad = good[:10] + str((int(good[10]) + 1) % 10)
    pn, warning = check_person_number(_journal(bad))
    assert pn is None
    assert warning is not None and warning.severity == "warning" and warning.test == "NHA.13"
    assert bad not in warning.message and bad[:6] not in warning.message
    assert "Testa" not in warning.message
    assert warning.location["journal"] == "J-1"


def test_nha_check_no_number() -> None:
    assert check_person_number(_journal(None)) == (None, None)
