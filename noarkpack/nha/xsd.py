"""The NHA schema sets from the schema store, compiled once, and safe XML parsing.

XML is parsed with entity resolution, DTD loading and network access off.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from lxml import etree

from ..schemas import SchemaStore, default_store

SET_AVLXML = {"3": "nha-avlxml-v3", "4": "nha-avlxml-v4-draft"}
SET_PAKKELISTE = "nha-epjpakkeliste"
SET_EPJ = "nha-epj-1.80"

#: schema file of each EPJ 1.80 kind
EPJ_FILES = {"pasientinfo": "pasientinfo.xsd", "sak": "epj_sak.xsd", "dokument": "epj_dokument.xsd"}


def safe_parser(**kw) -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                           huge_tree=False, remove_blank_text=False, **kw)


@lru_cache(maxsize=32)
def _compile(path: str, mtime_ns: int) -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(path, safe_parser()))


def compile_schema(path: Path) -> etree.XMLSchema:
    return _compile(str(path), path.stat().st_mtime_ns)


class NhaSchemas:
    """The compiled schemas a deposit needs, from one schema store (each set verified by hash)."""

    def __init__(self, store: SchemaStore | None = None) -> None:
        self.store = store or default_store()

    def avlxml(self, version: str) -> etree.XMLSchema:
        return compile_schema(self.store.set_dir(SET_AVLXML[version]) / "avlxml.xsd")

    def pakkeliste(self) -> etree.XMLSchema:
        return compile_schema(self.store.set_dir(SET_PAKKELISTE) / "epjpakkeliste.xsd")

    def epj(self, kind: str) -> etree.XMLSchema:
        return compile_schema(self.store.set_dir(SET_EPJ) / EPJ_FILES[kind])

    def schema_path(self, set_name: str, file: str) -> Path:
        return self.store.set_dir(set_name) / file


def schema_errors(schema: etree.XMLSchema, limit: int = 20) -> list[tuple[int, str]]:
    """(line, message) of the schema's last validation, at most ``limit``."""
    out = []
    for e in schema.error_log:
        out.append((e.line, e.message))
        if len(out) >= limit:
            break
    return out
