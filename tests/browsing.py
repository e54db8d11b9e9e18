"""Headless Chromium for the browser tests (the HTML reports, the web workbench): Debian's ``chromium``
(tools/install-system-packages.sh) through Playwright's ``executable_path``; nothing downloads a browser.

Without chromium the tests skip with one line saying how to install it; in CI (``NOARKPACK_REQUIRE_BROWSER=1``, set
by .ci/run, or ``CI=true``) they fail instead.  Screenshots go to the folder named by ``NOARKPACK_TEST_ARTEFACTS``
(created when missing), else to pytest's temporary folder.  The ``browser`` fixture is in conftest.py.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

BROWSER_REQUIRED = os.environ.get("NOARKPACK_REQUIRE_BROWSER") == "1" or os.environ.get("CI") == "true"
HOW_TO_INSTALL = ("headless Chromium is needed for the browser tests: run `bash tools/install-system-packages.sh` "
                  "(Debian chromium) and `pip install -e '.[test]'`")


def launch_browser():
    """A generator of one headless chromium (a fixture's body): skips, or fails in CI, without one."""
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
        # --no-sandbox: Chromium refuses to run as root with its sandbox (containers, CI); it opens only our pages
        b = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            yield b
        finally:
            b.close()


def artefact_dir(tmp_path_factory, name: str) -> Path:
    """The folder for one kind of screenshots (see the module docstring)."""
    folder = os.environ.get("NOARKPACK_TEST_ARTEFACTS")
    if folder:
        path = Path(folder) / name
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp(name)
