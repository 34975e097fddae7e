"""Run one crawl of the configured sources in this process and record each in ``crawl_runs``."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from scrapy.crawler import Crawler, CrawlerProcess

from newsarchive.config import Config, SourceConfig
from newsarchive.storage import CrawlStore
from newsarchive.storage.runs import RunCounters, RunStatus

from .context import CrawlContext, bind_context
from .settings import crawl_settings
from .spiders.news import NewsSpider

logger = logging.getLogger(__name__)

NOISY_LOGGERS = (
    "scrapy.middleware",
    "scrapy.utils.log",
    "scrapy.addons",
    "scrapy.crawler",
    "scrapy.extensions.telnet",
    "scrapy.core.engine",
)

# Scrapy's finish reasons and the crawl_runs status each one means.
FINISH_STATUS = {
    "finished": RunStatus.OK,
    "shutdown": RunStatus.INTERRUPTED,
    "closespider_timeout": RunStatus.TIMEOUT,
}
BUSY = "busy"
"""A summary's status when another process was crawling the source: no run was made."""

# The crawl's Scrapy stats behind each run counter (pages and errors are summed).
COUNTER_STATS = {
    "not_modified": "newsarchive/not_modified",
    "skipped": "newsarchive/skipped",
    "new": "newsarchive/new",
    "updated": "newsarchive/updated",
    "unchanged": "newsarchive/unchanged",
    "duplicates": "newsarchive/duplicates",
}


@dataclass(frozen=True, kw_only=True)
class CrawlSummary(RunCounters):
    """The outcome of one source's crawl, as printed and stored in ``crawl_runs``.

    ``status`` is a :class:`RunStatus`, or :data:`BUSY` (with no run) when another
    process was crawling the source and this crawl skipped it.
    """

    source: str
    run_id: int | None
    status: str
    error: str | None = None

    def counters(self) -> RunCounters:
        return RunCounters.of(self)


def _summarise(
    source: str, run_id: int, crawler: Crawler, *, stop_requested: bool = False
) -> CrawlSummary:
    stats = crawler.stats.get_stats() if crawler.stats else {}

    def stat(key: str) -> int:
        return int(stats.get(key, 0))

    reason = stats.get("finish_reason", "not started")
    if reason == "not started" and stop_requested:
        reason = "shutdown"  # told to stop before its spider opened: nothing went wrong
    status = FINISH_STATUS.get(reason, RunStatus.FAILED)
    spider_exceptions = sum(v for k, v in stats.items() if k.startswith("spider_exceptions/"))
    errors = stat("newsarchive/errors") + spider_exceptions
    error = None if status in (RunStatus.OK, RunStatus.INTERRUPTED) else f"crawl ended: {reason}"
    # A 304 (conditional refetch) or a redirect is the site answering, too.
    answered = sum(
        v
        for k, v in stats.items()
        if k.startswith("downloader/response_status_count/")
        and k.rsplit("/", 1)[1][:1] in ("2", "3")
    )
    if status is RunStatus.OK and errors and not answered:
        # Every request failed: the site is down or refusing us. Calling that
        # "ok" would hide a broken source from `status` and the daemon's backoff.
        status = RunStatus.FAILED
        error = f"no page could be fetched ({errors} errors); is the site down?"
    return CrawlSummary(
        source=source,
        run_id=run_id,
        status=status,
        error=error,
        pages=stat("response_received_count"),
        errors=errors,
        **{counter: stat(key) for counter, key in COUNTER_STATS.items()},
    )


def run_crawl(
    config: Config,
    sources: list[SourceConfig],
    *,
    overrides: dict[str, object] | None = None,
    on_run_started: Callable[[str, int], None] | None = None,
    stop_requested: Callable[[], bool] | None = None,
) -> list[CrawlSummary]:
    """Crawl ``sources`` once, together, in this process; blocks until all are done.

    Each source is crawled under its crawl lock (storage.locks): a source another
    process is crawling is skipped with a ``busy`` summary, and ``running`` rows
    left by a killed crawl of it are marked ``interrupted`` first.
    ``on_run_started(source, run_id)`` is called once a source's run row exists;
    ``stop_requested()`` tells whether the caller asked the crawl to stop (a crawl
    stopped before it began is then ``interrupted``, not ``failed``).

    Scrapy's reactor cannot restart, so call this at most once per process (the
    daemon runs each crawl in a child process).
    """
    # One engine for the whole process: every source's crawl, its lock and its run.
    with CrawlStore(
        config.database_url, near_duplicate_threshold=config.dedupe.near_duplicate_threshold
    ) as store:
        store.migrate()
        summaries = _crawl(config, sources, store, overrides, on_run_started, stop_requested)
    return [summaries[s.name] for s in sources]


def _crawl(
    config: Config,
    sources: list[SourceConfig],
    store: CrawlStore,
    overrides: dict[str, object] | None,
    on_run_started: Callable[[str, int], None] | None,
    stop_requested: Callable[[], bool] | None,
) -> dict[str, CrawlSummary]:
    settings = crawl_settings(config)
    settings.setdict(overrides or {}, priority="cmdline")
    process = CrawlerProcess(settings)
    if settings.get("LOG_LEVEL") != "DEBUG":
        # Scrapy's start-up inventory (middlewares, extensions, settings) buries
        # the per-source lines an operator reads; keep it for DEBUG. Set after
        # CrawlerProcess, whose logging set-up resets these loggers' levels.
        for name in NOISY_LOGGERS:
            logging.getLogger(name).setLevel(logging.WARNING)
    started: list[tuple[SourceConfig, int, Crawler]] = []
    summaries: dict[str, CrawlSummary] = {}
    # The locks are held until every run row is closed, so no other process
    # can take a row of ours for a stale one.
    with contextlib.ExitStack() as locks:
        for source in sources:
            if not locks.enter_context(store.source_lock(source.name)):
                logger.warning("[%s] skipped: another process is crawling this source", source.name)
                summaries[source.name] = CrawlSummary(source=source.name, run_id=None, status=BUSY)
                continue
            stale = store.mark_stale_runs_interrupted(source.name)
            if stale:
                logger.warning(
                    "[%s] run(s) %s were left running by a killed crawl: marked interrupted",
                    source.name,
                    ", ".join(map(str, stale)),
                )
            run_id = store.start_run(source.name)
            if on_run_started is not None:
                on_run_started(source.name, run_id)
            crawler = process.create_crawler(NewsSpider)
            bind_context(
                crawler,
                CrawlContext(
                    source=source,
                    store=store,
                    run_id=run_id,
                    recrawl_rules=tuple(config.recrawl_rules(source)),
                ),
            )
            process.crawl(crawler)
            started.append((source, run_id, crawler))
            logger.info("[%s] crawl started (run %d)", source.name, run_id)
        if started:
            process.start()

        for source, run_id, crawler in started:
            stopped = stop_requested() if stop_requested is not None else False
            summary = _summarise(source.name, run_id, crawler, stop_requested=stopped)
            store.finish_run(run_id, summary.status, summary.counters(), summary.error)
            logger.info(
                "[%s] crawl %s (run %d): %s",
                source.name,
                summary.status,
                run_id,
                ", ".join(f"{k}={v}" for k, v in summary.counters().as_dict().items()),
            )
            summaries[source.name] = summary
    return summaries
