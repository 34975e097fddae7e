"""Run one crawl of the configured sources in this process and record each in ``crawl_runs``."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

# Imported here, at a shallow stack, not by the engine's start-up: the module's
# deprecated-class shims call inspect.stack(), whose cost grows with the frames
# above it (Twisted's deferreds at start-up): ~0.5 CPU-s of every crawl's start.
import scrapy.core.downloader.handlers.http11  # noqa: F401
from scrapy.crawler import Crawler, CrawlerProcess
from scrapy.settings import Settings

from newsarchive.config import Config, SourceConfig
from newsarchive.storage import CrawlStore, StorageError
from newsarchive.storage.runs import RunCounters, RunFigures, RunStatus

from .context import CrawlContext, bind_context
from .coverage import field_coverage
from .pipelines.store import DATABASE_UNAVAILABLE, STORE_ERRORS, STORE_FAILURE
from .settings import crawl_settings, setting_float
from .spiders.news import NewsSpider
from .warc import WARC_BYTES

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
    DATABASE_UNAVAILABLE: RunStatus.FAILED,
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
    "store_errors": STORE_ERRORS,
}
# The outcomes of a story that reached the database.
STORED = ("new", "updated", "unchanged", "duplicates")
RESPONSE_STATUS_STAT = "downloader/response_status_count/"
"""Scrapy's count of responses per HTTP status (every hop, retries included)."""


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
    figures: RunFigures = field(default_factory=RunFigures)

    def counters(self) -> RunCounters:
        return RunCounters.of(self)


def run_figures(stats: Mapping[str, Any]) -> RunFigures:
    """What a crawl's Scrapy stats say about its responses, stories and WARC output."""
    statuses = {
        key.removeprefix(RESPONSE_STATUS_STAT): int(value)
        for key, value in stats.items()
        if key.startswith(RESPONSE_STATUS_STAT)
    }
    return RunFigures(
        http_statuses=dict(sorted(statuses.items())),
        field_coverage=field_coverage(stats),
        warc_bytes=int(stats.get(WARC_BYTES, 0)),
    )


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
        if refused := stat("newsarchive/refused_address"):
            # Not down: this crawl refused to connect (crawler/addresses.py).
            error = (
                f"no page could be fetched: {refused} requests to private addresses refused"
                " (allow them with [crawl] allow_private_networks)"
            )
    counters = {counter: stat(key) for counter, key in COUNTER_STATS.items()}
    store_errors = counters["store_errors"]
    if store_errors:
        # A crawl that fetched stories and lost some is not "ok": the archive,
        # not the site, needs looking at.
        stored = sum(counters[k] for k in STORED)
        lost = f"{store_errors} of {store_errors + stored} stories could not be stored"
        if status is RunStatus.OK:
            status = RunStatus.DEGRADED if stored else RunStatus.FAILED
        failure = stats.get(STORE_FAILURE)
        if reason == DATABASE_UNAVAILABLE:
            error = failure or error
        else:
            error = "; ".join(filter(None, (error, lost, failure)))
    return CrawlSummary(
        source=source,
        run_id=run_id,
        status=status,
        error=error,
        pages=stat("response_received_count"),
        errors=errors,
        figures=run_figures(stats),
        **counters,
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
    settings = crawl_settings(config)
    settings.setdict(overrides or {}, priority="cmdline")
    # One engine for the whole process: every source's crawl, its lock and its run.
    with CrawlStore(
        config.database_url,
        near_duplicate_threshold=config.dedupe.near_duplicate_threshold,
        retry_seconds=setting_float(settings, "NEWSARCHIVE_STORE_RETRY_SECONDS"),
    ) as store:
        store.migrate()
        summaries = _crawl(config, sources, store, settings, on_run_started, stop_requested)
    return [summaries[s.name] for s in sources]


def _crawl(
    config: Config,
    sources: list[SourceConfig],
    store: CrawlStore,
    settings: Settings,
    on_run_started: Callable[[str, int], None] | None,
    stop_requested: Callable[[], bool] | None,
) -> dict[str, CrawlSummary]:
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
            run_id = store.start_run(source.name, worker=settings.get("NEWSARCHIVE_WORKER"))
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
            summary = _finish_run(store, summary, run_id)
            logger.log(
                logging.INFO
                if summary.status in (RunStatus.OK, RunStatus.INTERRUPTED)
                else logging.WARNING,
                "[%s] crawl %s (run %d): %s%s",
                source.name,
                summary.status,
                run_id,
                ", ".join(f"{k}={v}" for k, v in summary.counters().as_dict().items()),
                f"; {summary.error}" if summary.error else "",
            )
            summaries[source.name] = summary
    return summaries


def _finish_run(store: CrawlStore, summary: CrawlSummary, run_id: int) -> CrawlSummary:
    """Record the run's end; the summary as it then stands.

    The store waits its retry bound for the database. If it stays away the run
    row is left ``running`` (the next crawl of the source marks it interrupted),
    and the summary, still printed, is ``failed``: its outcome was not recorded.
    """
    try:
        store.finish_run(run_id, summary.status, summary.counters(), summary.error, summary.figures)
    except StorageError as exc:
        logger.error(
            "[%s] could not record the end of run %d (%s): the next crawl marks it interrupted",
            summary.source,
            run_id,
            exc,
        )
        not_recorded = f"run {summary.status} but not recorded: {exc}"
        return dataclasses.replace(
            summary,
            status=RunStatus.FAILED,
            error="; ".join(filter(None, (summary.error, not_recorded))),
        )
    return summary
