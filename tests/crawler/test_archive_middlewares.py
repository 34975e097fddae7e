"""The middlewares that talk to the archive (conditional fetch, recrawl, WARC), built with
``from_crawler`` on a real database."""

from __future__ import annotations

import contextlib
from datetime import timedelta
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.exceptions import DropItem
from scrapy.http import HtmlResponse, Response

from newsarchive.config import RecrawlRule
from newsarchive.crawler.conditional import ConditionalFetchMiddleware, NotModified
from newsarchive.crawler.pipelines.store import StoreFailed
from newsarchive.crawler.recrawl import RecrawlMiddleware
from newsarchive.crawler.warc import WarcArchiveMiddleware
from newsarchive.storage import CrawlStore, FetchedArticle, StorageError
from newsarchive.storage.fetches import FetchRecord
from newsarchive.storage.models import utcnow
from newsarchive.storage.warc import read_response_body
from tests.crawler.components import make_crawler, run

URL = "http://127.0.0.1/news/a.html"


def _conditional(store: CrawlStore) -> tuple[ConditionalFetchMiddleware, object]:
    crawler = make_crawler(store)
    middleware = ConditionalFetchMiddleware.from_crawler(crawler)
    run(middleware.spider_opened())
    return middleware, crawler


def test_stored_validators_make_requests_conditional(store: CrawlStore) -> None:
    store.record_fetches(
        "harbour", [FetchRecord(URL, '"v1"', "Tue, 14 May 2024 08:00:00 GMT", utcnow())]
    )
    middleware, _ = _conditional(store)

    known = Request(URL, meta={"conditional": True})
    middleware.process_request(known)
    unknown = Request(URL + "?other", meta={"conditional": True})
    middleware.process_request(unknown)
    feed = Request(URL, meta={})  # not marked conditional
    middleware.process_request(feed)

    assert known.headers[b"If-None-Match"] == b'"v1"'
    assert known.headers[b"If-Modified-Since"] == b"Tue, 14 May 2024 08:00:00 GMT"
    assert b"If-None-Match" not in unknown.headers
    assert b"If-None-Match" not in feed.headers


def test_a_304_is_not_modified_and_validators_of_the_crawl_are_stored(store: CrawlStore) -> None:
    middleware, crawler = _conditional(store)
    request = Request(URL, meta={"conditional": True})
    with pytest.raises(NotModified):
        middleware.process_response(request, Response(URL, status=304, headers={"ETag": '"v2"'}))
    other = "http://127.0.0.1/news/b.html"
    middleware.process_response(
        Request(other, meta={"conditional": True}),
        HtmlResponse(other, body=b"<html></html>", headers={"ETag": '"b1"'}),
    )
    run(middleware.spider_closed())

    assert crawler.stats.get_value("newsarchive/not_modified") == 1
    stored = store.validators("harbour")
    assert {url: v.etag for url, v in stored.items()} == {URL: '"v2"', other: '"b1"'}


def test_a_page_whose_story_was_not_stored_keeps_no_validators(store: CrawlStore) -> None:
    middleware, _ = _conditional(store)
    response = HtmlResponse(URL, body=b"<html></html>", headers={"ETag": '"v1"'})
    middleware.process_response(Request(URL, meta={"conditional": True}), response)
    middleware.item_dropped(None, response, StoreFailed("store failed"))
    run(middleware.spider_closed())
    assert store.validators("harbour") == {}


def test_stored_stories_validators_are_written_as_the_crawl_goes_and_the_rest_at_close(
    store: CrawlStore,
) -> None:
    middleware, _ = _conditional(store)
    middleware.write_every = 2
    feed, followed = "http://127.0.0.1/feed.xml", "http://127.0.0.1/"
    stories = [f"http://127.0.0.1/news/{n}.html" for n in "abc"]
    answers = [
        (feed, {"listed": False, "follow": False}, 200),
        (followed, {"listed": False, "follow": True}, 200),
        (stories[0], {"listed": True, "follow": False}, 200),
        (stories[1], {"listed": True, "follow": False}, 304),
        (stories[2], {"listed": True, "follow": False}, 200),
    ]
    for url, meta, status in answers:
        request = Request(url, meta={"conditional": True, **meta})
        response = HtmlResponse(url, status=status, body=b"<html></html>", headers={"ETag": '"1"'})
        with contextlib.suppress(NotModified):  # the 304
            middleware.process_response(request, response)
    middleware.item_scraped(None, HtmlResponse(stories[0], body=b""))  # stored
    middleware.item_dropped(None, HtmlResponse(followed, body=b""), DropItem("not a story"))
    assert middleware.writer is not None
    middleware.writer.shutdown(wait=True)  # the crawl is killed here
    # A story stored, and one answered 304; not the feed (a next crawl answered 304
    # for it would never reach the stories this one did not), nor a followed page.
    assert set(store.validators("harbour")) == {stories[0], stories[1]}

    middleware.writer = None
    run(middleware.spider_closed())
    assert set(store.validators("harbour")) == {feed, followed, *stories}


def _known(store: CrawlStore, url: str, fetched_ago: timedelta) -> None:
    when = utcnow() - fetched_ago
    store.save_article(
        FetchedArticle(
            source="harbour",
            url=url,
            canonical_url=url,
            text=f"text of {url}",
            content_hash=url.ljust(64, "0")[-64:],
            fetched_at=when,
        )
    )


async def _collect(iterator) -> list[Request]:  # type: ignore[no-untyped-def]
    return [item async for item in iterator]


def test_known_articles_not_due_are_skipped_and_due_ones_requested(store: CrawlStore) -> None:
    fresh, stale = "http://127.0.0.1/news/fresh.html", "http://127.0.0.1/news/stale.html"
    _known(store, fresh, timedelta(minutes=5))
    _known(store, stale, timedelta(hours=3))
    rules = (RecrawlRule(younger_than="1d", every="1h"),)
    crawler = make_crawler(store, recrawl_rules=rules)
    middleware = RecrawlMiddleware.from_crawler(crawler)

    async def start():  # type: ignore[no-untyped-def]
        yield Request("http://127.0.0.1/feed.xml")

    requests = run(_collect(middleware.process_start(start())))
    assert [r.url for r in requests] == ["http://127.0.0.1/feed.xml", stale]

    feed = HtmlResponse("http://127.0.0.1/feed.xml", body=b"")
    listed = [Request(fresh + "?utm_source=rss"), Request("http://127.0.0.1/news/new.html")]
    kept = [middleware.get_processed_request(r, feed) for r in listed]
    assert kept[0] is None
    assert kept[1] is listed[1]
    assert crawler.stats.get_value("newsarchive/skipped") == 1


def test_responses_are_archived_in_warc_files_named_after_source_and_run(
    store: CrawlStore, tmp_path: Path
) -> None:
    crawler = make_crawler(store, run_id=42, settings={"NEWSARCHIVE_WARC_DIR": str(tmp_path)})
    middleware = WarcArchiveMiddleware.from_crawler(crawler)
    middleware.spider_opened()
    request = Request(URL)
    body = "<html><body>Brücke</body></html>".encode("latin-1")
    run(middleware.process_response(request, HtmlResponse(URL, body=body, request=request)))
    not_found = Request(URL + "?missing")
    run(middleware.process_response(not_found, HtmlResponse(URL, status=404, body=b"gone")))
    middleware.spider_closed()

    location = request.meta["warc"]
    assert location.file.startswith("newsarchive-harbour-run42")
    assert read_response_body(tmp_path, location) == body
    assert "warc" not in not_found.meta


def _stored_by(store: CrawlStore, source: str, url: str, fetched_ago: timedelta) -> None:
    store.save_article(
        FetchedArticle(
            source=source,
            url=url,
            canonical_url=url,
            text=f"text of {url}",
            content_hash=url.ljust(64, "0")[-64:],
            fetched_at=utcnow() - fetched_ago,
        )
    )


def test_stories_another_source_stored_are_known_to_this_one(
    store: CrawlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An agency story in both sources' feeds: harbour must not fetch it on every
    # run just because the agency's crawl stored it.
    fresh, stale = "http://127.0.0.1/wire/fresh.html", "http://127.0.0.1/wire/stale.html"
    unknown = "http://127.0.0.1/news/new.html"
    _stored_by(store, "agency", fresh, timedelta(minutes=5))
    _stored_by(store, "agency", stale, timedelta(hours=3))
    lookups: list[set[str]] = []
    known_by_url = store.known_by_url

    def counted(source: str, urls: set[str]):  # type: ignore[no-untyped-def]
        lookups.append(set(urls))
        return known_by_url(source, urls)

    monkeypatch.setattr(store, "known_by_url", counted)
    crawler = make_crawler(store, recrawl_rules=(RecrawlRule(younger_than="1d", every="1h"),))
    middleware = RecrawlMiddleware.from_crawler(crawler)

    async def start():  # type: ignore[no-untyped-def]
        yield Request("http://127.0.0.1/feed.xml")

    # Harbour's own archive is empty: nothing is due at the start.
    assert [r.url for r in run(_collect(middleware.process_start(start())))] == [
        "http://127.0.0.1/feed.xml"
    ]

    async def listed(*urls: str):  # type: ignore[no-untyped-def]
        for url in urls:
            yield Request(url, meta={"listed": True})

    feed = HtmlResponse("http://127.0.0.1/feed.xml", body=b"")
    kept = run(
        _collect(
            middleware.process_spider_output_async(
                feed, listed(fresh + "?utm_source=rss", stale, unknown)
            )
        )
    )
    assert [r.url for r in kept] == [stale, unknown]
    assert crawler.stats.get_value("newsarchive/skipped") == 1
    assert lookups == [{fresh, stale, unknown}]  # one look-up for the whole feed

    # Another feed listing them again asks the archive nothing more.
    again = run(_collect(middleware.process_spider_output_async(feed, listed(fresh, unknown))))
    assert [r.url for r in again] == [unknown]
    assert len(lookups) == 1


def test_when_the_look_up_fails_every_listed_story_is_fetched(
    store: CrawlStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(source: str, urls: set[str]):  # type: ignore[no-untyped-def]
        raise StorageError("database is locked")

    monkeypatch.setattr(store, "known_by_url", refuse)
    middleware = RecrawlMiddleware.from_crawler(make_crawler(store))
    feed = HtmlResponse("http://127.0.0.1/feed.xml", body=b"")

    async def listed():  # type: ignore[no-untyped-def]
        yield Request(URL, meta={"listed": True})

    assert [
        r.url for r in run(_collect(middleware.process_spider_output_async(feed, listed())))
    ] == [URL]
