"""Known articles by canonical URL, whichever source stored them (the recrawl look-up)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest

from newsarchive.storage import CrawlStore, FetchedArticle, StorageError
from newsarchive.storage.fetches import BATCH_SIZE, FetchRecord
from newsarchive.storage.models import utcnow

WIRE = "http://127.0.0.1/wire/storm.html"
OWN = "http://127.0.0.1/news/seawall.html"


@pytest.fixture
def store(database_url: str) -> Iterator[CrawlStore]:
    with CrawlStore(database_url) as store:
        store.migrate()
        yield store


def _store(store: CrawlStore, source: str, url: str, fetched_at: datetime) -> None:
    store.save_article(
        FetchedArticle(
            source=source,
            url=url + "?from=feed",
            canonical_url=url,
            text=f"text of {url}",
            content_hash=url.ljust(64, "0")[-64:],
            fetched_at=fetched_at,
        )
    )


def _same_instant(a: datetime, b: datetime) -> bool:
    # SQLite hands back naive UTC, PostgreSQL aware: compare the instant.
    return a.replace(tzinfo=None) == b.replace(tzinfo=None)


def test_articles_of_every_source_are_found_by_canonical_url(store: CrawlStore) -> None:
    stored_at = utcnow() - timedelta(hours=3)
    _store(store, "agency", WIRE, stored_at)
    _store(store, "harbour", OWN, stored_at)
    unknown = "http://127.0.0.1/news/never-stored.html"

    found = {k.canonical_url: k for k in store.known_by_url("harbour", [WIRE, OWN, unknown])}

    assert set(found) == {WIRE, OWN}
    assert found[WIRE].url == WIRE + "?from=feed"
    assert _same_instant(found[WIRE].first_seen_at, found[WIRE].last_fetched_at)
    assert store.known_by_url("harbour", []) == []


def test_a_304_the_asking_source_got_counts_as_a_fetch(store: CrawlStore) -> None:
    # Harbour re-checked the agency's story and got a 304: that is recorded
    # under harbour, and must make the story not due for harbour again.
    stored_at = utcnow() - timedelta(hours=3)
    checked_at = utcnow() - timedelta(minutes=5)
    _store(store, "agency", WIRE, stored_at)
    store.record_fetches("harbour", [FetchRecord(WIRE + "?from=feed", '"v1"', None, checked_at)])
    store.record_fetches("other", [FetchRecord(WIRE + "?from=feed", '"v1"', None, utcnow())])

    (known,) = store.known_by_url("harbour", [WIRE])
    assert _same_instant(known.last_fetched_at, checked_at)
    (agency_view,) = store.known_by_url("agency", [WIRE])
    assert _same_instant(agency_view.last_fetched_at, stored_at)


def test_more_urls_than_one_batch_are_all_looked_up(store: CrawlStore) -> None:
    _store(store, "agency", WIRE, utcnow())
    _store(store, "harbour", OWN, utcnow())
    urls = [f"http://127.0.0.1/listed/{n}.html" for n in range(2 * BATCH_SIZE)]
    urls[3] = WIRE
    urls[-1] = OWN
    assert {k.canonical_url for k in store.known_by_url("harbour", urls)} == {WIRE, OWN}


def test_an_unusable_database_is_a_storage_error(database_url: str) -> None:
    with CrawlStore(database_url) as unmigrated, pytest.raises(StorageError):
        unmigrated.known_by_url("harbour", [WIRE])
