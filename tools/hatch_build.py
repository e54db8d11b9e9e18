"""Build hook: compile the gettext catalogues (noarkpack/locale/*/LC_MESSAGES/noarkpack.po) to .mo with Babel.

Runs for the wheel and for editable installs (pip install -e .), so every installed noarkpack, and the source
tree an editable install points at, has the compiled catalogues.  The .mo files are build output: .gitignore
keeps them out of the repository, ``artifacts`` puts them into the wheel.
"""

from __future__ import annotations

from pathlib import Path

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CatalogueHook(BuildHookInterface):
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict) -> None:
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        root = Path(self.root)
        for po in sorted((root / "noarkpack" / "locale").glob("*/LC_MESSAGES/noarkpack.po")):
            with po.open("rb") as fh:
                catalog = read_po(fh, locale=po.parent.parent.name, domain="noarkpack")
            mo = po.with_suffix(".mo")
            tmp = mo.with_suffix(".mo.tmp")
            with tmp.open("wb") as fh:
                write_mo(fh, catalog, use_fuzzy=False)
            tmp.replace(mo)
        build_data.setdefault("artifacts", []).append("noarkpack/locale/*/LC_MESSAGES/*.mo")
