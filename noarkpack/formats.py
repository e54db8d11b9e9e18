"""The archival formats of Riksarkivarens forskrift § 5-17, by PRONOM PUID.

The list is data (``arkivformater.json``), with the dates a format became or
stopped being acceptable: plain PDF, for instance, is archival only for
documents produced up to 2008-12-31.  Validation (NP.01), the analysis and
extraction (conversion) all ask this module.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from pathlib import Path

#: the list, as data: written for noarkpack from the regulation (chapter 5), with validity dates
FORMATS_FILE = Path(__file__).with_name("arkivformater.json")


@lru_cache(maxsize=1)
def raw_formats() -> dict[str, dict]:
    """PUID → the list's entry for it (name, puids, valid_from?, valid_to?)."""
    data = json.loads(FORMATS_FILE.read_text(encoding="utf-8"))
    return {puid: entry for entry in data["formats"] for puid in entry["puids"]}


@dataclass(frozen=True)
class ArchivalFormat:
    name: str
    puids: tuple[str, ...]
    valid_from: date | None = None
    valid_to: date | None = None

    def valid_on(self, day: date | None) -> bool:
        if day is None:
            return self.valid_to is None
        if self.valid_from is not None and day < self.valid_from:
            return False
        return self.valid_to is None or day <= self.valid_to


@lru_cache(maxsize=1)
def archival_formats() -> dict[str, ArchivalFormat]:
    """PUID → the approved format it belongs to."""
    out: dict[str, ArchivalFormat] = {}
    for f in {id(e): e for e in raw_formats().values()}.values():
        fmt = ArchivalFormat(
            name=f["name"],
            puids=tuple(f["puids"]),
            valid_from=date.fromisoformat(f["valid_from"]) if f.get("valid_from") else None,
            valid_to=date.fromisoformat(f["valid_to"]) if f.get("valid_to") else None,
        )
        for puid in fmt.puids:
            out[puid] = fmt
    return out


def is_archival(puid: str, produced: date | None = None) -> bool:
    """True if ``puid`` is an approved archival format for a document produced on ``produced``.

    Without a date, only formats that are still accepted today count.
    """
    fmt = archival_formats().get(puid)
    return fmt is not None and fmt.valid_on(produced)


#: PUIDs of PDF/A, the target of every conversion
PDFA_PUIDS = frozenset({"fmt/95", "fmt/354", "fmt/476", "fmt/477", "fmt/478", "fmt/479", "fmt/480", "fmt/481"})
