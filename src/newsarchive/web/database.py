"""The archive opened read-only: the web UI can show anything and change nothing.

Read-only is enforced by the database, not by care in the code: SQLite opens the
file with ``mode=ro`` (an INSERT fails with "attempt to write a readonly
database"), PostgreSQL sessions start with ``default_transaction_read_only``
(an INSERT fails with "cannot execute INSERT in a read-only transaction").
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from sqlalchemy import Engine
from sqlalchemy.engine import make_url

from newsarchive.storage.engine import StatementTimeouts, create_archive_engine, normalise_url
from newsarchive.storage.schema import current_revision, head_revision


class SchemaMismatch(Exception):
    """The database is not at the schema this version reads (the web UI never migrates)."""


def read_only_url(url: str) -> str:
    """``url`` rewritten so the driver opens the database read-only (SQLite only; PostgreSQL
    is made read-only per session, see :func:`open_read_only`)."""
    parsed = make_url(normalise_url(url))
    if parsed.get_backend_name() != "sqlite":
        return parsed.render_as_string(hide_password=False)
    database = parsed.database
    if not database or database == ":memory:":
        raise ValueError("an in-memory SQLite database cannot be served: it has no archive")
    if database.startswith("file:"):
        raise ValueError(f"give the SQLite file as sqlite:///PATH, not a URI ({database})")
    path = quote(str(Path(database).resolve()))
    return f"{parsed.drivername}:///file:{path}?mode=ro&uri=true"


def open_read_only(url: str) -> Engine:
    """A read-only engine on the archive at ``url``; SchemaMismatch when its schema is not
    this version's head (the UI must not migrate it, and would misread another)."""
    backend = make_url(normalise_url(url)).get_backend_name()
    if backend == "postgresql":
        options = StatementTimeouts().options() + " -c default_transaction_read_only=on"
        engine = create_archive_engine(url, connect_args={"options": options})
    else:
        engine = create_archive_engine(read_only_url(url))
    current, head = current_revision(engine), head_revision()
    if current != head:
        engine.dispose()
        raise SchemaMismatch(
            f"the database schema is at {current or 'nothing'}, this newsarchive reads {head}:"
            " run `newsarchive db upgrade` first"
        )
    return engine
