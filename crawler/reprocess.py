"""Re-run today's extraction and dedupe over archived responses, without fetching anything.

Each article's latest archived response (WARC file, or the zlib column for
versions stored before WARC) goes through the same per-page path as a crawl
(:mod:`.pages`): the is-this-a-story rule, the source's learned template with
the configured minimum, identity and dedupe. A new version appears only where
the cleaned text changed; duplicates are linked as in a crawl. By default only
versions an older extractor produced are re-extracted.

Results are stored in the order the responses were read, several stories to a
transaction with the crawl's :meth:`CrawlStore.save_articles` (at most
``NEWSARCHIVE_STORE_BATCH``; a refused story is stored alone), so any number of
processes stores the same rows as one.

With ``processes`` N above 1, N - 1 extraction processes run extraction and the
MinHash signature, the CPU-heavy steps, while this one reads the responses and
stores the results. Storing takes about a third of what extracting does, so
this process would be idle for most of the run: whenever it has no full batch
to store, it extracts a page itself, one the extraction processes have not
started yet. So every CPU works until the end, and this process never waits for
a pool still starting: until the pool's first task is done, this one extracts
every page. On Linux the extraction processes are forked from this one, so they
start with everything imported (spawned, each spends about 1.5 CPU-s importing).
Before, one extraction process beside this one, which stored one story per
transaction, made the run 0.9-1.2 times as fast as one process.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import CancelledError, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType

from newsarchive.config import Config
from newsarchive.storage import CrawlStore, Outcome, StorageError
from newsarchive.storage.raw import ArchivedResponse

from .extraction import EXTRACTOR_VERSION, Extraction
from .pages import (
    FetchedPage,
    NotAStory,
    StoryIdentity,
    archived_page,
    for_extraction,
    prepare_story,
    stored_article,
)
from .processes import extraction_pool
from .settings import crawl_settings, setting_int

logger = logging.getLogger(__name__)
_Prepared = tuple[Extraction, StoryIdentity]

# Pages queued for each extraction process beyond half a batch: storing a
# batch takes about a third of what extracting as many pages does, so with
# this many queued no extraction process runs dry while this one stores.
AHEAD_PER_PROCESS = 2
# Forked, an extraction process starts with what this one imported (spawned,
# it spends about 1.5 CPU-s importing it). Safe here: no reactor, no thread yet
# (the pool forks before it starts its own), and a forked process only
# extracts, never touching the database connection it inherits, and leaves
# with os._exit. Not on macOS (its frameworks are unsafe after a fork) nor on
# Windows (no fork).
FORK = sys.platform == "linux"
# The pool starts with the run's POOL_AFTER_PAGES-th page to extract, once the
# first was extracted here (which imports what extracting needs before a fork).
# A forked pool costs about what two pages do; a spawned process's imports
# what 70 do, so it is worth starting only for a bigger run.
POOL_AFTER_PAGES = 2 if FORK else 16

# A story for an extraction process's first task: a spawned process imports
# what extracting a page needs (trafilatura, numpy) and loads the language
# model, most of its start, before any page waits on it.
_WARM_UP = FetchedPage(
    source="",
    url="http://warm-up.invalid/",
    body=(
        "<html><body><article><p>"
        + "The harbour council met on Monday to discuss the ferry timetable. " * 4
        + "</p></article></body></html>"
    ).encode(),
    listed=True,
)


@dataclass
class ReprocessSummary:
    """How many archived responses were re-extracted, and what storing them did."""

    examined: int = 0
    outcomes: dict[str, int] = field(default_factory=lambda: {o.value: 0 for o in Outcome})
    empty: int = 0
    """Responses in which the current extraction finds no story: left as they are."""
    current: int = 0
    """Versions the current extractor produced already: not re-extracted."""
    processes: int = 1
    seconds: float = 0.0
    """Wall time of the whole run."""

    @property
    def extracted(self) -> int:
        return self.examined - self.current

    @property
    def pages_per_second(self) -> float:
        return self.extracted / self.seconds if self.seconds > 0 else 0.0


@dataclass
class _Queued:
    """A page read and on its way to being extracted and stored."""

    response: ArchivedResponse
    page: FetchedPage
    template: Mapping[int, int]
    future: Future[_Prepared]
    pooled: bool
    """Whether an extraction process was asked for it (else it is done already)."""


class _Extractor:
    """Extracts pages in a process pool, and in this process while it is idle or alone."""

    def __init__(self, processes: int, min_pages: int) -> None:
        self.min_pages = min_pages
        self.processes = processes
        self.seen = 0
        self.pool: ProcessPoolExecutor | None = None
        self._warm: Future[_Prepared] | None = None

    @property
    def workers(self) -> int:
        return self.processes - 1

    def ready(self) -> bool:
        """Whether the pool takes pages: started, and its first task (the imports) done."""
        if self.pool is None or self._warm is None or not self._warm.done():
            return False
        if isinstance(self._warm.exception(), BrokenProcessPool):
            self._broken()
            return False
        return True

    def started(self) -> None:
        """Count a page to extract, and start the pool at POOL_AFTER_PAGES."""
        self.seen += 1
        if self.pool is None and self.workers > 0 and self.seen == POOL_AFTER_PAGES:
            self.pool = extraction_pool(self.workers, fork=FORK)
            self._warm = self.pool.submit(prepare_story, _WARM_UP)

    def here(self, page: FetchedPage, template: Mapping[int, int]) -> Future[_Prepared]:
        """``page`` extracted in this process, as a finished future."""
        done: Future[_Prepared] = Future()
        try:
            done.set_result(prepare_story(page, template, self.min_pages))
        except NotAStory as exc:
            done.set_exception(exc)
        return done

    def submit(
        self, page: FetchedPage, template: Mapping[int, int]
    ) -> tuple[Future[_Prepared], bool]:
        """``page`` sent to the pool; extracted here if the pool broke. Whether it was sent."""
        if self.pool is not None:
            try:
                # Without its WARC location: storage's type, which the pool never imports.
                return self.pool.submit(
                    prepare_story, for_extraction(page), template, self.min_pages
                ), True
            except BrokenProcessPool:
                self._broken()
        return self.here(page, template), False

    def result(self, queued: _Queued) -> _Prepared:
        """``queued``'s extraction; raises NotAStory. Made here if its process died."""
        try:
            return queued.future.result()
        except (BrokenProcessPool, CancelledError):  # cancelled: by _broken's shutdown
            self._broken()
            queued.future, queued.pooled = self.here(queued.page, queued.template), False
            return queued.future.result()

    def _broken(self) -> None:
        if self.pool is not None:
            logger.error("an extraction process died; extracting in this process from now on")
            self.pool.shutdown(wait=False, cancel_futures=True)
            self.pool = None
            self.processes = 1

    def __enter__(self) -> _Extractor:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)


class _Run:
    """One reprocess: reads responses, keeps the pool fed, extracts when idle, stores in order."""

    def __init__(
        self,
        store: CrawlStore,
        extractor: _Extractor,
        responses: Iterator[ArchivedResponse],
        *,
        batch: int,
        everything: bool,
        summary: ReprocessSummary,
        progress: Callable[[ReprocessSummary], None] | None = None,
    ) -> None:
        self.store = store
        self.progress = progress
        self.extractor = extractor
        self.responses = responses
        self.batch = batch
        self.everything = everything
        self.summary = summary
        self.templates: dict[str, dict[int, int]] = {}
        self.window: deque[_Queued] = deque()
        self.exhausted = False

    def run(self) -> None:
        while True:
            self._feed_pool()
            ready = self._ready()
            if ready >= self.batch:
                self._store(ready)
            elif self._extract_one():
                continue
            elif ready:
                self._store(ready)
            elif self.window:
                self._wait_head()
            else:
                if self.progress:
                    self.progress(self.summary)
                return

    @property
    def _ahead(self) -> int:
        """Pages the pool may hold unfinished: enough for each process while a batch is stored."""
        return self.extractor.workers * (self.batch // 2 + AHEAD_PER_PROCESS)

    def _feed_pool(self) -> None:
        if not self.extractor.ready():
            return
        waiting = sum(1 for q in self.window if q.pooled and not q.future.done())
        while (
            waiting < self._ahead
            and self.extractor.pool is not None  # not broken meanwhile
            and (queued := self._read(pool=True)) is not None
        ):
            waiting += queued.pooled

    def _ready(self) -> int:
        """How many pages at the front of the window are extracted, up to a batch."""
        count = 0
        for queued in self.window:
            if count == self.batch or not queued.future.done():
                break
            count += 1
        return count

    def _extract_one(self) -> bool:
        """Extract one page here: the first the pool has not started, else a new one."""
        for queued in self.window:
            if queued.pooled and queued.future.cancel():
                queued.future = self.extractor.here(queued.page, queued.template)
                queued.pooled = False
                return True
        if len(self.window) >= self.batch + self._ahead:
            return False
        return self._read(pool=False) is not None

    def _wait_head(self) -> None:
        wait([self.window[0].future])  # the next to store; _store reads its result

    def _read(self, *, pool: bool) -> _Queued | None:
        """The next response to extract, queued (sent to the pool, or extracted here)."""
        for response in self.responses if not self.exhausted else ():
            self.summary.examined += 1
            if not self.everything and response.extractor_version == EXTRACTOR_VERSION:
                self.summary.current += 1
                continue
            self.extractor.started()
            template = self._template(response.source)
            page = archived_page(response)
            if pool:
                future, pooled = self.extractor.submit(page, template)
            else:
                future, pooled = self.extractor.here(page, template), False
            queued = _Queued(response, page, template, future, pooled)
            self.window.append(queued)
            return queued
        self.exhausted = True
        return None

    def _template(self, source: str) -> dict[int, int]:
        if source not in self.templates:
            # Only blocks seen on enough pages strip a line: the rest would only
            # be sent to an extraction process with every page.
            least = self.extractor.min_pages
            self.templates[source] = {
                block: pages
                for block, pages in self.store.template(source).items()
                if pages >= least
            }
        return self.templates[source]

    def _store(self, count: int) -> None:
        """Store the first ``count`` pages of the window, in one transaction."""
        queued = [self.window.popleft() for _ in range(count)]
        stories: list[_Queued] = []
        articles = []
        for item in queued:
            try:
                extraction, identity = self.extractor.result(item)
            except NotAStory:
                self.summary.empty += 1
                logger.warning(
                    "[%s] article %d: no story extracted now from %s",
                    item.response.source,
                    item.response.article_id,
                    item.response.url,
                )
                continue
            stories.append(item)
            articles.append(stored_article(item.page, extraction, identity))
        refused: StorageError | None = None
        for item, outcome in zip(stories, self.store.save_articles(articles), strict=True):
            if isinstance(outcome, StorageError):
                refused = refused or outcome
                continue
            self.summary.outcomes[outcome.value] += 1
            if outcome is not Outcome.UNCHANGED:
                logger.info(
                    "[%s] article %d: %s", item.response.source, item.response.article_id, outcome
                )
        if self.progress:
            self.progress(self.summary)
        if refused is not None:
            # As when each story was its own transaction, a refusal ends the run;
            # the batch's other stories are stored.
            raise refused


def reprocess(
    config: Config,
    *,
    source: str | None = None,
    since: datetime | None = None,
    everything: bool = False,
    processes: int | None = None,
    progress: Callable[[ReprocessSummary], None] | None = None,
) -> ReprocessSummary:
    """Re-extract the latest version of every article (of ``source``, fetched since ``since``)
    that an older extractor produced, or of every article with ``everything``, with
    ``processes`` processes, this one included (default: one per CPU).

    ``progress`` is called with the counts so far after each batch is stored, and at the end.
    """
    settings = crawl_settings(config)
    min_pages = setting_int(settings, "NEWSARCHIVE_TEMPLATE_MIN_PAGES")
    batch = max(1, setting_int(settings, "NEWSARCHIVE_STORE_BATCH"))
    summary = ReprocessSummary(processes=processes or _usable_cpus())
    began = time.perf_counter()
    with (
        CrawlStore(
            config.database_url, near_duplicate_threshold=config.dedupe.near_duplicate_threshold
        ) as store,
        _Extractor(summary.processes, min_pages) as extractor,
    ):
        store.migrate()
        responses = store.archived_responses(config.warc_dir, source=source, since=since)
        _Run(
            store,
            extractor,
            responses,
            batch=batch,
            everything=everything,
            summary=summary,
            progress=progress,
        ).run()
    summary.seconds = time.perf_counter() - began
    return summary


def _usable_cpus() -> int:
    # The CPUs this process may run on (a container or taskset may allow fewer than exist).
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1
