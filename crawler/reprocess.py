"""Re-run today's extraction and dedupe over archived responses, without fetching anything.

Each article's latest archived response (WARC file, or the zlib column for
versions stored before WARC) goes through the same per-page path as a crawl
(:mod:`.pages`): the is-this-a-story rule, the source's learned template with
the configured minimum, identity and dedupe. A new version appears only where
the cleaned text changed; duplicates are linked as in a crawl. By default only
versions an older extractor produced are re-extracted.

With ``processes`` N above 1, extraction and the MinHash signature, the
CPU-heavy steps, run in N - 1 extraction processes while this one reads the
responses and stores the results, in the order it read them, so any N stores the
same rows as one. This process keeps a CPU for itself: with as many extraction
processes as CPUs, storing waited for a CPU and two processes on two cores
were slower than one (17.2 s against 12.2 s for 300 pages; with one extraction
process beside this one, 9.5 s).
"""

from __future__ import annotations

import logging
import os
import time
from collections import deque
from collections.abc import Mapping
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType

from newsarchive.config import Config
from newsarchive.storage import CrawlStore, Outcome
from newsarchive.storage.raw import ArchivedResponse

from .extraction import EXTRACTOR_VERSION, Extraction
from .pages import (
    FetchedPage,
    NotAStory,
    StoryIdentity,
    archived_page,
    prepare_story,
    store_story,
)
from .processes import extraction_pool
from .settings import crawl_settings, setting_int

logger = logging.getLogger(__name__)
_Prepared = tuple[Extraction, StoryIdentity]

# Pages extracted ahead of storing, per process: enough to keep every process
# busy while this one stores, few enough that memory stays flat.
AHEAD_PER_PROCESS = 4
# Starting a process costs about what extracting a dozen pages does, so the
# first pages are extracted here and the pool starts only for a bigger run.
POOL_AFTER_PAGES = 16


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


class _Extractor:
    """Extracts pages in a process pool, or in this process when there is one process."""

    def __init__(self, processes: int, min_pages: int) -> None:
        self.min_pages = min_pages
        self.processes = processes
        self.submitted = 0
        self.pool: ProcessPoolExecutor | None = None

    def submit(self, page: FetchedPage, template: Mapping[int, int]) -> Future[_Prepared]:
        self.submitted += 1
        if self.pool is None and self.processes > 1 and self.submitted == POOL_AFTER_PAGES:
            self.pool = extraction_pool(self.processes - 1)
        if self.pool is not None:
            try:
                return self.pool.submit(prepare_story, page, template, self.min_pages)
            except BrokenProcessPool:
                self._broken()
        done: Future[_Prepared] = Future()
        try:
            done.set_result(prepare_story(page, template, self.min_pages))
        except NotAStory as exc:
            done.set_exception(exc)
        return done

    def result(
        self, future: Future[_Prepared], page: FetchedPage, template: Mapping[int, int]
    ) -> _Prepared:
        try:
            return future.result()
        except BrokenProcessPool:
            self._broken()
            return prepare_story(page, template, self.min_pages)

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


def reprocess(
    config: Config,
    *,
    source: str | None = None,
    since: datetime | None = None,
    everything: bool = False,
    processes: int | None = None,
) -> ReprocessSummary:
    """Re-extract the latest version of every article (of ``source``, fetched since ``since``)
    that an older extractor produced, or of every article with ``everything``, with
    ``processes`` processes, this one included (default: one per CPU)."""
    settings = crawl_settings(config)
    min_pages = setting_int(settings, "NEWSARCHIVE_TEMPLATE_MIN_PAGES")
    summary = ReprocessSummary(processes=processes or _usable_cpus())
    templates: dict[str, dict[int, int]] = {}
    began = time.perf_counter()
    with (
        CrawlStore(
            config.database_url, near_duplicate_threshold=config.dedupe.near_duplicate_threshold
        ) as store,
        _Extractor(summary.processes, min_pages) as extractor,
    ):
        store.migrate()
        ahead: deque[tuple[ArchivedResponse, FetchedPage, Future[_Prepared]]] = deque()
        for response in store.archived_responses(config.warc_dir, source=source, since=since):
            summary.examined += 1
            if not everything and response.extractor_version == EXTRACTOR_VERSION:
                summary.current += 1
                continue
            if response.source not in templates:
                templates[response.source] = store.template(response.source)
            page = archived_page(response)
            ahead.append((response, page, extractor.submit(page, templates[response.source])))
            if len(ahead) >= AHEAD_PER_PROCESS * summary.processes:
                _store(ahead.popleft(), extractor, store, templates, summary)
        while ahead:
            _store(ahead.popleft(), extractor, store, templates, summary)
    summary.seconds = time.perf_counter() - began
    return summary


def _usable_cpus() -> int:
    # The CPUs this process may run on (a container or taskset may allow fewer than exist).
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def _store(
    queued: tuple[ArchivedResponse, FetchedPage, Future[_Prepared]],
    extractor: _Extractor,
    store: CrawlStore,
    templates: Mapping[str, Mapping[int, int]],
    summary: ReprocessSummary,
) -> None:
    response, page, future = queued
    try:
        extraction, identity = extractor.result(future, page, templates[response.source])
    except NotAStory:
        summary.empty += 1
        logger.warning(
            "[%s] article %d: no story extracted now from %s",
            response.source,
            response.article_id,
            response.url,
        )
        return
    outcome = store_story(page, extraction, identity, store)
    summary.outcomes[outcome.value] += 1
    if outcome is not Outcome.UNCHANGED:
        logger.info("[%s] article %d: %s", response.source, response.article_id, outcome)
