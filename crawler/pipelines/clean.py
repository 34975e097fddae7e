"""Clean: turn a fetched page into article text and metadata, or drop it as not a story.

It also learns the source's template as pages pass: every text line of a new
story is hashed and counted, and lines that recur on many of the source's
stories (menus, share bars, "Follow us" boxes that slipped past extraction) are
stripped from the pages that follow.  What is learned is kept in the database
(``storage.templates``), so the next crawl starts where this one stopped.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import threading
import time
from collections import Counter
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from newsarchive.storage.engine import create_archive_engine
from newsarchive.storage.fetches import iter_known_articles
from newsarchive.storage.templates import load_template, record_blocks

from ..extraction import TEMPLATE_MIN_PAGES, Extraction, extract_article
from ..items import ArticleItem
from ..urls import canonical_url, story_url

logger = logging.getLogger(__name__)

# A page a feed or sitemap lists is a story by the site's own word, so it
# needs only some text; a page reached by following links must look like one.
MIN_LISTED_TEXT = 150
# Learned counts are written every this many new stories (and at the end), so
# a killed crawl loses little and the database sees few transactions.
TEMPLATE_FLUSH_PAGES = 200


class TemplateLearner:
    """Counts, per block hash, the distinct stories of one source it appeared on.

    ``counts`` is what extraction strips with (stored knowledge plus this
    crawl's); ``pending`` holds the increments not yet written.  A story is
    counted once: URLs the archive already holds for the source (re-fetches of
    known stories) and URLs counted earlier in this crawl are skipped, or a
    story fetched five times would make its own paragraphs "template".
    """

    def __init__(
        self,
        counts: dict[int, int] | None = None,
        known_urls: set[str] | None = None,
        min_pages: int = TEMPLATE_MIN_PAGES,
    ) -> None:
        self.counts: dict[int, int] = counts if counts is not None else {}
        self.seen_urls: set[str] = known_urls if known_urls is not None else set()
        self.pending: Counter[int] = Counter()
        self.pending_pages = 0
        self.min_pages = min_pages
        # Only the blocks that are template already: what extraction strips
        # with, small enough to send to an extraction process with every page.
        self.template = {h: n for h, n in self.counts.items() if n >= min_pages}

    def observe(self, urls: list[str], blocks: frozenset[int]) -> bool:
        """Count ``blocks`` for a story known by ``urls``; False if it was counted before."""
        if not blocks or any(u in self.seen_urls for u in urls):
            return False
        self.seen_urls.update(urls)
        for block in blocks:
            count = self.counts[block] = self.counts.get(block, 0) + 1
            if count >= self.min_pages:
                self.template[block] = count
        self.pending.update(blocks)
        self.pending_pages += 1
        return True

    def take_pending(self) -> dict[int, int]:
        """The increments since the last call, handed over for writing."""
        pending, self.pending, self.pending_pages = dict(self.pending), Counter(), 0
        return pending


def _exit_with_parent(parent: int) -> None:
    """In an extraction process: exit when the crawl process is gone.

    A crawl killed with SIGKILL (the daemon's hard time limit) cannot shut its
    pool down, and idle workers would wait for work forever; a daemon running
    for months must not collect them.
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="exit-with-parent").start()


class CleanPipeline:
    """Runs :func:`extract_article` on each page; pages that are not stories are dropped.

    With ``NEWSARCHIVE_DATABASE_URL`` set and ``NEWSARCHIVE_TEMPLATE_LEARNING``
    true (the default), it also learns and strips the source's template
    (``NEWSARCHIVE_TEMPLATE_MIN_PAGES``: pages a line must recur on).  Database
    work runs on one worker thread so the reactor keeps downloading.
    ``NEWSARCHIVE_EXTRACT_PROCESSES`` extraction processes (default: one fewer
    than the CPUs, at most 4; 0 extracts in the crawl process) do the parsing.
    """

    def __init__(self, crawler: Crawler, engine: Engine | None) -> None:
        self.crawler = crawler
        self.stats = crawler.stats
        self.engine = engine
        self.min_pages = crawler.settings.getint(
            "NEWSARCHIVE_TEMPLATE_MIN_PAGES", TEMPLATE_MIN_PAGES
        )
        self.flush_pages = crawler.settings.getint(
            "NEWSARCHIVE_TEMPLATE_FLUSH_PAGES", TEMPLATE_FLUSH_PAGES
        )
        workers = crawler.settings.getint(
            "NEWSARCHIVE_EXTRACT_PROCESSES", max(0, min(4, (os.cpu_count() or 1) - 1))
        )
        # Extraction is the crawl's CPU cost; in other processes it runs on the
        # other cores while this one downloads and stores. Spawned, not forked:
        # a fork would copy the running reactor and the store's threads.
        self.processes: ProcessPoolExecutor | None = (
            ProcessPoolExecutor(
                workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_exit_with_parent,
                initargs=(os.getpid(),),
            )
            if workers > 0
            else None
        )
        self.source: str | None = None
        self.learner: TemplateLearner | None = None
        self.executor: ThreadPoolExecutor | None = None
        self.loading: Future[TemplateLearner] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CleanPipeline:
        url = crawler.settings.get("NEWSARCHIVE_DATABASE_URL")
        learn = crawler.settings.getbool("NEWSARCHIVE_TEMPLATE_LEARNING", True)
        pipeline = cls(crawler, create_archive_engine(url) if url and learn else None)
        crawler.signals.connect(pipeline.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        return pipeline

    def spider_opened(self) -> None:
        spider = self.crawler.spider
        source = getattr(getattr(spider, "source", None), "name", None)
        if self.engine is None or not source:
            return
        self.source = source
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsarchive-template")
        self.loading = self.executor.submit(self._load, source)

    def _load(self, source: str) -> TemplateLearner:
        assert self.engine is not None
        counts = load_template(self.engine, source)
        known: set[str] = set()
        for article in iter_known_articles(self.engine, source):
            known.add(article.canonical_url)
            known.add(canonical_url(article.url))
        logger.info("[%s] template: %d recurring blocks known", source, len(counts))
        return TemplateLearner(counts, known, self.min_pages)

    async def _learner(self) -> TemplateLearner | None:
        if self.learner is None and self.loading is not None:
            try:
                self.learner = await asyncio.wrap_future(self.loading)
            except SQLAlchemyError as exc:
                logger.error("[%s] template not loaded, not learning: %s", self.source, exc)
                self.loading = None
        return self.learner

    async def process_item(self, item: ArticleItem) -> ArticleItem:
        learner = await self._learner()
        extraction = await self._extract(item, learner.template if learner else None)
        listed_story = item.listed and len(extraction.text) >= MIN_LISTED_TEXT
        if not extraction.text or not (extraction.is_article or listed_story):
            self.stats.inc_value("newsarchive/not_article")
            raise DropItem(f"[{item.source}] not an article: {item.url}", log_level="DEBUG")
        item.extraction = extraction
        if learner is not None:
            self._learn(learner, item, extraction)
        return item

    async def _extract(self, item: ArticleItem, template: dict[int, int] | None) -> Extraction:
        args = (item.body, item.url)
        kwargs = {
            "declared_encoding": item.declared_encoding,
            "template": template,
            "template_min_pages": self.min_pages,
        }
        if self.processes is not None:
            try:
                future = self.processes.submit(extract_article, *args, **kwargs)
                return await asyncio.wrap_future(future)
            except BrokenProcessPool:
                logger.error("extraction process died; extracting in the crawl process from now on")
                self.processes = None
        return extract_article(*args, **kwargs)  # type: ignore[arg-type]

    def _learn(self, learner: TemplateLearner, item: ArticleItem, extraction: Extraction) -> None:
        urls = [canonical_url(item.url), story_url(item.url, extraction.canonical_url)]
        if learner.observe(urls, extraction.blocks):
            self.stats.inc_value("newsarchive/template_pages")
        if learner.pending_pages >= self.flush_pages:
            self._flush(learner)

    def _flush(self, learner: TemplateLearner) -> None:
        pending = learner.take_pending()
        if pending and self.executor is not None and self.source is not None:
            self.executor.submit(self._record, self.source, pending)

    def _record(self, source: str, pending: dict[int, int]) -> None:
        assert self.engine is not None
        try:
            record_blocks(self.engine, source, pending)
        except SQLAlchemyError as exc:
            # Losing some counts only delays learning; the crawl itself is fine.
            logger.error("[%s] template counts not stored: %s", source, exc)

    def spider_closed(self) -> None:
        if self.processes is not None:
            self.processes.shutdown(wait=True, cancel_futures=True)
        if self.learner is not None:
            self._flush(self.learner)
        if self.executor is not None:
            self.executor.shutdown(wait=True)
        if self.engine is not None:
            self.engine.dispose()
