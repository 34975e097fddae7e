"""One helper for the per-dialect ``INSERT … ON CONFLICT`` the archive needs."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .models import Base


def insert_or_ignore(
    session: Session, model: type[Base], values: dict[str, Any], conflict: list[str]
) -> None:
    """Insert a row unless one with equal ``conflict`` columns exists; atomic on both dialects."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        stmt = postgresql.insert(model).values(**values)
    elif dialect == "sqlite":
        stmt = sqlite.insert(model).values(**values)
    else:
        raise NotImplementedError(f"no upsert for database dialect {dialect!r}")
    session.execute(stmt.on_conflict_do_nothing(index_elements=conflict))
