"""The DIAS schemas from the schema store, validated with lxml, never from the network.

DIAS_METS.xsd, DIAS_PREMIS.xsd, submissionDescription.xsd and cpf.xsd import XLink
through ``http://www.loc.gov/standards/xlink/xlink.xsd``; a resolver maps that URL
to the store's pinned ``xlink.xsd``.  Every other external reference fails (the
parser has network access off).
"""

from __future__ import annotations

import functools
from pathlib import Path

from lxml import etree

from ..locale import tr

XLINK_URLS = ("http://www.loc.gov/standards/xlink/xlink.xsd", "https://www.loc.gov/standards/xlink/xlink.xsd")

#: package file → schema file in the "dias" set
SCHEMA_FILES = {
    "dias-mets": "DIAS_METS.xsd",
    "premis": "DIAS_PREMIS.xsd",
    "submission-description": "submissionDescription.xsd",
    "eac-cpf": "cpf.xsd",
    "ead": "ead3.xsd",
    "addml": "addml.xsd",
}


class _LocalResolver(etree.Resolver):
    def __init__(self, xlink: Path) -> None:
        super().__init__()
        self.xlink = xlink

    def resolve(self, url, pubid, context):
        if url in XLINK_URLS or (url and url.endswith("/xlink.xsd")):
            return self.resolve_filename(str(self.xlink), context)
        return None


@functools.lru_cache(maxsize=16)
def _load(xsd: str, xlink: str) -> etree.XMLSchema:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    parser.resolvers.add(_LocalResolver(Path(xlink)))
    return etree.XMLSchema(etree.parse(xsd, parser))


def schema(store, kind: str) -> etree.XMLSchema:
    """The compiled DIAS schema ``kind`` (a key of SCHEMA_FILES) from ``store``."""
    folder = store.set_dir("dias")
    return _load(str(folder / SCHEMA_FILES[kind]), str(folder / "xlink.xsd"))


def validate_bytes(store, kind: str, data: bytes) -> list[str]:
    """Schema errors of ``data`` ("line N: message"); empty when valid."""
    s = schema(store, kind)
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
    try:
        doc = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as e:
        return [tr("not well-formed XML: {error}", error=str(e))]
    if s.validate(doc):
        return []
    return [tr("line {line}: {message}", line=e.line, message=e.message) for e in s.error_log]


def validate_file(store, kind: str, path: str | Path) -> list[str]:
    return validate_bytes(store, kind, Path(path).read_bytes())
