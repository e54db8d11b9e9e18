"""The schema store: lock files, install by hash, verification, error messages.

Everything runs on real files from ../shared/reference.  The network is never
used: installs run with download=False, and the download path is exercised
with a stand-in for ``_open_url`` that serves local bytes.
"""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import urllib.error
from pathlib import Path

import pytest
from lxml import etree

from noarkpack import schemas
from noarkpack.errors import SchemaStoreError
from noarkpack.hashing import HashingWriter, sha256_file
from noarkpack.schemas import (
    ENV_VAR,
    SchemaStore,
    Status,
    default_root,
    default_store,
    schema_sets,
)

INSTALL_COMMAND = "noarkpack schemas install --from DIR"

# Where each set's official files sit in ../shared/reference.
REFERENCE_FOLDERS = {
    "noark5-v5.0": "noark5",
    "noark5-v5.0-2020": "noark5/v5.0-2020",
    "addml-8.3": "noark5",
    "dias": "dias",
    "noark5-v3.1": "dias/arkade-builtin/noark5/v3_1",
    "noark5-v4.0": "dias/arkade-builtin/noark5/v4_0",
    "nha-avlxml-v3": "nha/avlxml/v3",
    "nha-avlxml-v4-draft": "nha/avlxml/v4-draft",
    "nha-epjpakkeliste": "nha/epjark",
    "nha-epj-1.80": "nha/epj-1.80",
}
N5_FILES = {"arkivstruktur.xsd", "metadatakatalog.xsd", "endringslogg.xsd", "loependeJournal.xsd", "offentligJournal.xsd"}


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def no_network(url: str, timeout: float):  # pragma: no cover - must never run
    raise AssertionError(f"test tried to download {url}")


@pytest.fixture(autouse=True)
def _forbid_downloads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Belt and braces: any download attempt in this module fails the test."""
    monkeypatch.setattr(schemas, "_open_url", no_network)


# ---------------------------------------------------------------- lock files


def test_lock_files_pin_every_expected_set() -> None:
    sets = schema_sets()
    assert set(sets) == set(REFERENCE_FOLDERS)
    for schema_set in sets.values():
        assert schema_set.description and schema_set.licence
        assert len(schema_set.commit) == 40
        owner_repo = schema_set.repository.removeprefix("https://github.com/")
        for f in schema_set.files:
            assert f.url.startswith(f"https://raw.githubusercontent.com/{owner_repo}/{schema_set.commit}/")
            assert f.url.endswith("/" + f.name)
            assert len(f.sha256) == 64 and f.size > 0


def test_lock_files_list_the_expected_files(shared_dir: Path) -> None:
    sets = schema_sets()
    for name in ("noark5-v5.0", "noark5-v5.0-2020", "noark5-v3.1", "noark5-v4.0"):
        assert set(sets[name].file_names) == N5_FILES
    assert sets["addml-8.3"].file_names == ("addml.xsd",)
    assert set(sets["dias"].file_names) == {
        "DIAS_METS.xsd", "DIAS_PREMIS.xsd", "submissionDescription.xsd",
        "cpf.xsd", "ead3.xsd", "xlink.xsd", "addml.xsd",
    }
    # NHA sets: every .xsd of the reference folder
    for name in ("nha-avlxml-v3", "nha-avlxml-v4-draft", "nha-epjpakkeliste", "nha-epj-1.80"):
        folder = shared_dir / "reference" / REFERENCE_FOLDERS[name]
        assert set(sets[name].file_names) == {p.name for p in folder.glob("*.xsd")}


# ---------------------------------------------------------------- installing


def test_install_all_from_reference_is_byte_identical(shared_dir: Path, tmp_path: Path) -> None:
    store = SchemaStore(tmp_path / "store")
    seen = []
    report = store.install(from_dir=shared_dir / "reference", download=False, progress=seen.append)

    assert report.ok, report.error()
    assert seen == report.outcomes
    assert sorted(report.complete_sets) == sorted(REFERENCE_FOLDERS)
    assert all(o.status is Status.INSTALLED for o in report.outcomes)
    for name, schema_set in schema_sets().items():
        folder = store.set_dir(name)
        assert folder == tmp_path / "store" / name
        for f in schema_set.files:
            installed = (folder / f.name).read_bytes()
            official = (shared_dir / "reference" / REFERENCE_FOLDERS[name] / f.name).read_bytes()
            assert installed == official  # bytes exact, CRLF files included
            assert sha256_bytes(installed) == f.sha256 and len(installed) == f.size
        # nothing but the pinned files (no temporary leftovers)
        assert sorted(p.name for p in folder.iterdir()) == sorted(schema_set.file_names)
    assert store.verify() == []


def test_second_install_finds_everything_present(schema_store: SchemaStore, shared_dir: Path) -> None:
    report = schema_store.install(from_dir=shared_dir / "reference", download=False)
    assert report.ok
    assert {o.status for o in report.outcomes} == {Status.PRESENT}
    assert "noark5-v5.0: all 5 files already present" in report.summary()


def test_files_are_found_by_hash_under_any_name(shared_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "somewhere" / "deep"
    source.mkdir(parents=True)
    shutil.copyfile(shared_dir / "reference/noark5/addml.xsd", source / "renamed.bin")

    store = SchemaStore(tmp_path / "store")
    report = store.install(from_dir=tmp_path / "somewhere", sets=["addml-8.3"], download=False)

    assert report.ok
    [outcome] = report.outcomes
    assert outcome.status is Status.INSTALLED and outcome.source == str(source / "renamed.bin")
    assert store.path("addml-8.3", "addml.xsd").read_bytes() == (source / "renamed.bin").read_bytes()


def test_same_bytes_in_two_sets_come_from_the_store(shared_dir: Path, tmp_path: Path) -> None:
    """dias/addml.xsd is the ADDML 8.3 file: once installed, it is reused."""
    store = SchemaStore(tmp_path / "store")
    assert store.install(from_dir=shared_dir / "reference/noark5", sets=["addml-8.3"], download=False).ok
    report = store.install(sets=["dias"], download=False)  # no --from, no download
    addml = next(o for o in report.outcomes if o.name == "addml.xsd")
    assert addml.status is Status.INSTALLED and addml.source == str(tmp_path / "store/addml-8.3/addml.xsd")
    assert len(report.missing) == 6  # the other DIAS files have no source
    assert (tmp_path / "store/dias/addml.xsd").read_bytes() == (tmp_path / "store/addml-8.3/addml.xsd").read_bytes()


def test_tampered_file_is_refused(shared_dir: Path, tmp_path: Path) -> None:
    source = tmp_path / "from"
    shutil.copytree(shared_dir / "reference/noark5", source, ignore=shutil.ignore_patterns("examples", "v5.0-2020"))
    tampered = source / "arkivstruktur.xsd"
    data = bytearray(tampered.read_bytes())
    data[-3] ^= 0x20  # one byte changed, size kept, so the file is hashed and compared
    tampered.write_bytes(bytes(data))

    store = SchemaStore(tmp_path / "store")
    report = store.install(from_dir=source, sets=["noark5-v5.0"], download=False)

    assert not report.ok
    [missing] = report.missing
    assert missing.name == "arkivstruktur.xsd"
    assert str(tampered) in missing.reason and "refused" in missing.reason
    assert len(report.installed) == 4  # what could be installed, was
    assert not (tmp_path / "store/noark5-v5.0/arkivstruktur.xsd").exists()
    assert not list((tmp_path / "store/noark5-v5.0").glob(".*"))  # no temporary leftovers

    summary = report.summary()
    assert "arkivstruktur.xsd: MISSING" in summary and "4 installed, 0 already present, 1 missing" in summary
    assert INSTALL_COMMAND in summary

    err = report.error()
    assert isinstance(err, SchemaStoreError) and "noark5-v5.0/arkivstruktur.xsd" in str(err)
    with pytest.raises(SchemaStoreError, match="noark5-v5.0"):
        report.raise_for_missing()
    with pytest.raises(SchemaStoreError) as excinfo:
        store.set_dir("noark5-v5.0")
    assert "missing: arkivstruktur.xsd" in str(excinfo.value)
    assert INSTALL_COMMAND in str(excinfo.value)


def test_bad_copy_in_store_is_detected_and_replaced(shared_dir: Path, tmp_path: Path) -> None:
    store = SchemaStore(tmp_path / "store")
    assert store.install(from_dir=shared_dir / "reference/nha/epjark", download=False, sets=["nha-epjpakkeliste"]).ok
    installed = store.path("nha-epjpakkeliste", "epjpakkeliste.xsd")

    # Replace the installed file by a same-size file with other bytes.
    bad = bytearray(installed.read_bytes())
    bad[100] ^= 0x01
    replacement = installed.with_name("replacement")
    replacement.write_bytes(bytes(bad))
    os.replace(replacement, installed)

    [problem] = store.verify(["nha-epjpakkeliste"])
    assert problem.kind == "mismatch" and problem.name == "epjpakkeliste.xsd"
    with pytest.raises(SchemaStoreError, match="does not match its pinned official files") as excinfo:
        store.set_dir("nha-epjpakkeliste")
    assert INSTALL_COMMAND in str(excinfo.value)

    report = store.install(from_dir=shared_dir / "reference/nha", sets=["nha-epjpakkeliste"], download=False)
    [outcome] = report.outcomes
    assert outcome.status is Status.INSTALLED and "replaced" in outcome.reason
    assert store.verify(["nha-epjpakkeliste"]) == []


# ---------------------------------------------------------------- errors


def test_missing_set_names_the_install_command(tmp_path: Path) -> None:
    store = SchemaStore(tmp_path / "empty")
    with pytest.raises(SchemaStoreError) as excinfo:
        store.set_dir("noark5-v5.0")
    message = str(excinfo.value)
    assert "'noark5-v5.0' is not installed" in message
    assert INSTALL_COMMAND in message
    # The store is not the default one, so the command must say where it is.
    assert f"{ENV_VAR}={tmp_path / 'empty'}" in message
    with pytest.raises(SchemaStoreError, match="noarkpack schemas install"):
        store.path("noark5-v5.0", "arkivstruktur.xsd")
    assert not store.is_installed("noark5-v5.0")
    assert {p.kind for p in store.verify(["noark5-v5.0"])} == {"missing"}


def test_install_without_sources_reports_what_is_missing(tmp_path: Path) -> None:
    report = SchemaStore(tmp_path / "store").install(sets=["addml-8.3"], download=False)
    assert not report.ok and report.incomplete_sets == ["addml-8.3"]
    assert "downloading is off" in report.missing[0].reason
    assert INSTALL_COMMAND in str(report.error())


def test_unknown_names_and_bad_from_dir_raise(schema_store: SchemaStore, tmp_path: Path) -> None:
    with pytest.raises(SchemaStoreError, match="unknown schema set 'noark4'"):
        schema_store.set_dir("noark4")
    with pytest.raises(SchemaStoreError, match="has no file 'nope.xsd'"):
        schema_store.path("noark5-v5.0", "nope.xsd")
    with pytest.raises(SchemaStoreError, match="does not exist"):
        SchemaStore(tmp_path / "s").install(from_dir=tmp_path / "does-not-exist", download=False)


# ---------------------------------------------------------------- location


def test_env_var_is_honoured(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "custom"))
    assert default_root() == tmp_path / "custom"
    assert default_store().root == tmp_path / "custom"
    with pytest.raises(SchemaStoreError) as excinfo:
        default_store().set_dir("addml-8.3")
    # default store: the plain command works, no prefix needed
    assert f"`{INSTALL_COMMAND}`" in str(excinfo.value)
    assert str(tmp_path / "custom") in str(excinfo.value)

    monkeypatch.delenv(ENV_VAR)
    assert default_root() != tmp_path / "custom"
    assert default_root().name == "schemas"


def test_session_store_is_the_default_store(schema_store: SchemaStore) -> None:
    assert os.environ[ENV_VAR] == str(schema_store.root)
    store = default_store()
    assert store.root == schema_store.root
    assert store.verify() == []
    for name in REFERENCE_FOLDERS:
        assert store.is_installed(name)


# ---------------------------------------------------------------- using the schemas


def _load_schema(path: Path) -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    return etree.XMLSchema(etree.parse(str(path), parser))


@pytest.mark.parametrize("set_name", ["noark5-v5.0", "noark5-v5.0-2020"])
def test_lxml_loads_arkivstruktur_with_its_import(schema_store: SchemaStore, shared_dir: Path, set_name: str) -> None:
    schema = _load_schema(schema_store.path(set_name, "arkivstruktur.xsd"))
    example = etree.parse(str(shared_dir / "reference/noark5/examples/synthetic-v5.0/arkivstruktur.xml"))
    assert schema.validate(example), schema.error_log


@pytest.mark.parametrize(
    ("set_name", "entry"),
    [
        ("noark5-v5.0", "loependeJournal.xsd"),
        ("noark5-v5.0", "offentligJournal.xsd"),
        ("noark5-v5.0", "endringslogg.xsd"),
        ("noark5-v3.1", "arkivstruktur.xsd"),
        ("noark5-v4.0", "arkivstruktur.xsd"),
        ("addml-8.3", "addml.xsd"),
        ("nha-avlxml-v3", "avlxml.xsd"),
        ("nha-avlxml-v4-draft", "avlxml.xsd"),
        ("nha-epjpakkeliste", "epjpakkeliste.xsd"),
        ("nha-epj-1.80", "pasientinfo.xsd"),
        ("nha-epj-1.80", "epj_sak.xsd"),
        ("nha-epj-1.80", "epj_dokument.xsd"),
    ],
)
def test_self_contained_sets_compile_offline(schema_store: SchemaStore, set_name: str, entry: str) -> None:
    _load_schema(schema_store.path(set_name, entry))


# ---------------------------------------------------------------- download path


class _FakeResponse(io.BytesIO):
    """What urlopen returns, enough for the store: read() and a context manager."""


def test_download_is_verified_before_placing(
    monkeypatch: pytest.MonkeyPatch, shared_dir: Path, tmp_path: Path
) -> None:
    official = (shared_dir / "reference/noark5/addml.xsd").read_bytes()
    pinned_url = schema_sets()["addml-8.3"].files[0].url
    requested: list[str] = []

    def serve(body: bytes):
        def fake_open(url: str, timeout: float):
            requested.append(url)
            return _FakeResponse(body)
        return fake_open

    store = SchemaStore(tmp_path / "store")
    target = tmp_path / "store/addml-8.3/addml.xsd"

    # Wrong bytes, right size: refused, nothing placed.
    monkeypatch.setattr(schemas, "_open_url", serve(official.replace(b"8.3", b"8.4", 1)))
    report = store.install(sets=["addml-8.3"])
    assert not report.ok and "refused" in report.missing[0].reason and not target.exists()

    # Too many bytes: refused without reading them all.
    monkeypatch.setattr(schemas, "_open_url", serve(official + b"\n"))
    report = store.install(sets=["addml-8.3"])
    assert not report.ok and "more bytes than pinned" in report.missing[0].reason and not target.exists()

    # Network failure: reported, not raised.
    def fail(url: str, timeout: float):
        raise urllib.error.URLError("no route to host")
    monkeypatch.setattr(schemas, "_open_url", fail)
    report = store.install(sets=["addml-8.3"])
    assert not report.ok and "no route to host" in report.missing[0].reason

    # The official bytes: installed, byte for byte.
    monkeypatch.setattr(schemas, "_open_url", serve(official))
    report = store.install(sets=["addml-8.3"])
    assert report.ok and report.outcomes[0].source == pinned_url
    assert target.read_bytes() == official
    assert set(requested) == {pinned_url}
    assert not list(target.parent.glob(".*"))


def test_from_dir_match_means_no_download(shared_dir: Path, tmp_path: Path) -> None:
    # _open_url is forbidden (autouse fixture): download=True must not reach it.
    report = SchemaStore(tmp_path / "store").install(
        from_dir=shared_dir / "reference/noark5", sets=["noark5-v5.0", "addml-8.3"], download=True
    )
    assert report.ok


# ---------------------------------------------------------------- hashing helpers


def test_sha256_file_streams_large_files(tmp_path: Path) -> None:
    data = os.urandom(3 * (1 << 20) + 12345)  # more than one chunk, not a multiple
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    assert sha256_file(path) == sha256_bytes(data)
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    assert sha256_file(empty) == sha256_bytes(b"")


def test_hashing_writer_counts_and_hashes(tmp_path: Path) -> None:
    path = tmp_path / "out.xml"
    with open(path, "wb") as raw:
        out = HashingWriter(raw)
        out.write(b"<a>")
        out.write(memoryview(b"\xc3\xa6\xc3\xb8\xc3\xa5"))
        out.write(bytearray(b"</a>\r\n"))
        out.close()
        assert not raw.closed  # the opener closes the file
    assert out.size == path.stat().st_size == 15
    assert out.hexdigest() == sha256_file(path)


def test_hashing_writer_under_text_and_lxml(tmp_path: Path) -> None:
    path = tmp_path / "text.xml"
    with open(path, "wb") as raw:
        out = HashingWriter(raw)
        with etree.xmlfile(out, encoding="utf-8") as xf:
            with xf.element("arkiv"):
                xf.write("Bodø æøå")
        text = io.TextIOWrapper(out, encoding="utf-8", newline="")
        text.write("\r\n")
        text.flush()
        text.detach()
    assert out.size == path.stat().st_size
    assert out.hexdigest() == sha256_file(path)
    assert path.read_bytes().endswith(b"</arkiv>\r\n")
