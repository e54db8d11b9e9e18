"""The content store (issue 18, point 4): documents whose bytes live in the source, written once by SHA-256."""

from __future__ import annotations

import hashlib
import os

import pytest

from noarkpack.sources.content_store import PREFIX, ContentStore, Undecodable, content_bytes, sniff_extension


def test_put_is_content_addressed_deduplicated_and_leaves_no_temporary_file(tmp_path):
    store = ContentStore(tmp_path / "content")
    data = "Sårtilsyn: rolig.".encode("utf-8")
    fil = store.put(data, ".txt")
    sha = hashlib.sha256(data).hexdigest()
    assert fil == f"{PREFIX}{sha}.txt"
    path = store.path_of(fil)
    assert path == tmp_path / "content" / sha[:2] / f"{sha}.txt" and path.read_bytes() == data
    mtime = path.stat().st_mtime_ns
    assert store.put(data, ".txt") == fil and path.stat().st_mtime_ns == mtime
    assert (store.written, store.reused) == (1, 1)
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_a_truncated_file_under_the_final_name_is_rewritten(tmp_path):
    store = ContentStore(tmp_path)
    data = os.urandom(5000)
    path = store.path_of(store.put(data, ".bin"))
    path.write_bytes(data[:100])  # e.g. a copy made by hand that broke off
    store.put(data, ".bin")
    assert path.read_bytes() == data


def test_path_of_refuses_names_that_leave_the_store(tmp_path):
    store = ContentStore(tmp_path)
    for bad in ("@innhold/../../etc/passwd", "dokumenter/a.txt", "@innhold/.hidden"):
        with pytest.raises(ValueError):
            store.path_of(bad)


def test_content_bytes_per_format_and_encoding():
    assert content_bytes(None, "text", "utf-8") is None
    assert content_bytes("  ", "text", "utf-8") is None
    assert content_bytes(b"", "bytes", "base64") is None
    assert content_bytes("Blå", "text", "utf-8") == ("Blå".encode("utf-8"), ".txt")
    assert content_bytes("Blå – «x»".encode("cp1252"), "text", "cp1252") == ("Blå – «x»".encode("utf-8"), ".txt")
    with pytest.raises(Undecodable, match="not Windows-1252 text \\(byte 0x81"):
        content_bytes(b"ok \x81", "text", "cp1252")
    with pytest.raises(Undecodable, match="not UTF-8 text"):
        content_bytes(b"\xff\xfe", "text", "utf-8")
    assert content_bytes("<p>hei</p>", "html", "utf-8") == (b"<p>hei</p>", ".html")
    rtf = "{\\rtf1\\ansi hei}"
    assert content_bytes(rtf, "rtf", "cp1252") == (rtf.encode("cp1252"), ".rtf")
    assert content_bytes(memoryview(b"%PDF-1.4 x"), "bytes", "base64") == (b"%PDF-1.4 x", ".pdf")
    assert content_bytes("49492a00", "bytes", "hex") == (b"II*\x00", ".tif")
    assert content_bytes("JVBERi0xLjQ=", "bytes", "base64") == (b"%PDF-1.4", ".pdf")
    with pytest.raises(Undecodable):
        content_bytes("!!!", "bytes", "base64")


def test_sniff_extension():
    assert sniff_extension(b"MM\x00*rest") == ".tif"
    assert sniff_extension(b"\x89PNG\r\n\x1a\n") == ".png"
    assert sniff_extension(b"hello") == ".bin"
