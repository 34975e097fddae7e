"""Store: write each story to the archive, off the reactor thread."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from newsarchive.storage import CrawlStore, Outcome, StorageError
from newsarchive.storage.crawl_store import StorageUnavailable

from ..context import crawl_store
from ..items import ArticleItem
from ..pages import stored_article

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
    """Saves each story with :meth:`CrawlStore.save_article`, one transaction per story.

    Database work runs on one worker thread so the reactor keeps downloading;
    one thread also keeps this process's writes in order.

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
        self.unavailable: StorageUnavailable | None = None
        self._closing: asyncio.Future[None] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        return cls(crawler, crawl_store(crawler))

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
            future = self.executor.submit(self.store.save_article, fetched)
            outcome = await asyncio.wrap_future(future)
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
