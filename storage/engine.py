"""Engines and sessions for the archive database (SQLite embedded, PostgreSQL in production)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

# A write transaction on SQLite starts with BEGIN IMMEDIATE: it takes the write
# lock up front, so two writers queue on busy_timeout instead of one failing
# with SQLITE_BUSY when it upgrades a read lock mid-transaction.
WRITE = "newsarchive_write"
SQLITE_BUSY_TIMEOUT_MS = 30_000


def normalise_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs (SQLAlchemy would pick psycopg2)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def create_archive_engine(url: str, **kwargs: Any) -> Engine:
    """An engine with the connection settings the archive relies on for this dialect."""
    url = normalise_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(url, **kwargs)
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy's "begin" event below; the
        # sqlite3 module's own would leave DDL (migrations) outside transactions.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # NORMAL is safe in WAL mode: a power cut may lose the last commits, never corrupt.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        immediate = connection.get_execution_options().get(WRITE, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def writer(engine: Engine) -> Engine:
    """The same engine, but its transactions are write transactions from their first statement."""
    return engine.execution_options(**{WRITE: True})


@contextmanager
def write_session(engine: Engine) -> Iterator[Session]:
    """A session whose work commits as one transaction, or not at all."""
    with sessionmaker(writer(engine), expire_on_commit=False).begin() as session:
        yield session


@contextmanager
def read_session(engine: Engine) -> Iterator[Session]:
    """A read-only session; it never commits."""
    with Session(engine) as session:
        yield session
