"""noarkpack serve, issue 21 points 3 and 4 for NHA deposits and verify: an NHA deposit's findings and a bag's
findings followed to their place (the element around the line inside a package's XML member, read in place; the
package; the journal; a manifest's or tag file's line; the SIP inside a bag), and an NHA package's EPJ as a tree
with its documents in the page, names and fødselsnummer masked by default.  Real deposits of examples/sykehus,
real bags of a real extract, real verify reports."""

from __future__ import annotations

import io
import json
import re
import shutil
import tarfile
import time
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from noarkpack import pipeline
from noarkpack.web import create_app
from noarkpack.web.nhaepj import _resolve, epj_tree, member_anchor, parse_member
from noarkpack.web.targetio import open_in_target, tar_members, text_lines

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "tok"


def _people() -> tuple[set[str], set[str]]:
    numbers, names = set(), set()
    for line in (ROOT / "examples" / "sykehus" / "journals.jsonl").read_text("utf-8").splitlines():
        p = json.loads(line)["pasient"]
        names.add(p["navn"])
        if p.get("fodselsnummer"):
            numbers.add(p["fodselsnummer"])
    return numbers, names


@pytest.fixture(scope="module")
def deposit(tmp_path_factory) -> Path:
    from noarkpack.nha import run_nha_package

    return run_nha_package(ROOT / "examples" / "sykehus", tmp_path_factory.mktemp("nha")).path


def _rewrite_member(tar: Path, change, where: str = "/dokumenter/") -> str:
    """Rewrite ``tar`` with the first XML member (its name holding ``where``; by default an EPJ dokument) that
    ``change`` alters; its member name."""
    with tarfile.open(tar) as t:
        items = [(m, t.extractfile(m).read() if m.isreg() else None) for m in t.getmembers()]
    changed = None
    out = []
    for m, data in items:
        if changed is None and data is not None and where in m.name and m.name.endswith(".xml"):
            new = change(data)
            if new != data:
                changed, data = m.name, new
                m.size = len(data)
        out.append((m, data))
    with tarfile.open(tar, "w", format=tarfile.PAX_FORMAT) as t:
        for m, data in out:
            t.addfile(m, io.BytesIO(data) if data is not None else None)
    assert changed
    return changed


def _client(root: Path, state: Path) -> tuple[TestClient, object]:
    app = create_app([root], token=TOKEN, state_dir=state)
    client = TestClient(app, base_url="http://127.0.0.1")
    assert client.get(f"/?token={TOKEN}").status_code == 200
    return client, app.state.ctx


def _ready(client: TestClient, tid: str) -> None:
    for _ in range(300):
        if client.get(f"/t/{tid}/browse/status").json()["ready"]:
            return
        time.sleep(0.05)
    raise AssertionError("the index was not built")


def _run(state: Path, target, report: Path, stage: str = "verify") -> str:
    """A finished run of ``stage`` on ``target`` with ``report``, as a server keeps it in its state folder."""
    run_dir = state / "runs" / f"20260101-000000-{target.id[:6]}"
    run_dir.mkdir(parents=True)
    shutil.copy(report, run_dir / report.name)
    (run_dir / "run.json").write_text(json.dumps({
        "id": run_dir.name, "target": target.id, "target_path": str(target.path), "stage": stage, "options": {},
        "lang": "en", "state": "done", "reports": [report.name], "report": report.name, "exit_code": 1}), "utf-8")
    return run_dir.name


def _links(html: str, css: str) -> list[str]:
    return [u.replace("&amp;", "&") for u in re.findall(rf'class="{css}" href="([^"]+)"', html)]


# --------------------------------------------------------------------------- the EPJ tree, without the server

def test_epj_tree_of_a_package_read_in_place(deposit):
    numbers, names = _people()
    before = sorted(p.name for p in deposit.iterdir())
    epj = [p for p in deposit.glob("*.tar") if any("/journal/" in n for n in tar_members(p))]
    assert epj
    tar = max(epj, key=lambda p: len(tar_members(p)))  # a patient with two journals
    tree = epj_tree(tar, tar_members(tar))
    assert not tree.broken and not tree.unreferenced
    assert tree.pasient is not None and tree.pasient.get("pasient_ID") in numbers
    assert len(tree.saker) == 2 and all(docs and None not in docs for _, docs in tree.saker)
    sak, docs = tree.saker[0]
    assert sak.get("komponent_ID").startswith("SFJ-")
    assert [d.get("sortering") for d in docs] == sorted((d.get("sortering") for d in docs), key=int)
    eldok = [e for d in docs for f in d.of("Arkivert_EPJ_fragment") for e in f.of("Arkivert_dataelement")
             if e.document]
    assert eldok and all(e.document["member"] in tar_members(tar, xml_only=False) for e in eldok)
    shown = {r["path"]: r for r in tree.shown(tree.pasient, False)}
    assert shown["pasient_ID"]["masked"] and shown["Arkivert_personnavn/fullt_navn"]["masked"]
    assert shown["fødselsdato"]["masked"] and not shown["pasient_ID_type"]["masked"]
    assert shown["hemmelig_navn"]["value"] == "false" and shown["kjønn/displayName"]["value"] in ("Mann", "Kvinne")
    revealed = {r["path"]: r["value"] for r in tree.shown(tree.pasient, True)}
    assert revealed["pasient_ID"] in numbers and revealed["Arkivert_personnavn/fullt_navn"] in names
    every = [r for _, ds in tree.saker for d in ds for n in _walk(d) for r in tree.shown(n, False)]
    text = json.dumps(every, ensure_ascii=False)
    assert not any(x in text for x in numbers | names | tree.names)
    assert sorted(p.name for p in deposit.iterdir()) == before  # nothing unpacked beside the package
    by_kind = {member_anchor(n) for n in tar_members(tar)}
    assert {"pasient", "epj"} <= by_kind and {f"m-{Path(d.member).stem}" for d in docs} <= by_kind


def _walk(node):
    yield node
    for c in node.children:
        yield from _walk(c)


def test_references_resolve_from_their_member_and_never_leave_the_deposit():
    m = "epj-uuid/dokumenter/d.xml"
    assert _resolve(m, "f.pdf") == "epj-uuid/dokumenter/f.pdf"
    assert _resolve(m, "../../dok-uuid/f%20g.pdf") == "dok-uuid/f g.pdf"  # into a dok package
    assert _resolve("epj-uuid/journal/s.xml", "../dokumenter/d.xml") == m
    for bad in ("../../../x.pdf", "/etc/passwd", "file:///etc/passwd", "http://example.org/x.pdf"):
        assert _resolve(m, bad) is None


def test_a_broken_member_and_a_doctype_are_not_read():
    assert parse_member(io.BytesIO(b"<a><b>1</b>"), "x.xml") is None
    bomb = (b'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY e "boom">]><Arkivert_EPJ><EPJ_ID>&e;</EPJ_ID>'
            b'</Arkivert_EPJ>')
    node = parse_member(io.BytesIO(bomb), "x.xml")
    assert node is None or node.get("EPJ_ID") != "boom"  # entities are never expanded


# --------------------------------------------------------------------------- NHA findings to their place

@pytest.fixture(scope="module")
def served_nha(deposit, tmp_path_factory):
    """A root with a mutated copy of the deposit (a revisjonstype code 99 in an EPJ dokument of one package, so
    the package's checksum no longer matches) and a verify run of it kept in the state folder."""
    tmp = tmp_path_factory.mktemp("web-nha")
    root = tmp / "root"
    dep = root / deposit.name
    shutil.copytree(deposit, dep)
    tar = sorted(dep.glob("*.tar"))[0]
    member = _rewrite_member(tar, lambda b: b.replace(b"<basis:code>11</basis:code>", b"<basis:code>99</basis:code>",
                                                      1))
    report = tmp / "verify.json"
    pipeline.write_reports(pipeline.verify_path(dep), report, None)
    state = tmp / "state"
    client, ctx = _client(root, state)
    target = next(t for t in ctx.targets.values() if t.kind == "nha-deposit")
    rid = _run(state, target, report)
    client, ctx = _client(root, state)  # the run is read from the state folder
    _ready(client, target.id)
    yield client, ctx, target, rid, tar.name, member


def test_an_nha_finding_inside_a_package_links_to_its_element_and_its_epj_dokument(served_nha):
    client, ctx, target, rid, tar, member = served_nha
    numbers, names = _people()
    page = client.get(f"/runs/{rid}/findings", params={"test": "NHA.19"})
    assert page.status_code == 200 and "NHA.19" in page.text
    xml = _links(page.text, "place-link")
    assert len(xml) == 1 and xml[0].startswith(f"/t/{target.id}/xml?file={tar}&member=")
    element = client.get(xml[0], headers={"referer": str(page.url)})
    assert element.status_code == 200 and 'id="xml-member"' in element.text
    hit = re.search(r'<span class="ln hit" id="hit">(.*?)\n</span>', element.text, re.S).group(1)
    assert "revisjonstype" in hit and "&lt;basis:code&gt;99" in element.text
    assert "Arkivert_revisjonsinfo" in element.text  # its ancestors
    assert not any(x in element.text for x in numbers | names)
    assert f'href="/runs/{rid}/findings?' in element.text  # back to the findings
    tree = _links(page.text, "tree-link")
    assert tree == [f"/t/{target.id}/nha/find?file={tar}&member={member.replace('/', '%2F')}"]
    found = client.get(tree[0], follow_redirects=False)
    assert found.status_code == 303
    anchor = "m-" + Path(member).stem
    assert found.headers["location"].endswith(f"/epj#{anchor}")
    epj = client.get(found.headers["location"])
    assert epj.status_code == 200 and f'id="{anchor}"' in epj.text and "check-mismatch" in epj.text
    assert not any(x in epj.text for x in numbers | names)


def test_nha_findings_about_a_package_and_a_journal(served_nha):
    client, ctx, target, rid, tar, member = served_nha
    page = client.get(f"/runs/{rid}/findings", params={"test": "NHA.05"})
    (pkg,) = _links(page.text, "tree-link")
    assert pkg == f"/t/{target.id}/nha/find?file={tar}" and not _links(page.text, "place-link")
    pakke = client.get(pkg)
    assert pakke.status_code == 200 and "check-mismatch" in pakke.text and 'id="epj-link"' in pakke.text
    view = _links(pakke.text, "doc-view")
    assert view and all(".xml" not in u for u in view)  # the document files, in the page
    doc = client.get(view[0])
    assert doc.status_code == 200 and "check-mismatch" in doc.text and 'id="own-sum"' in doc.text
    journal = client.get(f"/runs/{rid}/findings", params={"test": "NHA.13"})
    (xml,) = _links(journal.text, "place-link")
    assert xml.startswith(f"/t/{target.id}/xml?file=avlxml.xml&line=")
    element = client.get(xml)
    numbers, names = _people()
    assert element.status_code == 200 and "pasientjournal" in element.text
    assert not any(x in element.text for x in numbers | names)
    (tree,) = _links(journal.text, "tree-link")
    node = client.get(tree)
    assert node.status_code == 200 and "<h1>pasientjournal" in node.text
    assert client.get(f"/t/{target.id}/nha/find", params={"journal": "nope"}).status_code == 404
    for params in ({"file": tar, "member": "../../etc/passwd.xml", "line": 1},
                   {"file": "../" + tar, "member": member, "line": 1}, {"file": "avlxml.xml", "member": member,
                                                                        "line": 1},
                   {"file": tar, "member": member.replace(".xml", ".pdf"), "line": 1},
                   {"file": tar, "member": member[:-4] + "-nothing.xml", "line": 1}):
        assert client.get(f"/t/{target.id}/xml", params=params).status_code == 404, params


def test_the_epj_tree_page_and_a_document_with_its_checksum(served_nha):
    client, ctx, target, rid, tar, member = served_nha
    numbers, names = _people()
    home = client.get(f"/t/{target.id}/browse").text
    for journal_url in re.findall(r'href="(/t/\w+/browse/\d+)"', home)[1:]:  # the pasientjournaler
        journal = client.get(journal_url).text
        (epj_url,) = re.findall(r'class="epj-link" href="([^"]+)"', journal)
        assert "#sak-SFJ-" in epj_url
        if tar not in journal:  # a package the fixture left as it was
            break
    epj = client.get(epj_url)
    assert epj.status_code == 200 and f'id="{epj_url.rsplit("#", 1)[1]}"' in epj.text
    assert "EPJ dokument" in epj.text and "(masked)" in epj.text and "check-ok" in epj.text
    assert not any(x in epj.text for x in numbers | names)
    doc_url = _links(epj.text, "button doc-link")[0]
    doc = client.get(doc_url)
    assert doc.status_code == 200 and "check-ok" in doc.text and 'id="own-sum"' in doc.text
    assert 'type="application/pdf"' in doc.text and 'id="entry-link"' in doc.text
    file_url = re.search(r'<object data="([^"]+)"', doc.text).group(1).replace("&amp;", "&")
    pdf = client.get(file_url)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"
    import hashlib

    assert hashlib.sha256(pdf.content).hexdigest() in doc.text
    xml_member = next(n for n in tar_members(_tar_of(ctx, target, epj_url)) if "/journal/" in n)
    nid = epj_url.split("/nha/")[1].split("/")[0]
    package = _tar_of(ctx, target, epj_url)
    info = next(n for n in tar_members(package) if n.count("/") == 1)  # the pasientinfo, {uuid}/{uuid}.xml
    for line in range(2, 16):  # every line of it, from inside the package, masked
        element = client.get(f"/t/{target.id}/xml", params={"file": package.name, "member": info, "line": line})
        assert element.status_code == 200 and not any(x in element.text for x in numbers | names), line
    assert "Arkivert_pasientinfo" in element.text and "*****" in element.text
    assert client.get(f"/t/{target.id}/nha/{nid}/file", params={"m": xml_member}).status_code == 403
    for bad in ("../x.pdf", "/etc/passwd", "nothing.pdf", ""):
        assert client.get(f"/t/{target.id}/nha/{nid}/doc", params={"m": bad}).status_code == 404
    sid = client.cookies.get("np_session")
    ctx.set_reveal(sid, True)
    try:
        shown = client.get(epj_url).text
        assert any(x in shown for x in numbers) and any(x in shown for x in names)
        assert client.get(f"/t/{target.id}/nha/{nid}/file", params={"m": xml_member}).status_code == 200
    finally:
        ctx.set_reveal(sid, False)


def _tar_of(ctx, target, epj_url: str) -> Path:
    from noarkpack.web.browsecore import managers

    ix = managers(ctx).get(target.path)
    node = ix.node(int(epj_url.split("/nha/")[1].split("/")[0]))
    return target.path / node.get("filReferanse")


# --------------------------------------------------------------------------- a bag's findings to their place

@pytest.fixture(scope="module")
def served_bag(tmp_path_factory, schema_store):
    """A mutated bag around a SIP (dias-premis.xml made invalid and a document's byte flipped inside the tar, a
    line added to bag-info.txt, a manifest digest changed) and its verify run."""
    from noarkpack.packaging import verify as verify_package

    from .test_packaging import tiny_bag

    tmp = tmp_path_factory.mktemp("web-bag")
    built = tiny_bag(tmp, schema_store)
    root = tmp / "root"
    bag = root / "bag"
    premis = _rewrite_member(built.tar, lambda b: b.replace(b"<premis:compositionLevel>0<",
                                                            b"<premis:compositionLevel>none<"), "/dias-premis.xml")
    assert premis.endswith("administrative_metadata/dias-premis.xml")
    with tarfile.open(built.tar) as t:
        doc = next(m for m in t.getmembers() if m.isfile() and m.size and "/content/" in m.name
                   and not m.name.endswith(".xml") and len(m.name.split("/")) > 3)
    with open(built.tar, "r+b") as f:
        f.seek(doc.offset_data)
        b = f.read(1)
        f.seek(doc.offset_data)
        f.write(bytes([b[0] ^ 1]))
    with open(bag / "bag-info.txt", "a", encoding="utf-8") as f:
        f.write("A line without a colon\n")
    manifest = bag / "manifest-sha256.txt"
    text = manifest.read_text("utf-8")
    manifest.write_text(("0" if text[0] != "0" else "1") + text[1:], "utf-8")
    report = tmp / "verify.json"
    pipeline.write_reports(verify_package(bag, store=schema_store, validate_content=False), report, None)
    state = tmp / "state"
    client, ctx = _client(root, state)
    target = next(t for t in ctx.targets.values() if t.kind == "bag")
    rid = _run(state, target, report)
    client, ctx = _client(root, state)
    yield client, ctx, target, rid, built


def test_a_bag_finding_links_to_the_manifest_line_and_the_tag_file_line(served_bag):
    client, ctx, target, rid, built = served_bag
    page = client.get(f"/runs/{rid}/findings", params={"test": "PK.27"})
    (line,) = _links(page.text, "place-link")
    assert line.startswith(f"/t/{target.id}/lines?file=manifest-sha256.txt&line=1")
    shown = client.get(line)
    hit = re.search(r'<span class="ln hit" id="hit">(.*?)\n</span>', shown.text, re.S).group(1)
    assert "data/" in hit and built.tar.name in hit
    info = client.get(f"/runs/{rid}/findings", params={"test": "PK.30"})
    (line,) = _links(info.text, "place-link")
    tag = client.get(line)
    assert "A line without a colon" in tag.text and "Contact-Name: *****" in tag.text
    for params in ({"file": "../bag/bagit.txt", "line": 1}, {"file": "/etc/passwd", "line": 1},
                   {"file": f"data/{built.tar.name}", "line": 1}, {"file": "bagit.txt", "line": 0}):
        assert client.get(f"/t/{target.id}/lines", params=params).status_code == 404


def test_a_bag_finding_inside_the_sip_links_to_its_element_and_to_the_document(served_bag):
    client, ctx, target, rid, built = served_bag
    page = client.get(f"/runs/{rid}/findings", params={"test": "PK.08"})
    links = _links(page.text, "place-link")  # the document and dias-premis.xml (size, SHA-256) disagree with it
    assert len(links) >= 2 and all(x.startswith(f"/t/{target.id}/xml?file=dias-mets.xml&line=") for x in links)
    element = client.get(links[0])  # read from inside the tar in the bag's data/
    assert element.status_code == 200 and 'class="ln hit"' in element.text and "mets" in element.text
    page = client.get(f"/runs/{rid}/findings", params={"test": "PK.12"})
    (tree,) = _links(page.text, "tree-link")
    sip = next(t for t in ctx.targets.values() if t.kind == "sip" and t.path == built.tar.resolve())
    assert tree.startswith(f"/t/{sip.id}/browse?systemID=")
    for _ in range(300):
        r = client.get(tree, follow_redirects=False)
        if r.status_code == 303:
            break
        time.sleep(0.05)
    assert r.status_code == 303 and f"/t/{sip.id}/doc/" in r.headers["location"]
    doc = client.get(r.headers["location"])
    assert doc.status_code == 200 and "check-mismatch" in doc.text


def test_a_schema_error_with_its_line_in_the_message_links_to_that_line(served_bag):
    client, ctx, target, rid, built = served_bag
    page = client.get(f"/runs/{rid}/findings", params={"test": "PK.15", "q": "premis"})
    assert "DIAS_PREMIS.xsd: line " in page.text
    (xml,) = _links(page.text, "place-link")
    assert xml.startswith(f"/t/{target.id}/xml?file=administrative_metadata%2Fdias-premis.xml&line=")
    element = client.get(xml)  # inside the SIP inside the bag
    hit = re.search(r'<span class="ln hit" id="hit">(.*?)\n</span>', element.text, re.S).group(1)
    assert "compositionLevel" in hit and "none" in hit


def test_open_in_target_finds_what_verify_names(served_bag, tmp_path):
    client, ctx, target, rid, built = served_bag
    with open_in_target(target.path, "dias-mets.xml") as fp:
        assert b"<mets" in fp.read(4096)
    with open_in_target(target.path, built.description.name) as fp:  # data/{uuid}.xml
        assert b"<?xml" in fp.read(100)
    with open_in_target(built.tar, "content/arkivstruktur.xml") as fp:
        assert b"arkiv" in fp.read(4096)
    with open_in_target(built.tar, built.description.name) as fp:  # a SIP target: its description beside it
        assert b"<?xml" in fp.read(100)
    with pytest.raises(FileNotFoundError):  # nothing else beside the tar
        with open_in_target(built.tar, "../bagit.txt"):
            pass
    for rel, member in (("../x.xml", None), ("x.tar", "../y.xml"), ("bagit.txt", "a.xml"),
                        (f"data/{built.tar.name}", "nothing.xml"), ("nothing.xml", None)):
        with pytest.raises(FileNotFoundError):
            with open_in_target(target.path, rel, member):
                pass
    lines, masked = text_lines(io.BytesIO(b"Contact-Name: Kari Nordmann\nSource: x 03062945272\n"), 1)
    assert lines == [(1, "Contact-Name: *****"), (2, "Source: x ***********")] and masked
    with pytest.raises(ValueError):
        text_lines(io.BytesIO(b"\x00\x01binary"), 1)
