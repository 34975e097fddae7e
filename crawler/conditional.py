"""Conditional requests: ask "changed since last time?" and treat 304 as "not modified".

Validators (``ETag``, ``Last-Modified``) from the source's earlier crawls are
loaded once when the spider opens; every request the spider marks
``conditional`` carries them as ``If-None-Match`` / ``If-Modified-Since``. A 304
answer ends as :class:`NotModified` before any parsing, and counts under
``newsarchive/not_modified`` rather than as an error. The validators of this
crawl's answers are written in one batch, off the reactor thread, when the
spider closes.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response

from newsarchive.storage import CrawlStore, StorageError
from newsarchive.storage.fetches import FetchRecord, Validators
from newsarchive.storage.models import utcnow

from .context import crawl_context, crawl_store
from .pipelines.store import StoreFailed

logger = logging.getLogger(__name__)

CONDITIONAL_HEADERS = (b"If-None-Match", b"If-Modified-Since")


class NotModified(IgnoreRequest):
    """The server answered 304: the page is as it was at the last crawl."""


class ConditionalFetchMiddleware:
    """Adds the stored validators to conditional requests and turns 304s into NotModified."""

    def __init__(self, crawler: Crawler, source: str, store: CrawlStore) -> None:
        self.crawler = crawler
        self.source = source
        self.store = store
        self.validators: dict[str, Validators] = {}
        self.pending: dict[str, FetchRecord] = {}
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(self.item_dropped, signal=signals.item_dropped)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> ConditionalFetchMiddleware:
        return cls(crawler, crawl_context(crawler).source.name, crawl_store(crawler))

    async def spider_opened(self) -> None:
        try:
            self.validators = await asyncio.to_thread(self.store.validators, self.source)
        except StorageError as exc:
            # Without validators every page is fetched in full: slower, still correct.
            logger.error("[%s] could not load HTTP validators: %s", self.source, exc)

    async def spider_closed(self) -> None:
        records = list(self.pending.values())
        self.pending.clear()
        if not records:
            return
        try:
            await asyncio.to_thread(self.store.record_fetches, self.source, records)
        except StorageError as exc:
            # Losing validators costs the next crawl full downloads, not correctness.
            logger.error("[%s] could not store HTTP validators: %s", self.source, exc)

    def item_dropped(self, item: Any, response: Response, exception: Exception) -> None:
        # A page whose article could not be stored must be fetched in full next
        # time, not answered 304 and never stored.
        if isinstance(exception, StoreFailed):
            self.pending.pop(response.url, None)

    def process_request(self, request: Request) -> None:
        if not request.meta.get("conditional"):
            return
        # A redirected request inherits its first URL's headers; only this URL's count.
        for header in CONDITIONAL_HEADERS:
            request.headers.pop(header, None)
        known = self.validators.get(request.url)
        if known is None:
            return
        if known.etag:
            request.headers[b"If-None-Match"] = known.etag
        if known.last_modified:
            request.headers[b"If-Modified-Since"] = known.last_modified

    def process_response(self, request: Request, response: Response) -> Response:
        if not request.meta.get("conditional"):
            return response
        etag = _header(response, b"ETag")
        last_modified = _header(response, b"Last-Modified")
        if response.status == 304:
            self.pending[response.url] = FetchRecord(response.url, etag, last_modified, utcnow())
            self.crawler.stats.inc_value("newsarchive/not_modified")
            logger.debug("not modified: %s", response.url)
            raise NotModified(f"not modified: {response.url}")
        if response.status == 200 and (etag or last_modified):
            self.pending[response.url] = FetchRecord(response.url, etag, last_modified, utcnow())
        return response


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None
