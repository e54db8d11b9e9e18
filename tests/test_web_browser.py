"""noarkpack serve in a real browser (issue 21, point 8): headless Debian ``chromium`` driven by Playwright with
``executable_path`` (never a downloaded browser; the ``browser`` fixture of tests/conftest.py, tests/browsing.py),
against one real server on 127.0.0.1 for the whole module.

Scenarios: open the app with the token; switch the language; the reveal switch and its banner; run import then
analyse on a copy of examples/omsorg and see the progress and the result; cancel a long run; analyse, then its
findings filtered to one code, a finding's export row (masked), a search and a sort; validate a mutated extract
(an impossible date, so a wrong checksum too) and follow a finding to its XML element, the line highlighted;
browse an extract down to a mappe and a registrering, and open a document whose checksum is verified; names
masked by default, shown only while the switch is on, with the banner; verify a mutated NHA deposit, follow an
NHA finding to its element inside a package and on to the EPJ dokument in the package's tree, and open an NHA
package's EPJ tree from a journal and a document from it, its package's checksum verified.

Screenshots are kept as test artefacts, as in tests/test_reports.py: PNGs in ``$NOARKPACK_TEST_ARTEFACTS/
web-screenshots`` (else pytest's temporary folder), each checked not to be blank.  With
``NOARKPACK_DOCS_SCREENSHOTS=1`` the few that docs/web.md shows (DOCS_SHOTS) are copied into docs/img/web/ too.
Without chromium or Playwright the tests skip with one line saying how to install them; in CI
(``NOARKPACK_REQUIRE_BROWSER=1`` or ``CI=true``) they fail instead.
"""

from __future__ import annotations

import os
import shutil
import struct
import threading
import time
import zlib
from pathlib import Path

import pytest

from noarkpack.web import make_server

from .browsing import artefact_dir
from .builders import fnr, journal, settings, synth_project

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
DOCS_IMG = Path(__file__).resolve().parents[1] / "docs" / "img" / "web"
VIEWPORT = {"width": 1280, "height": 800}
#: the screenshots that docs/web.md shows: written into docs/img/web/ too when NOARKPACK_DOCS_SCREENSHOTS=1
DOCS_SHOTS = {"target", "run-progress", "findings", "xml-element", "browse-registrering", "document", "nha-epj"}
NAME, FNR = "Åse Bjørnstad", fnr(12, 4, 31)  # the invented patient of tests/builders.journal
#: the mutation of feil-uttrekk: the arkiv's opprettetDato (line 8 of arkade-small) made impossible
BAD_DATE_WAS, BAD_DATE = b"<opprettetDato>1863-11-27T00:00:00Z<", b"<opprettetDato>1863-13-45T00:00:00Z<"
#: the mutation of nha-avlevering: a revisjonstype code that is none of 9252's (NHA.19), in an EPJ dokument
NHA_CODE_WAS, NHA_CODE = b"<basis:code>11</basis:code>", b"<basis:code>99</basis:code>"


@pytest.fixture(scope="module")
def artefacts(tmp_path_factory) -> Path:
    return artefact_dir(tmp_path_factory, "web-screenshots")


@pytest.fixture(scope="module")
def server(tmp_path_factory, shared_dir):
    """One real server for the module over a root with: a copy of examples/omsorg; a 3000-journal project (for
    cancel); ``uttrekk``, a small extract with a patient and text documents (browse, documents, masking);
    ``feil-uttrekk``, the reference extract arkade-small with an impossible date (validate, the XML element); and
    ``nha-avlevering``, an NHA deposit of examples/sykehus with a bad revisjonstype in one package (verify, the
    element inside the package, the EPJ tree, a document)."""
    from noarkpack.noark5.writer import ExtractWriter

    root = tmp_path_factory.mktemp("root")
    shutil.copytree(EXAMPLES / "omsorg", root / "omsorg")
    big = synth_project(tmp_path_factory.mktemp("big"), journals=3000, entries=5, doc_kb=1)
    shutil.copytree(big, root / "big")
    made = tmp_path_factory.mktemp("extract")
    (made / "docs").mkdir()
    with ExtractWriter(made / "out", settings(made / "docs"), store=None) as w:
        w.add(journal("J1", "P1", made / "docs", entries=4))
        w.add(journal("J2", "P2", made / "docs", entries=2))
    shutil.copytree(made / "out" / "avleveringspakke", root / "uttrekk")
    bad = root / "feil-uttrekk"
    shutil.copytree(shared_dir / "reference" / "samples" / "arkade-small", bad)
    xml = (bad / "arkivstruktur.xml").read_bytes()
    assert xml.count(BAD_DATE_WAS) == 1
    (bad / "arkivstruktur.xml").write_bytes(xml.replace(BAD_DATE_WAS, BAD_DATE))
    nha = root / "nha-avlevering"  # an NHA deposit of examples/sykehus, one EPJ dokument given a bad code
    from noarkpack.nha import run_nha_package

    from .test_web_nha import _rewrite_member

    shutil.copytree(run_nha_package(EXAMPLES / "sykehus", tmp_path_factory.mktemp("nha")).path, nha)
    _rewrite_member(sorted(nha.glob("*.tar"))[0], lambda b: b.replace(NHA_CODE_WAS, NHA_CODE, 1))
    srv, sock, url = make_server([root], state_dir=tmp_path_factory.mktemp("state"))
    thread = threading.Thread(target=srv.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    for _ in range(200):
        if srv.started:
            break
        time.sleep(0.05)
    try:
        yield url, root
    finally:
        srv.should_exit = True
        thread.join(10)
        sock.close()


def not_blank(png: Path) -> None:
    """The screenshot has content: its pixels (PNG decoded here, no imaging library) take many values."""
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        if kind == b"IDAT":
            idat += data[pos + 8:pos + 8 + length]
        pos += 12 + length
    pixels = zlib.decompress(idat)
    assert len(set(pixels)) > 16, f"{png.name} looks blank"


def shot(page, artefacts: Path, name: str) -> None:
    """A screenshot of the page as a test artefact, checked not to be blank; one of DOCS_SHOTS is also copied
    into docs/img/web/ when NOARKPACK_DOCS_SCREENSHOTS=1 (the pictures of docs/web.md)."""
    path = artefacts / f"{name}.png"
    page.screenshot(path=str(path))
    not_blank(path)
    if name in DOCS_SHOTS and os.environ.get("NOARKPACK_DOCS_SCREENSHOTS") == "1":
        assert path.stat().st_size <= 150_000, f"{name}.png is too large for the docs"
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_IMG / path.name)


def open_stage(page, stage: str) -> None:
    """Unfold the stage's form on the target page (a <details>), as a click on its summary does."""
    details = page.locator(f"#stage-{stage}")
    if details.get_attribute("open") is None:
        details.locator("summary").click()


def open_app(browser, url: str):
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    page.goto(url)
    return context, page


def test_open_with_the_token_language_and_reveal_switch(browser, server, artefacts):
    url, _ = server
    base = url.split("?")[0]
    context, page = open_app(browser, base)  # without the token: refused
    assert "Forbidden" in page.content() or "Ikke tillatt" in page.content()
    page.goto(url)
    assert "token=" not in page.url  # the token left the address (a cookie now)
    page.get_by_role("link", name="omsorg").wait_for()
    shot(page, artefacts, "home")
    with page.expect_navigation():  # the switch submits itself (app.js)
        page.select_option("select[name=lang]", "nb")
    assert page.locator("html").get_attribute("lang") == "nb"
    with page.expect_navigation():  # the switch submits itself (app.js)
        page.select_option("select[name=lang]", "en")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("#reveal-banner").count() == 0  # masked by default
    page.get_by_role("button", name="Show names and fødselsnummer").click()
    page.locator("#reveal-banner").wait_for()
    assert page.locator("#reveal-banner").is_visible()
    shot(page, artefacts, "reveal-on")
    page.get_by_role("link", name="omsorg").click()
    assert page.locator("#reveal-banner").is_visible()  # on every page while it is on
    with page.expect_navigation():
        page.get_by_role("button", name="Hide names and fødselsnummer").click()
    assert page.locator("#reveal-banner").count() == 0
    context.close()


def test_run_analyse_progress_then_result(browser, server, artefacts):
    url, _ = server
    context, page = open_app(browser, url)
    page.get_by_role("link", name="omsorg").click()
    target = page.url
    shot(page, artefacts, "target")
    open_stage(page, "import")
    page.get_by_role("button", name="Run import").click()
    page.wait_for_url("**/runs/*")
    page.locator(".state-done").wait_for(timeout=60_000)
    page.goto(target)
    assert page.locator(".runs tbody tr").count() == 1  # the run is listed on the target's page
    open_stage(page, "analyse")
    page.get_by_role("button", name="Run analysis").click()
    page.wait_for_url("**/runs/*")
    page.locator(".state-done").wait_for(timeout=120_000)  # the events ended, the page reloaded with the result
    log = page.locator("#run-log li").all_inner_texts()
    assert log[0].startswith("analysis started on omsorg")
    assert any(line.startswith("stage: ") for line in log)  # progress arrived while it ran
    summary = page.locator("pre.summary").inner_text()
    assert "Analysis of Fjordvik omsorg" in summary
    shot(page, artefacts, "run-analyse")
    page.reload()  # the result survives a reload
    assert "Analysis of Fjordvik omsorg" in page.locator("pre.summary").inner_text()
    context.close()


def test_cancel_a_long_run(browser, server, artefacts):
    url, root = server
    context, page = open_app(browser, url)
    page.get_by_role("link", name="big", exact=True).click()
    open_stage(page, "extract")
    page.fill("#extract-out", str(root / "big-extract"))
    page.get_by_role("button", name="Run extract").click()
    page.wait_for_url("**/runs/*")
    from playwright.sync_api import expect

    # progress pushed to the page (the CSP allows no eval, so no wait_for_function): "journals: 120 of 3000 …"
    expect(page.locator("#run-progress")).to_contain_text(" of ", timeout=60_000)
    shot(page, artefacts, "run-progress")
    page.get_by_role("button", name="Cancel the run").click()
    page.locator(".state-cancelled").wait_for(timeout=60_000)
    assert "cancelled" in page.locator("#run-state").inner_text()
    assert page.locator("#run-cancel").count() == 0
    assert not (root / "big-extract" / "avleveringspakke").exists()
    shot(page, artefacts, "run-cancelled")
    context.close()


# --------------------------------------------------------------------------- the findings, the XML, browse


def run_stage(page, label: str, stage: str, button: str) -> None:
    """From the home page: open the target ``label``, run ``stage`` with its default options, wait for the end."""
    page.get_by_role("link", name=label, exact=True).click()
    open_stage(page, stage)
    page.get_by_role("button", name=button).click()
    page.wait_for_url("**/runs/*")
    page.locator(".state-done").wait_for(timeout=120_000)


def filter_to(page, code: str) -> None:
    with page.expect_navigation():  # the select submits its form (app.js)
        page.select_option("#filter-test", code)
    assert page.locator("#filter-test").input_value() == code
    codes = page.locator("#findings-table tbody tr td:nth-child(2)").all_inner_texts()
    assert codes and {c.strip() for c in codes} == {code}


def test_analyse_then_the_findings_filtered_to_one_code(browser, server, artefacts):
    url, _ = server
    context, page = open_app(browser, url)
    run_stage(page, "omsorg", "analyse", "Run analysis")
    page.get_by_role("link", name="Read the findings").click()
    page.wait_for_url("**/findings*")
    rows = page.locator("#findings-table tbody tr")
    total = rows.count()
    assert total > 1
    codes = [v for v in page.locator("#filter-test option").evaluate_all("os => os.map(o => o.value)") if v]
    assert "AN.06" in codes and len(codes) > 1  # AN.06: the invalid fødselsnummer of examples/omsorg
    filter_to(page, "AN.06")
    assert page.locator("#findings-table tbody tr").count() < total
    assert "AN.06" in page.url and "Clear the filter" in page.locator("form.filters").inner_text()
    # no fødselsnummer or name on the page while the switch is off (the finding masks it)
    assert "15034415992" not in page.content()
    shot(page, artefacts, "findings")
    # its place: the row of the source export, masked
    page.locator("#findings-table .place-link").first.click()
    page.wait_for_url("**/row?*")
    assert page.locator("#export-row").is_visible() and page.locator("#export-row .masked").count() > 0
    assert "15034415992" not in page.content() and "Tangen" not in page.content()
    page.locator("#back").click()  # back to the same filter
    page.wait_for_url("**/findings*")
    assert page.locator("#filter-test").input_value() == "AN.06"
    # search (the server's full-text index) and sort (the server's, by a column header)
    with page.expect_navigation():
        page.get_by_role("link", name="Clear the filter").click()
    page.fill("#filter-q", "person number")
    with page.expect_navigation():
        page.press("#filter-q", "Enter")
    messages = page.locator("#findings-table tbody td.message").all_inner_texts()
    assert messages and all("person number" in m for m in messages)
    with page.expect_navigation():
        page.get_by_role("link", name="Clear the filter").click()
    with page.expect_navigation():
        page.locator("#findings-table thead a", has_text="Code").click()
    codes = [c.strip() for c in page.locator("#findings-table tbody tr td:nth-child(2)").all_inner_texts()]
    assert "sort=test" in page.url and codes == sorted(codes) and len(set(codes)) > 1
    context.close()


def test_validate_a_mutated_extract_and_follow_a_finding_to_its_xml_element(browser, server, artefacts):
    url, _ = server
    context, page = open_app(browser, url)
    run_stage(page, "feil-uttrekk", "validate", "Run validation")
    assert "exit code 1" in page.locator(".state").inner_text()  # findings with errors: the CLI's exit code
    page.get_by_role("link", name="Read the findings").click()
    page.wait_for_url("**/findings*")
    assert page.locator("#filter-test option[value='N5.02']").count() == 1  # the checksum no longer matches
    filter_to(page, "N5.03")  # the schema: the impossible date
    assert "1863-13-45" in page.locator("#findings-table").inner_text()
    page.locator("#findings-table .place-link").first.click()
    page.wait_for_url("**/xml?*")
    assert "file=arkivstruktur.xml" in page.url and "line=8" in page.url
    hit = page.locator("#xml-lines .ln.hit")
    assert hit.count() == 1 and hit.get_attribute("id") == "hit"
    assert "1863-13-45" in hit.inner_text() and hit.inner_text().split()[0] == "8"
    focus = page.locator("#xml-ancestors li.focus")
    assert "<opprettetDato>" in focus.inner_text()
    assert "<arkiv>" in page.locator("#xml-ancestors li").first.inner_text()  # with its ancestors
    assert hit.is_visible() and hit.bounding_box()["y"] < VIEWPORT["height"]  # #hit: scrolled into view
    page.set_viewport_size({"width": 1280, "height": 640})  # a smaller picture (its long lines weigh)
    page.goto(page.url.split("#")[0])  # the same page from its top (line 8 stays in view)
    hit.wait_for()
    shot(page, artefacts, "xml-element")
    from playwright.sync_api import expect

    other = page.locator("#xml-lines .ln:not(.hit)").first
    plain = other.evaluate("e => getComputedStyle(e).backgroundColor")
    # the highlighted line looks different from the others (its background)
    expect(hit).not_to_have_css("background-color", plain)
    context.close()


def down_to(page, kind: str) -> None:
    """Follow the first link down the tree (table.nodes) until the page is a node of ``kind``."""
    for _ in range(10):
        if page.locator("h1").inner_text().startswith(kind):
            return
        with page.expect_navigation():
            page.locator("table.nodes tbody a[href*='/browse/']").first.click()
    raise AssertionError(f"no {kind} down the tree")


def open_browse(page) -> None:
    """From the home page to the browse page of ``uttrekk`` (the index is built on the first open, with a
    progress page that reloads itself)."""
    page.get_by_role("link", name="uttrekk", exact=True).click()
    page.get_by_role("link", name="Browse the extract").click()
    page.locator("table.nodes").first.wait_for(timeout=60_000)


def test_browse_a_journal_and_its_document_checksum_verified(browser, server, artefacts):
    url, _ = server
    context, page = open_app(browser, url)
    open_browse(page)
    assert "Testarkiv" in page.locator("main").inner_text()
    down_to(page, "mappe")
    assert page.locator("section.skjerming").is_visible()
    registreringer = page.locator("table.nodes tbody a[href*='/browse/']")
    hrefs = [registreringer.nth(i).get_attribute("href") for i in range(registreringer.count())]
    assert hrefs
    doc = None
    for href in hrefs:  # the first registrering with a document (the builder gives every other one a note)
        page.goto(url.split("/?")[0] + href)
        assert page.locator("h1").inner_text().startswith("registrering")
        below = page.locator("table.nodes tbody a[href*='/browse/']")
        if below.count():
            with page.expect_navigation():
                below.first.click()  # its dokumentbeskrivelse
            links = page.locator("table.nodes tbody a[href*='/doc/']")
            if links.count():
                doc = links.first
                break
    assert doc is not None, "no document in the extract"
    page.go_back()
    shot(page, artefacts, "browse-registrering")
    assert "skjerming" in page.locator("section.skjerming h2").inner_text()
    page.go_forward()
    with page.expect_navigation():
        page.locator("table.nodes tbody a[href*='/doc/']").first.click()
    assert "/doc/" in page.url
    checksum = page.locator("#checksum")
    assert "check-ok" in checksum.get_attribute("class").split()
    assert "SHA256 matches" in checksum.inner_text()
    assert "Pasienten har det bra." in page.locator(".document-text").inner_text()  # the text in the page
    shot(page, artefacts, "document")
    context.close()


def test_masked_by_default_and_the_switch_shows_a_name_with_the_banner(browser, server, artefacts):
    url, _ = server
    context, page = open_app(browser, url)
    open_browse(page)
    down_to(page, "klasse")  # the patient: fødselsnummer as its number, the name as its title
    main = page.locator("main")
    assert NAME not in main.inner_text() and FNR not in page.content() and NAME not in page.content()
    assert page.locator("main .masked").count() > 0 and page.locator("#reveal-banner").count() == 0
    with page.expect_navigation():
        page.get_by_role("button", name="Show names and fødselsnummer").click()
    assert page.locator("#reveal-banner").is_visible()
    assert NAME in main.inner_text() and FNR in main.inner_text()
    shot(page, artefacts, "browse-revealed")
    with page.expect_navigation():
        page.get_by_role("button", name="Hide names and fødselsnummer").click()
    assert page.locator("#reveal-banner").count() == 0
    assert NAME not in page.content() and FNR not in page.content()
    context.close()


def test_verify_an_nha_deposit_follow_a_finding_into_the_package_then_the_epj_tree(browser, server, artefacts):
    url, _ = server
    context, page = open_app(browser, url)
    run_stage(page, "nha-avlevering", "verify", "Run verification")
    page.get_by_role("link", name="Read the findings").click()
    page.wait_for_url("**/findings*")
    filter_to(page, "NHA.19")
    page.locator("#findings-table .place-link").first.click()
    page.wait_for_url("**/xml?*")
    assert "member=" in page.url and page.locator("#xml-member").inner_text().endswith(".xml")
    hit = page.locator("#xml-lines .ln.hit")
    assert hit.count() == 1 and "revisjonstype" in hit.inner_text()
    assert "99" in page.locator("#xml-lines").inner_text()
    assert "Arkivert_revisjonsinfo" in page.locator("#xml-ancestors").inner_text()  # with its ancestors
    shot(page, artefacts, "nha-xml-element")
    page.locator("#tree-link").click()  # on to the EPJ dokument in the package's tree
    page.wait_for_url(lambda u: "/epj#m-" in u)
    anchor = page.url.rsplit("#", 1)[1]
    dokument = page.locator(f"details#{anchor}")
    assert dokument.get_attribute("open") is not None  # opened by app.js for the #fragment
    assert "99" in dokument.inner_text() and "check-mismatch" in page.locator("#checksum").get_attribute("class")
    assert NAME not in page.content()
    context.close()


def test_an_nha_journal_its_epj_tree_and_a_document(browser, server, artefacts):
    url, root = server
    import json as _json

    people = [_json.loads(x)["pasient"] for x in (EXAMPLES / "sykehus" / "journals.jsonl").read_text(
        "utf-8").splitlines()]
    secrets = {p["navn"] for p in people} | {p["fodselsnummer"] for p in people if p.get("fodselsnummer")}
    mutated = sorted((root / "nha-avlevering").glob("*.tar"))[0].name
    context, page = open_app(browser, url)
    page.get_by_role("link", name="nha-avlevering", exact=True).click()
    page.get_by_role("link", name="Browse the extract").click()
    page.locator("table.nodes").first.wait_for(timeout=60_000)
    journals = page.locator("table.nodes").first.locator("tbody a[href*='/browse/']")
    hrefs = [journals.nth(i).get_attribute("href") for i in range(journals.count())]
    for href in hrefs:  # a journal in a package the fixture left as it was
        page.goto(url.split("/?")[0] + href)
        if mutated not in page.locator("p.packages").inner_text():
            break
    assert page.locator("h1").inner_text().startswith("pasientjournal")
    with page.expect_navigation():
        page.locator("p.packages a.epj-link").first.click()
    sak = page.url.rsplit("#", 1)[1]
    assert sak.startswith("sak-") and page.locator(f"#{sak}").is_visible()
    assert "check-ok" in page.locator("#checksum").get_attribute("class").split()
    main = page.locator("main").inner_text()
    assert "EPJ sak" in main and "EPJ dokument" in main and "(masked)" in main
    assert not any(x in page.content() for x in secrets)
    dokument = page.locator(f"#{sak} details.dokument", has=page.locator("a.doc-link")).first
    dokument.locator("summary").click()  # unfold the EPJ dokument (keyboard: Enter on its summary)
    dokument.locator("summary").scroll_into_view_if_needed()
    shot(page, artefacts, "nha-epj")
    with page.expect_navigation():
        dokument.locator("a.doc-link").first.click()
    assert "/nha/" in page.url and "/doc?" in page.url
    checksum = page.locator("#checksum")
    assert "check-ok" in checksum.get_attribute("class").split()
    assert "epjpakkeliste/pakke/sjekksum" in checksum.inner_text()
    assert page.locator("object.document-pdf").count() == 1 and page.locator("#own-sum").is_visible()
    shot(page, artefacts, "nha-document")
    context.close()


def test_a_finding_that_names_only_a_file_leads_to_the_addml_line_that_records_it(browser, server, artefacts):
    """N5.02 on the changed arkivstruktur.xml names the file, no line: its place is the ADDML's record of it."""
    url, _ = server
    context, page = open_app(browser, url)
    run_stage(page, "feil-uttrekk", "validate", "Run validation")
    page.get_by_role("link", name="Read the findings").click()
    page.wait_for_url("**/findings*")
    filter_to(page, "N5.02")
    row = page.locator("#findings-table tbody tr", has_text="arkivstruktur.xml").first
    row.locator(".place-link", has_text="Show the file").click()
    page.wait_for_url("**/xml?*")
    assert "file=arkivuttrekk.xml" in page.url
    hit = page.locator("#xml-lines .ln.hit")
    assert hit.count() == 1 and '<property name="file">' in hit.inner_text()  # the file's record, whole:
    lines = page.locator("#xml-lines").inner_text()
    assert "<value>arkivstruktur.xml</value>" in lines and '<property name="checksum">' in lines  # what it records
    assert "<dataObject>" in page.locator("#xml-ancestors").inner_text()  # with its ancestors
    shot(page, artefacts, "file-addml-line")
    context.close()
