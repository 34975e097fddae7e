"""Fixtures of the health tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from newsarchive.storage import create_archive_engine, ensure_schema


@pytest.fixture
def archive(sqlite_url: str) -> Iterator[Engine]:
    """A migrated SQLite archive: the health rules are plain SQL, the same on both databases."""
    engine = create_archive_engine(sqlite_url)
    ensure_schema(engine)
    yield engine
    engine.dispose()
