"""Write a SQLite database as a SIARD 2.2 archive: the example's SIARD twin of its legacy database.

    python examples/legacydb/make_siard.py IN.sqlite OUT.siard [--schema NAME] [--archival-date YYYY-MM-DD]
        [--xsd-from REFERENCE.siard] [--lob-inline-max N]

Why a script in the example and not a module of noarkpack: noarkpack *reads* the archives that depots hold
(written by SIARD Suite or DBPTK); it has no business producing them.  This writer exists only so that the
example's invented database also exists as a SIARD file, and so tests can build archives with exactly the
cells they need.  It uses the standard library alone.

What it writes (SIARD 2.2, DILCISBoard/SIARD; layout of ch. 4, metadata ch. 5, table data ch. 6):

- ``header/metadata.xml`` (valid against SIARD 2.2 metadata.xsd: one schema, every table with its columns,
  primary key, foreign keys and row count), ``header/siardversion/2.2/`` (P_4.2-4), and - with
  ``--xsd-from`` - the official ``header/metadata.xsd`` (and ``table.xsd``) copied byte for byte from the
  .xsd file or an existing SIARD 2.2 archive.  SIARD 2.2 P_4.2-5 requires metadata.xsd in ``header/``;
  noarkpack keeps no copy of it, so without ``--xsd-from`` the archive lacks it (the reader does not need it);
- per table ``content/schema0/tableN/tableN.xml`` and its ``tableN.xsd``.  The table files say
  ``version="2.1"`` as SIARD Suite 2.2 writes them: table.xsd of SIARD 2.2 still only allows "2.1";
- BLOB and long text (CLOB) cells larger than ``--lob-inline-max`` bytes as files inside the ZIP,
  ``content/schema0/tableN/lobK/recordJ.bin|.txt`` (K the 0-based column, J the 0-based row), with
  ``length`` (bytes, or characters for text) and an MD5 ``digest``; smaller ones inline (hex for binary).

Column types come from the values SQLite holds (it has no fixed types): integers BIGINT (BOOLEAN when
declared so and only 0/1), numbers DOUBLE PRECISION, bytes BLOB, text DATE / TIMESTAMP when declared so
and every value is ISO 8601 (a timestamp is written with "T", as xs:dateTime requires), CLOB when declared
TEXT/CLOB, otherwise VARCHAR(n).

Reproducible: members in a fixed order, every ZIP timestamp the archival date at 00:00, fixed compression
level and attributes; the archival date is ``--archival-date``, else $SOURCE_DATE_EPOCH, else today (UTC).
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import sqlite3
import sys
import tempfile
import zipfile
from datetime import date, datetime, timezone
from pathlib import Path
from xml.sax.saxutils import escape

MD_NS = "http://www.bar.admin.ch/xmlns/siard/2/metadata.xsd"
TB_NS = "http://www.bar.admin.ch/xmlns/siard/2/table.xsd"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?$")
_XSD_TYPE = {"BIGINT": "xs:integer", "DOUBLE PRECISION": "xs:double", "BOOLEAN": "xs:boolean", "DATE": "dateType",
             "TIMESTAMP": "dateTimeType", "CLOB": "clobType", "BLOB": "blobType"}


def siard_escape(text: str) -> str:
    """SIARD 2.2 G_3.3-4: characters XML cannot carry become \\uXXXX; so do the backslash and repeated spaces.

    G_3.3-4 lists 0-8, 14-31, 127-159, the backslash and multiple spaces.  Also escaped here: VT and FF (not
    XML characters at all), CR (an XML parser turns it into LF), U+FFFE/U+FFFF and lone surrogates, and a
    space that leads or ends the text (as SIARD Suite does), so every string reads back exactly.
    """
    out = []
    n = len(text)
    for i, ch in enumerate(text):
        o = ord(ch)
        if ch == "\\" or (o < 0x20 and ch not in "\t\n") or 0x7F <= o <= 0x9F or o in (0xFFFE, 0xFFFF) \
                or 0xD800 <= o <= 0xDFFF or (ch == " " and (i == 0 or i == n - 1 or text[i - 1] == " ")):
            out.append(f"\\u{o:04X}")
        else:
            out.append(ch)
    return escape("".join(out))


class Column:
    def __init__(self, index: int, name: str, declared: str, notnull: bool, siard_type: str) -> None:
        self.index, self.name, self.declared, self.notnull, self.type = index, name, declared, notnull, siard_type

    @property
    def lob(self) -> bool:
        return self.type in ("BLOB", "CLOB")


def _qi(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _column_type(con: sqlite3.Connection, table: str, name: str, declared: str) -> str:
    d = declared.upper()
    stats = {row[0]: (row[1], row[2]) for row in con.execute(
        f"SELECT typeof({_qi(name)}), count(*), max(length({_qi(name)})) FROM {_qi(table)} GROUP BY 1")}
    stats.pop("null", None)
    kinds = set(stats)
    if not kinds:  # only NULLs: the declared type's affinity (SQLite 3.1 "Determination of column affinity")
        if "INT" in d:
            return "BIGINT"
        if "BLOB" in d or not d:
            return "BLOB" if "BLOB" in d else "VARCHAR(255)"
        if any(k in d for k in ("REAL", "FLOA", "DOUB")):
            return "DOUBLE PRECISION"
        return "CLOB" if ("TEXT" in d or "CLOB" in d) else "VARCHAR(255)"
    if "blob" in kinds:
        if kinds != {"blob"}:
            raise SystemExit(f"{table}.{name} mixes bytes with other values; SIARD needs one type per column")
        return "BLOB"
    if kinds <= {"integer"}:
        if "BOOL" in d and not con.execute(f"SELECT 1 FROM {_qi(table)} WHERE {_qi(name)} NOT IN (0, 1)").fetchone():
            return "BOOLEAN"
        return "BIGINT"
    if kinds <= {"integer", "real"}:
        return "DOUBLE PRECISION"
    if kinds != {"text"}:
        raise SystemExit(f"{table}.{name} mixes text with numbers; SIARD needs one type per column")
    values = (r[0] for r in con.execute(f"SELECT {_qi(name)} FROM {_qi(table)} WHERE {_qi(name)} IS NOT NULL"))
    if "DATE" in d and "TIME" not in d and all(_DATE.match(v) for v in values):
        return "DATE"
    values = (r[0] for r in con.execute(f"SELECT {_qi(name)} FROM {_qi(table)} WHERE {_qi(name)} IS NOT NULL"))
    if ("TIMESTAMP" in d or "DATETIME" in d) and all(_STAMP.match(v) for v in values):
        return "TIMESTAMP"
    if "TEXT" in d or "CLOB" in d:
        return "CLOB"
    m = re.search(r"\(\s*(\d+)", d)
    longest = stats["text"][1] or 1
    return f"VARCHAR({max(int(m.group(1)) if m else 0, longest)})"


def _cell(col: Column, value, table_dir: str, row: int, inline_max: int, lobs: list, tmp: Path) -> str:
    tag = f"c{col.index + 1}"
    if value is None:
        return ""
    if col.type == "BLOB" or col.type == "CLOB":
        data = value if isinstance(value, bytes) else value.encode("utf-8")
        if len(data) > inline_max:
            ext = "bin" if col.type == "BLOB" else "txt"
            member = f"{table_dir}/lob{col.index}/record{row}.{ext}"
            staged = tmp / f"{len(lobs)}"
            staged.write_bytes(data)
            lobs.append((member, staged))
            length = len(data) if col.type == "BLOB" else len(value)
            return (f'<{tag} file="{member}" length="{length}" digestType="MD5" '
                    f'digest="{hashlib.md5(data).hexdigest().upper()}"/>')
        return f"<{tag}>{data.hex().upper() if col.type == 'BLOB' else siard_escape(value)}</{tag}>"
    if col.type == "BOOLEAN":
        return f"<{tag}>{'true' if value else 'false'}</{tag}>"
    if col.type == "DOUBLE PRECISION":
        v = float(value)
        text = "NaN" if v != v else "INF" if v == float("inf") else "-INF" if v == float("-inf") else repr(v)
        return f"<{tag}>{text}</{tag}>"
    if col.type == "TIMESTAMP":
        return f"<{tag}>{value.replace(' ', 'T', 1)}</{tag}>"
    if isinstance(value, int):
        return f"<{tag}>{value}</{tag}>"
    return f"<{tag}>{siard_escape(value)}</{tag}>"


def _table_xsd(columns: list[Column]) -> str:
    optional = ' minOccurs="0"'
    cols = "\n".join(f'      <xs:element name="c{c.index + 1}" type="{_XSD_TYPE.get(c.type, "xs:string")}"'
                     f'{"" if c.notnull else optional}/>' for c in columns)
    lob = ('  <xs:complexType name="{0}">\n    <xs:simpleContent>\n      <xs:extension base="{1}">\n'
           '        <xs:attribute name="file" type="xs:anyURI"/>\n'
           '        <xs:attribute name="length" type="xs:integer"/>\n'
           '        <xs:attribute name="digestType" type="digestTypeType"/>\n'
           '        <xs:attribute name="digest" type="xs:string"/>\n'
           '      </xs:extension>\n    </xs:simpleContent>\n  </xs:complexType>\n')
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns="{TB_NS}" targetNamespace="{TB_NS}"'
            f' elementFormDefault="qualified" attributeFormDefault="unqualified">\n'
            f'  <xs:element name="table">\n    <xs:complexType>\n      <xs:sequence>\n'
            f'        <xs:element name="row" type="rowType" minOccurs="0" maxOccurs="unbounded"/>\n'
            f'      </xs:sequence>\n      <xs:attribute name="version" type="versionType" use="required"/>\n'
            f'    </xs:complexType>\n  </xs:element>\n'
            f'  <xs:complexType name="rowType">\n    <xs:sequence>\n{cols}\n    </xs:sequence>\n'
            f'  </xs:complexType>\n'
            + lob.format("clobType", "xs:string") + lob.format("blobType", "xs:hexBinary") +
            '  <xs:simpleType name="digestTypeType">\n    <xs:restriction base="xs:string">\n'
            '      <xs:enumeration value="MD5"/>\n      <xs:enumeration value="SHA-1"/>\n'
            '      <xs:enumeration value="SHA-256"/>\n    </xs:restriction>\n  </xs:simpleType>\n'
            '  <xs:simpleType name="dateType">\n    <xs:restriction base="xs:date">\n'
            '      <xs:pattern value="\\d{4}-\\d{2}-\\d{2}Z?"/>\n    </xs:restriction>\n  </xs:simpleType>\n'
            '  <xs:simpleType name="dateTimeType">\n    <xs:restriction base="xs:dateTime">\n'
            '      <xs:pattern value="\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?Z?"/>\n'
            '    </xs:restriction>\n  </xs:simpleType>\n'
            '  <xs:simpleType name="versionType">\n    <xs:restriction base="xs:string">\n'
            '      <xs:enumeration value="2.1"/>\n    </xs:restriction>\n  </xs:simpleType>\n'
            '</xs:schema>\n')


def _order(con: sqlite3.Connection, table: str, pk: list[str]) -> str:
    """Rows in a stable order: rowid, or the primary key of a WITHOUT ROWID table."""
    try:
        con.execute(f"SELECT rowid FROM {_qi(table)} LIMIT 0")
        return "rowid"
    except sqlite3.OperationalError:
        return ", ".join(_qi(c) for c in pk)


class _Zip:
    def __init__(self, path: Path, stamp: date) -> None:
        self.zf = zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, allowZip64=True, compresslevel=6)
        self.when = (stamp.year, stamp.month, stamp.day, 0, 0, 0)

    def _info(self, name: str) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, self.when)
        info.create_system = 3
        info.external_attr = ((0o40755 << 16) | 0x10) if name.endswith("/") else (0o100644 << 16)
        info.compress_type = zipfile.ZIP_STORED if name.endswith("/") else zipfile.ZIP_DEFLATED
        return info

    def folder(self, name: str) -> None:
        self.zf.writestr(self._info(name), b"")

    def open(self, name: str):
        return self.zf.open(self._info(name), "w", force_zip64=True)

    def add(self, name: str, data: bytes) -> None:
        self.zf.writestr(self._info(name), data, compresslevel=6)

    def add_file(self, name: str, path: Path) -> None:
        with open(path, "rb") as src, self.open(name) as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)


def write_siard(db: Path, out: Path, *, schema: str = "main", archival: date, xsd_from: Path | None = None,
                inline_max: int = 4000, dbname: str | None = None, data_owner: str = "(invented example data)",
                timespan: str | None = None) -> None:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    tables = [r[0] for r in con.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    fd, tmp_name = tempfile.mkstemp(prefix=out.name + ".", suffix=".partial", dir=out.parent)
    os.close(fd)
    z = _Zip(Path(tmp_name), archival)
    table_md = []
    try:
        z.folder("content/")
        z.folder("content/schema0/")
        for n, table in enumerate(tables):
            info = con.execute(f"PRAGMA table_info({_qi(table)})").fetchall()
            columns = [Column(i, r[1], r[2] or "", bool(r[3]) or bool(r[5]),
                              _column_type(con, table, r[1], r[2] or "")) for i, r in enumerate(info)]
            pk = [r[1] for r in sorted((r for r in info if r[5]), key=lambda r: r[5])]
            tdir = f"content/schema0/table{n}"
            z.folder(tdir + "/")
            lobs: list[tuple[str, Path]] = []
            rows = 0
            with tempfile.TemporaryDirectory(dir=out.parent) as staging, z.open(f"{tdir}/table{n}.xml") as xml:
                xml.write((f'<?xml version="1.0" encoding="UTF-8"?>\n<table xmlns="{TB_NS}" xmlns:xsi="{XSI}" '
                           f'xsi:schemaLocation="{TB_NS} table{n}.xsd" version="2.1">\n').encode())
                select = ", ".join(_qi(c.name) for c in columns)
                for values in con.execute(f"SELECT {select} FROM {_qi(table)} ORDER BY {_order(con, table, pk)}"):
                    cells = "".join(_cell(c, v, tdir, rows, inline_max, lobs, Path(staging))
                                    for c, v in zip(columns, values))
                    xml.write(f"<row>{cells}</row>\n".encode())
                    rows += 1
                xml.write(b"</table>\n")
                xml.close()
                z.add(f"{tdir}/table{n}.xsd", _table_xsd(columns).encode())
                made = set()
                for member, staged in lobs:
                    folder = member.rsplit("/", 1)[0] + "/"
                    if folder not in made:
                        z.folder(folder)
                        made.add(folder)
                    z.add_file(member, staged)
            fks = con.execute(f"PRAGMA foreign_key_list({_qi(table)})").fetchall()
            table_md.append((table, n, columns, pk, fks, rows))
        z.folder("header/")
        z.folder("header/siardversion/")
        z.folder("header/siardversion/2.2/")
        if xsd_from is not None:
            if xsd_from.suffix.lower() == ".xsd":  # the official metadata.xsd itself
                z.add("header/metadata.xsd", xsd_from.read_bytes())
            else:
                with zipfile.ZipFile(xsd_from) as ref:
                    for name in ("header/metadata.xsd", "header/table.xsd"):
                        if name in ref.namelist():
                            z.add(name, ref.read(name))
        z.add("header/metadata.xml", _metadata(schema, table_md, archival, dbname or db.stem, data_owner,
                                                timespan or "unknown").encode())
        z.zf.close()
        os.replace(tmp_name, out)
    except BaseException:
        z.zf.close()
        Path(tmp_name).unlink(missing_ok=True)
        raise
    finally:
        con.close()


def _metadata(schema: str, tables: list, archival: date, dbname: str, owner: str, timespan: str) -> str:
    e = escape
    parts = [f'<?xml version="1.0" encoding="UTF-8"?>\n<siardArchive xmlns="{MD_NS}" xmlns:xsi="{XSI}" '
             f'xsi:schemaLocation="{MD_NS} metadata.xsd" version="2.2">\n'
             f"  <dbname>{e(dbname)}</dbname>\n  <dataOwner>{e(owner)}</dataOwner>\n"
             f"  <dataOriginTimespan>{e(timespan)}</dataOriginTimespan>\n"
             f"  <producerApplication>noarkpack examples/legacydb/make_siard.py</producerApplication>\n"
             f"  <archivalDate>{archival.isoformat()}</archivalDate>\n"
             f"  <databaseProduct>SQLite {sqlite3.sqlite_version}</databaseProduct>\n"
             f"  <schemas>\n    <schema>\n      <name>{e(schema)}</name>\n      <folder>schema0</folder>\n"
             f"      <tables>\n"]
    for table, n, columns, pk, fks, rows in tables:
        parts.append(f"        <table>\n          <name>{e(table)}</name>\n          <folder>table{n}</folder>\n"
                     f"          <columns>\n")
        for c in columns:
            parts.append(f"            <column>\n              <name>{e(c.name)}</name>\n"
                         f"              <type>{c.type}</type>\n"
                         + (f"              <typeOriginal>{e(c.declared)}</typeOriginal>\n" if c.declared else "")
                         + f"              <nullable>{'false' if c.notnull else 'true'}</nullable>\n"
                         f"            </column>\n")
        parts.append("          </columns>\n")
        if pk:
            parts.append(f"          <primaryKey>\n            <name>{e('PK_' + table)}</name>\n"
                         + "".join(f"            <column>{e(c)}</column>\n" for c in pk)
                         + "          </primaryKey>\n")
        by_id: dict[int, list] = {}
        for fk in fks:
            by_id.setdefault(fk[0], []).append(fk)
        if by_id:
            parts.append("          <foreignKeys>\n")
            for fid, refs in sorted(by_id.items()):
                parts.append(f"            <foreignKey>\n              <name>{e(f'FK_{table}_{fid}')}</name>\n"
                             f"              <referencedSchema>{e(schema)}</referencedSchema>\n"
                             f"              <referencedTable>{e(refs[0][2])}</referencedTable>\n"
                             + "".join(f"              <reference>\n                <column>{e(r[3])}</column>\n"
                                       f"                <referenced>{e(r[4] or r[3])}</referenced>\n"
                                       f"              </reference>\n" for r in sorted(refs, key=lambda r: r[1]))
                             + "            </foreignKey>\n")
            parts.append("          </foreignKeys>\n")
        parts.append(f"          <rows>{rows}</rows>\n        </table>\n")
    parts.append("      </tables>\n    </schema>\n  </schemas>\n  <users>\n    <user>\n      <name>legacydb</name>\n"
                 "    </user>\n  </users>\n</siardArchive>\n")
    return "".join(parts)


def _archival_date(arg: str | None) -> date:
    if arg:
        return date.fromisoformat(arg)
    if os.environ.get("SOURCE_DATE_EPOCH"):
        return datetime.fromtimestamp(int(os.environ["SOURCE_DATE_EPOCH"]), timezone.utc).date()
    return datetime.now(timezone.utc).date()


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("sqlite", type=Path)
    p.add_argument("siard", type=Path)
    p.add_argument("--schema", default="main", help="the SIARD schema name (default: SQLite's own, 'main')")
    p.add_argument("--archival-date", help="YYYY-MM-DD (default: $SOURCE_DATE_EPOCH, else today)")
    p.add_argument("--xsd-from", type=Path, help="the official SIARD 2.2 metadata.xsd, or a SIARD 2.2 archive to copy "
                   "header/metadata.xsd and table.xsd from (SIARD 2.2 P_4.2-5: metadata.xsd must be in header/)")
    p.add_argument("--lob-inline-max", type=int, default=4000, help="larger LOBs go to files (bytes, default 4000)")
    p.add_argument("--dbname", help="metadata dbname (default: the SQLite file's name)")
    p.add_argument("--data-owner", default="(invented example data)")
    p.add_argument("--timespan", help="metadata dataOriginTimespan")
    a = p.parse_args(argv)
    if not a.sqlite.is_file():
        print(f"{a.sqlite}: no such SQLite file", file=sys.stderr)
        return 2
    write_siard(a.sqlite, a.siard, schema=a.schema, archival=_archival_date(a.archival_date), xsd_from=a.xsd_from,
                inline_max=a.lob_inline_max, dbname=a.dbname, data_owner=a.data_owner, timespan=a.timespan)
    return 0


if __name__ == "__main__":
    sys.exit(main())
