"""Conditional requests: ask "changed since last time?" and treat 304 as "not modified".

Validators (``ETag``, ``Last-Modified``) from the source's earlier crawls are
loaded once when the spider opens; every request the spider marks
``conditional`` carries them as ``If-None-Match`` / ``If-Modified-Since``. A 304
answer ends as :class:`NotModified` before any parsing, and counts under
``newsarchive/not_modified`` rather than as an error. The validators of this
crawl's answers are written off the reactor thread: a listed story's once its
page is done with (stored, or dropped for a reason that is not the database's),
in batches as the crawl goes, so that they are not all held until the end; the
rest when the spider closes. A feed, sitemap or followed page is written only
then, as before: were a crawl killed after its sitemap's validators were
written, the next one would get a 304 for it and never request the stories it
had not reached.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
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

    write_every = 1000
    """Settled answers written together while the crawl runs."""

    def __init__(self, crawler: Crawler, source: str, store: CrawlStore) -> None:
        self.crawler = crawler
        self.source = source
        self.store = store
        self.validators: dict[str, Validators] = {}
        self.pending: dict[str, FetchRecord] = {}
        """Answers written when the spider closes, unless their story settles first."""
        self.listed: set[str] = set()
        """URLs in ``pending`` of listed stories, whose answers may be written early."""
        self.settled: list[FetchRecord] = []
        self.writer: ThreadPoolExecutor | None = None
        crawler.signals.connect(self.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(self.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(self.item_scraped, signal=signals.item_scraped)
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
        records = [*self.settled, *self.pending.values()]
        self.settled, self.pending, self.listed = [], {}, set()
        if records:
            await asyncio.wrap_future(self._writer().submit(self._record, records))
        if self.writer is not None:
            self.writer.shutdown(wait=True)

    def _writer(self) -> ThreadPoolExecutor:
        # One thread: batches are written in order, and the last after all others.
        if self.writer is None:
            self.writer = ThreadPoolExecutor(1, thread_name_prefix="newsarchive-validators")
        return self.writer

    def _record(self, records: list[FetchRecord]) -> None:
        try:
            self.store.record_fetches(self.source, records)
        except StorageError as exc:
            # Losing validators costs the next crawl full downloads, not correctness.
            logger.error("[%s] could not store HTTP validators: %s", self.source, exc)

    def item_scraped(self, item: Any, response: Response) -> None:
        self._settle(response.url)  # the store pipeline committed its story

    def item_dropped(self, item: Any, response: Response, exception: Exception) -> None:
        # A page whose article could not be stored must be fetched in full next
        # time, not answered 304 and never stored.
        if isinstance(exception, StoreFailed):
            self.pending.pop(response.url, None)
            self.listed.discard(response.url)
        else:
            self._settle(response.url)

    def _settle(self, url: str) -> None:
        """``url``'s story is done with: its answer, if a listed story's, may be written now."""
        if url not in self.listed:
            return
        self.listed.discard(url)
        self.settled.append(self.pending.pop(url))
        if len(self.settled) >= self.write_every:
            self._writer().submit(self._record, self.settled)
            self.settled = []

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
        story = bool(request.meta.get("listed")) and not request.meta.get("follow")
        if response.status == 304:
            self._answered(response.url, etag, last_modified, story)
            self.crawler.stats.inc_value("newsarchive/not_modified")
            logger.debug("not modified: %s", response.url)
            if story:
                self._settle(response.url)  # nothing more comes of it
            raise NotModified(f"not modified: {response.url}")
        if response.status == 200 and (etag or last_modified):
            self._answered(response.url, etag, last_modified, story)
        return response

    def _answered(self, url: str, etag: str | None, last_modified: str | None, story: bool) -> None:
        self.pending[url] = FetchRecord(url, etag, last_modified, utcnow())
        if story:
            self.listed.add(url)
        else:
            self.listed.discard(url)


def _header(response: Response, name: bytes) -> str | None:
    value = response.headers.get(name)
    return value.decode("latin-1") if value else None
