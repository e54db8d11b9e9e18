"""dias-mets.xml and the submission description: the file list (href, checksum, size) of a METS document.

Both are METS; :func:`parse_mets` reads a parsed tree, :func:`stream_mets` reads dias-mets.xml as a
stream so that memory does not grow with the number of files in the package.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field

from lxml import etree

DIAS_METS_NS = "http://arkivverket.no/standarder/METS"
LOC_METS_NS = "http://www.loc.gov/METS/"
XLINK_HREF = "{http://www.w3.org/1999/xlink}href"
#: a UUID anywhere in a name (OBJID "UUID:…", a package folder)
UUID_PATTERN = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


@dataclass(slots=True)
class MetsFile:
    href: str
    checksum: str | None
    checksumtype: str | None
    size: int | None
    line: int | None


@dataclass
class MetsInfo:
    namespace: str | None = None
    objid: str | None = None
    type: str | None = None
    files: list[MetsFile] = field(default_factory=list)


def parse_mets(root) -> MetsInfo:
    info = MetsInfo(namespace=etree.QName(root).namespace, objid=root.get("OBJID"), type=root.get("TYPE"))
    for f in root.iter("{*}file"):
        loc = f.find("{*}FLocat")
        href = loc.get(XLINK_HREF) if loc is not None else None
        if not href:
            continue
        if href.startswith("file:"):
            href = href[5:]
        size = f.get("SIZE")
        info.files.append(MetsFile(href, (f.get("CHECKSUM") or "").lower() or None, f.get("CHECKSUMTYPE"),
                                   int(size) if size and size.isdigit() else None, f.sourceline))
    return info


def drop(el) -> None:
    """Free a processed element and its preceding siblings (streamed parsing)."""
    el.clear()
    parent = el.getparent()
    if parent is not None:
        while el.getprevious() is not None:
            del parent[0]


def uuid_of(objid: str | None) -> str | None:
    if not objid:
        return None
    m = UUID_PATTERN.search(objid)
    return m.group(0).lower() if m else None


def stream_mets(data: bytes, xsd=None) -> MetsInfo | None:
    """dias-mets.xml read as a stream (memory independent of the number of files) and, with ``xsd``
    (DIAS_METS.xsd), validated on the way.

    None when the file is not well-formed, not valid, or cannot be checked this way: the caller
    then parses the whole tree (:func:`parse_mets`), which gives the complete list of errors.
    """
    info = MetsInfo()
    slots: list[MetsFile] = []  # per file element, in document order (href filled in at its FLocat)
    open_files: list[MetsFile] = []
    opts = dict(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True)
    try:
        root = None
        for ev, el in etree.iterparse(io.BytesIO(data), events=("start", "end"), **opts):
            tag = el.tag
            if not isinstance(tag, str):
                continue
            local = tag.rsplit("}", 1)[-1]
            if ev == "start":
                if root is None:
                    root = el
                    info.namespace = etree.QName(el).namespace
                    info.objid, info.type = el.get("OBJID"), el.get("TYPE")
                if local == "file":
                    size = el.get("SIZE")
                    slot = MetsFile(None, (el.get("CHECKSUM") or "").lower() or None, el.get("CHECKSUMTYPE"),
                                    int(size) if size and size.isdigit() else None, el.sourceline)
                    slots.append(slot)
                    open_files.append(slot)
                continue
            if local == "FLocat":
                parent = el.getparent()
                if (open_files and parent is not None and isinstance(parent.tag, str)
                        and parent.tag.rsplit("}", 1)[-1] == "file" and open_files[-1].href is None):
                    open_files[-1].href = el.get(XLINK_HREF) or ""  # the first FLocat child counts
            elif local == "file":
                open_files.pop()
                if not open_files:
                    drop(el)
        if xsd is not None:
            # A second pass for validity.  (It cannot be the first: with resolve_entities=False and a
            # schema, lxml 6 does not report a well-formedness error at the end of the data.)
            for _ev, el in etree.iterparse(io.BytesIO(data), events=("end",), schema=xsd, **opts):
                drop(el)
    except etree.XMLSyntaxError:
        return None
    if xsd is not None and info.namespace != DIAS_METS_NS:
        return None  # validated against a schema it does not claim: let the caller's path decide
    for f in slots:
        if f.href and f.href.startswith("file:"):
            f.href = f.href[5:]
    info.files = [f for f in slots if f.href]
    return info
