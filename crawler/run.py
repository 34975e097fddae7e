"""Run one crawl of the configured sources in this process and record each in ``crawl_runs``."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from scrapy.crawler import Crawler, CrawlerProcess

from newsarchive.config import Config, SourceConfig
from newsarchive.storage import create_archive_engine, ensure_schema
from newsarchive.storage.locks import source_lock
from newsarchive.storage.runs import finish_run, mark_stale_runs_interrupted, start_run

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
FINISH_STATUS = {"finished": "ok", "shutdown": "interrupted", "closespider_timeout": "timeout"}


@dataclass(frozen=True)
class CrawlSummary:
    """The outcome of one source's crawl, as printed and stored in ``crawl_runs``.

    ``status`` is a crawl_runs status, or ``busy`` (with no run) when another
    process was crawling the source and this crawl skipped it.
    """

    source: str
    run_id: int | None
    status: str
    pages: int
    new: int
    updated: int
    unchanged: int
    duplicates: int
    errors: int
    not_modified: int = 0
    """Conditional requests answered 304 (not counted in ``pages``)."""
    skipped: int = 0
    """Known articles not requested: the recrawl policy said they were not due."""
    error: str | None = None

    def counters(self) -> dict[str, int]:
        return {
            "pages": self.pages,
            "not_modified": self.not_modified,
            "skipped": self.skipped,
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "duplicates": self.duplicates,
            "errors": self.errors,
        }


def _summarise(
    source: str, run_id: int, crawler: Crawler, *, stop_requested: bool = False
) -> CrawlSummary:
    stats = crawler.stats.get_stats() if crawler.stats else {}

    def stat(key: str) -> int:
        return int(stats.get(key, 0))

    reason = stats.get("finish_reason", "not started")
    if reason == "not started" and stop_requested:
        reason = "shutdown"  # told to stop before its spider opened: nothing went wrong
    status = FINISH_STATUS.get(reason, "failed")
    spider_exceptions = sum(v for k, v in stats.items() if k.startswith("spider_exceptions/"))
    errors = stat("newsarchive/errors") + spider_exceptions
    error = None if status in ("ok", "interrupted") else f"crawl ended: {reason}"
    # A 304 (conditional refetch) or a redirect is the site answering, too.
    answered = sum(
        v
        for k, v in stats.items()
        if k.startswith("downloader/response_status_count/")
        and k.rsplit("/", 1)[1][:1] in ("2", "3")
    )
    if status == "ok" and errors and not answered:
        # Every request failed: the site is down or refusing us. Calling that
        # "ok" would hide a broken source from `status` and the daemon's backoff.
        status, error = "failed", f"no page could be fetched ({errors} errors); is the site down?"
    return CrawlSummary(
        source=source,
        run_id=run_id,
        status=status,
        pages=stat("response_received_count"),
        new=stat("newsarchive/new"),
        updated=stat("newsarchive/updated"),
        unchanged=stat("newsarchive/unchanged"),
        duplicates=stat("newsarchive/duplicates"),
        errors=errors,
        not_modified=stat("newsarchive/not_modified"),
        skipped=stat("newsarchive/skipped"),
        error=error,
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
    engine = create_archive_engine(config.database_url)
    ensure_schema(engine)
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
            if not locks.enter_context(source_lock(engine, source.name)):
                logger.warning("[%s] skipped: another process is crawling this source", source.name)
                summaries[source.name] = CrawlSummary(source.name, None, "busy", 0, 0, 0, 0, 0, 0)
                continue
            stale = mark_stale_runs_interrupted(engine, source.name)
            if stale:
                logger.warning(
                    "[%s] run(s) %s were left running by a killed crawl: marked interrupted",
                    source.name,
                    ", ".join(map(str, stale)),
                )
            run_id = start_run(engine, source.name)
            if on_run_started is not None:
                on_run_started(source.name, run_id)
            crawler = process.create_crawler(NewsSpider)
            process.crawl(
                crawler,
                source=source,
                crawl_run_id=run_id,
                recrawl_rules=config.recrawl_rules(source),
            )
            started.append((source, run_id, crawler))
            logger.info("[%s] crawl started (run %d)", source.name, run_id)
        if started:
            process.start()

        for source, run_id, crawler in started:
            stopped = stop_requested() if stop_requested is not None else False
            summary = _summarise(source.name, run_id, crawler, stop_requested=stopped)
            finish_run(engine, run_id, summary.status, summary.counters(), summary.error)
            logger.info(
                "[%s] crawl %s (run %d): %s",
                source.name,
                summary.status,
                run_id,
                ", ".join(f"{k}={v}" for k, v in summary.counters().items()),
            )
            summaries[source.name] = summary
    engine.dispose()
    return [summaries[s.name] for s in sources]
