"""NP.09: every virksomhetsspesifikt metadataelement is documented in its schema (Noark 5 krav 6.4.35).

Krav 6.4.32-6.4.35 (chapter 6.4, "Avlevering"): business-specific metadata elements are defined in schemas that
come with the extract, listed for arkivstruktur in the ADDML, and "the content and meaning of each ... shall be
documented ... in the form of the XML Schema elements annotation and documentation attached to the definition of
the metadata element" where it is not obvious.  Arkade does not look.  This test reads each extra schema the ADDML
lists for arkivstruktur (anything besides arkivstruktur.xsd and metadatakatalog.xsd) and names every element
declaration without documentation on itself (or its own anonymous type).  A warning: whether an element's meaning is
"obvious" is the archivist's call, but a depot receiving an undocumented element will ask.
"""

from __future__ import annotations

from lxml import etree

from ..locale import tr
from .report import Report
from .source import ExtractSource

TESTS = ("NP.09",)

XS = "{http://www.w3.org/2001/XMLSchema}"
#: the official schemas of arkivstruktur; any other schema listed for it holds business-specific metadata
OFFICIAL = frozenset(("arkivstruktur.xsd", "metadatakatalog.xsd"))
#: an extra schema larger than this is not read (ours is ~9 KB; the official arkivstruktur.xsd ~60 KB)
MAX_BYTES = 8 << 20


def _documented(node) -> bool:
    """True when ``node`` has an xs:annotation/xs:documentation with text."""
    for ann in node.iterchildren(f"{XS}annotation"):
        for doc in ann.iterchildren(f"{XS}documentation"):
            if "".join(doc.itertext()).strip():
                return True
    return False


def undocumented(root) -> list[tuple[str, int]]:
    """(element name, line) of each named xs:element declaration in a schema without documentation on the
    declaration itself or on its own (anonymous) type.  A named type's documentation does not count: a type
    such as "non-empty text" is shared by elements of different meaning, and the krav asks for the element's."""
    missing = []
    for el in root.iter(f"{XS}element"):
        name = el.get("name")
        if not name or _documented(el):
            continue
        anonymous = [t for t in el if t.tag in (f"{XS}simpleType", f"{XS}complexType")]
        if any(_documented(t) for t in anonymous):
            continue
        missing.append((name, el.sourceline or 0))
    return missing


def check(src: ExtractSource, addml, report: Report) -> None:
    """NP.09 on every extra schema of arkivstruktur that the ADDML lists and the extract holds."""
    if not report.wants("NP.09"):
        return
    report.mark_ran("NP.09")
    obj = addml.object("arkivstruktur") if addml is not None else None
    extras = [s.name for s in (obj.schemas if obj else []) if s.name and s.name not in OFFICIAL]
    for name in extras:
        if not src.exists(name):
            continue  # N5.01 and N5.03 say it is missing
        size = src.size(name) or 0
        if size > MAX_BYTES:
            report.add("NP.09", "warning", tr("{file} is {size} bytes: too large to read for its documentation",
                                              file=name, size=size), file=name)
            continue
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)
        try:
            with src.open(name) as fh:
                root = etree.fromstring(fh.read(), parser)
        except etree.XMLSyntaxError as exc:
            report.add("NP.09", "warning", tr("{file} cannot be read for its documentation: {error}", file=name,
                                              error=str(exc)), file=name)
            continue
        missing = undocumented(root)
        for element, line in missing:
            report.add("NP.09", "warning", tr("{file}: element {element} has no xs:annotation/xs:documentation "
                                              "(krav 6.4.35: document the content and meaning of each "
                                              "virksomhetsspesifikt metadataelement in its schema)",
                                              file=name, element=element),
                       file=name, line=line or None)
        if not missing:
            report.add("NP.09", "info", tr("{file}: every element is documented", file=name), file=name)


__all__ = ["TESTS", "check", "undocumented"]
