"""Shared fixtures: a fresh database on SQLite and on PostgreSQL, the fixture site, the CLI."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from tests.fixture_server import FixtureServer

# The server that CI and the developers' machines start before the tests.
PG_ADMIN_URL = os.environ.get("NEWSARCHIVE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def _pg_unavailable(reason: str) -> None:
    message = f"PostgreSQL not reachable at {PG_ADMIN_URL}: {reason}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: PostgreSQL is required)", pytrace=False)
    pytest.skip(message)


def _pg_admin():
    try:
        import psycopg
    except ImportError as exc:
        _pg_unavailable(f"psycopg is not installed ({exc})")
    try:
        return psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        _pg_unavailable(str(exc).strip().splitlines()[0])


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A new, empty PostgreSQL database for this test, dropped afterwards."""
    with fresh_pg_database() as url:
        yield url


@contextmanager
def fresh_pg_database() -> Iterator[str]:
    """A new, empty PostgreSQL database, dropped on exit (for fixtures of any scope)."""
    name = f"newsarchive_test_{uuid.uuid4().hex[:12]}"
    with _pg_admin() as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    try:
        yield f"{base}/{name}"
    finally:
        with _pg_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'archive.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest) -> str:
    """A fresh, empty database: every test using it runs on SQLite and on PostgreSQL."""
    return request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "pg_url")


@pytest.fixture
def engine(database_url: str):
    """An engine on a fresh database migrated to head."""
    from newsarchive.storage import create_archive_engine, ensure_schema

    engine = create_archive_engine(database_url)
    ensure_schema(engine)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def site_server() -> Iterator[FixtureServer]:
    """The fixture news site, shared by tests that do not change it."""
    with FixtureServer() as server:
        yield server


@pytest.fixture
def fresh_site() -> Iterator[FixtureServer]:
    """A private fixture site for tests that change pages or count requests."""
    with FixtureServer() as server:
        yield server
