"""Package names that load on first use (PEP 562).

A package lists its public names with the module each comes from; importing the package then costs
nothing until a name is used.  ``noarkpack validate`` and the split pass's child start faster for it.
"""

from __future__ import annotations

import importlib
import sys


def lazy_names(package: str, exports: dict[str, str | None]):
    """``(__getattr__, __dir__)`` for ``package``: ``exports`` maps each name to the relative module it
    comes from (None: the name is a submodule of its own)."""

    def __getattr__(name: str):
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        source = exports[name]
        if source is None:
            value = importlib.import_module(f".{name}", package)
        else:
            value = getattr(importlib.import_module(source, package), name)
        setattr(sys.modules[package], name, value)  # found directly from now on
        return value

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(exports))

    return __getattr__, __dir__
