"""``verify``: fixity and structure of our packages, of hostile tars, and of Arkade's real SIP."""

from __future__ import annotations

import io
import os
import shutil
import tarfile
from pathlib import Path

import pytest

from noarkpack.packaging import PackagingError, build_package, verify

from .test_packaging import aip, extract, metadata, sip  # noqa: F401  (module fixtures)

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
ARKADE_SIP = SHARED / "reference" / "samples" / "arkade-sip-example" / "n5-guid.tar"
#: the tests that speak about fixity and structure (not the content's own defects)
FIXITY_AND_STRUCTURE = {f"PK.{n:02d}" for n in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 13, 14, 15, 16)}


def _copy_package(pkg, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy2(pkg.description, folder / pkg.description.name)
    return Path(shutil.copy2(pkg.tar, folder / pkg.tar.name))


def _rewrite(tar: Path, extra: list[tuple[tarfile.TarInfo, bytes | None]]) -> None:
    """Rewrite ``tar`` with the same members plus ``extra`` (hostile ones)."""
    with tarfile.open(tar) as src:
        items = [(m, src.extractfile(m).read() if m.isfile() else None) for m in src.getmembers()]
    with tarfile.open(tar, "w", format=tarfile.PAX_FORMAT) as out:
        for m, data in items + extra:
            out.addfile(m, io.BytesIO(data) if data is not None else None)


def _snapshot(folder: Path) -> set[str]:
    return {str(p) for p in folder.rglob("*")}


def test_accepts_our_sip_and_aip(sip, aip, schema_store):  # noqa: F811
    for pkg in (sip, aip):
        report = verify(pkg.tar, store=schema_store)
        assert report.ok, [str(f) for f in report.errors]
        # the only warning is validate's note on Arkade's N5.29 (arkade5 issue #175): about Arkade, not the package
        assert [(f.test, "issue #175" in f.message) for f in report.warnings] == [("N5.29", True)], \
            [str(f) for f in report.warnings]
        assert report.facts["uuid"] == pkg.uuid
        assert report.facts["tar_sha256"] == pkg.tar_sha256
        assert report.facts["documents_confirmed"] >= 1
        assert report.facts["mets_files_confirmed"] == pkg.files - 1  # all but dias-mets.xml itself
    # the description or the folder are accepted as PATH too
    assert verify(sip.description, store=schema_store, validate_content=False).ok
    assert verify(sip.tar.parent, store=schema_store, validate_content=False).ok
    report = verify(aip.tar, store=schema_store, profile="arkivverket-sip", validate_content=False)
    assert "PK.13" in report.tests("error")


def test_rejects_a_flipped_byte_in_a_document(sip, tmp_path, schema_store):  # noqa: F811
    tar = _copy_package(sip, tmp_path)
    with tarfile.open(tar) as t:
        # a document: a file in a folder below content/
        doc = next(m for m in t.getmembers() if m.isfile() and m.size and len(m.name.split("/")) > 3
                   and m.name.split("/")[1] == "content")
    with open(tar, "r+b") as f:
        f.seek(doc.offset_data)
        b = f.read(1)
        f.seek(doc.offset_data)
        f.write(bytes([b[0] ^ 0x01]))
    report = verify(tar, store=schema_store)
    assert not report.ok
    errors = report.tests("error")
    assert {"PK.06", "PK.08", "PK.12"} <= errors  # the tar, dias-mets.xml and dokumentobjekt/sjekksum all disagree
    pk12 = [f for f in report.errors if f.test == "PK.12"]
    assert pk12[0].location["systemID"] and doc.name.split("/", 2)[2] in pk12[0].message


@pytest.mark.parametrize("name", ["../evil.txt", "{uuid}/content/../../evil.txt", "/tmp/evil.txt",
                                  "C:/evil.txt", "{uuid}\\..\\evil.txt"])
def test_rejects_unsafe_member_names_without_writing_anything(sip, tmp_path, schema_store, name):  # noqa: F811
    tar = _copy_package(sip, tmp_path / "pkg")
    ti = tarfile.TarInfo(name.format(uuid=sip.uuid))
    ti.size = 4
    _rewrite(tar, [(ti, b"evil")])
    before = _snapshot(tmp_path)
    cwd = set(os.listdir("."))
    report = verify(tar, store=schema_store, validate_content=False)
    assert "PK.01" in report.tests("error")
    assert _snapshot(tmp_path) == before and set(os.listdir(".")) == cwd
    assert not (tmp_path / "evil.txt").exists() and not Path("/tmp/evil.txt").exists()


def test_rejects_links_devices_and_duplicates(sip, tmp_path, schema_store):  # noqa: F811
    tar = _copy_package(sip, tmp_path)
    sym = tarfile.TarInfo(f"{sip.uuid}/content/DOKUMENT/link.pdf")
    sym.type, sym.linkname = tarfile.SYMTYPE, "/etc/passwd"
    hard = tarfile.TarInfo(f"{sip.uuid}/content/hard")
    hard.type, hard.linkname = tarfile.LNKTYPE, f"{sip.uuid}/dias-mets.xml"
    dev = tarfile.TarInfo(f"{sip.uuid}/content/dev")
    dev.type = tarfile.CHRTYPE
    dup = tarfile.TarInfo(f"{sip.uuid}/log.xml")
    dup.size = 3
    long = tarfile.TarInfo(f"{sip.uuid}/content/" + "x" * 300)
    _rewrite(tar, [(sym, None), (hard, None), (dev, None), (dup, b"bad"), (long, b"")])
    report = verify(tar, store=schema_store, validate_content=False)
    errors = report.tests("error")
    assert {"PK.01", "PK.02", "PK.03", "PK.04"} <= errors
    assert len([f for f in report.errors if f.test == "PK.02"]) == 2


def test_symlink_member_alone_is_enough_to_reject(sip, tmp_path, schema_store):  # noqa: F811
    tar = _copy_package(sip, tmp_path)
    sym = tarfile.TarInfo(f"{sip.uuid}/content/DOKUMENT/link.pdf")
    sym.type, sym.linkname = tarfile.SYMTYPE, "../../../../etc/passwd"
    _rewrite(tar, [(sym, None)])
    report = verify(tar, store=schema_store, validate_content=False)
    assert not report.ok and "PK.02" in report.tests("error")
    assert report.exit_code == 1


def test_missing_description_and_not_a_package(sip, tmp_path, schema_store):  # noqa: F811
    tar = Path(shutil.copy2(sip.tar, tmp_path / sip.tar.name))
    report = verify(tar, store=schema_store, validate_content=False)
    assert "PK.16" in report.tests("error")
    with pytest.raises(PackagingError):
        verify(tmp_path / "nothing-here")
    (tmp_path / "empty").mkdir()
    with pytest.raises(PackagingError):
        verify(tmp_path / "empty")


def test_arkade_s_real_sip_fixity_and_structure_confirmed(schema_store):
    report = verify(ARKADE_SIP, store=schema_store)
    fixity_errors = [str(f) for f in report.errors if f.test in FIXITY_AND_STRUCTURE]
    assert fixity_errors == []
    assert report.facts["uuid"] == "258e3353-cef2-407f-92ac-264ad887527b"
    assert report.facts["tar_sha256"] == "c66176e6f7ba776b8e335390e0ddede7152de0395d567a09fa8d2028eb40b6ca"
    assert report.facts["mets_files_confirmed"] == 15  # all members but dias-mets.xml
    assert report.facts["documents_confirmed"] == 2
    # The two repository_operations files Arkade lists but leaves out of a SIP are warnings, not errors.
    pk09 = [f for f in report.findings if f.test == "PK.09"]
    assert len(pk09) == 2 and all(f.severity == "warning" for f in pk09)
    # The ADDML's stale checksum of arkivstruktur.xml is real (Arkade's own report says so, N5.02).
    pk11 = [f for f in report.errors if f.test == "PK.11"]
    assert [f.location["file"] for f in pk11] == ["content/arkivstruktur.xml"]


def test_arkade_s_sip_content_findings_are_those_of_validate(schema_store):
    validation = pytest.importorskip("noarkpack.validation")
    report = verify(ARKADE_SIP, store=schema_store)
    expected = validation.validate(ARKADE_SIP, store=schema_store)
    got = sorted((f.test, f.severity, f.message) for f in report.findings if not f.test.startswith("PK."))
    want = sorted((f.test, f.severity, f.message) for f in expected.findings)
    assert got == want
    assert "N5.02" in {f.test for f in expected.findings if f.severity == "error"}


def test_bag_with_a_corrupted_tar_is_rejected_by_both_checks(extract, metadata, schema_store, tmp_path):  # noqa: F811
    r = build_package(extract, tmp_path / "bag", profile="arkivverket-sip", metadata=metadata, store=schema_store,
                      bag=True)
    size = r.tar.stat().st_size
    with open(r.tar, "r+b") as f:
        f.seek(size // 2)
        b = f.read(1)
        f.seek(size // 2)
        f.write(bytes([b[0] ^ 0xFF]))
    report = verify(tmp_path / "bag", store=schema_store, validate_content=False)
    assert {"PK.06", "PK.27"} <= report.tests("error")


def test_a_tar_s_documents_are_identified_in_batches_with_the_same_findings(sip, schema_store,  # noqa: F811
                                                                             monkeypatch):
    """NP.01 on a tar: a child process identifies the members (read at their offsets); without the child,
    this process copies them out a batch at a time for Siegfried's workers.  Either way the report is the
    one that identifying each document from a temporary copy of its own gives."""
    from noarkpack import documents
    from noarkpack.validation import engine, source, validate

    def seen(report):
        return [(f.test, f.severity, f.message) for f in report.findings]

    singles, batches = [], []
    real_identify, real_batch = documents._identify, source.TarSource.identify_batch
    monkeypatch.setattr(documents, "_identify", lambda p: singles.append(p) or real_identify(p))
    monkeypatch.setattr(source.TarSource, "identify_batch",
                        lambda self, rels, workdir: batches.append(len(rels)) or real_batch(self, rels, workdir))
    in_child = validate(sip.tar, store=schema_store)
    assert not batches and not singles and "NP.01" in in_child.ran  # every document was known from the child

    monkeypatch.setattr(engine, "identify_members_in_child", lambda *a: None)  # the child could not run
    monkeypatch.setattr(documents, "_cache", None)
    batched = validate(sip.tar, store=schema_store)
    assert batches and not singles  # every document was known from its batch

    monkeypatch.setattr(source.TarSource, "identify_batch", lambda self, rels, workdir: None)
    monkeypatch.setattr(documents, "_cache", None)
    one_by_one = validate(sip.tar, store=schema_store)
    assert len(singles) == sum(batches)
    assert seen(in_child) == seen(batched) == seen(one_by_one)
