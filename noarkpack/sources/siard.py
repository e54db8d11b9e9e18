"""SIARD 2.1 / 2.2 archives as a source: read streamed straight from the ZIP, every LOB checked.

A SIARD file (eCH-0165; DILCISBoard/SIARD) is a ZIP: ``header/metadata.xml`` describes schemas, tables and
columns; each table's rows are ``content/schemaN/tableM/tableM.xml``.  This module never unpacks the archive:
table XML is parsed incrementally (lxml iterparse, each row cleared after use, so memory does not grow with
the row count) straight from the ZIP member (zipfile: ZIP64, stored and deflated entries); LOB files are read
from the ZIP, or from the external LOB folder the metadata names, one at a time.

Two ways in:

- the library API for a migration script: ``with SiardArchive(path) as a: a.catalog(); a.rows("HR", "EMP")``
  yields one dict per row (column name → int, float, str, bytes or None);
- :func:`load_into_sqlite`, which copies every table into a new SQLite file (one table "schema.table" each)
  for the import mapping's joins and filters, and :func:`inspect_siard` for ``source inspect``.

Where a LOB is (SIARD 2.2 ch. 5.1, 5.6, 6.2 and DILCIS "SIARD LOB location" 2024-08-01): with no lobFolder
on its column (or UDT field) it is inside the ZIP, ``file`` relative to the archive's root; otherwise it is
outside, ``file`` relative to the field's lobFolder, relative to the column's, relative to the archive's
(``siardArchive/lobFolder``), relative to the SIARD file (see :meth:`SiardArchive.lob_location`).
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urljoin, urlparse
from urllib.request import url2pathname

from lxml import etree

from ..errors import SourceError
from ..locale import N_, tr
from ..progress import Progress
from .catalog import SourceCatalog
from .siard_meta import (
    KIND_BINARY,
    KIND_BOOL,
    KIND_FLOAT,
    KIND_INT,
    KIND_JSON,
    KIND_TEXT,
    MAX_METADATA_BYTES,
    TABLE_NS,
    ArchiveMeta,
    Leaf,
    TableMeta,
    parse_metadata,
    to_catalog,
)
from .siard_values import array_text, binary_encodings, check_lob, convert, unescape

_ROW = f"{{{TABLE_NS}}}row"


@dataclass
class _Ctx:
    """What reading one cell of a table needs besides the cell."""

    by_path: dict
    table: TableMeta
    encodings: dict
    where: str
    on_bad_lob: Callable[[int, str, SourceError], None] | None
_REPACK = N_("get the archive again from its depot copy (or export it again) and check its checksum")


def _read_member(zf: zipfile.ZipFile, name: str, *, where: str) -> bytes:
    try:
        with zf.open(name) as f:
            return f.read()
    except KeyError:
        raise SourceError(tr("{name} is missing from the archive", name=name), file=where, hint=tr(_REPACK)) from None
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as e:
        raise SourceError(tr("{name} cannot be read from the ZIP: {reason}", name=name, reason=str(e)), file=where,
                          hint=tr(_REPACK)) from None


class SiardArchive:
    """One SIARD 2.1/2.2 file, open for reading.  Use as a context manager."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self._zip = zipfile.ZipFile(self.path)
        except FileNotFoundError:
            raise SourceError(tr("the SIARD file does not exist"), file=self.path) from None
        except (zipfile.BadZipFile, OSError) as e:
            raise SourceError(tr("not a readable ZIP file ({reason}); a SIARD archive is a ZIP", reason=str(e)),
                              file=self.path,
                              hint=tr("the file is truncated or damaged: get the archive again from its depot copy "
                                      "(or export it again) and check its checksum")) from None
        self._names = set(self._zip.namelist())
        info = self._zip.getinfo("header/metadata.xml") if "header/metadata.xml" in self._names else None
        if info is None:
            self._zip.close()
            raise SourceError(tr("header/metadata.xml is missing: this is not a SIARD archive"), file=self.path)
        if info.file_size > MAX_METADATA_BYTES:
            self._zip.close()
            raise SourceError(tr("header/metadata.xml is {size} bytes, more than noarkpack reads",
                                 size=info.file_size), file=self.path)
        where = f"{self.path}!header/metadata.xml"
        self.meta: ArchiveMeta = parse_metadata(_read_member(self._zip, "header/metadata.xml", where=where),
                                                where=where)
        self._base = self.path.resolve().as_uri() + "/"

    # -- context manager -------------------------------------------------------------------------------
    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> SiardArchive:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- what it holds ---------------------------------------------------------------------------------
    def catalog(self) -> SourceCatalog:
        return to_catalog(self.meta, str(self.path))

    def tables(self) -> list[TableMeta]:
        return self.meta.tables()

    def _table(self, schema: str, table: str) -> TableMeta:
        t = self.meta.table(schema, table)
        if t is None:
            known = ", ".join(x.qualified for x in self.meta.tables())
            raise SourceError(tr("the archive has no table {table} (it has: {tables})", table=".".join((schema, table)),
                                 tables=known), file=self.path,
                              hint=tr("name a table as metadata.xml does, schema and table, case included"))
        return t

    # -- rows ------------------------------------------------------------------------------------------
    def rows(self, schema: str, table: str, *, check_count: bool = True,
             on_bad_lob: Callable[[int, str, SourceError], None] | None = None) -> Iterator[dict]:
        """Stream the rows of ``schema.table`` as dicts (every column of the table, None where absent).

        LOBs come as bytes (binary) or str (character), read and checked one at a time.  A LOB that is
        missing or fails its length/digest check raises SourceError, unless ``on_bad_lob`` is given: then it
        is called with (row number, column, the error), the cell is None and the row is still yielded, so an
        importer can reject that row (issue 18 point 5: "a mismatch is a rejected row") and go on.  At the
        end the number of rows is compared with metadata.xml's ``rows`` (``check_count``): a difference is a
        SourceError, since the archive then does not hold what it says it holds.
        """
        t = self._table(schema, table)
        member = f"{t.folder}/{t.folder.rsplit('/', 1)[-1]}.xml"
        where = f"{self.path}!{member}"
        xsd_name = member[:-4] + ".xsd"
        xsd = _read_member(self._zip, xsd_name, where=where) if xsd_name in self._names else None
        encodings = binary_encodings(xsd)
        by_path = {leaf.path: leaf for leaf in t.leaves}
        tops = {f"{{{TABLE_NS}}}{leaf.path[0]}": leaf.path[0] for leaf in t.leaves}
        simple = {f"{{{TABLE_NS}}}{leaf.path[0]}": leaf for leaf in t.leaves
                  if len(leaf.path) == 1 and leaf.kind != KIND_JSON}
        names = [leaf.name for leaf in t.leaves]
        if member not in self._names:
            if t.rows == 0:
                return
            raise SourceError(tr("the table file of {table} is missing", table=t.qualified),
                              file=f"{self.path}!{member}", hint=tr(_REPACK))
        ctx = _Ctx(by_path, t, encodings, where, on_bad_lob)
        n = 0
        try:
            with self._zip.open(member) as stream:
                context = etree.iterparse(stream, events=("end",), tag=_ROW, huge_tree=True,
                                          resolve_entities=False, no_network=True)
                for _, row in context:
                    n += 1
                    values = dict.fromkeys(names)
                    for cell in row:
                        tag = cell.tag
                        leaf = simple.get(tag)
                        if leaf is not None and cell.get("file") is None and (
                                not leaf.is_lob or cell.get("length") is None):
                            # the common cell: a predefined type, inline (the fast path of the loop)
                            text = cell.text
                            if text is None:
                                text = ""
                            kind = leaf.kind
                            if kind == KIND_TEXT:
                                values[leaf.name] = unescape(text)
                            elif kind == KIND_INT and len(text) < 19 and text.isascii() and text.isdigit():
                                values[leaf.name] = int(text)
                            else:
                                values[leaf.name] = convert(text, leaf, encodings.get(leaf.path[0], "hex"),
                                                            where=f"{where}, row {n}, column {leaf.name}")
                            continue
                        col = tops.get(tag)
                        if col is None:
                            if not isinstance(tag, str):  # a comment or processing instruction
                                continue
                            raise SourceError(tr("row {row} has a cell <{cell}> that metadata.xml does not declare",
                                                 row=n, cell=etree.QName(cell).localname), file=where,
                                              line=cell.sourceline, hint=tr(_REPACK))
                        self._cell(cell, (col,), values, ctx, n)
                    yield values
                    row.clear()
                    while row.getprevious() is not None:
                        del row.getparent()[0]
                del context
        except etree.XMLSyntaxError as e:
            raise SourceError(tr("the table XML of {table} is not well-formed after row {row}: {reason}",
                                 table=t.qualified, row=n, reason=e.msg),
                              file=where, line=e.lineno, hint=tr(_REPACK)) from None
        except (zipfile.BadZipFile, zlib.error, EOFError) as e:
            raise SourceError(tr("the table file of {table} cannot be read from the ZIP after row {row}: {reason}",
                                 table=t.qualified, row=n, reason=str(e)), file=where, hint=tr(_REPACK)) from None
        if check_count and t.rows is not None and n != t.rows:
            raise SourceError(tr("{table} holds {count} row(s), metadata.xml says {expected}", table=t.qualified,
                                 count=n, expected=t.rows), file=where, hint=tr(_REPACK))

    def _cell(self, cell, path: tuple[str, ...], values: dict, ctx: _Ctx, n: int) -> None:
        by_path, where = ctx.by_path, ctx.where
        leaf: Leaf | None = by_path.get(path)
        if leaf is None:
            children = list(cell)
            if not children and not (cell.text or "").strip():
                return
            for child in children:
                sub = path + (etree.QName(child).localname,)
                if not any(p[: len(sub)] == sub for p in by_path):
                    raise SourceError(tr("row {row} has a field {field} that metadata.xml does not declare",
                                         row=n, field="/".join(sub)),
                                      file=where, line=child.sourceline, hint=tr(_REPACK))
                self._cell(child, sub, values, ctx, n)
            return
        if leaf.kind == KIND_JSON:
            values[leaf.name] = array_text(cell)
            return
        cell_where = f"{where}, row {n}, column {leaf.name}"
        try:
            file = cell.get("file")
            if file is not None:
                values[leaf.name] = self._lob(file, cell, leaf, ctx.table, cell_where)
                return
            encoding = ctx.encodings.get(path[0], "hex") if len(path) == 1 else "hex"
            value = convert(cell.text or "", leaf, encoding, where=cell_where)
            if leaf.is_lob and cell.get("length"):
                value = check_lob(value if isinstance(value, bytes) else value.encode("utf-8"),
                                  binary=leaf.kind == KIND_BINARY, length=cell.get("length"),
                                  digest=cell.get("digest"), digest_type=cell.get("digestType"), where=cell_where)
            values[leaf.name] = value
        except SourceError as e:
            if ctx.on_bad_lob is None or not leaf.is_lob:
                raise
            ctx.on_bad_lob(n, leaf.name, e)
            values[leaf.name] = None

    def lob_location(self, file: str, leaf: Leaf, t: TableMeta) -> tuple[str, list[str]]:
        """Where a LOB cell's ``file`` is: ("zip", [member]) or ("file", [candidate paths, in order]).

        DILCIS "SIARD LOB location" (2024-08-01), on SIARD 2.2 5.1/5.6/6.2: with no lobFolder on the column
        (or on the UDT field) the LOB is *inside* the SIARD file, even when the archive has a database-level
        lobFolder; otherwise it is outside, at database folder + column folder (+ field folders) + ``file``.
        A relative location is "relative to the location of the SIARD file".  SIARD Suite reads that as the
        SIARD file taken as a folder (``../lobs/`` is the folder beside the .siard file); the DILCIS note's
        example as the SIARD file's own folder (``./Northwind_lobs/`` beside it).  Both are tried, in that order.
        """
        if not leaf.lob_folders:
            target = urljoin(self._base, file)
            if not target.startswith(self._base):
                raise SourceError(tr("a LOB's file {file} points outside the archive although its column has no "
                                     "lobFolder", file=repr(file)), file=self.path, hint=tr(_REPACK))
            member = unquote(target[len(self._base):])
            if member not in self._names and f"{t.folder}/{member}" in self._names:
                # a writer that made ``file`` relative to the table folder rather than the archive's root
                member = f"{t.folder}/{member}"
            return "zip", [member]
        folders = [f for f in (self.meta.lob_folder, *leaf.lob_folders) if f]
        candidates: list[str] = []
        for base in (self._base, self._base.rsplit("/", 2)[0] + "/"):
            uri = base
            for f in folders:
                uri = urljoin(uri, f if f.endswith("/") else f + "/")
            target = urljoin(uri, file)
            if target.startswith(self._base):
                continue  # lands inside the archive: not an external location under this reading
            parsed = urlparse(target)
            if parsed.scheme != "file":
                raise SourceError(tr("a LOB is at a {scheme}: URI (only files are read)", scheme=parsed.scheme),
                                  file=self.path)
            path = url2pathname(unquote(parsed.path))
            if path not in candidates:
                candidates.append(path)
        if not candidates:
            raise SourceError(tr("the lobFolder of column {column} does not lead outside the archive",
                                 column=leaf.name), file=self.path, hint=tr(_REPACK))
        return "file", candidates

    def _lob(self, file: str, cell, leaf: Leaf, t: TableMeta, where: str):
        kind, locs = self.lob_location(file, leaf, t)
        if kind == "zip":
            if locs[0] not in self._names:
                raise SourceError(tr("the LOB file {name} is missing from the archive", name=locs[0]), file=where,
                                  hint=tr(_REPACK))
            data = _read_member(self._zip, locs[0], where=where)
        else:
            found = next((p for p in locs if Path(p).is_file()), None)
            if found is None:
                hint = tr("the archive keeps this LOB outside the ZIP (metadata.xml lobFolder): put the LOB folder "
                          "where metadata.xml says, beside the .siard file")
                if len(locs) > 1:
                    raise SourceError(tr("the external LOB file {name} does not exist (nor {others})", name=locs[0],
                                         others=", ".join(locs[1:])), file=where, hint=hint)
                raise SourceError(tr("the external LOB file {name} does not exist", name=locs[0]), file=where,
                                  hint=hint)
            try:
                data = Path(found).read_bytes()
            except OSError as e:
                raise SourceError(tr("the external LOB file {name} cannot be read: {reason}", name=found,
                                     reason=e.strerror), file=where) from None
        return check_lob(data, binary=leaf.kind == KIND_BINARY, length=cell.get("length"),
                         digest=cell.get("digest"), digest_type=cell.get("digestType"), where=where)


def inspect_siard(siard_path: Path) -> SourceCatalog:
    """What the archive holds, from header/metadata.xml alone (rows as metadata.xml states them)."""
    with SiardArchive(siard_path) as archive:
        return archive.catalog()


_BATCH_BYTES = 8 * 1024 * 1024
_SQLITE_TYPES = {KIND_INT: "INTEGER", KIND_BOOL: "INTEGER", KIND_FLOAT: "REAL", KIND_BINARY: "BLOB"}


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def load_into_sqlite(siard_path: Path, sqlite_path: Path, *, progress: Progress | None = None,
                     batch: int = 500) -> None:
    """Write every table of the archive into a new SQLite database at ``sqlite_path``.

    One SQLite table per SIARD table, named "{schema}.{table}"; columns as :meth:`SiardArchive.rows` yields
    them (UDT attributes flattened to "COL.ATTR", arrays as JSON text); SQLite types: INTEGER for integer
    types and BOOLEAN (1/0), REAL for approximate numerics, BLOB for binary, TEXT for everything else (DECIMAL
    with a scale stays text, so no digit is lost to floating point).  Primary key columns get an index (not
    a constraint: the archive's rows are copied as they are).  Written to a temporary file and renamed, so a
    failure never leaves a database that looks complete; an existing file at ``sqlite_path`` is replaced.
    """
    sqlite_path = Path(sqlite_path)
    with SiardArchive(siard_path) as archive:
        tables = archive.tables()
        total = sum(t.rows or 0 for t in tables)
        fd, tmp = tempfile.mkstemp(prefix=sqlite_path.name + ".", suffix=".partial", dir=sqlite_path.parent)
        os.close(fd)
        con = sqlite3.connect(tmp)
        try:
            con.execute("PRAGMA journal_mode=OFF")
            con.execute("PRAGMA synchronous=OFF")
            done = 0
            if progress:
                progress("siard", 0, total)
            for t in tables:
                cols = ", ".join(f"{_quote(lf.name)} {_SQLITE_TYPES.get(lf.kind, 'TEXT')}" for lf in t.leaves)
                con.execute(f"CREATE TABLE {_quote(t.qualified)} ({cols})")
                sql = (f"INSERT INTO {_quote(t.qualified)} VALUES ({', '.join('?' * len(t.leaves))})"
                       if t.leaves else None)
                names = [lf.name for lf in t.leaves]
                lob_names = [lf.name for lf in t.leaves if lf.is_lob or lf.kind == KIND_BINARY]
                pending: list[tuple] = []
                pending_bytes = 0
                for row in archive.rows(t.schema, t.name):
                    pending.append(tuple(row[c] for c in names))
                    pending_bytes += sum(len(row[c]) for c in lob_names if row[c] is not None)
                    # flush by rows and by LOB bytes, so a batch of scans does not grow memory
                    if len(pending) >= batch or pending_bytes >= _BATCH_BYTES:
                        con.executemany(sql, pending)
                        done += len(pending)
                        pending.clear()
                        pending_bytes = 0
                        if progress:
                            progress("siard", done, total)
                if pending:
                    con.executemany(sql, pending)
                    done += len(pending)
                if t.primary_key and all(c in names for c in t.primary_key):
                    con.execute(f"CREATE INDEX {_quote('pk:' + t.qualified)} ON {_quote(t.qualified)} "
                                f"({', '.join(_quote(c) for c in t.primary_key)})")
                con.commit()
                if progress:
                    progress("siard", done, total)
            con.close()
            os.replace(tmp, sqlite_path)
        except BaseException:
            con.close()
            Path(tmp).unlink(missing_ok=True)
            raise


__all__ = ["SiardArchive", "inspect_siard", "load_into_sqlite"]
