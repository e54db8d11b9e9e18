"""A verify finding that names only a file, followed to its place through the app: a real bag around a real SIP,
mutated inside its tar — a document left out of dias-mets.xml and a stray file added (PK.10), an ADDML-listed file
removed and another changed (PK.11) — and the same findings of a SIP verified on its own (see
noarkpack/web/fileplaces.py)."""

from __future__ import annotations

import io
import re
import tarfile
import time
from pathlib import Path

import pytest

from noarkpack import pipeline
from noarkpack.web.fileplaces import listing_line

from .test_web_nha import _client, _links, _run

STRAY = "content/DOKUMENT/ekstra-notat.txt"
STRAY_TEXT = "Ekstra notat, født 03062945272.\nAndre linje.\n"


def _rewrite(tar: Path, *, drop: str, change: str, add: tuple[str, bytes], unlist: str) -> None:
    """The tar again, with the member ending with ``drop`` left out, a byte of ``change`` flipped, ``add`` added
    below the package folder, and the METS line that lists ``unlist`` removed."""
    out = []
    with tarfile.open(tar) as t:
        root = t.getmembers()[0].name.split("/")[0]
        for m in t.getmembers():
            data = t.extractfile(m).read() if m.isfile() else None
            if m.name.endswith(drop):
                continue
            if m.name.endswith(change):
                data = bytes([data[0]]) + bytes([data[1] ^ 0x20]) + data[2:]
            if m.name == f"{root}/dias-mets.xml":
                text = data.decode("utf-8")
                hit = re.search(r"\n[^\n]*<(?:mets:)?file\b[^>]*>\s*<(?:mets:)?FLocat[^>]*" + re.escape(unlist)
                                + r"[^>]*/>\s*</(?:mets:)?file>", text)
                assert hit, "the METS lists the document"
                data = (text[:hit.start()] + text[hit.end():]).encode("utf-8")
            if data is not None:
                m.size = len(data)
            out.append((m, data))
    extra = tarfile.TarInfo(f"{root}/{add[0]}")
    extra.size, extra.mtime = len(add[1]), time.time()
    out.append((extra, add[1]))
    with tarfile.open(tar, "w", format=tarfile.PAX_FORMAT) as t:
        for m, data in out:
            t.addfile(m, io.BytesIO(data) if data is not None else None)


@pytest.fixture(scope="module")
def served(tmp_path_factory, schema_store):
    from noarkpack.packaging import verify as verify_package

    from .test_packaging import tiny_bag

    tmp = tmp_path_factory.mktemp("web-fileplaces")
    built = tiny_bag(tmp, schema_store)
    root = tmp / "root"
    with tarfile.open(built.tar) as t:
        member = next(m for m in t.getmembers() if m.isfile() and "/content/DOKUMENT/" in m.name)
        text = t.extractfile(member).read().decode("utf-8")
    unlisted = member.name.split("/", 1)[1]  # content/DOKUMENT/2019/{uuid}.txt
    _rewrite(built.tar, drop="/content/endringslogg.xml", change="/content/offentligJournal.xml",
             add=(STRAY, STRAY_TEXT.encode("utf-8")), unlist=unlisted)
    report = tmp / "verify.json"
    pipeline.write_reports(verify_package(root / "bag", store=schema_store, validate_content=False), report, None)
    state = tmp / "state"
    client, ctx = _client(root, state)
    target = next(t for t in ctx.targets.values() if t.kind == "bag")
    rid = _run(state, target, report)
    client, ctx = _client(root, state)
    yield client, ctx, target, rid, built, (unlisted, text.strip())


def _rows(client, rid: str, test: str) -> list[tuple[str, str]]:
    """(message, link) of each finding of ``test`` with a "Show the file" link."""
    page = client.get(f"/runs/{rid}/findings", params={"test": test})
    assert page.status_code == 200
    out = []
    for row in page.text.split("<tr data-severity=")[1:]:
        message = re.search(r'<td class="message">(.*?)</td>', row, re.S).group(1)
        links = _links(row, "place-link")
        if links:
            out.append((message, links[0]))
    return out


def _follow(client, url: str):
    """Follow a place link to the page it lands on (waiting for the SIP's index when it is built first)."""
    for _ in range(400):
        r = client.get(url, follow_redirects=False)
        if r.status_code == 202:  # the browse index is being built: this URL is reloaded when it is ready
            time.sleep(0.05)
            continue
        if r.status_code in (302, 303):
            url = r.headers["location"]
            continue
        return url, r
    raise AssertionError("never landed")


def test_an_unlisted_document_opens_in_the_document_view_of_its_dokumentobjekt(served):
    client, ctx, target, rid, built, (unlisted, text) = served
    links = [u for m, u in _rows(client, rid, "PK.10") if unlisted in m]
    assert len(links) == 1 and links[0].startswith(f"/t/{target.id}/file?")
    url, page = _follow(client, links[0])
    sip = next(t for t in ctx.targets.values() if t.kind == "sip" and t.path == built.tar.resolve())
    assert url.startswith(f"/t/{sip.id}/doc/") and page.status_code == 200
    assert text in page.text  # the document itself, read from the tar in the bag
    assert "check-ok" in page.text  # its checksum verified on open against dokumentobjekt/sjekksum


def test_a_stray_file_no_dokumentobjekt_names_is_shown_itself_masked(served):
    client, ctx, target, rid, built, (unlisted, text) = served
    links = [u for m, u in _rows(client, rid, "PK.10") if STRAY in m]
    assert len(links) == 1
    url, page = _follow(client, links[0])
    assert url.startswith(f"/t/{target.id}/file/view?") and page.status_code == 200
    assert 'id="no-dokumentobjekt"' in page.text and "Ekstra notat" in page.text
    assert "03062945272" not in page.text and "***********" in page.text
    import hashlib

    assert hashlib.sha256(STRAY_TEXT.encode("utf-8")).hexdigest() in page.text
    raw = client.get(f"/t/{target.id}/file/raw", params={"file": STRAY})
    assert raw.status_code == 200 and raw.content == STRAY_TEXT.encode("utf-8")
    assert "sandbox" in raw.headers["content-security-policy"]


def test_pk11_missing_and_changed_files_link_to_the_addml_line_that_lists_them(served):
    client, ctx, target, rid, built, (unlisted, text) = served
    rows = _rows(client, rid, "PK.11")
    missing = [u for m, u in rows if "endringslogg.xml" in m]
    changed = [u for m, u in rows if "offentligJournal.xml" in m]
    assert len(missing) == 1 and len(changed) == 1
    for link, name in ((missing[0], "endringslogg.xml"), (changed[0], "offentligJournal.xml")):
        url, page = _follow(client, link)
        assert url.startswith(f"/t/{target.id}/xml?file=content%2Farkivuttrekk.xml&line=")
        assert page.status_code == 200
        hit = re.search(r'<span class="ln hit" id="hit">(.*?)\n</span>', page.text, re.S).group(1)
        assert "&lt;property name=&#34;file&#34;&gt;" in hit  # the file's record in the ADDML, whole:
        lines = re.search(r'<pre class="xml-lines" id="xml-lines">(.*?)</pre>', page.text, re.S).group(1)
        assert f"&lt;value&gt;{name}&lt;/value&gt;" in lines  # its name and the checksum it records
        checksum = lines[lines.index("checksum"):]
        assert re.search(r"&lt;value&gt;[0-9a-f]{64}&lt;/value&gt;", checksum)


def test_an_xml_file_opens_at_its_top_and_nothing_leaves_the_target(served):
    client, ctx, target, rid, built, (unlisted, text) = served
    url, page = _follow(client, f"/t/{target.id}/file?file=content/arkivstruktur.xml")
    assert url.startswith(f"/t/{target.id}/xml?file=content%2Farkivstruktur.xml&line=1")
    assert page.status_code == 200 and "arkiv" in page.text
    for bad in ("../bag/bagit.txt", "/etc/passwd", "content/nothing-here.pdf", ""):
        assert client.get(f"/t/{target.id}/file", params={"file": bad}).status_code == 404
        assert client.get(f"/t/{target.id}/file/raw", params={"file": bad}).status_code == 404


def test_a_sip_verified_on_its_own_links_the_same_findings(served, schema_store, tmp_path):
    """The SIP target (no bag around it): its PK.10 and PK.11 go to the same places, from the tar itself."""
    client, ctx, target, rid, built, (unlisted, text) = served
    sip = ctx.add_target(built.tar)
    assert listing_line(built.tar, "content/endringslogg.xml")[0] == "content/arkivuttrekk.xml"
    with tarfile.open(built.tar) as t:  # a document the METS still lists: its <file> there (the ADDML has none)
        other = next(m.name.split("/", 1)[1] for m in t.getmembers()
                     if "/content/DOKUMENT/2019/" in m.name and not m.name.endswith(unlisted))
        mets = t.extractfile(next(m for m in t.getmembers() if m.name.endswith("/dias-mets.xml"))).read()
    listing, line = listing_line(built.tar, other)
    assert listing == "dias-mets.xml" and mets.decode().splitlines()[line - 1].strip().startswith("<file ")
    assert other in mets.decode().splitlines()[line]
    assert listing_line(built.tar, unlisted) is None and listing_line(built.tar, "content/nothing.xml") is None
    url, page = _follow(client, f"/t/{sip.id}/file?file=content/endringslogg.xml&test=PK.11")
    assert url.startswith(f"/t/{sip.id}/xml?file=content%2Farkivuttrekk.xml&line=")
    url, page = _follow(client, f"/t/{sip.id}/file?" + f"file={unlisted}&test=PK.10")
    assert url.startswith(f"/t/{sip.id}/doc/") and text in page.text


# --------------------------------------------------------------------------- an extract folder (validate's findings)

@pytest.fixture(scope="module")
def served_extract(tmp_path_factory, schema_store):
    """A real extract folder with a stray document file (N5.33) and endringslogg.xml removed (N5.01)."""
    from .test_packaging import _tiny_extract

    tmp = tmp_path_factory.mktemp("web-fileplaces-extract")
    (tmp / "src").mkdir()
    extract = _tiny_extract(tmp / "src", schema_store)
    root = tmp / "root"
    root.mkdir()
    folder = root / "avleveringspakke"
    extract.rename(folder)
    (folder / "endringslogg.xml").unlink()
    doc = next(p for p in sorted((folder / "DOKUMENT").rglob("*.txt")))
    (folder / "DOKUMENT" / "ukjent.txt").write_text(STRAY_TEXT, encoding="utf-8")
    client, ctx = _client(root, tmp / "state")
    target = next(t for t in ctx.targets.values() if t.kind == "extract")
    yield client, target, doc.relative_to(folder).as_posix(), doc.read_text("utf-8").strip()


def test_validate_findings_on_an_extract_folder_lead_to_their_places(served_extract):
    client, target, doc, text = served_extract
    url, page = _follow(client, f"/t/{target.id}/file?file={doc}&test=N5.34")
    assert url.startswith(f"/t/{target.id}/doc/") and text in page.text and "check-ok" in page.text
    url, page = _follow(client, f"/t/{target.id}/file?file=DOKUMENT/ukjent.txt&test=N5.33")
    assert url.startswith(f"/t/{target.id}/file/view?") and "Ekstra notat" in page.text
    url, page = _follow(client, f"/t/{target.id}/file?file=endringslogg.xml&test=N5.01")  # missing: the ADDML
    assert url.startswith(f"/t/{target.id}/xml?file=arkivuttrekk.xml&line=")
    assert "file&#34;" in re.search(r'<span class="ln hit" id="hit">(.*?)\n</span>', page.text, re.S).group(1)
    assert "&lt;value&gt;endringslogg.xml&lt;/value&gt;" in page.text
    url, page = _follow(client, f"/t/{target.id}/file?file=arkivstruktur.xml&test=N5.29")
    assert url.startswith(f"/t/{target.id}/xml?file=arkivstruktur.xml&line=1") and page.status_code == 200


def test_which_findings_get_a_file_link():
    from types import SimpleNamespace

    from noarkpack.web.places import finding_links

    place = SimpleNamespace(id="t1", kind="sip", path=Path("/nonexistent.tar"))

    def links(**row):
        return [x["url"] for x in finding_links({"test": "PK.10", **row}, store_kind="validation", target=place,
                                                place=place, browse_place=None, browse=False)]

    assert links(file="content/DOKUMENT/a.pdf") == ["/t/t1/file?file=content%2FDOKUMENT%2Fa.pdf&test=PK.10"]
    assert links(file="content/arkivstruktur.xml", line=3)[0].startswith("/t/t1/xml?")  # a line: its element
    assert links(file="content/arkivstruktur.xml", systemID="x") == []  # a systemID: its node (when browsing)
    for file in ("content/DOKUMENT/", "x.tar", "../a.pdf", "/etc/passwd", ""):
        assert links(file=file) == []
    place.kind = "nha-deposit"  # a tar (its own link), a stray entry, a list refused for its DOCTYPE
    assert links(file="avlxml.xml") == [] and links(file="notes.txt") == []
