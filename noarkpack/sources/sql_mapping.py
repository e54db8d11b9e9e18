"""The parts of the import mapping that belong to database sources (docs/migration.md):

* ``[import.source]``: ``url`` + ``password_env`` (a database through SQLAlchemy), or ``siard`` (an archive);
* ``innhold`` of a ``dokument`` row: the document's bytes from a column instead of a file
  (``innhold = { column = "NOTAT", format = "text" | "rtf" | "html" | "bytes", encoding = "windows-1252" }``).

Both are checked before a row is read; a mistake is a ConfigError naming noarkpack.toml and the line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from ..locale import tr
from .sql import SourceSpec

#: innhold formats; "bytes" text in CSV/JSON Lines is base64 (default) or hex
CONTENT_FORMATS = ("text", "rtf", "html", "bytes")
#: encodings of text held as bytes (a BLOB, or a CSV column read as text)
CONTENT_ENCODINGS = {"utf-8": "utf-8", "utf8": "utf-8", "windows-1252": "cp1252", "cp1252": "cp1252",
                     "iso-8859-1": "latin-1", "latin-1": "latin-1", "latin1": "latin-1", "iso-8859-15": "iso8859-15",
                     "base64": "base64", "hex": "hex"}


def parse_source(raw: Any, root: Path, queries: list, err: Callable[..., Exception]) -> SourceSpec | None:
    """``[import.source]``; required when there are ``[[import.query]]`` tables."""
    if raw is None:
        if queries:
            raise err(tr("[[import.query]] needs [import.source] (url = a database URL, or siard = an archive)"),
                      key="query")
        return None
    if not isinstance(raw, dict):
        raise err(tr("[import.source] must be a table (url = …, password_env = …; or siard = …)"), key="source")
    allowed = {"url", "password_env", "siard"}
    for k in raw:
        if k not in allowed:
            raise err(tr("[import.source] has an unknown key {key}", key=repr(k)), key=k,
                      hint=tr("allowed: {keys}", keys=", ".join(sorted(allowed))))
    url, siard, pw = raw.get("url"), raw.get("siard"), raw.get("password_env")
    if (url is None) == (siard is None):
        raise err(tr("[import.source] needs either url (a SQLAlchemy database URL) or siard (an archive file)"),
                  key="source")
    if pw is not None and (not isinstance(pw, str) or not pw.strip() or url is None):
        raise err(tr("[import.source] password_env must name an environment variable (with url)"),
                  key="password_env")
    if url is not None:
        if not isinstance(url, str) or "://" not in url:
            raise err(tr("[import.source] url must be a database URL such as postgresql+psycopg://user@host/db"),
                      key="url")
        head, _, rest = url.partition("://")
        userinfo = rest.split("@", 1)[0] if "@" in rest.split("/", 1)[0] else ""
        if ":" in userinfo:
            raise err(tr("[import.source] url holds a password: credentials never live in noarkpack.toml"), key="url",
                      hint=tr("remove it and set password_env = \"VARIABLE\", or use .pgpass / a MySQL option file"))
        return SourceSpec(url=url, password_env=pw)
    if not isinstance(siard, str) or not siard.strip():
        raise err(tr("[import.source] siard must be the archive's file name"), key="siard")
    return SourceSpec(siard=(root / siard).resolve(), siard_rel=siard)


def content_spec(raw: Any, where: str, n: int, fmt: str, err: Callable[..., Exception]) -> tuple[str, str, str]:
    """``dokument.innhold`` checked: (column, format, Python encoding name or base64/hex)."""
    if isinstance(raw, str):
        raw = {"column": raw}
    if not isinstance(raw, dict) or not isinstance(raw.get("column"), str) or not raw["column"]:
        raise err(tr("{where}: innhold must be {{ column = \"…\", format = \"text\" | \"rtf\" | \"html\" | "
                     "\"bytes\" }}", where=where), n, "innhold")
    for k in raw:
        if k not in ("column", "format", "encoding"):
            raise err(tr("{where}: innhold has an unknown key {key}", where=where, key=repr(k)), n, "innhold",
                      hint=tr("allowed: {keys}", keys="column, format, encoding"))
    cf = raw.get("format", "bytes")
    if cf not in CONTENT_FORMATS:
        raise err(tr("{where}: innhold.format must be one of {formats}", where=where,
                     formats=", ".join(CONTENT_FORMATS)), n, "innhold")
    enc = str(raw.get("encoding", "base64" if cf == "bytes" else "utf-8")).lower()
    if enc not in CONTENT_ENCODINGS:
        raise err(tr("{where}: innhold.encoding {encoding} is not supported", where=where, encoding=repr(enc)),
                  n, "innhold",
                  hint=tr("text: utf-8, windows-1252, iso-8859-1, iso-8859-15; bytes held as text: base64 or hex"))
    enc = CONTENT_ENCODINGS[enc]
    if (cf == "bytes") != (enc in ("base64", "hex")):
        raise err(tr("{where}: innhold.encoding: base64 or hex is for format = \"bytes\" (BLOBs held as text), the "
                     "text encodings for text, rtf and html", where=where), n, "innhold")
    return raw["column"], cf, enc


__all__ = ["CONTENT_FORMATS", "content_spec", "parse_source"]
