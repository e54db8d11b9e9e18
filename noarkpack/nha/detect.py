"""Whether a folder is an NHA deposit: a check cheap enough for every ``noarkpack validate``."""

from __future__ import annotations

from pathlib import Path


def is_nha_deposit(path: str | Path) -> bool:
    """True when ``path`` is a folder holding an AVLXML list and an epjpakkeliste (an EPJARK deposit)."""
    p = Path(path)
    return p.is_dir() and any(p.glob("avlxml*.xml")) and any(p.glob("epjpakkeliste*.xml"))
