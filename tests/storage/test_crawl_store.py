"""The crawl's one seam to the archive: runs, locks, and storage's own error type."""

from __future__ import annotations

import pytest

from newsarchive.storage import CrawlStore, StorageError
from newsarchive.storage.runs import RunCounters, RunStatus, recent_runs


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
