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
    assert store.put(data, ".txt") == fil  # the same content while the first is still being written: once
    store.sync()
    sha = hashlib.sha256(data).hexdigest()
    assert fil == f"{PREFIX}{sha}.txt"
    path = store.path_of(fil)
    assert path == tmp_path / "content" / sha[:2] / f"{sha}.txt" and path.read_bytes() == data
    mtime = path.stat().st_mtime_ns
    assert store.put(data, ".txt") == fil and path.stat().st_mtime_ns == mtime
    store.sync()
    assert (store.written, store.reused) == (1, 2)
    assert [p.name for p in path.parent.iterdir()] == [path.name]


def test_many_contents_in_batches_with_bounded_waiting_bytes(tmp_path):
    # more files than a batch, more bytes than may wait: every one written whole, no temporary file left
    store = ContentStore(tmp_path, writers=3, pending_bytes=50_000, batch=7)
    blobs = [os.urandom(1000 + 997 * i) for i in range(40)]
    names = [store.put(b, ".bin") for b in blobs]
    store.sync()
    assert [store.path_of(n).read_bytes() for n in names] == blobs
    assert not [p for p in tmp_path.rglob("*") if p.name.endswith(".part")]
    assert (store.written, store.reused) == (40, 0)


def test_a_file_has_its_final_name_only_when_complete_and_synced(tmp_path):
    # batch larger than the contents: nothing is renamed before sync(); close() (a failed import) leaves no
    # temporary file and no final name
    store = ContentStore(tmp_path, batch=1000)
    fil = store.put(b"%PDF-1.4 one", ".pdf")
    store.put(b"%PDF-1.4 two", ".pdf")
    store.close()
    assert not store.path_of(fil).exists()
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
    # the same contents again, synced this time
    store.put(b"%PDF-1.4 one", ".pdf")
    store.sync()
    assert store.path_of(fil).read_bytes() == b"%PDF-1.4 one"


def test_the_callers_digest_is_the_name(tmp_path):
    store = ContentStore(tmp_path)
    data = b"scan"
    sha = hashlib.sha256(data).hexdigest()
    assert store.put(data, ".bin", sha256=sha) == f"{PREFIX}{sha}.bin"
    store.sync()
    assert store.path_of(f"{PREFIX}{sha}.bin").read_bytes() == data


def test_a_write_that_fails_is_raised_to_the_importing_thread(tmp_path):
    (tmp_path / "content").write_bytes(b"a file where the store's folder should be")
    store = ContentStore(tmp_path / "content")
    store.put(b"x" * 100, ".bin")
    with pytest.raises(OSError):
        store.sync()
    store.close()


def test_a_truncated_file_under_the_final_name_is_rewritten(tmp_path):
    store = ContentStore(tmp_path)
    data = os.urandom(5000)
    path = store.path_of(store.put(data, ".bin"))
    store.sync()
    path.write_bytes(data[:100])  # e.g. a copy made by hand that broke off
    store.put(data, ".bin")
    store.sync()
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


def test_a_killed_import_leaves_no_file_under_a_final_name_that_is_not_complete(tmp_path):
    # a child process stores contents without end and is killed (SIGKILL) while its writers are busy: every
    # file under a final name holds exactly the bytes its name (their SHA-256) says; a new store writes what
    # is missing and reuses what is there
    import signal
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", (
        "import os, sys\n"
        "from noarkpack.sources.content_store import ContentStore\n"
        "s = ContentStore(sys.argv[1], batch=16)\n"
        "for i in range(10**6):\n"
        "    s.put(i.to_bytes(4, 'big') * 50_000, '.bin')\n"
        "    if i == 200: print('busy', flush=True)\n"), str(tmp_path)], stdout=subprocess.PIPE)
    assert child.stdout.readline() == b"busy\n"
    child.send_signal(signal.SIGKILL)
    child.wait()
    finals = [p for p in tmp_path.rglob("*.bin")]
    assert finals, "nothing was renamed before the kill (the test needs a few complete batches)"
    for p in finals:
        assert hashlib.sha256(p.read_bytes()).hexdigest() == p.stem
    store = ContentStore(tmp_path)
    for i in range(250):
        store.put(i.to_bytes(4, "big") * 50_000, ".bin")
    store.sync()
    assert store.reused >= len([p for p in finals if int.from_bytes(p.read_bytes()[:4], "big") < 250])
    assert len(list(tmp_path.rglob("*.bin"))) >= 250


def test_an_import_sweeps_what_killed_imports_left_and_nothing_a_live_writer_owns(tmp_path):
    # a real killed writer: a child storing contents without end into a project's content store, killed
    # (SIGKILL) while its writers are busy, leaves temporary files that nothing names; beside them, files made to
    # look like a live writer's (a running child's pid), another machine's, and an older noarkpack's (no owner
    # in the name: removed only when untouched for an hour).  `noarkpack import` removes exactly the stale ones.
    import shutil
    import signal
    import subprocess
    import sys
    import time
    from pathlib import Path

    from noarkpack.project import load_project
    from noarkpack.sources import content_store as cs

    root = tmp_path / "legacydb"
    shutil.copytree(Path(__file__).resolve().parents[1] / "examples" / "legacydb", root,
                    ignore=shutil.ignore_patterns(".noarkpack", "__pycache__"))
    store = root / ".noarkpack" / "content"
    child = subprocess.Popen([sys.executable, "-c", (
        "import sys\n"
        "from noarkpack.sources.content_store import ContentStore\n"
        "s = ContentStore(sys.argv[1], batch=10**6)\n"  # nothing renamed: every written file stays a .part
        "for i in range(10**6):\n"
        "    s.put(i.to_bytes(4, 'big') * 50_000, '.bin')\n"
        "    if i == 100: print('busy', flush=True)\n"), str(store)], stdout=subprocess.PIPE)
    assert child.stdout.readline() == b"busy\n"
    child.send_signal(signal.SIGKILL)
    child.wait()
    killed = sorted(store.rglob("*.part"))
    assert killed and all(p.name.startswith(f".{child.pid}.{cs._HOST}-") for p in killed)

    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        (store / "ab").mkdir(exist_ok=True)
        kept = [store / "ab" / f".{live.pid}.{cs._HOST}-a1b2c3-0.part",  # a running writer's
                store / "ab" / f".{child.pid}.0123abcd-a1b2c3-0.part",  # another machine's (its pid may live there)
                store / "ab" / f".{'ab' * 32}.pdf.1a2b3c4d.part"]  # an older noarkpack's, written a minute ago
        old = store / "ab" / f".{'ab' * 31}cd.pdf.5e6f7a8b.part"  # an older noarkpack's, two hours untouched
        for p in (*kept, old):
            p.write_bytes(b"half a scan")
        minute_ago, two_hours_ago = time.time() - 60, time.time() - 2 * 3600
        os.utime(kept[2], (minute_ago, minute_ago))
        os.utime(old, (two_hours_ago, two_hours_ago))

        report = load_project(root).import_export()
        assert report.exit_code == 0 and report.counts["dokument"] == 12
        assert sorted(store.rglob("*.part")) == sorted(kept)
        assert not any(p.exists() for p in killed) and not old.exists()
        # every content the import names is there, complete
        for p in store.rglob("*"):
            if p.is_file() and not p.name.startswith("."):
                assert p.suffix == ".bin" or hashlib.sha256(p.read_bytes()).hexdigest() == p.stem
    finally:
        live.kill()
        live.wait()
    # the writer is gone now: the next import removes its file too
    load_project(root).import_export()
    assert sorted(store.rglob("*.part")) == sorted(kept[1:])
