"""The HTML reports an archivist reads (issue 23): verdict first, failed tests first, charts with their numbers.

Two kinds of tests on the same reports, for examples/omsorg and for a broken copy of it:

* plain ones on the HTML's structure (lxml): the failed-test summary comes before the passed tests, which are
  folded in <details>; every chart has its table and the same numbers as the JSON;
* browser ones (``test_*_in_browser``): the report rendered by headless Chromium at 1280×800 — no horizontal
  overflow, the failed-test summary above the fold, the charts' text labels as the JSON says.  They use Debian's
  ``chromium`` (tools/install-system-packages.sh) through Playwright's ``executable_path``; nothing downloads a
  browser.  Without chromium they skip with one line saying how to install it; in CI
  (``NOARKPACK_REQUIRE_BROWSER=1``, set by .ci/run, or ``CI=true``) they fail instead.

Screenshots of every rendered report are kept as test artefacts: PNGs in the folder named by the environment
variable ``NOARKPACK_TEST_ARTEFACTS`` (created when missing), else in pytest's temporary folder
(``/tmp/pytest-of-$USER/pytest-current/report-screenshots*/``).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from lxml import etree

from noarkpack.validation import validate

ROOT = Path(__file__).resolve().parents[1]
OMSORG = ROOT / "examples" / "omsorg"
VIEWPORT = {"width": 1280, "height": 800}

BROWSER_REQUIRED = os.environ.get("NOARKPACK_REQUIRE_BROWSER") == "1" or os.environ.get("CI") == "true"
HOW_TO_INSTALL = ("headless Chromium is needed for the browser tests of the HTML reports: "
                  "run `bash tools/install-system-packages.sh` (Debian chromium) and `pip install -e '.[test]'`")


# --------------------------------------------------------------------------- the reports


@pytest.fixture(scope="module")
def omsorg_extract(tmp_path_factory, schema_store) -> Path:
    """examples/omsorg written by noarkpack (its legacy documents converted to PDF/A)."""
    import noarkpack
    from noarkpack.conversion import ConversionCache
    from noarkpack.noark5.writer import ExtractWriter

    base = tmp_path_factory.mktemp("omsorg-extract")
    project = noarkpack.load_project(OMSORG, database=tmp_path_factory.mktemp("db") / "staging.sqlite")
    with project.numbering() as numbering, \
            ExtractWriter(base, project.settings, store=schema_store, numbering=numbering,
                          conversion=ConversionCache(tmp_path_factory.mktemp("konvertert"))) as w:
        for j in project.selected_journals(w.leave_out):
            w.add(j)
    return base / "avleveringspakke"


@pytest.fixture(scope="module")
def broken_extract(omsorg_extract, tmp_path_factory) -> Path:
    """A copy of the omsorg extract broken five ways: a changed document (N5.30), a deleted one (N5.32), a stray
    file (N5.33), an edited arkivstruktur.xml (its ADDML checksum, N5.02) with a systemID that breaks the schema
    (N5.03)."""
    dst = tmp_path_factory.mktemp("broken") / "avleveringspakke"
    shutil.copytree(omsorg_extract, dst)
    docs = sorted(p for p in (dst / "DOKUMENT").rglob("*") if p.is_file())
    with docs[0].open("ab") as f:
        f.write(b"x")
    docs[1].unlink()
    (dst / "DOKUMENT" / "extra.txt").write_text("stray\n", encoding="utf-8")
    xml = dst / "arkivstruktur.xml"
    text = xml.read_text(encoding="utf-8")
    start = text.index("<systemID>") + len("<systemID>")
    xml.write_text(text[:start] + "X" + text[start:], encoding="utf-8")
    return dst


@pytest.fixture(scope="module")
def validations(omsorg_extract, broken_extract, schema_store) -> dict:
    """name → validation Report of the clean and the broken extract."""
    return {"omsorg": validate(omsorg_extract, store=schema_store),
            "broken": validate(broken_extract, store=schema_store)}


def _html(text: str):
    return etree.fromstring(text.encode(), etree.HTMLParser())


# --------------------------------------------------------------------------- validation report, plain


def test_broken_extract_fails_the_tests_the_report_must_show_first(validations):
    tests = validations["broken"].summary()["tests"]
    failed = {t for t, s in tests.items() if s["status"] == "failed"}
    assert {"N5.02", "N5.03", "N5.30", "N5.32", "N5.33"} <= failed


@pytest.mark.parametrize("name", ["omsorg", "broken"])
def test_validation_summary_precedes_the_passed_tests(validations, name):
    report = validations[name]
    summary = report.summary()["tests"]
    doc = _html(report.to_html())
    body = list(doc.iter())
    [attention] = doc.xpath("//*[@id='attention']")
    rows = attention.xpath(".//tr[@data-test]")
    # every failed or warned test has a row, with the JSON's counts; no other test has one
    expected = {t: (s["errors"], s["warnings"]) for t, s in summary.items()
                if s["status"] in ("failed", "passed with warnings")}
    assert {r.get("data-test"): (int(r.get("data-errors")), int(r.get("data-warnings"))) for r in rows} == expected
    for r in rows:  # a link to the test's own section, and the test's Arkade name
        t = r.get("data-test")
        assert f"#{t}" in r.xpath(".//a/@href")
        assert (summary[t].get("arkade_name") or summary[t]["name"]) in "".join(r.itertext())
    # each passed test is a closed <details>, after the summary
    passed = [t for t, s in summary.items() if s["status"] == "passed"]
    assert passed
    for t in passed:
        [el] = doc.xpath(f"//*[@id='{t}']")
        assert el.tag == "details" and el.get("open") is None
        assert body.index(el) > body.index(attention)
    # failed and warned tests are open sections, after the summary too
    for t in expected:
        [el] = doc.xpath(f"//*[@id='{t}']")
        assert el.tag == "section" and body.index(el) > body.index(attention)
    # the index lists every test, each with a sign besides its colour
    index = doc.xpath("//nav[@class='index']/a")
    assert [a.get("href") for a in index] == [f"#{t}" for t in summary]
    assert all(a.xpath("./span[@class='mark']/text()") for a in index)


def test_validation_summary_shows_the_first_findings(validations):
    report = validations["broken"]
    doc = _html(report.to_html())
    [row] = doc.xpath("//tr[@data-test='N5.33']")
    assert "DOKUMENT/extra.txt" in "".join(row.itertext())
    [row] = doc.xpath("//tr[@data-test='N5.30']")
    assert len(row.xpath(".//li")) == 2  # its two errors: the changed and the missing document


def test_clean_report_says_nothing_failed(validations):
    doc = _html(validations["omsorg"].to_html())
    assert doc.xpath("//*[@id='verdict']")[0].text.strip().startswith("PASSED")
    assert not doc.xpath("//tr[@data-test][@data-errors!='0']")


# --------------------------------------------------------------------------- in a browser


@pytest.fixture(scope="session")
def browser():
    """Headless Debian chromium driven by Playwright (never a downloaded browser)."""
    chromium = shutil.which("chromium")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        chromium = None
    if chromium is None:
        if BROWSER_REQUIRED:
            pytest.fail(HOW_TO_INSTALL)
        pytest.skip(HOW_TO_INSTALL)
    with sync_playwright() as p:
        # --no-sandbox: Chromium refuses to run as root with its sandbox (containers, CI); it only opens our own files
        b = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="session")
def artefacts(tmp_path_factory) -> Path:
    """Where the screenshots go (see the module docstring)."""
    folder = os.environ.get("NOARKPACK_TEST_ARTEFACTS")
    if folder:
        path = Path(folder) / "report-screenshots"
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("report-screenshots")


def render(browser, artefacts: Path, html: str, name: str):
    """The report opened at 1280×800 from a file (as an archivist opens it); a screenshot of the first screen
    and of the whole page kept in ``artefacts``.  Returns the page (closed by the caller)."""
    path = artefacts / f"{name}.html"
    path.write_text(html, encoding="utf-8")
    page = browser.new_page(viewport=VIEWPORT)
    page.goto(path.as_uri())
    page.screenshot(path=str(artefacts / f"{name}.png"))
    page.screenshot(path=str(artefacts / f"{name}-full.png"), full_page=True)
    return page


def no_overflow(page) -> None:
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"the page is {width} px wide in a {inner} px window"


@pytest.mark.parametrize("name", ["omsorg", "broken"])
def test_validation_report_in_browser(browser, artefacts, validations, name):
    report = validations[name]
    page = render(browser, artefacts, report.to_html(), f"validation-{name}")
    try:
        no_overflow(page)
        box = page.locator("#attention").bounding_box()
        assert box is not None and box["y"] < VIEWPORT["height"], (box, artefacts)
        # the first row of the summary is on the first screen too
        summary = report.summary()["tests"]
        shown = page.locator("#attention tr[data-test]")
        expected = [t for t, s in summary.items() if s["status"] == "failed"] + \
            [t for t, s in summary.items() if s["status"] == "passed with warnings"]
        assert [shown.nth(i).get_attribute("data-test") for i in range(shown.count())] == expected
        if expected:
            assert shown.first.bounding_box()["y"] < VIEWPORT["height"], artefacts
        # passed tests are folded: their findings tables are not drawn
        passed = [t for t, s in summary.items() if s["status"] == "passed"]
        assert page.locator(f"details[id='{passed[0]}'] table").count() == 0 or \
            not page.locator(f"details[id='{passed[0]}'] table").first.is_visible()
        # the index wraps inside the page
        nav = page.locator("nav.index").bounding_box()
        assert nav["x"] + nav["width"] <= VIEWPORT["width"]
    finally:
        page.close()
