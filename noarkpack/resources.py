"""Where the package's data (schemas/, templates/) lives.

In a wheel they are installed as ``noarkpack/_data/{schemas,templates}``; in a
source checkout (editable install, tests) they are the top-level folders.
"""

from __future__ import annotations

from pathlib import Path

_PKG = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """Return the folder ``name`` ("schemas" or "templates")."""
    installed = _PKG / "_data" / name
    if installed.is_dir():
        return installed
    checkout = _PKG.parent / name
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"noarkpack data folder {name!r} not found (broken installation?)")


def schemas_dir() -> Path:
    return data_dir("schemas")


def templates_dir() -> Path:
    return data_dir("templates")


def html_environment():
    """The jinja2 environment of the HTML reports: ``tr`` and ``current_lang`` (noarkpack.locale) are globals, so a
    template's texts are in the language of the run."""
    import jinja2

    from .locale import current, tr
    from .model.selection import reason_label

    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir())), autoescape=True,
                             trim_blocks=True, lstrip_blocks=True)
    env.globals["tr"] = tr
    env.globals["current_lang"] = current
    env.globals["reason_label"] = reason_label  # a reason a journal was left out is data; shown translated
    return env
