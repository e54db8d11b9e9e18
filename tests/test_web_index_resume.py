"""The browse index's build (issue 21, point 4): the same index whatever the chunks the fast pass is fed, a build
cut short (stopped, or its process killed) resumed from its last checkpoint, never served half, and the index
files of a changed source removed when the new one is complete."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from noarkpack.web import indexbuild
from noarkpack.web.index import Cancelled, ExtractIndex, IndexManager, build_index, index_key, locate

from .test_web_index import _ODD, _extract, sip  # noqa: F401 - sip: a fixture (a SIP tar of ``extract``)


@pytest.fixture(scope="module")
def extract(tmp_path_factory) -> Path:
    return _extract(tmp_path_factory.mktemp("resume"))


def _dump(ix: ExtractIndex) -> list:
    """Every node as the pages see it (without where its metadata is stored); the counts per kind checked."""
    assert ix.info["counts"] == dict(ix._q("SELECT kind, count(*) FROM node GROUP BY kind"))
    out = []
    for (nid,) in ix._q("SELECT id FROM node ORDER BY id"):
        n = ix.node(nid)
        out.append((n.id, n.parent, n.kind, n.xtype, n.line, n.nchildren, n.meta,
                    ix._q("SELECT sid FROM node WHERE id=?", (nid,))[0][0]))
    return out


def _odd(tmp_path: Path) -> Path:
    folder = tmp_path / "odd"
    folder.mkdir()
    text = _ODD.format(enc="UTF-8", p="", colon="")
    # a comment and a misplaced element between two child nodes, metadata after the last one
    text = text.replace("<registrering/>", "<!-- between -->\n      <merknad><merknadstekst>x</merknadstekst></merknad>"
                                           "\n      <registrering/>")
    (folder / "arkivstruktur.xml").write_text(text, encoding="utf-8")
    return folder


@pytest.mark.parametrize("chunk", [7, 64, 1000])
def test_the_same_index_whatever_the_chunks(extract, tmp_path, monkeypatch, chunk):
    odd = _odd(tmp_path)
    whole = [_dump(build_index(locate(src), tmp_path / f"whole-{i}.sqlite")) for i, src in enumerate((extract, odd))]
    monkeypatch.setattr(indexbuild, "CHUNK", chunk)
    for i, src in enumerate((extract, odd)):
        assert _dump(build_index(locate(src), tmp_path / f"small-{i}.sqlite")) == whole[i]
    mappe = next(n for n in whole[1] if n[2] == "mappe")
    assert ("merknad/merknadstekst", "x") in mappe[6] and ("tittel", "Etter & før") in mappe[6]
    assert [n[2] for n in whole[0]].count("registrering") == 6


@pytest.mark.parametrize("kind", ["folder", "tar"])
def test_a_stopped_build_resumes_from_its_checkpoint(extract, sip, tmp_path, monkeypatch, kind):  # noqa: F811
    src = extract if kind == "folder" else sip
    fresh = _dump(build_index(locate(src), tmp_path / "fresh.sqlite"))
    monkeypatch.setattr(indexbuild, "CHUNK", 512)
    monkeypatch.setattr(indexbuild, "CHECKPOINT", 2048)
    db = tmp_path / "ix.sqlite"
    seen = []
    size = (extract / "arkivstruktur.xml").stat().st_size
    with pytest.raises(Cancelled):
        build_index(locate(src), db, progress=lambda s, d, t: seen.append(d), stop=lambda: seen[-1] > size // 2)
    assert not db.exists() and (tmp_path / "ix.sqlite.part").is_file()  # never served half
    again = []
    ix = build_index(locate(src), db, progress=lambda s, d, t: again.append(d))
    assert 0 < ix.info["resumed_at"] <= seen[-1] and again[0] > ix.info["resumed_at"]
    assert _dump(ix) == fresh
    assert not (tmp_path / "ix.sqlite.part").exists()
    if kind == "tar":
        assert ix.member("content/arkivstruktur.xml")[1] == size


_KILLED = """
import os, sys
from pathlib import Path
from noarkpack.web import indexbuild
from noarkpack.web.index import build_index, locate
indexbuild.CHUNK, indexbuild.CHECKPOINT = 512, 2048
size = (Path(sys.argv[1]) / "arkivstruktur.xml").stat().st_size
def progress(stage, done, total):
    if done > size * 2 // 3:
        os._exit(9)  # the process dies in the middle of a transaction: rows written since the checkpoint
build_index(locate(Path(sys.argv[1])), Path(sys.argv[2]), progress=progress)
"""


def test_a_killed_build_resumes_from_its_last_checkpoint(extract, tmp_path):
    fresh = _dump(build_index(locate(extract), tmp_path / "fresh.sqlite"))
    db = tmp_path / "ix.sqlite"
    r = subprocess.run([sys.executable, "-c", _KILLED, str(extract), str(db)], capture_output=True, text=True)
    assert r.returncode == 9, r.stderr
    assert not db.exists() and (tmp_path / "ix.sqlite.part").is_file()
    ix = build_index(locate(extract), db)
    assert ix.info["resumed_at"] > 0
    assert _dump(ix) == fresh


def test_a_checkpoint_of_another_source_is_not_resumed(extract, tmp_path, monkeypatch):
    copy = tmp_path / "copy"
    shutil.copytree(extract, copy)
    monkeypatch.setattr(indexbuild, "CHUNK", 512)
    monkeypatch.setattr(indexbuild, "CHECKPOINT", 1024)
    db = tmp_path / "ix.sqlite"
    seen = []
    with pytest.raises(Cancelled):
        build_index(locate(copy), db, progress=lambda s, d, t: seen.append(d), stop=lambda: len(seen) > 3)
    xml = copy / "arkivstruktur.xml"
    xml.write_bytes(xml.read_bytes().replace(b"Testarkiv", b"Testarkiv 2"))  # changed: its checkpoint is void
    ix = build_index(locate(copy), db)
    assert ix.info["resumed_at"] is None and ix.roots()[0].get("tittel") == "Testarkiv 2"


def test_the_index_of_a_changed_source_replaces_the_old_one(extract, tmp_path):
    copy, other = tmp_path / "copy", tmp_path / "other"
    shutil.copytree(extract, copy)
    shutil.copytree(extract, other)
    m = IndexManager(tmp_path / "state")

    def ready(path: Path) -> ExtractIndex:
        for _ in range(500):
            got = m.get(path)
            if isinstance(got, ExtractIndex):
                return got
            assert got.error is None, got.error
            time.sleep(0.02)
        raise AssertionError("index not built")

    ready(copy)
    ready(other)
    old = index_key(locate(copy))
    folder = tmp_path / "state" / "index"
    legacy = folder / "0123456789abcdef0123.sqlite"  # an index of version 3, keyed otherwise: never opened again
    legacy.write_bytes(b"x")
    assert (folder / f"{old}.sqlite").is_file()
    xml = copy / "arkivstruktur.xml"
    os.utime(xml, ns=(xml.stat().st_atime_ns, xml.stat().st_mtime_ns + 10**9))  # a changed source
    new = index_key(locate(copy))
    assert new != old and new.split("-")[0] == old.split("-")[0]
    assert ready(copy).path == folder / f"{new}.sqlite"
    names = sorted(p.name for p in folder.iterdir() if not p.name.endswith(".lock"))
    assert names == sorted([f"{new}.sqlite", f"{index_key(locate(other))}.sqlite"])


def test_a_complete_index_cut_short_before_its_rename_is_not_built_again(extract, tmp_path, monkeypatch):
    def cut_short(part, db_path, lock):  # the process ends after the last commit, before the rename
        os.close(lock)
        raise SystemExit(1)

    db = tmp_path / "ix.sqlite"
    with monkeypatch.context() as m:
        m.setattr(indexbuild, "_finish", cut_short)
        with pytest.raises(SystemExit):
            build_index(locate(extract), db)
    assert not db.exists() and (tmp_path / "ix.sqlite.part").is_file()
    seen = []
    ix = build_index(locate(extract), db, progress=lambda s, d, t: seen.append(d))
    assert not seen and ix.count("registrering") == 6 and not (tmp_path / "ix.sqlite.part").exists()
