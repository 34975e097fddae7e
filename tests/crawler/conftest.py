"""Fixtures for the crawler's components: an archive to crawl into, on both databases."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from newsarchive.storage import CrawlStore


@pytest.fixture
def store(database_url: str, migrate: Callable[[str], None]) -> Iterator[CrawlStore]:
    """A migrated, empty archive (SQLite and PostgreSQL)."""
    migrate(database_url)
    with CrawlStore(database_url) as store:
        yield store
