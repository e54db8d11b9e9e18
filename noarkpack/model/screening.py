"""What a patient journal screens, and no more (docs/mapping.md, "Skjerming").

The standard's rules this module carries out:

* M502 skjermingMetadata names *which* metadata are screened.  Its comment places the values: "Skjerming navn
  part i sak" on the saksmappe, "Skjerming navn avsender"/"Skjerming navn mottaker" on the journalpost,
  "Skjerming merknadstekst" on saksmappe and journalpost.
* M025 offentligTittel is the title "with the words to be screened replaced by ******"; M502 has no value that
  screens a whole title ("… - unntatt første linje" keeps the first line, "… - utvalgte ord" replaces only
  the chosen words).
* Offentleglova § 13 exempts what a duty of confidentiality covers; forvaltningsloven § 13 (and
  helsepersonelloven § 21) covers "noens personlige forhold": the circumstances of natural persons.  The name of
  a hospital, a municipal unit or NAV in a journal is not a personal circumstance of anyone, and a public journal
  shows it; the name of a patient, a relative or any private person in a patient's journal discloses that the
  person is (or is close to) a patient, and is screened.

A korrespondansepart is known to be an institution when it is internal (korrespondanseparttype "Intern …",
M087: the organisation's own units) or when its name matches one of the project's ``[skjerming] institusjoner``
patterns (the source systems record no organisasjonsnummer or party kind).  Anyone else is taken to be a
natural person and screened: an unknown party is masked, never shown.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from fnmatch import fnmatchcase
from functools import lru_cache

MASK = "*****"

NAVN_AVSENDER = "Skjerming navn avsender"
NAVN_MOTTAKER = "Skjerming navn mottaker"
NAVN_PART = "Skjerming navn part i sak"
MERKNAD = "Skjerming merknadstekst"
MIDLERTIDIG = "Midlertidig skjerming"
TITTEL_REG_ORD = "Skjerming tittel registrering - utvalgte ord"
TITTEL_REG_LINJE = "Skjerming tittel registrering - unntatt første linje"
TITTEL_REG = "Skjerming tittel registrering"
TITTEL_MAPPE_ORD = "Skjerming tittel mappe - utvalgte ord"

#: M087 korrespondanseparttype values of a sender; every other value names a recipient
AVSENDER_TYPES = ("Avsender", "Intern avsender")
#: the korrespondanseparttyper of the organisation's own units and staff (M087)
INTERNAL_TYPES = ("Intern avsender", "Intern mottaker", "Intern kopimottaker")


def is_sender(korrespondanseparttype: str) -> bool:
    return korrespondanseparttype.strip() in AVSENDER_TYPES


def name_value(korrespondanseparttype: str) -> str:
    """The skjermingMetadata value that screens the name of a party of this type (M502)."""
    return NAVN_AVSENDER if is_sender(korrespondanseparttype) else NAVN_MOTTAKER


def is_institution(korrespondanseparttype: str, navn: str, patterns: Sequence[str]) -> bool:
    """Whether the party is an institution (shown in offentligJournal), not a natural person (screened).

    Internal parties are the organisation's own units; an external one is an institution only when its name
    matches one of ``patterns`` (shell-style, ``*`` and ``?``; compared without case).
    """
    if korrespondanseparttype.strip() in INTERNAL_TYPES:
        return True
    folded = " ".join(navn.split()).casefold()
    return any(fnmatchcase(folded, " ".join(p.split()).casefold()) for p in patterns)


_WORD = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")


def words(text: str) -> list[str]:
    """The words of a title or name, without case or punctuation (how names are found in titles)."""
    return [w.casefold() for w in _WORD.findall(text)]


def name_key(name: str) -> str:
    """A name as compared with the words of a title: its words, joined by one space."""
    return " ".join(words(name))


def title_ngrams(title: str, longest: int = 6) -> Iterable[str]:
    """Every run of up to ``longest`` consecutive words of ``title`` (as :func:`name_key` writes a name)."""
    ws = words(title)
    for i in range(len(ws)):
        for n in range(1, min(longest, len(ws) - i) + 1):
            yield " ".join(ws[i:i + n])


def mask_names(title: str, names: Iterable[str]) -> str:
    """``title`` with every screened name replaced by ``*****`` (M025): each whole name first, then each of
    its words of two letters or more standing alone (a surname or first name on its own still names the
    person).  Matches ignore case; a run of masks joined by blanks becomes one mask."""
    out = title
    for pattern in _maskers(tuple(names)):
        out = pattern.sub(MASK, out)
    return _MASK_RUN.sub(MASK, out)


_MASK_RUN = re.compile(r"\*{5}(?:\s+\*{5})+")


@lru_cache(maxsize=256)
def _maskers(names: tuple[str, ...]) -> tuple[re.Pattern, ...]:
    """The patterns :func:`mask_names` applies in turn for ``names`` (the entries of one journal share them)."""
    pieces: list[str] = []
    for name in sorted({" ".join(n.split()) for n in names if n and n.strip()}, key=len, reverse=True):
        ws = _WORD.findall(name)
        if ws:
            pieces.append(r"\s+".join(re.escape(w) for w in ws))
    singles = {w for n in names if n for w in _WORD.findall(n) if len(w) >= 2}
    pieces += [re.escape(w) for w in sorted(singles, key=len, reverse=True)]
    return tuple(re.compile(rf"(?<![^\W_]){p}(?![^\W_])", re.IGNORECASE) for p in pieces)


def public_title(title: str, metadata: Sequence[str], names: Iterable[str]) -> str | None:
    """offentligTittel (M025) of a registrering whose skjermingMetadata are ``metadata``, given the names of
    the persons it screens; None when no title screening applies and the title names none of them.

    "Midlertidig skjerming" screens every value M502 lists until the screening is assessed: the whole title.
    "… - unntatt første linje" keeps the first line; otherwise the screened names are replaced.
    """
    if MIDLERTIDIG in metadata:
        return MASK
    masked = mask_names(title, names)
    if any(m.startswith(TITTEL_REG_LINJE) for m in metadata):
        first, _, rest = title.partition("\n")
        return mask_names(first, names) + (" " + MASK if rest.strip() else "")
    if masked != title or any(m.startswith(TITTEL_REG) for m in metadata):
        return masked
    return None


def wholly_masked(value: str) -> bool:
    """Whether a public value is nothing but asterisks."""
    v = value.strip()
    return bool(v) and set(v) == {"*"}
