"""Browse an extract (issue 21, point 4): the index (one streaming pass over arkivstruktur.xml, from a folder or a
SIP tar read in place) and the pages on it: the tree, the metadata with skjerming, names and fødselsnummer masked
unless the session reveals them (point 5), the documents with their checksum verified on open."""

from __future__ import annotations

import re
import shutil
import time
import tomllib
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from noarkpack.locale import tr_in
from noarkpack.noark5.writer import ExtractWriter
from noarkpack.web import create_app
from noarkpack.web.index import ExtractIndex, IndexError_, IndexManager, build_index, index_key, locate

from .builders import fnr, journal, settings

TOKEN = "browse-token-0123456789"
ORIGIN = {"Origin": "http://testserver"}
FNR = fnr(12, 4, 31)
NAME = "Åse Bjørnstad"


def _extract(root: Path) -> Path:
    docs = root / "docs"
    docs.mkdir(parents=True)
    out = root / "uttrekk"
    with ExtractWriter(out, settings(docs), store=None) as w:
        w.add(journal("J1", "P1", docs, entries=4))
        w.add(journal("J2", "P2", docs, entries=2))
    return out / "avleveringspakke"


@pytest.fixture(scope="module")
def extract(tmp_path_factory) -> Path:
    return _extract(tmp_path_factory.mktemp("browse"))


@pytest.fixture(scope="module")
def sip(tmp_path_factory, extract, schema_store) -> Path:
    from noarkpack.packaging import PackageMetadata, build_package, metadata_template

    class Report:
        def to_json(self):
            return {"findings": [], "summary": {"errors": 0}}

        def to_html(self):
            return "<!DOCTYPE html><html><body><p>0</p></body></html>\n"

    meta = PackageMetadata.from_toml(tomllib.loads(metadata_template()))
    out = tmp_path_factory.mktemp("sip")
    return build_package(extract, out, profile="arkivverket-sip", metadata=meta, store=schema_store,
                         validation_report=Report()).tar


def _ix(src: Path, tmp_path: Path) -> ExtractIndex:
    return build_index(locate(src), tmp_path / "ix.sqlite")


# --------------------------------------------------------------------------- the index

def test_index_of_a_folder_holds_the_tree_lines_metadata_and_skjerming(extract, tmp_path):
    seen = []
    ix = build_index(locate(extract), tmp_path / "ix.sqlite", progress=lambda s, d, t: seen.append((s, d, t)))
    assert seen and seen[-1][0] == "index" and seen[-1][1] == seen[-1][2] == (extract / "arkivstruktur.xml").stat().st_size
    assert not list(tmp_path.glob("*.part-*"))  # the temporary file was renamed
    [arkiv] = ix.roots()
    assert arkiv.kind == "arkiv" and arkiv.get("tittel") == "Testarkiv"
    assert ix.count("klasse") == 2 and ix.count("mappe") == 2 and ix.count("registrering") == 6
    lines = (extract / "arkivstruktur.xml").read_text(encoding="utf-8").splitlines()
    mappe = next(n for n in ix.children(ix.first_of("klasse").id) if n.kind == "mappe")
    assert "<mappe" in lines[mappe.line - 1]
    assert mappe.type == "saksmappe" and mappe.ident and mappe.nchildren == 4
    assert [a.kind for a in ix.ancestors(mappe)] == ["arkiv", "arkivdel", "klassifikasjonssystem", "klasse"]
    # metadata that follows the child nodes in the file (saksaar after the registreringer) is the node's too
    assert mappe.get("saksaar") and mappe.get("offentligTittel")
    assert mappe.skjerming and any(k == "skjerming/skjermingshjemmel" for k, _ in mappe.skjerming)
    regs = ix.children(mappe.id)
    assert all(r.kind == "registrering" and r.ident for r in regs)
    assert ix.by_system_id(regs[1].system_id).id == regs[1].id
    assert ix.at_line(regs[1].line + 1).id in {regs[1].id} | {c.id for c in ix.children(regs[1].id)}
    obj = next(n for r in regs for d in ix.children(r.id) for n in ix.children(d.id))
    assert obj.kind == "dokumentobjekt" and obj.get("sjekksum") and obj.get("referanseDokumentfil")


def test_index_of_a_sip_tar_is_read_in_place(sip, extract, tmp_path):
    ix = _ix(sip, tmp_path)
    assert ix.count("registrering") == 6
    obj = next(n for r in ix.children(ix.first_of("mappe").id) for d in ix.children(r.id)
               for n in ix.children(d.id))
    ref = obj.get("referanseDokumentfil")
    offset, size = ix.member("content/" + ref)
    with open(sip, "rb") as f:
        f.seek(offset)
        assert f.read(size) == (extract / ref).read_bytes()


def test_index_key_follows_the_file_and_a_broken_file_leaves_no_index(extract, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(extract, copy)
    key = index_key(locate(copy))
    xml = copy / "arkivstruktur.xml"
    data = xml.read_bytes()
    xml.write_bytes(data[: len(data) // 2])
    assert index_key(locate(copy)) != key
    with pytest.raises(IndexError_) as e:
        build_index(locate(copy), tmp_path / "broken.sqlite")
    assert e.value.line and not (tmp_path / "broken.sqlite").exists() and not list(tmp_path.glob("*.part-*"))
    stale = tmp_path / "ok.sqlite.part-999999999-1"  # left by a server stopped mid-build
    stale.write_bytes(b"x")
    build_index(locate(extract), tmp_path / "ok.sqlite")
    assert not stale.exists()
    with pytest.raises(IndexError_):
        locate(tmp_path / "nothing")


def test_manager_builds_once_in_the_background_and_reuses_the_file(extract, tmp_path):
    m = IndexManager(tmp_path)
    got = m.get(extract)
    for _ in range(200):
        if isinstance(got, ExtractIndex):
            break
        time.sleep(0.02)
        got = m.get(extract)
    assert isinstance(got, ExtractIndex)
    assert (tmp_path / "index" / f"{index_key(locate(extract))}.sqlite").is_file()
    again = IndexManager(tmp_path).get(extract)  # a restarted server: no second build
    assert isinstance(again, ExtractIndex)


# --------------------------------------------------------------------------- the pages

@pytest.fixture
def served(extract, sip, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    shutil.copytree(extract, root / "uttrekk")
    (root / "sips").mkdir()
    shutil.copy(sip, root / "sips" / sip.name)
    app = create_app([root / "uttrekk", root / "sips"], token=TOKEN, state_dir=tmp_path / "state")
    c = TestClient(app, headers=ORIGIN)
    assert c.get(f"/?token={TOKEN}").status_code == 200
    return c, app, root


def _tid(app, label: str) -> str:
    return next(t.id for t in app.state.ctx.targets.values() if t.label == label)


def _ready(c: TestClient, tid: str) -> None:
    for _ in range(300):
        if c.get(f"/t/{tid}/browse/status").json()["ready"]:
            return
        time.sleep(0.02)
    raise AssertionError("index not built")


def _links(html: str, kind: str) -> list[str]:
    return re.findall(rf'href="(/t/\w+/{kind}/\d+)"', html)


def test_first_open_shows_progress_then_the_tree_with_names_masked(served):
    c, app, root = served
    tid = _tid(app, "uttrekk")
    first = c.get(f"/t/{tid}/browse")
    assert first.status_code in (200, 202)
    if first.status_code == 202:
        assert 'http-equiv="refresh"' in first.text
    _ready(c, tid)
    page = c.get(f"/t/{tid}/browse")
    assert page.status_code == 200 and "Testarkiv" in page.text
    seen, todo, done = [page.text], _links(page.text, "browse"), set()
    while todo:  # every node page of the tree, and every document page
        u = todo.pop()
        if u in done:
            continue
        done.add(u)
        r = c.get(u)
        assert r.status_code == 200
        seen.append(r.text)
        todo += _links(r.text, "browse") + _links(r.text, "doc")
    assert len(done) == 19  # every node of the two journals
    klasse = _walk(c, tid, "klasse")
    mappe = _walk(c, tid, "mappe")
    for html in seen + [klasse, mappe]:
        assert FNR not in html and NAME not in html
    assert "(masked)" in klasse and "skjerming" in mappe and "skjermingshjemmel" in mappe
    assert "Pasientjournal" in mappe or "offentligTittel" in mappe
    # the reveal switch (point 5): shown while on, with the banner
    assert c.post("/settings", data={"reveal": "on", "back": "/"}).status_code in (200, 303)
    revealed = _walk(c, tid, "klasse")
    assert FNR in revealed and NAME in revealed and "reveal-banner" in revealed
    c.post("/settings", data={"reveal": "off", "back": "/"})
    assert FNR not in _walk(c, tid, "klasse")


def _walk(c: TestClient, tid: str, kind: str) -> str:
    """The page of the first node of ``kind``, reached by following the links from the top."""
    url = f"/t/{tid}/browse"
    for _ in range(10):
        html = c.get(url).text
        if f"<h1>{kind}" in html:
            return html
        crumbs = _crumb_links(html)
        url = next(u for u in _links(html, "browse") if u != url and u not in crumbs)
    raise AssertionError(kind)


def _crumb_links(html: str) -> list[str]:
    crumbs = html.split('class="crumbs"', 1)[1].split("</nav>", 1)[0]
    return re.findall(r'href="([^"]+)"', crumbs)


@pytest.mark.parametrize("label", ["uttrekk", "sip"])
def test_document_page_verifies_the_checksum_and_serves_the_file(served, label, sip):
    c, app, root = served
    tid = _tid(app, "uttrekk" if label == "uttrekk" else sip.name)
    _ready(c, tid)
    reg = _walk(c, tid, "registrering")
    docs = _links(reg, "browse")
    doc_url = None
    for u in docs:
        d = c.get(u).text
        found = _links(d, "doc")
        if found:
            doc_url = found[0]
            break
    assert doc_url
    page = c.get(doc_url)
    assert page.status_code == 200
    assert 'id="checksum"' in page.text and "check-ok" in page.text and "SHA256 matches" in page.text
    assert "Pasienten har det bra." in page.text  # a text document shown in the page
    f = c.get(doc_url + "/file")
    assert f.status_code == 200 and f.headers["content-type"].startswith("text/plain")
    assert b"Pasienten har det bra." in f.content and "sandbox" in f.headers["content-security-policy"]


def test_a_changed_document_shows_the_mismatch(served):
    c, app, root = served
    tid = _tid(app, "uttrekk")
    _ready(c, tid)
    for p in (root / "uttrekk" / "DOKUMENT").rglob("*.txt"):
        p.write_text("endret\n", encoding="utf-8")
    reg = _walk(c, tid, "registrering")
    for u in _links(reg, "browse"):
        found = _links(c.get(u).text, "doc")
        if found:
            page = c.get(found[0]).text
            assert "check-mismatch" in page and "dokumentobjekt/sjekksum says" in page
            return
    raise AssertionError("no document")


def test_find_by_system_id_and_line_and_unknown_nodes(served, extract):
    c, app, root = served
    tid = _tid(app, "uttrekk")
    _ready(c, tid)
    xml = (extract / "arkivstruktur.xml").read_text(encoding="utf-8")
    sid = re.findall(r"<mappe[^>]*>\s*<systemID>([^<]+)</systemID>", xml)[0]
    r = c.get(f"/t/{tid}/browse/find?sid={sid}", follow_redirects=False)
    assert r.status_code == 303 and "/browse/" in r.headers["location"]
    assert "<h1>mappe" in c.get(r.headers["location"]).text
    r2 = c.get(f"/t/{tid}/browse?systemID={sid}", follow_redirects=False)  # the findings pages' link
    assert r2.status_code == 303 and r2.headers["location"] == r.headers["location"]
    line = xml[: xml.index("<dokumentobjekt>")].count("\n") + 3
    r = c.get(f"/t/{tid}/browse/find?line={line}", follow_redirects=False)
    assert r.status_code == 303 and "/doc/" in r.headers["location"]
    assert c.get(f"/t/{tid}/browse/999999").status_code == 404
    assert c.get(f"/t/{tid}/doc/1").status_code == 404  # the arkiv is no document
    assert c.get("/t/000000000000/browse").status_code == 404


def test_a_reference_out_of_the_extract_is_refused(served):
    c, app, root = served
    folder = root / "uttrekk"
    xml = folder / "arkivstruktur.xml"
    text = xml.read_text(encoding="utf-8")
    text = re.sub(r"<referanseDokumentfil>[^<]+</referanseDokumentfil>",
                  "<referanseDokumentfil>../../../etc/passwd</referanseDokumentfil>", text, count=1)
    xml.write_text(text, encoding="utf-8")
    tid = _tid(app, "uttrekk")
    _ready(c, tid)
    line = text[: text.index("../../../etc/passwd")].count("\n") + 1
    r = c.get(f"/t/{tid}/browse/find?line={line}", follow_redirects=False)
    doc = r.headers["location"]
    assert c.get(doc + "/file").status_code == 404
    assert "root:" not in c.get(doc).text


def test_pages_in_bokmal(served):
    c, app, root = served
    tid = _tid(app, "uttrekk")
    _ready(c, tid)
    c.post("/settings", data={"lang": "nb", "back": "/"})
    html = _walk(c, tid, "klasse")
    assert '<html lang="nb">' in html
    assert str(tr_in("nb", "(masked)")) in html, html[html.index("<main"):][:3000]
    assert str(tr_in("nb", "No skjerming on this level.")) in _walk(c, tid, "registrering")


# --------------------------------------------------------------------------- the fast pass on odd files

_ODD = """<?xml version="1.0" encoding="{enc}"?>
<{p}arkiv xmlns{colon}="http://www.arkivverket.no/standarder/noark5/arkivstruktur"
 xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><{p}systemID>a-1</{p}systemID>
  <!-- <{p}mappe> in a comment is no mappe -->
  <{p}arkivdel><{p}systemID>d-1</{p}systemID><{p}tittel><![CDATA[<{p}klasse> Ærøy]]></{p}tittel>
    <{p}mappe xsi:type="saksmappe"><{p}systemID>m-1</{p}systemID>
      <{p}registrering><{p}systemID>r-1</{p}systemID><{p}dokumentbeskrivelse><{p}systemID>b-1</{p}systemID><{p}dokumentobjekt><{p}referanseDokumentfil>.\\DOKUMENT\\Ærøy &amp; co.pdf</{p}referanseDokumentfil></{p}dokumentobjekt></{p}dokumentbeskrivelse></{p}registrering>
      <{p}registrering/>
      <{p}tittel>Etter &amp; før</{p}tittel>
    </{p}mappe>
  </{p}arkivdel>
</{p}arkiv>
"""


@pytest.mark.parametrize("enc,prefix", [("UTF-8", ""), ("ISO-8859-1", ""), ("UTF-8", "n5:")])
def test_comments_cdata_other_encodings_and_prefixes(tmp_path, enc, prefix):
    folder = tmp_path / "x"
    folder.mkdir()
    text = _ODD.format(enc=enc, p=prefix, colon=":" + prefix[:-1] if prefix else "")
    (folder / "arkivstruktur.xml").write_bytes(text.encode("utf-8" if enc == "UTF-8" else "latin-1"))
    ix = build_index(locate(folder), tmp_path / "ix.sqlite")
    assert [ix.count(k) for k in ("arkiv", "arkivdel", "klasse", "mappe", "registrering")] == [1, 1, 0, 1, 2]
    arkivdel = ix.first_of("arkivdel")
    assert arkivdel.get("tittel") == f"<{prefix}klasse> Ærøy" and arkivdel.line == 5
    mappe = ix.first_of("mappe")
    assert mappe.type == "saksmappe" and mappe.get("tittel") == "Etter & før" and mappe.line == 6
    assert ix.by_system_id("r-1").kind == "registrering"
    # a dokumentobjekt is keyed by its file (written with backslashes and ./, escaped): a finding's path finds it
    doc = ix.by_document_file({"DOKUMENT/Ærøy & co.pdf", "content/DOKUMENT/Ærøy & co.pdf"})
    assert doc is not None and doc.kind == "dokumentobjekt" and ix.node(doc.parent).get("systemID") == "b-1"
    assert ix.by_document_file({"DOKUMENT/Ærøy.pdf"}) is None


@pytest.mark.parametrize("sid", ["9F1C2B3A-4D5E-4F60-8A7B-1C2D3E4F5A6B", "9f1c2b3a-4d5e-4f60-8a7b-1c2d3e4f5a6b",
                                 "  9f1c2b3a-4d5e-4f60-8a7b-1c2d3e4f5a6b \n", "9f1c2b3a-4d5e-4f6", "9f1c2b3a-4d5e-4f",
                                 "gggggggg-4d5e-4f60-8a7b-1c2d3e4f5a6b", "9f1c2b3a-4d5e--f60-8a7b-1c2d3e4f5a6b",
                                 "9f1c_b3a-4d5e-4f60-8a7b-1c2d3e4f5a6b", "9f1c2b3a-4d5e-4f60 8a7b", "r-1", "",
                                 "0x1c2b3a-4d5e-4f60-8a7b-1c2d3e4f5a6b", "9f1c2b3a-4d5e-4f60-8a7b-1c2d3e4f5a6b \n ",
                                 "9f1c2b3a-4d5e-4f60-8a7b x", "9f1c2b3a-4d5e-4f60_8a7b.1c2d", "9f1c2b3a-4d5e-4f6é"])
def test_system_id_keys_of_the_fast_pass_are_sid_key(tmp_path, sid):
    from noarkpack.web.indexbuild import _SYSTEM_ID, sid_key

    folder = tmp_path / "x"
    folder.mkdir()
    xml = f'<?xml version="1.0" encoding="UTF-8"?>\n<arkiv><systemID>{sid}</systemID><arkivdel/></arkiv>\n'
    (folder / "arkivstruktur.xml").write_text(xml, encoding="utf-8")
    ix = build_index(locate(folder), tmp_path / "ix.sqlite")
    m = _SYSTEM_ID.search(xml.encode())
    assert ix._q("SELECT sid FROM node WHERE kind='arkiv'")[0][0] == (sid_key(m.group(1).decode()) if m else None)


def test_a_misnested_node_is_refused_with_its_line(tmp_path):
    folder = tmp_path / "x"
    folder.mkdir()
    (folder / "arkivstruktur.xml").write_text('<?xml version="1.0"?>\n<arkiv>\n<arkivdel>\n<mappe>\n</arkivdel>\n'
                                              "</arkiv>\n", encoding="utf-8")
    with pytest.raises(IndexError_) as e:
        build_index(locate(folder), tmp_path / "ix.sqlite")
    assert e.value.line == 5


def test_a_pdf_is_framed_by_the_document_page_without_a_sandbox(served):
    c, app, root = served
    folder = root / "uttrekk"
    xml = folder / "arkivstruktur.xml"
    text = xml.read_text(encoding="utf-8")
    ref = re.findall(r"<referanseDokumentfil>([^<]+)</referanseDokumentfil>", text)[0]
    pdf = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    (folder / ref).unlink()
    (folder / (ref[:-4] + ".pdf")).write_bytes(pdf)
    xml.write_text(text.replace(ref, ref[:-4] + ".pdf"), encoding="utf-8")
    tid = _tid(app, "uttrekk")
    _ready(c, tid)
    line = text[: text.index(ref)].count("\n") + 1
    doc = c.get(f"/t/{tid}/browse/find?line={line}", follow_redirects=False).headers["location"]
    page = c.get(doc).text
    assert '<object data="' in page and 'type="application/pdf"' in page and "check-mismatch" in page
    f = c.get(doc + "/file")
    assert f.headers["content-type"] == "application/pdf" and f.content == pdf
    csp = f.headers["content-security-policy"]
    assert "frame-ancestors 'self'" in csp and "sandbox" not in csp


# --------------------------------------------------------------------------- an NHA deposit

@pytest.fixture(scope="module")
def nha_deposit(tmp_path_factory) -> Path:
    from noarkpack.nha import run_nha_package

    out = tmp_path_factory.mktemp("nha")
    return run_nha_package(Path(__file__).resolve().parents[1] / "examples" / "sykehus", out).path


def test_nha_deposit_journals_lead_to_their_packages_and_files(nha_deposit, tmp_path):
    import json as _json

    root = tmp_path / "root"
    shutil.copytree(nha_deposit, root / nha_deposit.name)
    app = create_app([root], token=TOKEN, state_dir=tmp_path / "state")
    c = TestClient(app, headers=ORIGIN)
    c.get(f"/?token={TOKEN}")
    tid = _tid(app, nha_deposit.name)
    _ready(c, tid)
    home = c.get(f"/t/{tid}/browse").text
    assert "pasientjournal" in home and "pakke" in home
    numbers, names = set(), set()
    for line in (Path(__file__).resolve().parents[1] / "examples" / "sykehus" / "journals.jsonl").read_text(
            encoding="utf-8").splitlines():
        p = _json.loads(line)["pasient"]
        names.add(p["navn"])
        if p.get("fodselsnummer"):
            numbers.add(p["fodselsnummer"])
    journal = c.get(_links(home, "browse")[1]).text  # the first pasientjournal under the AVLXML list
    assert "<h1>pasientjournal" in journal and "(masked)" in journal
    assert not any(n in journal for n in numbers | names)
    pkg_url = re.search(r'class="packages">.*?href="([^"]+)"', journal, re.S).group(1)
    pkg = c.get(pkg_url).text
    assert "check-ok" in pkg and "epjpakkeliste/pakke/sjekksum" in pkg
    members = re.findall(r'href="(/t/\w+/nha/\d+/member\?i=\d+)">([^<]+)<', pkg)
    pdf = next(u for u, n in members if n.endswith(".pdf"))
    xml = next(u for u, n in members if n.endswith(".xml"))
    r = c.get(pdf)
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf" and r.content.startswith(b"%PDF")
    assert c.get(xml).status_code == 403  # names and fødselsnummer: only while revealed
    c.post("/settings", data={"reveal": "on", "back": "/"})
    r = c.get(xml)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert any(n in c.get(_links(home, "browse")[1]).text for n in numbers | names)


def test_at_line_by_binary_search_is_the_last_node_starting_at_or_before(extract, tmp_path):
    ix = build_index(locate(extract), tmp_path / "ix.sqlite")
    assert ix.info["line_order"]
    last = ix._q("SELECT max(line) FROM node")[0][0]
    for line in range(0, last + 3):
        rows = ix._q("SELECT id FROM node WHERE line<=? ORDER BY line DESC, id DESC LIMIT 1", (line,))
        got = ix.at_line(line)
        assert (got.id if got else None) == (rows[0][0] if rows else None), line
