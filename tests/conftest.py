"""Shared fixtures: the reference folder and a schema store for the whole session.

Tests never touch the network or the user's own schema store: the session
store is filled from ../shared/reference (download off) into a temporary
folder, and NOARKPACK_SCHEMA_DIR points at it for the whole session, so every
``default_store()`` (library or CLI) in any test finds the pinned schemas.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from noarkpack.schemas import ENV_VAR, SchemaStore

# The tests speak English unless they ask for a language (noarkpack.locale; tests/test_i18n.py runs both):
# set before any test runs, so subprocesses inherit it too.
os.environ["NOARKPACK_LANG"] = "en"

# The repository's sibling folder with the reference material (read-only).
SHARED_DIR = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` next to the repository (reference data, research, design)."""
    if not (SHARED_DIR / "reference").is_dir():
        pytest.fail(
            f"reference folder {SHARED_DIR / 'reference'} not found: the tests need the "
            "official schemas and examples in ../shared/reference next to the repository"
        )
    return SHARED_DIR


@pytest.fixture(scope="session", autouse=True)
def schema_store(shared_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SchemaStore]:
    """A store with every pinned set, installed once per session from ../shared/reference.

    Autouse, so that no test can reach the user's real store by accident.
    NOARKPACK_SCHEMA_DIR is set for the session and restored afterwards.
    """
    store = SchemaStore(tmp_path_factory.mktemp("schema-store"))
    report = store.install(from_dir=shared_dir / "reference", download=False)
    report.raise_for_missing()

    previous = os.environ.get(ENV_VAR)
    os.environ[ENV_VAR] = str(store.root)
    try:
        yield store
    finally:
        if previous is None:
            os.environ.pop(ENV_VAR, None)
        else:
            os.environ[ENV_VAR] = previous


# Real database servers for the SQL source tests (issue 18): pg_url, mariadb_url.
from .sql_servers import mariadb_url, pg_url  # noqa: E402, F401


@pytest.fixture(scope="session")
def browser():
    """Headless Debian chromium driven by Playwright, one for the session (tests/browsing.py)."""
    from .browsing import launch_browser

    yield from launch_browser()
