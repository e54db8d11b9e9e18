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

import json
import shutil
from pathlib import Path

import pytest
from lxml import etree

from noarkpack.validation import validate

from .browsing import artefact_dir

ROOT = Path(__file__).resolve().parents[1]
OMSORG = ROOT / "examples" / "omsorg"
VIEWPORT = {"width": 1280, "height": 800}



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


def self_contained(doc) -> None:
    """No script, no stylesheet or image fetched, every link inside the page: it works offline, in a SIP."""
    assert not doc.xpath("//script | //link | //img | //iframe | //object")
    assert all(ref.startswith("#") for ref in doc.xpath("//@href | //@src"))


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
    self_contained(doc)
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
def artefacts(tmp_path_factory) -> Path:
    """Where the screenshots go (see the module docstring)."""
    return artefact_dir(tmp_path_factory, "report-screenshots")


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


# --------------------------------------------------------------------------- analysis report


@pytest.fixture(scope="module")
def analyses(tmp_path_factory) -> dict:
    """name → (Analysis, its JSON) of examples/omsorg and of a copy where a selected journal's document file is
    gone (AN.11, blocking)."""
    from noarkpack.pipeline import analyse_project

    out = {}
    for name in ("omsorg", "broken"):
        proj = tmp_path_factory.mktemp(f"analyse-{name}") / "omsorg"
        shutil.copytree(OMSORG, proj, ignore=shutil.ignore_patterns(".noarkpack", "*.sqlite*"))
        if name == "broken":
            victim = next(p for p in sorted((proj / "dokumenter" / "notater" / "2013").iterdir()))
            victim.rename(proj / "dokumenter" / "løs fil.txt")
        a = analyse_project(proj)
        out[name] = (a, json.loads(json.dumps(a.to_json())))  # what --json writes
    return out


def chart_bars(doc, chart: str) -> list[tuple]:
    """(label, series, value, the number its text says) of each bar of an SVG chart in the lxml tree."""
    [svg] = doc.xpath(f"//svg[@id='{chart}']")
    bars = []
    for g in svg.xpath(".//g[contains(concat(' ', @class, ' '), ' bar ')]"):
        shown = "".join(g.xpath(".//*[contains(concat(' ', @class, ' '), ' value ')]//text()"))
        bars.append((g.get("data-label"), g.get("data-series"), int(g.get("data-value")), shown))
    return bars


def expected_charts(data: dict) -> dict:
    """chart id → the bars the analysis JSON says it must have: (label, series, value), in order."""
    c = data["counts"]
    years = [(y, s, x[k]) for y, x in c["by_year"].items() for s, k in (("opened", "opened"),
                                                                          ("closed", "closed"))]
    formats = sorted(c["formats"].items(), key=lambda kv: -kv[1]["files"])
    by_code = data["summary"]["by_code"]
    order = sorted(by_code, key=lambda k: (-bool(by_code[k]["blocking"]), -bool(by_code[k]["warning"]), k))
    return {
        "chart-years": years,
        "chart-format-files": [(f"{p} {x['name'] or ''}", None, x["files"]) for p, x in formats],
        "chart-format-bytes": [(f"{p} {x['name'] or ''}", None, x["bytes"]) for p, x in formats],
        "chart-codes": [(k, None, sum(by_code[k].values())) for k in order],
    }


@pytest.mark.parametrize("name", ["omsorg", "broken"])
def test_analysis_charts_say_what_the_json_says(analyses, name):
    analysis, data = analyses[name]
    html = analysis.to_html()
    assert "<script" not in html and "http://" not in html and "https://" not in html and "<link " not in html
    doc = _html(html)
    self_contained(doc)
    for chart, want in expected_charts(data).items():
        bars = chart_bars(doc, chart)
        assert want, chart  # the example has journals over many years, formats and findings
        if chart == "chart-codes":  # its labels are code and title
            assert [(lb.split()[0], s, v) for lb, s, v, _ in bars] == want, chart
        else:
            assert [(lb, s, v) for lb, s, v, _ in bars] == want, chart
        # every bar says its number in text (not by its length or colour alone)
        for label, _, value, shown in bars:
            if chart == "chart-format-bytes":
                assert shown == analysis_human(value), (chart, label)
            else:
                assert shown.split()[0] == str(value), (chart, label, shown)
        # an accessible image, named by its title and description, with its table kept after it
        [svg] = doc.xpath(f"//svg[@id='{chart}']")
        assert svg.get("role") == "img"
        assert svg.get("aria-labelledby") == f"{chart}-title {chart}-desc"
        assert svg.xpath("./title/text()") and svg.xpath("./desc/text()")
        assert svg.xpath("following::table"), chart
    # the table of the years is there with the same numbers
    rows = doc.xpath("//tr[th='year']/following-sibling::tr")
    assert [(r[0].text, int(r[1].text), int(r[2].text)) for r in rows] == \
        [(y, x["opened"], x["closed"]) for y, x in data["counts"]["by_year"].items()]


def analysis_human(n: int) -> str:
    from noarkpack.fsutil import human_size
    return human_size(n)


def test_analysis_verdict_reads_as_a_sentence(analyses):
    analysis, data = analyses["omsorg"]
    [verdict] = _html(analysis.to_html()).xpath("//p[contains(@class, 'verdict')]")
    text = " ".join("".join(verdict.itertext()).split())
    assert text == f"OK: no finding stands in the way of the deposit ({data['summary']['warnings']} warnings)"
    from noarkpack.locale import language

    with language("nb"):  # and in bokmål
        [verdict] = _html(analysis.to_html()).xpath("//p[contains(@class, 'verdict')]")
    text = " ".join("".join(verdict.itertext()).split())
    assert text == f"OK: ingen funn hindrer avlevering ({data['summary']['warnings']} advarsler)"


def test_analysis_blocking_findings_come_first(analyses):
    analysis, data = analyses["broken"]
    assert data["verdict"] == "blocked"
    doc = _html(analysis.to_html())
    body = list(doc.iter())
    [blocking] = doc.xpath("//*[@id='blocking']")
    [scope] = doc.xpath("//h2[text()='Extent']")
    assert body.index(blocking) < body.index(scope)
    assert [r.get("data-code") for r in blocking.xpath(".//tr[@data-code]")] == \
        [f["code"] for f in data["findings"] if f["severity"] == "blocking"] == ["AN.11"]
    # and the code with blocking findings leads the chart, the table and the sections
    assert chart_bars(doc, "chart-codes")[0][0].startswith("AN.11 ")
    sections = [s.get("id") for s in doc.xpath("//section[@class='code']")]
    assert sections[0] == "AN.11"
    # the clean analysis has no such section
    assert not _html(analyses["omsorg"][0].to_html()).xpath("//*[@id='blocking']")


@pytest.mark.parametrize("name", ["omsorg", "broken"])
def test_analysis_report_in_browser(browser, artefacts, analyses, name):
    analysis, data = analyses[name]
    page = render(browser, artefacts, analysis.to_html(), f"analysis-{name}")
    try:
        no_overflow(page)
        verdict = page.locator("p.verdict").bounding_box()
        assert verdict["y"] < VIEWPORT["height"]
        if name == "broken":
            assert page.locator("#blocking").bounding_box()["y"] < VIEWPORT["height"], artefacts
        for chart, want in expected_charts(data).items():
            svg = page.locator(f"svg#{chart}")
            assert svg.is_visible(), chart
            box = svg.bounding_box()
            assert box["x"] + box["width"] <= VIEWPORT["width"], chart
            # the numbers as the browser draws them: the text of each bar
            shown = svg.locator("g.bar .value").all_text_contents()
            assert len(shown) == len(want), chart
            if chart != "chart-format-bytes":
                assert [int(s.split()[0]) for s in shown] == [v for _, _, v in want], chart
    finally:
        page.close()


# --------------------------------------------------------------------------- verify's and the NHA deposit's reports


def _flip_first_document_byte(tar: Path) -> None:
    """One byte of the first document in a SIP tar changed (the tar, dias-mets.xml and the extract disagree)."""
    import tarfile

    with tarfile.open(tar) as t:
        doc = next(m for m in t.getmembers() if m.isfile() and m.size and len(m.name.split("/")) > 3
                   and m.name.split("/")[1] == "content")
    with open(tar, "r+b") as f:
        f.seek(doc.offset_data)
        b = f.read(1)
        f.seek(doc.offset_data)
        f.write(bytes([b[0] ^ 0x01]))


@pytest.fixture(scope="module")
def verifications(omsorg_extract, validations, tmp_path_factory, schema_store) -> dict:
    """name → verify's report: the omsorg SIP (its validation report inside), the same with one document byte
    changed, examples/sykehus's NHA deposit (one NHA.13 warning) and the same with one byte of a tar changed."""
    import tomllib

    from noarkpack.nha import NhaReport, run_nha_package, verify_deposit
    from noarkpack.packaging import PackageMetadata, build_package, metadata_template, verify

    meta = PackageMetadata.from_toml(tomllib.loads(metadata_template()))
    pkg = build_package(omsorg_extract, tmp_path_factory.mktemp("sip"), profile="arkivverket-sip", metadata=meta,
                        store=schema_store, validation_report=validations["omsorg"].portable())
    out = {"sip": verify(pkg.tar, store=schema_store)}
    broken = tmp_path_factory.mktemp("sip-broken")
    shutil.copy2(pkg.description, broken / pkg.description.name)
    tar = Path(shutil.copy2(pkg.tar, broken / pkg.tar.name))
    _flip_first_document_byte(tar)
    out["sip-broken"] = verify(tar, store=schema_store)

    built = run_nha_package(ROOT / "examples" / "sykehus", tmp_path_factory.mktemp("nha"))
    for name, path in (("nha", built.path), ("nha-broken", tmp_path_factory.mktemp("nha-broken") / built.path.name)):
        if name == "nha-broken":
            shutil.copytree(built.path, path)
            dok = path / built.dok_packages[0].file
            data = bytearray(dok.read_bytes())
            data[512 * 3 + 100] ^= 0x01  # inside the first document's content
            dok.write_bytes(bytes(data))
        report = NhaReport(str(path))
        report.extend(verify_deposit(path, store=schema_store))
        out[name] = report
    return out


def _checks(report) -> dict:
    """check id → (errors, warnings) for the checks with any, from the report's JSON."""
    data = json.loads(json.dumps(report.to_json(), default=str))
    out: dict = {}
    for f in data["findings"]:
        if f["severity"] in ("error", "warning"):
            e, w = out.get(f["test"], (0, 0))
            out[f["test"]] = (e + (f["severity"] == "error"), w + (f["severity"] == "warning"))
    return out


@pytest.mark.parametrize("name", ["sip", "sip-broken", "nha", "nha-broken"])
def test_verify_report_summary_and_chart(verifications, name):
    report = verifications[name]
    want = _checks(report)
    assert want  # each has a warning at least (N5.29's note on Arkade; NHA.13's wrong fødselsnummer)
    if name.endswith("broken"):
        assert not report.ok
    doc = _html(report.to_html())
    self_contained(doc)
    body = list(doc.iter())
    [attention] = doc.xpath("//*[@id='attention']")
    rows = attention.xpath(".//tr[@data-test]")
    assert {r.get("data-test"): (int(r.get("data-errors")), int(r.get("data-warnings"))) for r in rows} == want
    # checks with errors first
    errs = [int(r.get("data-errors")) > 0 for r in rows]
    assert errs == sorted(errs, reverse=True)
    # every other check with findings is folded, after the summary
    for el in doc.xpath("//details[@class='check']"):
        assert el.get("id") not in want and el.get("open") is None and body.index(el) > body.index(attention)
    # with more than one check to show, a chart of their errors and warnings with the same numbers
    if len(want) > 1:
        bars = chart_bars(doc, "chart-checks")
        assert {lb.split()[0]: v for lb, _, v, _ in bars} == {t: e + w for t, (e, w) in want.items()}
        assert all(shown.split()[0] == str(v) for _, _, v, shown in bars)
    else:
        assert not doc.xpath("//svg[@id='chart-checks']")
    if name.startswith("sip"):  # what was checked, with the counts of the report's facts
        facts = {r[0].text: r[1].text for r in doc.xpath("//h2[text()='What was checked']/following-sibling::table[1]/tr")}
        assert facts["document files confirmed"] == str(report.facts["documents_confirmed"])


@pytest.mark.parametrize("name", ["sip-broken", "nha-broken"])
def test_verify_report_in_browser(browser, artefacts, verifications, name):
    report = verifications[name]
    page = render(browser, artefacts, report.to_html(), f"verify-{name}")
    try:
        no_overflow(page)
        first = page.locator("#attention tr[data-test]").first
        assert first.bounding_box()["y"] < VIEWPORT["height"], artefacts
        assert int(first.get_attribute("data-errors")) > 0
    finally:
        page.close()


def test_validation_report_inside_the_sip_is_the_new_one(verifications, validations, tmp_path):
    """The report that travels in the SIP (administrative_metadata/repository_operations/) is this one."""
    import tarfile

    tar = Path(verifications["sip"].path)
    with tarfile.open(tar) as t:
        [member] = [m for m in t.getmembers() if m.name.endswith("repository_operations/validation-report.html")]
        html = t.extractfile(member).read().decode("utf-8")
    doc = _html(html)
    assert doc.xpath("//*[@id='attention']") and doc.xpath("//details[@class='test']")
