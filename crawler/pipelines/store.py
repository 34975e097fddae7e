"""Store: write each story to the archive database, off the reactor thread."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem, NotConfigured
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from newsarchive.storage import FetchedArticle, Outcome, save_article, write_session
from newsarchive.storage.articles import DEFAULT_NEAR_DUPLICATE_THRESHOLD
from newsarchive.storage.engine import create_archive_engine

from ..extraction import Extraction
from ..items import ArticleItem

logger = logging.getLogger(__name__)

COUNTER = {
    Outcome.NEW: "newsarchive/new",
    Outcome.UPDATED: "newsarchive/updated",
    Outcome.UNCHANGED: "newsarchive/unchanged",
    Outcome.DUPLICATE: "newsarchive/duplicates",
}


def fetched_article(extraction: Extraction, **fetch: Any) -> FetchedArticle:
    """The storage record of an extracted page: its text and metadata, plus the facts
    of the fetch (``source``, ``url``, ``canonical_url``, ``content_hash``, …) as given."""
    return FetchedArticle(
        text=extraction.text,
        title=extraction.title,
        authors=list(extraction.authors),
        published_at=extraction.published_at,
        language=extraction.language,
        **fetch,
    )


class StoreFailed(DropItem):
    """The database refused the article; the page must be fetched in full next time."""


class StorePipeline:
    """Saves items with :func:`save_article`, one transaction per story.

    Database work runs on one worker thread so the reactor keeps downloading;
    one thread also keeps this process's writes in order. Reads
    ``NEWSARCHIVE_DATABASE_URL``.
    """

    def __init__(self, crawler: Crawler, engine: Engine) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.engine = engine
        self.threshold = crawler.settings.getfloat(
            "NEWSARCHIVE_NEAR_DUPLICATE_THRESHOLD", DEFAULT_NEAR_DUPLICATE_THRESHOLD
        )
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsarchive-store")

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> StorePipeline:
        url = crawler.settings.get("NEWSARCHIVE_DATABASE_URL")
        if not url:
            raise NotConfigured("NEWSARCHIVE_DATABASE_URL is not set")
        return cls(crawler, create_archive_engine(url))

    def close_spider(self) -> None:
        self.executor.shutdown(wait=True)
        self.engine.dispose()

    async def process_item(self, item: ArticleItem) -> ArticleItem:
        assert item.extraction is not None and item.canonical_url and item.content_hash
        fetched = fetched_article(
            item.extraction,
            source=item.source,
            url=item.url,
            canonical_url=item.canonical_url,
            content_hash=item.content_hash,
            raw_html=item.body,
            raw_encoding=item.declared_encoding,
            fetched_at=item.fetched_at,
            crawl_run_id=getattr(self.crawler.spider, "crawl_run_id", None),
            minhash=item.minhash,
            warc_file=item.warc.file if item.warc else None,
            warc_offset=item.warc.offset if item.warc else None,
        )
        try:
            outcome = await asyncio.wrap_future(self.executor.submit(self._save, fetched))
        except SQLAlchemyError as exc:
            self.stats.inc_value("newsarchive/errors")
            logger.error("[%s] could not store %s: %s", item.source, item.url, exc)
            raise StoreFailed(f"store failed: {item.url}", log_level="DEBUG") from exc
        self.stats.inc_value(COUNTER[outcome])
        logger.info("[%s] %s article %s", item.source, outcome.value, item.canonical_url)
        return item

    def _save(self, fetched: FetchedArticle) -> Outcome:
        with write_session(self.engine) as session:
            return save_article(session, fetched, near_duplicate_threshold=self.threshold)
