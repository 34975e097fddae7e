"""One crawl per source at a time, across processes: a lock the operating system frees on death.

A crash, ``kill -9`` or power cut never leaves a lock behind, so a ``running``
row in ``crawl_runs`` whose source lock can be taken belongs to a crawl that
died: that is how stale runs are told from live ones.

PostgreSQL: a session-level advisory lock keyed by the source's id, held on a
dedicated autocommit connection. SQLite: ``flock`` on a file per source beside
the database file (``archive.db.locks/NAME.lock``).
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from collections.abc import Iterator
from pathlib import Path

from sqlalchemy import Engine, text

from .articles import ensure_source
from .engine import write_session

# First key of the two-int advisory lock form: keeps these locks apart from
# any other application's on the same database.
PG_LOCK_NAMESPACE = 0x6E41  # "nA"


def lock_file_path(engine: Engine, source: str) -> Path | None:
    """Where the SQLite lock file of ``source`` lives; None for an in-memory database."""
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    db_path = Path(database).expanduser().resolve()
    return db_path.with_name(db_path.name + ".locks") / f"{source}.lock"


@contextlib.contextmanager
def source_lock(engine: Engine, source: str) -> Iterator[bool]:
    """Try to take ``source``'s crawl lock without waiting; yields whether it is held.

    Held until the ``with`` block ends or the process dies.
    """
    if engine.dialect.name == "postgresql":
        with _advisory_lock(engine, source) as held:
            yield held
    elif engine.dialect.name == "sqlite":
        with _file_lock(lock_file_path(engine, source)) as held:
            yield held
    else:
        raise NotImplementedError(f"no crawl lock for the {engine.dialect.name} dialect")


@contextlib.contextmanager
def _advisory_lock(engine: Engine, source: str) -> Iterator[bool]:
    with write_session(engine) as session:
        source_id = ensure_source(session, source)
    # Autocommit: a transaction left open for a whole crawl would pin old row
    # versions and block VACUUM; the session lock does not need one.
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        held = bool(
            conn.execute(
                text("SELECT pg_try_advisory_lock(:ns, :id)"),
                {"ns": PG_LOCK_NAMESPACE, "id": source_id},
            ).scalar()
        )
        try:
            yield held
        finally:
            if held:
                with contextlib.suppress(Exception):  # a dead connection has freed it already
                    conn.execute(
                        text("SELECT pg_advisory_unlock(:ns, :id)"),
                        {"ns": PG_LOCK_NAMESPACE, "id": source_id},
                    )


@contextlib.contextmanager
def _file_lock(path: Path | None) -> Iterator[bool]:
    if path is None:  # an in-memory database cannot be shared with another process
        yield True
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        # The holder's pid, for an operator who wonders who holds it.
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        try:
            yield True
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)
