"""Real database servers for the SQL source tests: PostgreSQL 15 and MariaDB 10.11 on 127.0.0.1.

Each fixture makes a database with a unique name and drops it afterwards.  On a machine without the servers the
tests skip with one line saying how to run them; with ``NOARKPACK_REQUIRE_DB_SERVERS=1`` (``.ci/run`` sets it)
a server that cannot be reached is a failure.
"""

from __future__ import annotations

import os
import uuid

import pytest
import sqlalchemy as sa

PG_ADMIN = os.environ.get("NOARKPACK_TEST_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
MARIADB_ADMIN = os.environ.get("NOARKPACK_TEST_MARIADB", "mysql+pymysql://root@127.0.0.1:3306/test")
REQUIRED = os.environ.get("NOARKPACK_REQUIRE_DB_SERVERS") == "1"
HOW = ("start PostgreSQL 15 (127.0.0.1:5432, trust) and MariaDB 10.11 (127.0.0.1:3306, root without password), "
       "install '.[test,postgresql,mysql]', and run with NOARKPACK_REQUIRE_DB_SERVERS=1")


def _unavailable(what: str, e: BaseException):
    msg = f"{what} not reachable ({type(e).__name__}): {HOW}"
    if REQUIRED:
        pytest.fail(msg)
    pytest.skip(msg)


def _admin(url: str, what: str):
    try:
        engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
        with engine.connect() as c:
            c.exec_driver_sql("SELECT 1")
    except Exception as e:  # driver missing or server down
        _unavailable(what, e)
    return engine


@pytest.fixture
def pg_url():
    """The URL of a new, empty PostgreSQL database (dropped afterwards)."""
    engine = _admin(PG_ADMIN, "PostgreSQL")
    name = f"noarkpack_test_{uuid.uuid4().hex[:10]}"
    with engine.connect() as c:
        c.exec_driver_sql(f'CREATE DATABASE "{name}"')
    try:
        yield str(sa.engine.make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False))
    finally:
        with engine.connect() as c:
            c.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        engine.dispose()


@pytest.fixture
def mariadb_url():
    """The URL of a new, empty MariaDB database (dropped afterwards)."""
    engine = _admin(MARIADB_ADMIN, "MariaDB")
    name = f"noarkpack_test_{uuid.uuid4().hex[:10]}"
    with engine.connect() as c:
        c.exec_driver_sql(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4")
    try:
        yield str(sa.engine.make_url(MARIADB_ADMIN).set(database=name).render_as_string(hide_password=False))
    finally:
        with engine.connect() as c:
            c.exec_driver_sql(f"DROP DATABASE IF EXISTS `{name}`")
        engine.dispose()
