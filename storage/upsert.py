"""One helper for the per-dialect ``INSERT … ON CONFLICT`` the archive needs."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .models import Base


def _insert(session: Session, model: type[Base]) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(model)
    if dialect == "sqlite":
        return sqlite.insert(model)
    raise NotImplementedError(f"no upsert for database dialect {dialect!r}")


@functools.cache
def _insert_ignoring(dialect: str, model: type[Base], conflict: tuple[str, ...]) -> Any:
    # On the table, not the mapped class, and built once: the ORM's bulk-insert path
    # and building the statement were most of the cost of claiming a row.
    table = model.__table__
    if dialect == "postgresql":
        stmt = postgresql.insert(table)
    elif dialect == "sqlite":
        stmt = sqlite.insert(table)
    else:
        raise NotImplementedError(f"no upsert for database dialect {dialect!r}")
    return stmt.on_conflict_do_nothing(index_elements=list(conflict))


def insert_or_ignore(
    session: Session, model: type[Base], values: dict[str, Any], conflict: list[str]
) -> None:
    """Insert a row unless one with equal ``conflict`` columns exists; atomic on both dialects."""
    stmt = _insert_ignoring(session.get_bind().dialect.name, model, tuple(conflict))
    session.execute(stmt, values)


def insert_or_update(
    session: Session,
    model: type[Base],
    rows: list[dict[str, Any]],
    conflict: list[str],
    update: Callable[[Any], dict[str, Any]],
) -> None:
    """Insert ``rows`` (one executemany); a row whose ``conflict`` columns exist already gets
    ``update(excluded)`` instead, where ``excluded`` names the values that were refused."""
    if not rows:
        return
    stmt = _insert(session, model)
    session.execute(
        stmt.on_conflict_do_update(index_elements=conflict, set_=update(stmt.excluded)), rows
    )
