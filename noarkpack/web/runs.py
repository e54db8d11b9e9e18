"""Runs of the library's stages from the web (the interface commit: a placeholder, filled in next)."""

from __future__ import annotations

STAGES_BY_KIND = {
    "project": ("import", "analyse", "convert", "extract", "package", "deposit"),
    "extract": ("validate", "package"),
    "sip": ("validate", "verify"),
    "bag": ("validate", "verify"),
    "nha-deposit": ("validate", "verify"),
}


class RunManager:
    def __init__(self, ctx) -> None:
        self.ctx = ctx

    def list(self, target: str | None = None) -> list:
        return []


def stage_forms(ctx, target) -> list:
    return []


def routes(ctx) -> list:
    return []
