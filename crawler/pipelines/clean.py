"""Clean: turn a fetched page into article text and metadata, or drop it as not a story.

It also learns the source's template as pages pass: every text line of a new
story is hashed and, once the story is stored, counted; lines that recur on many
of the source's stories (menus, share bars, "Follow us" boxes that slipped past
extraction) are stripped from the pages that follow.  What is learned is kept in the archive
(``CrawlStore.template``), so the next crawl starts where this one stopped.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool

import numpy as np
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from newsarchive.storage import CrawlStore, StorageError

from ..context import crawl_context
from ..extraction import TEMPLATE_MIN_PAGES, Extraction
from ..items import ArticleItem
from ..pages import NotAStory, StoryIdentity, for_extraction, prepare_story
from ..processes import extraction_pool
from ..settings import setting_bool, setting_int
from ..urls import UrlKeys, canonical_url, story_url, url_key

logger = logging.getLogger(__name__)


class TemplateLearner:
    """Counts, per block hash, the distinct stories of one source it appeared on.

    ``counts`` is what extraction strips with (stored knowledge plus this
    crawl's; blocks seen on a single story so far move to ``once`` when they are
    written); ``pending`` holds the increments not yet written.  A story is
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
        # As url_key: one per story the source stored, and strings took more memory.
        self.seen_urls = UrlKeys(url_key(url) for url in known_urls or ())
        self.once = np.empty(0, dtype=np.int64)
        """Sorted: blocks seen on one story of this crawl so far, moved out of ``counts``
        at each :meth:`take_pending`. They are nearly all story text and nearly all
        the blocks, and take 8 bytes each here against about 100 in a dict."""
        self.pending: Counter[int] = Counter()
        self.pending_pages = 0
        self.min_pages = min_pages
        # Only the blocks that are template already: what extraction strips
        # with, small enough to send to an extraction process with every page.
        self.template = {h: n for h, n in self.counts.items() if n >= min_pages}

    def observe(self, urls: list[str], blocks: frozenset[int]) -> bool:
        """Count ``blocks`` for a story known by ``urls``; False if it was counted before."""
        keys = [url_key(url) for url in urls]
        if not blocks or any(key in self.seen_urls for key in keys):
            return False
        self.seen_urls.update(keys)
        for block in blocks:
            count = self.counts[block] = self._count(block) + 1
            if count >= self.min_pages:
                self.template[block] = count
        self.pending.update(blocks)
        self.pending_pages += 1
        return True

    def take_pending(self) -> dict[int, int]:
        """The increments since the last call, handed over for writing."""
        pending, self.pending, self.pending_pages = dict(self.pending), Counter(), 0
        once = [block for block, n in self.counts.items() if n == 1]
        if once:
            # None of them is in ``once`` yet (a block found there counts 2):
            # inserting them builds one array, where a union built four.
            new = np.sort(np.array(once, dtype=np.int64))
            self.once = np.insert(self.once, np.searchsorted(self.once, new), new)
            self.counts = {block: n for block, n in self.counts.items() if n > 1}
        return pending

    def _count(self, block: int) -> int:
        """Distinct stories ``block`` was counted on so far."""
        count = self.counts.get(block)
        if count is not None:
            return count
        i = int(np.searchsorted(self.once, block))
        return int(i < len(self.once) and self.once[i] == block)


class CleanPipeline:
    """Extracts each page's story (:func:`.pages.extract_story`); pages that are not stories
    are dropped.

    When the crawl has an archive and ``NEWSARCHIVE_TEMPLATE_LEARNING`` is on, it
    also learns and strips the source's template (``NEWSARCHIVE_TEMPLATE_MIN_PAGES``:
    stories a line must recur on); database work runs on one worker thread so
    the reactor keeps downloading. ``NEWSARCHIVE_EXTRACT_PROCESSES`` extraction
    processes do the parsing, started when the first page arrives.
    """

    def __init__(self, crawler: Crawler, source: str, store: CrawlStore | None) -> None:
        settings = crawler.settings
        self.stats = crawler.stats
        self.source = source
        self.store = store
        self.min_pages = setting_int(settings, "NEWSARCHIVE_TEMPLATE_MIN_PAGES")
        self.flush_pages = setting_int(settings, "NEWSARCHIVE_TEMPLATE_FLUSH_PAGES")
        self.workers = setting_int(settings, "NEWSARCHIVE_EXTRACT_PROCESSES")
        self.processes: ProcessPoolExecutor | None = None
        self.learner: TemplateLearner | None = None
        self.executor: ThreadPoolExecutor | None = None
        self.loading: Future[TemplateLearner] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CleanPipeline:
        context = crawl_context(crawler)
        learn = setting_bool(crawler.settings, "NEWSARCHIVE_TEMPLATE_LEARNING")
        pipeline = cls(crawler, context.source.name, context.store if learn else None)
        crawler.signals.connect(pipeline.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(pipeline.spider_closed, signal=signals.spider_closed)
        crawler.signals.connect(pipeline.item_scraped, signal=signals.item_scraped)
        return pipeline

    def spider_opened(self) -> None:
        if self.store is None:
            return
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsarchive-template")
        self.loading = self.executor.submit(self._load, self.store)

    def _load(self, store: CrawlStore) -> TemplateLearner:
        counts = store.template(self.source)
        known: set[str] = set()
        for article in store.known_articles(self.source):
            known.add(article.canonical_url)
            known.add(canonical_url(article.url))
        logger.info("[%s] template: %d recurring blocks known", self.source, len(counts))
        return TemplateLearner(counts, known, self.min_pages)

    async def _learner(self) -> TemplateLearner | None:
        if self.learner is None and self.loading is not None:
            try:
                self.learner = await asyncio.wrap_future(self.loading)
            except StorageError as exc:
                logger.error("[%s] template not loaded, not learning: %s", self.source, exc)
                self.loading = None
        return self.learner

    async def process_item(self, item: ArticleItem) -> ArticleItem:
        learner = await self._learner()
        try:
            item.extraction, item.identity = await self._extract(
                item, learner.template if learner else None
            )
        except NotAStory as exc:
            self.stats.inc_value("newsarchive/not_article")
            raise DropItem(str(exc), log_level="DEBUG") from None
        return item

    def item_scraped(self, item: object) -> None:
        # Learned only from stories the archive holds: item_scraped fires after
        # the store pipeline committed. Counting at extraction wrote counts for
        # stories a killed or failing crawl never stored; the next crawl, not
        # knowing them, counted them again, until their paragraphs were "template".
        if (
            self.learner is not None
            and isinstance(item, ArticleItem)
            and item.extraction is not None
        ):
            self._learn(self.learner, item, item.extraction)

    def _pool(self) -> ProcessPoolExecutor | None:
        if self.processes is None and self.workers > 0:
            self.processes = extraction_pool(self.workers)
        return self.processes

    async def _extract(
        self, item: ArticleItem, template: dict[int, int] | None
    ) -> tuple[Extraction, StoryIdentity]:
        # The MinHash signature too: it cost the crawl process 8 ms a page, as
        # much as Scrapy's download, and it needs nothing but the text.
        pool = self._pool()
        if pool is not None:
            try:
                page = for_extraction(item.page)
                future = pool.submit(prepare_story, page, template, self.min_pages)
                return await asyncio.wrap_future(future)
            except BrokenProcessPool:
                logger.error("extraction process died; extracting in the crawl process from now on")
                self.workers = 0
                self.processes = None
        return prepare_story(item.page, template, self.min_pages)

    def _learn(self, learner: TemplateLearner, item: ArticleItem, extraction: Extraction) -> None:
        urls = [canonical_url(item.page.url), story_url(item.page.url, extraction.canonical_url)]
        if learner.observe(urls, extraction.blocks):
            self.stats.inc_value("newsarchive/template_pages")
        if learner.pending_pages >= self.flush_pages:
            self._flush(learner)

    def _flush(self, learner: TemplateLearner) -> None:
        pending = learner.take_pending()
        if pending and self.executor is not None:
            self.executor.submit(self._record, pending)

    def _record(self, pending: dict[int, int]) -> None:
        assert self.store is not None
        try:
            self.store.record_template(self.source, pending)
        except StorageError as exc:
            # Losing some counts only delays learning; the crawl itself is fine.
            logger.error("[%s] template counts not stored: %s", self.source, exc)

    def spider_closed(self) -> None:
        if self.processes is not None:
            self.processes.shutdown(wait=True, cancel_futures=True)
        if self.learner is not None:
            self._flush(self.learner)
        if self.executor is not None:
            self.executor.shutdown(wait=True)
