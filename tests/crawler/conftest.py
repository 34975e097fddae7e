"""Fixtures for the crawler's components: an archive to crawl into, on both databases."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from newsarchive.storage import CrawlStore


@pytest.fixture
def store(database_url: str) -> Iterator[CrawlStore]:
    """A migrated, empty archive (SQLite and PostgreSQL)."""
    with CrawlStore(database_url) as store:
        store.migrate()
        yield store
