"""noarkpack serve in a real browser (issue 21, point 8): headless Debian ``chromium`` driven by Playwright with
``executable_path`` (never a downloaded browser), against a real server on 127.0.0.1.

Scenarios of the core pages: open the app with the token; switch the language; the masked/unmasked switch and
its banner; run import then analyse on a copy of examples/omsorg and see the progress and the result; cancel a
long run.  (The findings, the XML element and the browse scenarios live with their pages.)

Screenshots are kept as test artefacts, as in tests/test_reports.py: PNGs in ``$NOARKPACK_TEST_ARTEFACTS/
web-screenshots`` (else pytest's temporary folder), each checked not to be blank.  Without chromium or
Playwright the tests skip with one line saying how to install them; in CI (``NOARKPACK_REQUIRE_BROWSER=1`` or
``CI=true``) they fail instead.
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

pytest.importorskip("starlette")

from noarkpack.web import make_server  # noqa: E402

from .builders import synth_project  # noqa: E402

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
VIEWPORT = {"width": 1280, "height": 800}
BROWSER_REQUIRED = os.environ.get("NOARKPACK_REQUIRE_BROWSER") == "1" or os.environ.get("CI") == "true"
HOW_TO_INSTALL = ("headless Chromium is needed for the browser tests of noarkpack serve: run "
                  "`bash tools/install-system-packages.sh` (Debian chromium) and `pip install -e '.[test]'`")


@pytest.fixture(scope="module")
def browser():
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
        # --no-sandbox: Chromium refuses to run as root with its sandbox (containers, CI)
        b = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def artefacts(tmp_path_factory) -> Path:
    folder = os.environ.get("NOARKPACK_TEST_ARTEFACTS")
    if folder:
        path = Path(folder) / "web-screenshots"
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("web-screenshots")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A real server over a root with a copy of examples/omsorg and a 3000-journal project (for cancel)."""
    root = tmp_path_factory.mktemp("root")
    shutil.copytree(EXAMPLES / "omsorg", root / "omsorg")
    big = synth_project(tmp_path_factory.mktemp("big"), journals=3000, entries=5, doc_kb=1)
    shutil.copytree(big, root / "big")
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
    path = artefacts / f"{name}.png"
    page.screenshot(path=str(path))
    not_blank(path)


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
