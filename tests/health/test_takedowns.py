"""Takedowns in the archive: removed/restored events, removed_at in export and search, history."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from scrapy import Request
from scrapy.http import Response
from sqlalchemy import select

from newsarchive.crawler.takedowns import is_home_or_section
from newsarchive.storage import iter_articles, read_session, save_article, write_session
from newsarchive.storage.events import EventKind, article_events, record_change, removed_urls
from newsarchive.storage.history import article_history
from newsarchive.storage.models import Article, ArticleEvent
from newsarchive.storage.search import search_articles
from tests.archive_corpus import BASE, fetched

SITE = "https://news.example"


@pytest.mark.parametrize(
    ("original", "final", "expected"),
    [
        (f"{SITE}/world/2026/ferry-strike", f"{SITE}/", True),  # the home page
        (f"{SITE}/world/2026/ferry-strike", f"{SITE}/world/", True),  # its section
        (f"{SITE}/world/2026/ferry-strike", f"{SITE}/latest", True),  # a start URL
        (f"{SITE}/world/2026/ferry-strike", f"{SITE}/world/2026/ferry-strike-ends", False),
        (f"{SITE}/world/2026/ferry-strike", f"{SITE}/sport/", False),  # another section
        (f"{SITE}/world/2026/ferry-strike", f"{SITE}/world/2026/ferry-strike/", False),
        (f"{SITE}/", f"{SITE}/", False),  # the home page itself is no story
    ],
)
def test_which_redirects_are_takedowns(original: str, final: str, expected: bool) -> None:
    assert is_home_or_section(original, final, [f"{SITE}/latest"]) is expected


def _article_id(engine, path: str) -> int:
    with read_session(engine) as session:
        return session.scalars(select(Article.id).where(Article.url == BASE + path)).one()


def _store(engine, path: str, text: str, title: str) -> int:
    with write_session(engine) as session:
        save_article(session, fetched("harbour", path, text, title=title, published_day=3))
    return _article_id(engine, path)


def _change(engine, kind: EventKind, url: str, status: int, at: datetime) -> list[int]:
    with write_session(engine) as session:
        return record_change(
            session,
            kind,
            [url],
            url=url,
            http_status=status,
            detail=f"HTTP {status}",
            crawl_run_id=None,
            at=at,
        )


def test_removed_once_restored_once_and_shown_by_export_and_search(engine) -> None:
    gone = _store(engine, "/news/pier-fire", "The pier caught fire on Sunday night.", "Pier fire")
    kept = _store(
        engine, "/news/pier-rebuilt", "The pier will be rebuilt, pier owners said.", "Pier"
    )
    url = BASE + "/news/pier-fire"
    first, later = datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC)

    assert _change(engine, EventKind.REMOVED, url, 410, first) == [gone]
    # A second crawl seeing the same 410 records nothing new, and keeps the first time.
    assert _change(engine, EventKind.REMOVED, url, 410, later) == []
    assert _change(engine, EventKind.RESTORED, BASE + "/news/pier-rebuilt", 200, later) == []

    with read_session(engine) as session:
        assert removed_urls(session) == {url}
        records = {r["id"]: r for r in iter_articles(session)}
        assert records[gone]["removed_at"] == first
        assert records[kept]["removed_at"] is None
        hits = lambda **kw: [h.article_id for h in search_articles(session, "pier", **kw)]  # noqa: E731
        assert hits(removed=True) == [gone]
        assert hits(removed=False) == [kept]
        assert sorted(hits()) == sorted([gone, kept])

    assert _change(engine, EventKind.RESTORED, url, 200, later) == [gone]
    with read_session(engine) as session:
        events = article_events(session, gone)
        assert [(e.kind, e.at, e.http_status) for e in events] == [
            (EventKind.REMOVED, first, 410),
            (EventKind.RESTORED, later, 200),
        ]
        assert [r["removed_at"] for r in iter_articles(session) if r["id"] == gone] == [None]
        assert removed_urls(session) == set()


def test_history_marks_the_versions_whose_headline_changed(archive) -> None:
    engine = archive
    path = "/news/minister"
    texts_titles = [
        ("The minister visited the harbour.", "Minister visits harbour"),
        ("The minister visited the harbour on Friday.", "Minister  visits harbour"),  # spacing
        ("The minister resigned after visiting the harbour.", "Minister resigns"),
    ]
    with write_session(engine) as session:
        for n, (text, title) in enumerate(texts_titles):
            save_article(
                session,
                fetched(
                    "harbour",
                    path,
                    text,
                    title=title,
                    fetched_at=datetime(2026, 11, 1 + n, tzinfo=UTC),
                ),
            )
    with read_session(engine) as session:
        versions = article_history(session, _article_id(engine, path))
        changed = [v.title_changed for v in versions]
    assert changed == [False, False, True]


def test_the_crawl_records_what_re_fetched_stories_answer(sqlite_url: str) -> None:
    from newsarchive.config import SourceConfig
    from newsarchive.crawler.context import CrawlContext
    from newsarchive.crawler.takedowns import TakedownMiddleware
    from newsarchive.storage import CrawlStore

    with CrawlStore(sqlite_url) as store:
        store.migrate()
        for slug in ("strike", "storm", "moved"):
            store.save_article(fetched("harbour", f"/news/{slug}", f"Story about the {slug}."))
        source = SourceConfig(name="harbour", feeds=[f"{BASE}/feed"], start_urls=[f"{BASE}/"])
        middleware = TakedownMiddleware(CrawlContext(source=source, store=store), store)

        def answer(path: str, status: int, location: str | None = None) -> list[str]:
            headers = {"Location": location} if location else {}
            response = Response(BASE + path, status=status, headers=headers)
            asyncio.run(middleware.process_response(Request(BASE + path), response))
            with read_session(store.engine) as session:
                rows = session.execute(
                    select(Article.url, ArticleEvent.kind, ArticleEvent.detail)
                    .join(Article, Article.id == ArticleEvent.article_id)
                    .order_by(ArticleEvent.id)
                )
                return [f"{url.removeprefix(BASE)} {kind}: {detail}" for url, kind, detail in rows]

        assert answer("/news/unknown", 404) == []  # not a story the archive holds
        assert answer("/news/strike", 410) == ["/news/strike removed: HTTP 410"]
        strike = ["/news/strike removed: HTTP 410"]
        assert answer("/news/strike", 410) == strike  # removed already: no second event
        assert answer("/news/moved", 301, "/news/moved-on") == strike  # moved, not taken down
        assert answer("/news/storm", 302, "/news/")[1:] == [
            f"/news/storm removed: redirected to {BASE}/news/"
        ]
        # Back, unchanged: the conditional re-fetch answers 304; a later 200 changes nothing.
        assert answer("/news/strike", 304)[2:] == ["/news/strike restored: HTTP 304"]
        assert len(answer("/news/strike", 200)) == 3
