"""Store: write each story to the archive, off the reactor thread."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from newsarchive.storage import CrawlStore, Outcome, StorageError

from ..context import crawl_store
from ..items import ArticleItem
from ..pages import stored_article

logger = logging.getLogger(__name__)

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
    """

    def __init__(self, crawler: Crawler, store: CrawlStore) -> None:
        self.stats = crawler.stats
        self.store = store
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsarchive-store")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        return cls(crawler, crawl_store(crawler))

    def close_spider(self) -> None:
        self.executor.shutdown(wait=True)

    async def process_item(self, item: ArticleItem) -> ArticleItem:
        assert item.extraction is not None and item.identity is not None
        page = item.page
        fetched = stored_article(page, item.extraction, item.identity)
        try:
            future = self.executor.submit(self.store.save_article, fetched)
            outcome = await asyncio.wrap_future(future)
        except StorageError as exc:
            self.stats.inc_value("newsarchive/errors")
            logger.error("[%s] could not store %s: %s", page.source, page.url, exc)
            raise StoreFailed(f"store failed: {page.url}", log_level="DEBUG") from exc
        self.stats.inc_value(COUNTER[outcome])
        logger.info("[%s] %s article %s", page.source, outcome.value, item.identity.canonical_url)
        return item
