"""One helper for the per-dialect ``INSERT … ON CONFLICT`` the archive needs."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .models import Base


def _insert(dialect: str, model: type[Base]) -> Any:
    # On the table: the mapped class's INSERT takes the ORM's bulk path, row by row in Python.
    if dialect == "postgresql":
        return postgresql.insert(model.__table__)
    if dialect == "sqlite":
        return sqlite.insert(model.__table__)
    raise NotImplementedError(f"no upsert for database dialect {dialect!r}")


@functools.cache
def _insert_ignoring(dialect: str, model: type[Base], conflict: tuple[str, ...]) -> Any:
    # Built once: building it for every row was most of the cost of claiming one.
    return _insert(dialect, model).on_conflict_do_nothing(index_elements=list(conflict))


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
    stmt = _insert(session.get_bind().dialect.name, model)
    session.execute(
        stmt.on_conflict_do_update(index_elements=conflict, set_=update(stmt.excluded)), rows
    )
