"""How a SIARD table cell's text becomes a value, and how a LOB is checked against its length and digest.

SIARD 2.1/2.2 ch. 6.1 (table data): character data escapes what XML cannot carry (control characters, and
the backslash itself as ``\\u005C``; SIARD Suite also escapes spaces XML processors could collapse) as
``\\uXXXX``; binary data inline is ``xs:hexBinary`` (the table's .xsd may declare ``xs:base64Binary``
instead); a LOB stored as a file carries ``length`` (bytes for binary, *characters* for character LOBs:
table.xsd clobType/blobType annotations) and optionally ``digest`` with ``digestType`` MD5, SHA-1 or SHA-256.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import re

from lxml import etree

from ..errors import SourceError
from ..locale import tr
from .siard_meta import KIND_BINARY, KIND_BOOL, KIND_DATE, KIND_FLOAT, KIND_INT, TABLE_NS, Leaf

_ESCAPE = re.compile(r"\\u([0-9A-Fa-f]{4})")
_DIGESTS = {"MD5": "md5", "SHA-1": "sha1", "SHA1": "sha1", "SHA-256": "sha256", "SHA256": "sha256"}
_INT64 = (-(2**63), 2**63 - 1)


def unescape(text: str) -> str:
    """Undo SIARD's ``\\uXXXX`` escapes (a pair of escaped UTF-16 surrogates becomes one character)."""
    if "\\u" not in text:
        return text
    out = _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    if any(0xD800 <= ord(c) <= 0xDFFF for c in out):
        out = out.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return out


def hasher(digest_type: str | None, *, where: str):
    """A hashlib object for a SIARD digestType, or None when the cell gives none."""
    if not digest_type:
        return None
    name = _DIGESTS.get(digest_type.strip().upper())
    if name is None:
        raise SourceError(tr("unknown digestType {digest_type} (SIARD allows MD5, SHA-1, SHA-256)",
                             digest_type=repr(digest_type)), file=where)
    return hashlib.new(name)


def check_lob(data: bytes, *, binary: bool, length: str | None, digest: str | None, digest_type: str | None,
              where: str) -> bytes | str:
    """``data`` as the cell's value (bytes, or str for a character LOB), after checking length and digest."""
    if binary:
        value: bytes | str = data
        count = len(data)
    else:
        try:
            value = data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise SourceError(tr("the character LOB is not UTF-8 (byte {offset})", offset=e.start), file=where,
                              hint=tr("SIARD stores character LOBs in UTF-8; the archive is damaged")) from None
        count = len(value)
    if length is not None and length.strip() and not length.strip().isdigit():
        raise SourceError(tr("the LOB's length attribute {length} is not a number", length=repr(length)), file=where)
    if length is not None and length.strip() and int(length) != count:
        hint = tr("the LOB file is truncated or damaged; get a fresh copy of the archive")
        if binary:
            raise SourceError(tr("the LOB holds {count} byte(s), the table records length {length}", count=count,
                                 length=int(length)), file=where, hint=hint)
        raise SourceError(tr("the LOB holds {count} character(s), the table records length {length}", count=count,
                             length=int(length)), file=where, hint=hint)
    h = hasher(digest_type, where=where) if digest else None
    if h is not None:
        h.update(data)
        # hexadecimal, or for the SHA variants Base64 (metadata.xsd messageDigestType annotation)
        if h.hexdigest().lower() != digest.strip().lower() and base64.b64encode(h.digest()).decode() != digest.strip():
            raise SourceError(tr("the LOB's {digest_type} digest does not match the one the table records",
                                 digest_type=digest_type),
                              file=where, hint=tr("the LOB file was altered or damaged after archiving; get the "
                                                  "archive again from its depot copy and check its fixity"))
    return value


def decode_binary(text: str, encoding: str, *, where: str) -> bytes:
    try:
        if encoding == "base64":
            return base64.b64decode("".join(text.split()), validate=True)
        return bytes.fromhex("".join(text.split()))
    except (ValueError, binascii.Error):
        raise SourceError(tr("binary cell is not valid {encoding}",
                             encoding="base64" if encoding == "base64" else "hex"),
                          file=where, hint=tr("the table XML is damaged; get a fresh copy of the archive")) from None


def convert(text: str, leaf: Leaf, encoding: str, *, where: str):
    """The Python value of an inline cell: int, float, str or bytes (SIARD 2.1 ch. 5.10 type mapping)."""
    kind = leaf.kind
    if kind == KIND_BINARY:
        return decode_binary(text, encoding, where=where)
    if kind == KIND_INT:
        try:
            n = int(text.strip())
        except ValueError:
            if leaf.sql_type.upper().startswith(("DEC", "NUM")):
                # a DECIMAL(p) declared without a scale that holds a fraction anyway (a writer's declaration
                # slip): keep the exact text rather than stop the import
                return text.strip()
            raise SourceError(tr("column {column} ({type}) holds a value of {count} character(s) that is not an "
                                 "integer", column=leaf.name, type=leaf.sql_type, count=len(text)),
                              file=where) from None
        return n if _INT64[0] <= n <= _INT64[1] else str(n)
    if kind == KIND_FLOAT:
        t = text.strip()
        try:
            return float({"INF": "inf", "-INF": "-inf"}.get(t, t))
        except ValueError:
            raise SourceError(tr("column {column} ({type}) holds a value that is not a number", column=leaf.name,
                                 type=leaf.sql_type), file=where) from None
    if kind == KIND_BOOL:
        t = text.strip().lower()
        if t in ("true", "1"):
            return 1
        if t in ("false", "0"):
            return 0
        raise SourceError(tr("column {column} (BOOLEAN) holds a value that is not true/false", column=leaf.name),
                          file=where)
    if kind == KIND_DATE:
        # xs:date in SIARD is UTC, written with or without "Z" (table.xsd dateType); a date has no time zone
        t = text.strip()
        return t[:-1] if t.endswith("Z") else t
    return unescape(text)


def _element_json(el):
    """An array element (or a UDT inside one) as JSON data: text, or a list/dict of its children."""
    children = list(el)
    if not children:
        return unescape(el.text or "")
    if all(etree.QName(c).localname.startswith("a") for c in children):
        return array_json(el)
    return {etree.QName(c).localname: _element_json(c) for c in children}


def array_json(el) -> str | list:
    """The JSON text of an array cell: elements <a1>…<aN> in position order, null for a position left out."""
    items: dict[int, object] = {}
    for c in el:
        local = etree.QName(c).localname
        if local.startswith("a") and local[1:].isdigit():
            items[int(local[1:])] = _element_json(c)
    values = [items.get(i) for i in range(1, max(items, default=0) + 1)]
    return values


def array_text(el) -> str:
    return json.dumps(array_json(el), ensure_ascii=False)


def binary_encodings(xsd: bytes | None) -> dict[str, str]:
    """Top-level columns the table's .xsd declares xs:base64Binary ({"c4": "base64"}); hex otherwise."""
    if not xsd:
        return {}
    try:
        root = etree.fromstring(xsd, etree.XMLParser(resolve_entities=False, no_network=True))
    except etree.XMLSyntaxError:
        return {}
    out = {}
    for el in root.iter("{http://www.w3.org/2001/XMLSchema}element"):
        if (el.get("type") or "").endswith("base64Binary") and el.get("name"):
            out[el.get("name")] = "base64"
    return out


__all__ = ["unescape", "check_lob", "convert", "array_text", "binary_encodings", "hasher", "TABLE_NS"]
