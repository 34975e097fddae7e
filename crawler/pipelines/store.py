"""Store: write each story to the archive, off the reactor thread."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from newsarchive.storage import CrawlStore, FetchedArticle, Outcome, StorageError
from newsarchive.storage.crawl_store import StorageUnavailable

from ..context import crawl_store
from ..items import ArticleItem
from ..pages import stored_article
from ..settings import setting_int

logger = logging.getLogger(__name__)

DATABASE_UNAVAILABLE = "database_unavailable"
"""The finish reason of a crawl the store pipeline stopped: the database stayed away."""
STORE_ERRORS = "newsarchive/store_errors"
"""Stories not stored: the run's ``store_errors``."""
STORE_FAILURE = "newsarchive/store_failure"
"""Why the first story could not be stored, for the run's ``error``."""

COUNTER = {
    Outcome.NEW: "newsarchive/new",
    Outcome.UPDATED: "newsarchive/updated",
    Outcome.UNCHANGED: "newsarchive/unchanged",
    Outcome.DUPLICATE: "newsarchive/duplicates",
}


class StoreFailed(DropItem):
    """The database refused the article; the page must be fetched in full next time."""


class StorePipeline:
    """Saves stories with :meth:`CrawlStore.save_articles`, several to a transaction.

    Database work runs on one worker thread so the reactor keeps downloading;
    one thread also keeps this process's writes in order. Stories that arrive
    while a batch is being written wait and go together in the next one (at
    most ``NEWSARCHIVE_STORE_BATCH``): no timer, so a lone story is written at
    once, and a kill loses only stories not yet committed. A story's item goes
    on (and Scrapy calls it scraped) only once its batch is committed, so
    nothing a crash lost is ever counted, learned from or given validators.

    A refused story is a store error and the crawl goes on. A database that
    stayed unreachable for the store's whole retry bound stops the crawl (finish
    reason :data:`DATABASE_UNAVAILABLE`): every further page would be fetched
    only to be lost. Stories still in flight then fail at once, without waiting
    again; their pages keep no validators, so the next crawl fetches them in full.
    """

    def __init__(self, crawler: Crawler, store: CrawlStore) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.store = store
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsarchive-store")
        self.batch_size = max(1, setting_int(crawler.settings, "NEWSARCHIVE_STORE_BATCH"))
        self.unavailable: StorageUnavailable | None = None
        self._closing: asyncio.Future[None] | None = None
        self._waiting: list[tuple[FetchedArticle, asyncio.Future[Outcome | StorageError]]] = []
        self._writing: asyncio.Future[None] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        return cls(crawler, crawl_store(crawler))

    async def _save(self, fetched: FetchedArticle) -> Outcome:
        """Store ``fetched`` with the next batch; raises its StorageError if refused."""
        done: asyncio.Future[Outcome | StorageError] = asyncio.get_running_loop().create_future()
        self._waiting.append((fetched, done))
        if self._writing is None:
            self._write_next()
        result = await done
        if isinstance(result, StorageError):
            raise result
        return result

    def _write_next(self) -> None:
        batch, self._waiting = self._waiting[: self.batch_size], self._waiting[self.batch_size :]
        self._writing = asyncio.ensure_future(self._write(batch)) if batch else None

    async def _write(self, batch: list[tuple[FetchedArticle, asyncio.Future[Any]]]) -> None:
        results: list[Outcome | StorageError]
        if self.unavailable is not None:
            # Stories queued behind the batch that found the database gone: fail
            # them at once rather than waiting for it again one batch at a time.
            results = [self.unavailable] * len(batch)
        else:
            future = self.executor.submit(self.store.save_articles, [f for f, _ in batch])
            try:
                results = await asyncio.wrap_future(future)
            except Exception as exc:  # not the database's answer: fail the batch, not the crawl
                logger.exception("storing %d stories failed", len(batch))
                results = [StorageError(f"{type(exc).__name__}: {exc}")] * len(batch)
        for (_, done), result in zip(batch, results, strict=True):
            if not done.done():
                done.set_result(result)
        self._write_next()

    def close_spider(self) -> None:
        self.executor.shutdown(wait=True)

    async def process_item(self, item: ArticleItem) -> ArticleItem:
        assert item.extraction is not None and item.identity is not None
        page = item.page
        if self.unavailable is not None:
            self.stats.inc_value(STORE_ERRORS)
            raise StoreFailed(f"store failed (database unavailable): {page.url}", log_level="DEBUG")
        fetched = stored_article(page, item.extraction, item.identity)
        try:
            outcome = await self._save(fetched)
        except StorageError as exc:
            self.stats.inc_value(STORE_ERRORS)
            if self.stats.get_value(STORE_FAILURE) is None:
                self.stats.set_value(STORE_FAILURE, f"could not store {page.url}: {exc}")
            logger.error("[%s] could not store %s: %s", page.source, page.url, exc)
            if isinstance(exc, StorageUnavailable) and self.unavailable is None:
                self.unavailable = exc
                # The run's error says why it stopped, whatever was refused before.
                self.stats.set_value(STORE_FAILURE, f"crawl stopped: {exc}")
                self._stop_crawl(page.source)
            raise StoreFailed(f"store failed: {page.url}", log_level="DEBUG") from exc
        self.stats.inc_value(COUNTER[outcome])
        logger.info("[%s] %s article %s", page.source, outcome.value, item.identity.canonical_url)
        return item

    def _stop_crawl(self, source: str) -> None:
        logger.error("[%s] stopping the crawl: the database is unavailable", source)
        engine = self.crawler.engine
        if engine is None:  # a pipeline used outside a running crawl
            return
        # Not awaited: closing waits for the items in flight, this one among them.
        self._closing = asyncio.ensure_future(
            engine.close_spider_async(reason=DATABASE_UNAVAILABLE)
        )
