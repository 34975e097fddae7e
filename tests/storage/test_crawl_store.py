"""The crawl's one seam to the archive: runs, locks, and storage's own error type."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest

from newsarchive.storage import (
    CrawlStore,
    Outcome,
    StorageError,
    iter_articles,
    read_session,
)
from newsarchive.storage.runs import RunCounters, RunStatus, recent_runs
from tests.archive_corpus import fetched


def test_a_crawl_takes_its_lock_opens_and_closes_its_run(database_url: str) -> None:
    with CrawlStore(database_url) as store, CrawlStore(database_url) as other:
        store.migrate()
        with store.source_lock("harbour") as held, other.source_lock("harbour") as also_held:
            assert (held, also_held) == (True, False)
            run_id = store.start_run("harbour")
            store.finish_run(run_id, RunStatus.OK, RunCounters(pages=3, new=2), None)
        with other.source_lock("harbour") as held_after:
            assert held_after
        (run,) = recent_runs(store.engine, source="harbour")
    assert (run.id, run.status, run.pages, run.new) == (run_id, RunStatus.OK, 3, 2)


def test_an_unreachable_database_is_a_storage_error_without_the_password() -> None:
    with CrawlStore("postgresql://crawler:s3cret@127.0.0.1:1/archive") as store:
        assert store.database == "postgresql+psycopg://crawler:***@127.0.0.1:1/archive"
        with pytest.raises(StorageError) as raised:
            store.migrate()
    assert "s3cret" not in str(raised.value)
    assert "127.0.0.1" in str(raised.value)


def test_a_database_without_the_schema_refuses_writes_as_a_storage_error(
    database_url: str,
) -> None:
    with CrawlStore(database_url) as store, pytest.raises(StorageError):
        store.start_run("harbour")


def test_a_batch_stores_each_story_as_alone_and_keeps_all_but_a_refused_one(
    database_url: str, migrate: Callable[[str], None]
) -> None:
    ferry = "The ferry to the islands runs again after the storm closed the harbour."
    migrate(database_url)
    with CrawlStore(database_url) as store:
        outcomes = store.save_articles(
            [
                fetched("harbour", "/ferry", ferry),
                fetched("harbour", "/ferry-copy", ferry),  # seen by the story before it
                # No such run: the database refuses the story.
                replace(fetched("harbour", "/bridge", "The bridge reopens."), crawl_run_id=10**9),
                fetched("harbour", "/vote", "The council votes on the harbour budget tonight."),
            ]
        )
        with read_session(store.engine) as session:
            stored = {a["url"].rsplit("/", 1)[1]: a for a in iter_articles(session)}
    assert outcomes[:2] == [Outcome.NEW, Outcome.DUPLICATE] and outcomes[3] is Outcome.NEW
    assert isinstance(outcomes[2], StorageError)
    assert sorted(stored) == ["ferry", "ferry-copy", "vote"]
    assert stored["ferry-copy"]["duplicate_of"] == stored["ferry"]["id"]
