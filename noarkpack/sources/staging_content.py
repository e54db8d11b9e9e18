"""The staging database's log of documents whose bytes came from the source (issue 18, point 4).

Kept apart from the versioned schema in :mod:`noarkpack.sources.staging`: the table is created by every import
(``CREATE TABLE IF NOT EXISTS``) and read only when present, so a database written before it existed still reads.
One row per content column value that did *not* become a document: ``empty`` (NULL or blank: the entry simply has
no document from that column) or ``undecodable`` (not the declared encoding: the row is also rejected).  Stored
documents are the ``dokument`` rows whose ``fil`` starts with ``@innhold/``.
"""

from __future__ import annotations

import sqlite3

from .content_store import PREFIX

TABLE = """
CREATE TABLE IF NOT EXISTS innhold_log (
    src_file TEXT NOT NULL, src_line INTEGER NOT NULL, kolonne TEXT NOT NULL, status TEXT NOT NULL
)
"""


def create_content_log(conn: sqlite3.Connection) -> None:
    conn.execute(TABLE)


def log_content(conn: sqlite3.Connection, src_file: str, line: int, column: str, status: str) -> None:
    conn.execute("INSERT INTO innhold_log VALUES (?, ?, ?, ?)", (src_file, line, column, status))


def content_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Documents from the source vs from files, empty and undecodable content values."""
    out = {"documents_from_source": 0, "documents_from_files": 0, "contents_empty": 0, "contents_undecodable": 0}
    row = conn.execute("SELECT coalesce(sum(fil_norm LIKE ? ESCAPE '\\'), 0), count(*) FROM dokument",
                       (PREFIX.replace("_", "\\_") + "%",)).fetchone()
    out["documents_from_source"], out["documents_from_files"] = row[0], row[1] - row[0]
    if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'innhold_log'").fetchone():
        for status, n in conn.execute("SELECT status, count(*) FROM innhold_log GROUP BY status"):
            out[f"contents_{status}"] = n
    return out


def content_problems(conn: sqlite3.Connection):
    """(file, line, column, status) of each empty or undecodable content value, in export order."""
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'innhold_log'").fetchone():
        return []
    return conn.execute("SELECT src_file, src_line, kolonne, status FROM innhold_log "
                        "ORDER BY src_file, src_line").fetchall()


__all__ = ["content_counts", "content_problems", "create_content_log", "log_content"]
