"""Run one crawl of the configured sources in this process and record each in ``crawl_runs``."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from scrapy.crawler import Crawler, CrawlerProcess

from newsarchive.config import Config, SourceConfig
from newsarchive.storage import create_archive_engine, ensure_schema
from newsarchive.storage.runs import finish_run, start_run

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
    """The outcome of one source's crawl, as printed and stored in ``crawl_runs``."""

    source: str
    run_id: int
    status: str
    pages: int
    new: int
    updated: int
    unchanged: int
    duplicates: int
    errors: int
    error: str | None = None

    def counters(self) -> dict[str, int]:
        return {
            "pages": self.pages,
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "duplicates": self.duplicates,
            "errors": self.errors,
        }


def _summarise(source: str, run_id: int, crawler: Crawler) -> CrawlSummary:
    stats = crawler.stats.get_stats() if crawler.stats else {}

    def stat(key: str) -> int:
        return int(stats.get(key, 0))

    reason = stats.get("finish_reason", "not started")
    status = FINISH_STATUS.get(reason, "failed")
    spider_exceptions = sum(v for k, v in stats.items() if k.startswith("spider_exceptions/"))
    return CrawlSummary(
        source=source,
        run_id=run_id,
        status=status,
        pages=stat("response_received_count"),
        new=stat("newsarchive/new"),
        updated=stat("newsarchive/updated"),
        unchanged=stat("newsarchive/unchanged"),
        duplicates=stat("newsarchive/duplicates"),
        errors=stat("newsarchive/errors") + spider_exceptions,
        error=None if status in ("ok", "interrupted") else f"crawl ended: {reason}",
    )


def run_crawl(
    config: Config, sources: list[SourceConfig], *, overrides: dict[str, object] | None = None
) -> list[CrawlSummary]:
    """Crawl ``sources`` once, together, in this process; blocks until all are done.

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
    for source in sources:
        run_id = start_run(engine, source.name)
        crawler = process.create_crawler(NewsSpider)
        process.crawl(crawler, source=source, crawl_run_id=run_id)
        started.append((source, run_id, crawler))
        logger.info("[%s] crawl started (run %d)", source.name, run_id)
    process.start()

    summaries = []
    for source, run_id, crawler in started:
        summary = _summarise(source.name, run_id, crawler)
        finish_run(engine, run_id, summary.status, summary.counters(), summary.error)
        logger.info(
            "[%s] crawl %s (run %d): %s",
            source.name,
            summary.status,
            run_id,
            ", ".join(f"{k}={v}" for k, v in summary.counters().items()),
        )
        summaries.append(summary)
    engine.dispose()
    return summaries
