"""Reading the legacy export: CSV (any delimiter and encoding) and JSON Lines, line by line.

Each reader yields ``(line number, record)`` where a record answers ``get(column or key path)``, or a
:class:`~noarkpack.sources.mapping.ValueProblem` for a row that cannot be read (the importer rejects
it); it feeds every raw line to ``hasher`` (the SHA-256 the import log keeps for the freshness check).
A file that cannot be read at all (wrong encoding, a mapped column missing from the header, broken CSV)
raises :class:`~noarkpack.errors.SourceError` with file and line.  Messages never carry a value from the
export.
"""

from __future__ import annotations

import csv
import json
from typing import Any, Iterator

from ..errors import SourceError
from ..locale import tr
from .mapping import FileMapping, ValueProblem

_ENC_NAMES = {"utf-8-sig": "UTF-8", "cp1252": "Windows-1252", "latin-1": "ISO-8859-1", "iso8859-15": "ISO-8859-15"}


def sha256_and_lines(fm: FileMapping, hasher) -> Iterator[tuple[int, str]]:
    """(line number, decoded text without the line end) for each line, checking the encoding."""
    enc = fm.encoding
    suspicious: int | None = None  # first line that decodes as UTF-8 in a file declared single-byte
    genuine = False
    with open(fm.path, "rb") as f:
        n = 0
        for raw in f:
            n += 1
            hasher.update(raw)
            if n == 1 and raw.startswith(b"\xef\xbb\xbf") and enc != "utf-8-sig":
                raise SourceError(tr("the file starts with a UTF-8 byte order mark, but the mapping says {encoding}",
                                     encoding=_ENC_NAMES.get(enc, enc)),
                                  file=fm.rel, line=1, hint=tr("set encoding = \"utf-8\" for this file"))
            if enc != "utf-8-sig" and not raw.isascii():
                try:
                    raw.decode("utf-8")
                    if suspicious is None:
                        suspicious = n
                except UnicodeDecodeError:
                    genuine = True
            try:
                text = raw.decode(enc)
            except UnicodeDecodeError as e:
                name = _ENC_NAMES.get(enc, enc)
                raise SourceError(tr("the file is not {encoding} text (byte 0x{byte} at column {column} cannot be "
                                     "decoded)", encoding=name, byte=format(raw[e.start], "02x"), column=e.start + 1),
                                  file=fm.rel, line=n,
                                  hint=tr("set the right encoding for this file in [[import.file]] "
                                          "(utf-8, windows-1252, iso-8859-1)")) from None
            if n == 1 and text.startswith("\ufeff"):
                text = text[1:]
            yield n, text.rstrip("\r\n")
    if suspicious is not None and not genuine:
        raise SourceError(tr("the file is UTF-8, but the mapping says {encoding}: its letters would be garbled "
                             "(ø read as Ã¸)", encoding=_ENC_NAMES.get(enc, enc)), file=fm.rel, line=suspicious,
                          hint=tr("set encoding = \"utf-8\" for this file in [[import.file]]"))


def csv_records(fm: FileMapping, hasher) -> Iterator[tuple[int, Any]]:
    """(line, {column: value}) per data row; raises SourceError for a missing column in the header."""
    lines = sha256_and_lines(fm, hasher)
    first = None
    for n, text in lines:
        if text.strip():
            first = (n, text)
            break
    if first is None:
        return
    delim = fm.delimiter
    if delim is None:
        counts = {d: first[1].count(d) for d in (";", ",", "\t", "|")}
        delim = max(counts, key=counts.get)
        if counts[delim] == 0:
            delim = ","
    header = [h.strip() for h in next(csv.reader([first[1]], delimiter=delim))]
    index = {h: i for i, h in enumerate(header)}
    for spec in fm.fields.values():
        for col in spec.sources:
            if col not in index:
                raise SourceError(tr("the column {column} (mapped to {table}.{field}) is not in the header",
                                     column=repr(col), table=fm.table, field=spec.name),
                                  file=fm.rel, line=first[0],
                                  hint=tr("the header has: {columns}; fix the mapping or the export",
                                          columns=", ".join(header)[:300]))
    state = {"n": first[0]}

    def feed() -> Iterator[str]:
        for n, text in lines:
            state["n"] = n
            yield text

    reader = csv.reader(feed(), delimiter=delim)
    start = first[0] + 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            raise SourceError(tr("the CSV cannot be read: {problem}", problem=str(e)), file=fm.rel,
                              line=state["n"]) from None
        line, start = start, state["n"] + 1
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(row) != len(header):
            yield line, ValueProblem(tr("the row has {count} fields, the header {expected}", count=len(row),
                                        expected=len(header)))
            continue
        yield line, {h: row[i] for h, i in index.items()}


def _path(obj: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part)
    return obj


class _Scoped:
    """A JSON record inside its line: plain keys from the element, ``^.`` its parent, ``$.`` the line."""

    def __init__(self, root: Any, parents: tuple, elem: Any) -> None:
        self.root, self.parents, self.elem = root, parents, elem

    def get(self, key: str) -> Any:
        if key.startswith("$."):
            return _path(self.root, key[2:])
        if key.startswith("^."):
            return _path(self.parents[-1] if self.parents else self.root, key[2:])
        return _path(self.elem, key)


def jsonl_records(fm: FileMapping, hasher) -> Iterator[tuple[int, Any]]:
    for n, text in sha256_and_lines(fm, hasher):
        if not text.strip():
            continue
        try:
            obj = json.loads(text)
        except json.JSONDecodeError as e:
            yield n, ValueProblem(tr("the line is not valid JSON: {problem} (column {column})", problem=e.msg,
                                     column=e.colno))
            continue
        if not isinstance(obj, dict):
            yield n, ValueProblem(tr("the line is not a JSON object"))
            continue
        if not fm.each:
            yield n, _Scoped(obj, (), obj)
            continue

        def walk(elem: Any, parents: tuple, rest: tuple[str, ...]) -> Iterator[Any]:
            if not rest:
                yield _Scoped(obj, parents, elem)
                return
            arr = elem.get(rest[0]) if isinstance(elem, dict) else None
            if arr is None:
                return
            if not isinstance(arr, list):
                yield ValueProblem(tr("{key} is not a JSON array", key=rest[0]))
                return
            for item in arr:
                yield from walk(item, parents + (elem,), rest[1:])

        # an element's parents: the objects above it, the line's object first ("^." is the nearest)
        for rec in walk(obj, (), fm.each):
            yield n, rec


__all__ = ["csv_records", "jsonl_records", "sha256_and_lines"]
