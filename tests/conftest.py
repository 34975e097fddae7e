"""Shared fixtures: a fresh database on SQLite and on PostgreSQL, the fixture site, the CLI."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Callable, Iterator
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


# The folders whose tests run whole processes (daemons, workers, crawls), most
# seconds first. Run first, they leave the short unit tests to end the run on both
# workers together (``--dist worksteal``), not one 20-second journey on one of them.
LONG_FIRST = ("cluster", "scheduler", "e2e", "health", "cli", "speed", "web", "imports")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def rank(item: pytest.Item) -> int:
        parts = Path(item.path).relative_to(Path(__file__).parent).parts
        return LONG_FIRST.index(parts[0]) if parts[0] in LONG_FIRST else len(LONG_FIRST)

    items.sort(key=rank)  # stable: a module's tests keep their order


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


@pytest.fixture(scope="session")
def migrated_sqlite_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One SQLite archive migrated to head, for :func:`migrate` to copy."""
    from newsarchive.storage import create_archive_engine, ensure_schema

    path = tmp_path_factory.mktemp("migrated") / "archive.db"
    engine = create_archive_engine(f"sqlite:///{path}")
    ensure_schema(engine)
    engine.dispose()  # the last connection's close checkpoints the WAL into the file
    return path


@pytest.fixture(scope="session")
def migrated_pg_template() -> Iterator[str]:
    """One PostgreSQL database migrated to head, for :func:`migrate` to clone (per worker)."""
    from newsarchive.storage import create_archive_engine, ensure_schema

    with fresh_pg_database() as url:
        engine = create_archive_engine(url)
        ensure_schema(engine)
        engine.dispose()  # a template with a connection open cannot be cloned
        yield url.rsplit("/", 1)[1]


@pytest.fixture
def migrate(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """Bring a fresh, empty test database to head by copying one migrated once: a file copy
    on SQLite, a clone of a template database on PostgreSQL (0.2 s against 0.5-0.9 s for the
    migrations, over some hundred tests). The migrations themselves are tested where the
    product runs them (``store.migrate()``, ``newsarchive db upgrade``, every CLI crawl)."""

    def migrate(url: str) -> None:
        if url.startswith("sqlite:///"):
            path = Path(url.removeprefix("sqlite:///"))
            if not path.exists():
                shutil.copyfile(request.getfixturevalue("migrated_sqlite_file"), path)
                return
            from newsarchive.storage import create_archive_engine, ensure_schema

            engine = create_archive_engine(url)
            ensure_schema(engine)
            engine.dispose()
            return
        template = request.getfixturevalue("migrated_pg_template")
        name = url.rsplit("/", 1)[1]
        with _pg_admin() as admin:
            # The fresh database is empty by contract: replacing it loses nothing.
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')

    return migrate


@pytest.fixture
def engine(database_url: str, migrate: Callable[[str], None]):
    """An engine on a fresh database migrated to head."""
    from newsarchive.storage import create_archive_engine

    migrate(database_url)
    engine = create_archive_engine(database_url)
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
