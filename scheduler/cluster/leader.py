"""One active dispatcher per database: a PostgreSQL advisory lock on a connection of its own.

The lock lives as long as that connection: a dispatcher that dies, however,
frees it (the server closes the connection; TCP keepalives bound how long a
vanished host keeps it). A standby tries it every :data:`POLL_SECONDS`.
"""

from __future__ import annotations

import contextlib
import logging

from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from newsarchive.storage.locks import PG_LOCK_NAMESPACE

logger = logging.getLogger(__name__)

# Source locks use (PG_LOCK_NAMESPACE, source id ≥ 1); the dispatcher's key is 0.
DISPATCHER_LOCK_KEY = 0
POLL_SECONDS = 2.0
# Server-side keepalives on the lock's connection: a dispatcher whose host
# vanished without closing it loses the lock within about 20 s, not hours.
_KEEPALIVES = (
    "SET tcp_keepalives_idle = 5",
    "SET tcp_keepalives_interval = 5",
    "SET tcp_keepalives_count = 3",
)


class DispatcherLock:
    """The dispatcher's lock: :meth:`try_acquire` until it is held, :meth:`held` to check."""

    def __init__(self, database_url: str | Engine) -> None:
        url = database_url.url if isinstance(database_url, Engine) else database_url
        self._engine = create_engine(url, poolclass=NullPool)
        self._conn: Connection | None = None

    def try_acquire(self) -> bool:
        """Take the lock if it is free; False if another dispatcher holds it or the DB is away."""
        try:
            if self._conn is None:
                conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
                for statement in _KEEPALIVES:
                    conn.execute(text(statement))
                self._conn = conn
            got = self._conn.execute(
                text("SELECT pg_try_advisory_lock(:ns, :key)"),
                {"ns": PG_LOCK_NAMESPACE, "key": DISPATCHER_LOCK_KEY},
            ).scalar()
        except SQLAlchemyError as exc:
            logger.warning("dispatcher lock: database unreachable: %s", exc)
            self._drop()
            return False
        return bool(got)

    def held(self) -> bool:
        """Whether this process still holds the lock (False once its connection is gone)."""
        if self._conn is None:
            return False
        try:
            return bool(
                self._conn.execute(
                    text(
                        "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory'"
                        " AND pid = pg_backend_pid() AND classid = :ns AND objid = :key"
                        " AND granted)"
                    ),
                    {"ns": PG_LOCK_NAMESPACE, "key": DISPATCHER_LOCK_KEY},
                ).scalar()
            )
        except SQLAlchemyError as exc:
            logger.error("dispatcher lock: its connection failed: %s", exc)
            self._drop()
            return False

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None

    def release(self) -> None:
        self._drop()  # closing the session frees its advisory locks
        self._engine.dispose()
