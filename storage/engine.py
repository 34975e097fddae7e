"""Engines and sessions for the archive database (SQLite embedded, PostgreSQL in production)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker

from .search import register_sqlite_functions

# A write transaction on SQLite starts with BEGIN IMMEDIATE: it takes the write
# lock up front, so two writers queue on busy_timeout instead of one failing
# with SQLITE_BUSY when it upgrades a read lock mid-transaction.
WRITE = "newsarchive_write"
SQLITE_BUSY_TIMEOUT_MS = 30_000

# PostgreSQL: a server that does not answer must cost seconds, not a hung crawl.
# libpq's connect_timeout bounds connecting; TCP keepalives and tcp_user_timeout
# notice a connection whose peer vanished without closing it (a cable, a VM).
PG_CONNECT_TIMEOUT_S = 10
PG_TCP_ARGS: dict[str, Any] = {
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
    "tcp_user_timeout": 60_000,
}


@dataclass(frozen=True)
class StatementTimeouts:
    """Server-side limits of one statement, for engines whose statements are all short.

    Not for every engine: a migration or an export may rightly run for minutes.
    """

    statement_ms: int = 60_000
    """A statement running longer is cancelled (then retried, see CrawlStore)."""
    lock_ms: int = 30_000
    """A row lock waited on for longer (another writer stuck mid-transaction) fails."""
    idle_in_transaction_ms: int = 300_000
    """The server ends a session of ours that stalls inside a transaction, freeing its locks."""

    def options(self) -> str:
        return (
            f"-c statement_timeout={self.statement_ms} -c lock_timeout={self.lock_ms}"
            f" -c idle_in_transaction_session_timeout={self.idle_in_transaction_ms}"
        )


def normalise_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs (SQLAlchemy would pick psycopg2)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def create_archive_engine(
    url: str, *, timeouts: StatementTimeouts | None = None, **kwargs: Any
) -> Engine:
    """An engine with the connection settings the archive relies on for this dialect.

    ``timeouts`` limit each statement on PostgreSQL (SQLite waits busy_timeout for
    a lock and has no other server to wait on).
    """
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, **kwargs)
        # A read-only connection (mode=ro) cannot switch the file to WAL, and needs not:
        # the journal mode is the file's, set by whoever writes it.
        _configure_sqlite(engine, set_wal=parsed.query.get("mode") != "ro")
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.get_driver_name() == "psycopg":
        own_args = kwargs.get("connect_args", {})
        kwargs["connect_args"] = {**_pg_connect_args(parsed, timeouts), **own_args}
    return create_engine(url, pool_pre_ping=True, **kwargs)


def _pg_connect_args(url: URL, timeouts: StatementTimeouts | None) -> dict[str, Any]:
    # What the URL's own query sets wins: an operator's explicit choice.
    args: dict[str, Any] = {"connect_timeout": PG_CONNECT_TIMEOUT_S, **PG_TCP_ARGS}
    args = {k: v for k, v in args.items() if k not in url.query}
    if timeouts is not None:
        # Later -c options win, so the URL's own options go last.
        own = url.query.get("options")
        args["options"] = " ".join([timeouts.options(), *([own] if isinstance(own, str) else [])])
    return args


def _configure_sqlite(engine: Engine, *, set_wal: bool = True) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Hand transaction control to SQLAlchemy's "begin" event below; the
        # sqlite3 module's own would leave DDL (migrations) outside transactions.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        if set_wal:
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # NORMAL is safe in WAL mode: a power cut may lose the last commits, never corrupt.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()
        register_sqlite_functions(dbapi_connection)

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
