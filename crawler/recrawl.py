"""Re-fetch known articles by age: often while a story develops, never once it is history.

The policy is a list of ``[[recrawl]]`` rules (``younger_than``, ``every``); the first
rule younger than the article's age since it was first seen decides, and an article
older than every rule is not fetched again. Age counts from when the archive first
saw the story, not from its stated publication date, which sites get wrong.

A story is known to every source, whichever stored it: agencies' stories appear
in many feeds, and each source re-fetching them on every run cost the sites and
the crawl alike. Each crawl loads its own source's articles; for any other URL
a response lists, the archive is asked in one batched look-up per response.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response
from scrapy.spidermiddlewares.base import BaseSpiderMiddleware

from newsarchive.config import RecrawlRule
from newsarchive.storage import CrawlStore, StorageError
from newsarchive.storage.fetches import KnownArticle
from newsarchive.storage.models import utcnow

from .context import CrawlContext, crawl_context, crawl_store
from .urls import UrlKeys, canonical_url, url_key

logger = logging.getLogger(__name__)

# Requests of one response looked up in the archive at once: a sitemap of 50,000
# URLs makes 50 queries, and a page's requests wait for at most one.
LOOKUP_BATCH = 1000


class RecrawlPolicy:
    """Decides whether a known article is due for another fetch."""

    def __init__(self, rules: Sequence[RecrawlRule]) -> None:
        self.rules = [
            (timedelta(seconds=r.max_age_seconds), timedelta(seconds=r.interval_seconds))
            for r in rules
        ]

    def is_due(self, first_seen_at: datetime, last_fetched_at: datetime, now: datetime) -> bool:
        """True when the first rule the article is younger than says its interval has passed."""
        age = now - first_seen_at
        for max_age, interval in self.rules:
            if age < max_age:
                return now - last_fetched_at >= interval
        return False


@dataclass(frozen=True)
class _Known:
    url: str
    first_seen_at: datetime
    last_fetched_at: datetime


class RecrawlMiddleware(BaseSpiderMiddleware):
    """Drops requests for known articles that are not due, and adds requests for those that are.

    The source's known articles are loaded once, in one query off the reactor
    thread, when the crawl starts; each check is then a dict look-up. Page
    requests for other URLs are looked up, batched per response and off the
    reactor thread, among the articles other sources stored, once per URL. Start
    requests (feeds, sitemaps, start pages) always go through. Due articles are
    requested even when no feed lists them any more, so a story that develops
    after it dropped off the feed is still caught. The crawl context's
    ``recrawl_rules`` are the policy.
    """

    def __init__(self, crawler: Crawler, context: CrawlContext, store: CrawlStore) -> None:
        super().__init__(crawler)
        self.source = context.source.name
        self.store = store
        self.policy = RecrawlPolicy(context.recrawl_rules)
        self.known: dict[str, _Known] = {}
        self.now = utcnow()
        self.skipped = UrlKeys()
        """The known articles counted as skipped, by :func:`.urls.url_key` of their URL."""
        self.looked_up = UrlKeys()
        """Canonical URLs asked about already, found or not, as :func:`.urls.url_key`
        (one for every URL the crawl lists)."""
        self.lookup_failed = False

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> RecrawlMiddleware:
        return cls(crawler, crawl_context(crawler), crawl_store(crawler))

    def _load(self) -> dict[str, _Known]:
        known: dict[str, _Known] = {}
        for article in self.store.known_articles(self.source):
            entry = _Known(article.url, article.first_seen_at, article.last_fetched_at)
            # Feeds link the URL a story was fetched from; the archive keys it by
            # its canonical URL. Either one identifies it.
            known[article.canonical_url] = entry
            known[canonical_url(article.url)] = entry
        return known

    async def process_start(self, start: AsyncIterator[Any]) -> AsyncIterator[Any]:
        spider = self.crawler.spider
        assert spider is not None
        self.now = utcnow()
        try:
            self.known = await asyncio.to_thread(self._load)
        except StorageError as exc:
            # Unknown articles are all fetched: more requests, nothing missed.
            logger.error("[%s] could not load known articles: %s", self.source, exc)
        async for request in start:
            yield request
        due = sorted({k.url for k in self.known.values() if self._due(k)})
        if self.known:
            logger.info(
                "[%s] %d known articles, %d due for a re-fetch",
                self.source,
                len({id(k) for k in self.known.values()}),
                len(due),
            )
        for url in due:
            yield spider.article_request(url)  # type: ignore[attr-defined]

    def _due(self, known: _Known) -> bool:
        return self.policy.is_due(known.first_seen_at, known.last_fetched_at, self.now)

    async def process_spider_output_async(
        self, response: Response | None, result: AsyncIterator[Any], spider: Any = None
    ) -> AsyncIterator[Any]:
        # Requests with their canonical URL, computed once: a sitemap lists thousands.
        pending: list[tuple[Request, str]] = []
        async for output in result:
            if (
                isinstance(output, Request)
                and response is not None
                and (url := self._unasked(output)) is not None
            ):
                pending.append((output, url))
                if len(pending) >= LOOKUP_BATCH:
                    for request in await self._looked_up(pending, response):
                        yield request
                    pending = []
            elif (output := self._get_processed(output, response)) is not None:
                yield output
        if pending:
            for request in await self._looked_up(pending, response):
                yield request

    def _unasked(self, request: Request) -> str | None:
        """The canonical URL of a page request the archive was not asked about yet."""
        # Pages only: feeds and sitemaps (neither listed nor followed) are no stories.
        if not (request.meta.get("listed") or request.meta.get("follow")):
            return None
        url = canonical_url(request.url)
        return url if url not in self.known and url_key(url) not in self.looked_up else None

    async def _looked_up(
        self, requests: list[tuple[Request, str]], response: Response
    ) -> list[Request]:
        """``requests`` once the archive said which of them other sources stored."""
        fresh: dict[int, str] = {}
        for _request, url in requests:
            if (key := url_key(url)) not in self.looked_up:
                fresh[key] = url
        self.looked_up.update(fresh)
        urls = set(fresh.values())
        if urls and not self.lookup_failed:
            try:
                found = await asyncio.to_thread(self.store.known_by_url, self.source, urls)
            except StorageError as exc:
                # Unknown articles are all fetched: more requests, nothing missed.
                logger.error("[%s] could not look up known articles: %s", self.source, exc)
                self.lookup_failed = True
            else:
                self._remember(found)
        return [r for r, url in requests if self._processed(r, url) is not None]

    def _remember(self, articles: Iterable[KnownArticle]) -> None:
        for article in articles:
            entry = _Known(article.url, article.first_seen_at, article.last_fetched_at)
            self.known.setdefault(article.canonical_url, entry)

    def get_processed_request(self, request: Request, response: Response | None) -> Request | None:
        if response is None:
            return request
        return self._processed(request, canonical_url(request.url))

    def _processed(self, request: Request, url: str) -> Request | None:
        """``request`` (whose canonical URL is ``url``), or None for a known story not due."""
        known = self.known.get(url)
        if known is None or self._due(known):
            return request
        if (key := url_key(known.url)) not in self.skipped:
            self.skipped.add(key)
            self.crawler.stats.inc_value("newsarchive/skipped")
        logger.debug("known article not due, not fetched: %s", request.url)
        return None
