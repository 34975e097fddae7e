"""Prometheus ``/metrics`` for the daemon and workers, read from the database at scrape time.

Crawls run in child processes (or on other machines), so nothing is counted
in this process: every figure comes from ``crawl_runs`` and the source health
checks (:mod:`newsarchive.storage.health`). Run totals are summed once per
finished run: rows up to the oldest still-running run are folded into totals
kept here, and each scrape reads only the rows after them (by primary key),
so a scrape stays cheap however long the daemon has been running.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from prometheus_client import CollectorRegistry, start_http_server
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError

from newsarchive.config import Config, ConfigError
from newsarchive.storage.engine import read_session
from newsarchive.storage.health import CHECKS, source_health
from newsarchive.storage.models import CrawlRun, RunStatus, Source
from newsarchive.storage.runs import COVERAGE_FIELDS

logger = logging.getLogger(__name__)

K = TypeVar("K")

# crawl_runs counter columns and the outcome label each one is exported as.
OUTCOMES = {"new": "new", "updated": "updated", "unchanged": "unchanged", "duplicates": "duplicate"}


RUN_COLUMNS = (
    CrawlRun.id,
    CrawlRun.status,
    CrawlRun.finished_at,
    CrawlRun.new,
    CrawlRun.updated,
    CrawlRun.unchanged,
    CrawlRun.duplicates,
    CrawlRun.http_statuses,
    CrawlRun.warc_bytes,
)


@dataclass(frozen=True, slots=True)
class RunRow:
    """The columns of a ``crawl_runs`` row the totals are summed from (RUN_COLUMNS order)."""

    id: int
    status: RunStatus
    finished_at: datetime | None
    new: int
    updated: int
    unchanged: int
    duplicates: int
    http_statuses: dict[str, int] | None
    warc_bytes: int


@dataclass
class RunTotals:
    """Sums over finished runs, per source (and status, outcome or HTTP code)."""

    runs: Counter[tuple[str, str]] = field(default_factory=Counter)
    articles: Counter[tuple[str, str]] = field(default_factory=Counter)
    responses: Counter[tuple[str, str]] = field(default_factory=Counter)
    warc_bytes: Counter[str] = field(default_factory=Counter)
    last_success: dict[str, float] = field(default_factory=dict)

    def add(self, source: str, run: RunRow) -> None:
        self.runs[source, str(run.status)] += 1
        for column, outcome in OUTCOMES.items():
            self.articles[source, outcome] += getattr(run, column)
        for code, count in (run.http_statuses or {}).items():
            self.responses[source, code] += int(count)
        self.warc_bytes[source] += run.warc_bytes or 0
        if run.status == RunStatus.OK and run.finished_at is not None:
            at = run.finished_at.timestamp()
            self.last_success[source] = max(at, self.last_success.get(source, at))

    def plus(self, other: RunTotals) -> RunTotals:
        last = dict(self.last_success)
        for source, at in other.last_success.items():
            last[source] = max(at, last.get(source, at))
        return RunTotals(
            _sum(self.runs, other.runs),
            _sum(self.articles, other.articles),
            _sum(self.responses, other.responses),
            _sum(self.warc_bytes, other.warc_bytes),
            last,
        )


def _sum(a: Counter[K], b: Counter[K]) -> Counter[K]:
    # Not a + b: that drops zero counts, and a counter must not vanish from /metrics.
    total = Counter(a)
    total.update(b)
    return total


class RunTotalsReader:
    """Run totals, each finished run read once (see the module docstring)."""

    def __init__(self) -> None:
        self.settled = RunTotals()
        self.watermark = 0
        """Every run with an id up to this is finished and summed in ``settled``."""
        self._lock = threading.Lock()

    def read(self, engine: Engine) -> RunTotals:
        with self._lock, read_session(engine) as session:
            rows = session.execute(
                # Columns, not entities: the first scrape of a long-running archive reads
                # every run, and building ORM objects for them was most of its time.
                select(Source.name, *RUN_COLUMNS)
                .join(Source, Source.id == CrawlRun.source_id)
                .where(CrawlRun.id > self.watermark)
                .order_by(CrawlRun.id)
                .execution_options(yield_per=5000)
            )
            fresh = RunTotals()
            settled = True
            for source, *values in rows:
                run = RunRow(*values)
                if run.status == RunStatus.RUNNING:
                    settled = False  # its counters are not known yet: nor settled are the next
                elif settled:
                    self.settled.add(source, run)
                    self.watermark = run.id
                else:
                    fresh.add(source, run)
            return self.settled.plus(fresh)


def _family(
    kind: type[CounterMetricFamily] | type[GaugeMetricFamily],
    name: str,
    documentation: str,
    labels: list[str],
    values: Iterable[tuple[tuple[str, ...], float]],
) -> Metric:
    family = kind(name, documentation, labels=labels)
    for label_values, value in sorted(values):
        family.add_metric(list(label_values), value)
    return family


class ArchiveCollector(Collector):
    """The archive's crawl and health figures, collected from the database at each scrape."""

    def __init__(self, engine: Engine, config: Callable[[], Config]) -> None:
        self.engine = engine
        self.config = config
        self.totals = RunTotalsReader()

    def describe(self) -> list[Metric]:
        return []  # registering must not query the database

    def collect(self) -> Iterator[Metric]:
        config = self.config()
        try:
            metrics = list(self._database_metrics(config))
        except SQLAlchemyError as exc:
            logger.error("/metrics: the database could not be read: %s", exc)
            metrics = []
        up = GaugeMetricFamily(
            "newsarchive_database_up", "1 if the archive database answered this scrape"
        )
        up.add_metric([], 1 if metrics else 0)
        yield up
        yield from metrics
        yield from _queue_depth(config)

    def _database_metrics(self, config: Config) -> Iterator[Metric]:
        totals = self.totals.read(self.engine)
        yield _family(
            CounterMetricFamily,
            "newsarchive_crawl_runs",
            "Finished crawl runs by source and status",
            ["source", "status"],
            totals.runs.items(),
        )
        yield _family(
            CounterMetricFamily,
            "newsarchive_articles",
            "Stories stored by finished runs, by outcome",
            ["source", "outcome"],
            totals.articles.items(),
        )
        yield _family(
            CounterMetricFamily,
            "newsarchive_http_responses",
            "HTTP responses received by finished runs, by status code",
            ["source", "code"],
            totals.responses.items(),
        )
        yield _family(
            CounterMetricFamily,
            "newsarchive_warc_bytes",
            "Bytes written to WARC files by finished runs",
            ["source"],
            [((source,), n) for source, n in totals.warc_bytes.items()],
        )
        yield _family(
            GaugeMetricFamily,
            "newsarchive_last_success_timestamp_seconds",
            "When the source's last ok run finished (Unix time)",
            ["source"],
            [((source,), at) for source, at in totals.last_success.items()],
        )
        with read_session(self.engine) as session:
            health = source_health(session, config)
        yield _family(
            GaugeMetricFamily,
            "newsarchive_field_coverage_ratio",
            "Share of the last run's stories that have the field (last run that stored stories)",
            ["source", "field"],
            (
                ((h.source, name), h.coverage.get(name, 0.0))
                for h in health
                if h.coverage
                for name in COVERAGE_FIELDS
            ),
        )
        yield _family(
            GaugeMetricFamily,
            "newsarchive_source_health",
            "1 while the source health check is raised, else 0 (see `newsarchive status`)",
            ["source", "check"],
            (((h.source, check), float(h.flagged(check))) for h in health for check in CHECKS),
        )


def _queue_depth(config: Config) -> Iterator[Metric]:
    if getattr(config, "cluster", None) is None:
        return
    try:
        # Only a cluster has a queue; its module (and broker client) is loaded only then.
        from newsarchive.scheduler.cluster import queue_depth  # type: ignore[import-not-found]

        depth = queue_depth(config)
    except Exception as exc:
        logger.error("/metrics: the queue depth could not be read: %s", exc)
        return
    if depth is not None:
        gauge = GaugeMetricFamily("newsarchive_queue_depth", "Crawl tasks waiting in the queue")
        gauge.add_metric([], depth)
        yield gauge


def metrics_registry(engine: Engine, config: Callable[[], Config]) -> CollectorRegistry:
    """A registry holding only the archive's collector (no process metrics of this process)."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(ArchiveCollector(engine, config))
    return registry


def serve_metrics(
    config: Config, engine: Engine, *, current_config: Callable[[], Config] | None = None
) -> None:
    """Serve ``/metrics`` on ``[metrics] listen`` from a background thread; nothing if unset.

    ``current_config`` gives the config in force at each scrape (the daemon's
    changes on SIGHUP). ConfigError when the address cannot be listened on.
    """
    if config.metrics.listen is None:
        return
    registry = metrics_registry(engine, current_config or (lambda: config))
    try:
        start_http_server(config.metrics.port, addr=config.metrics.host, registry=registry)
    except OSError as exc:
        raise ConfigError(
            f"{config.path or 'config'}: [metrics] listen = {config.metrics.listen!r}:"
            f" cannot listen there ({exc.strerror or exc})"
        ) from None
    logger.info("serving /metrics on http://%s/metrics", config.metrics.listen)
