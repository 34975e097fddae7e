"""What ``newsarchive status`` reports per source, computed from the config and ``crawl_runs``.

The next run time is what the daemon would choose (:func:`.timing.next_due`),
without its random jitter. With ``[cluster]``, also the queue's depth and the
workers seen in the last hour.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy import Engine

from newsarchive.config import Config
from newsarchive.storage.engine import read_session
from newsarchive.storage.health import HealthFlag, source_health
from newsarchive.storage.runs import (
    RunRecord,
    RunStatus,
    articles_per_source,
    consecutive_failures,
    recent_runs,
)

from .cluster.heartbeat import WorkerRecord, recent_workers
from .timing import next_due

HISTORY_RUNS = 50


@dataclass(frozen=True)
class SourceStatus:
    source: str
    schedule: str
    timezone: str
    last_run: RunRecord | None
    """The newest run, whatever its status (may be running)."""
    next_run: datetime
    articles: int
    failures: int
    """Failed or timed-out runs in a row, newest first."""
    failing: bool
    """At least ``failure_backoff_after`` failures in a row: crawled less often, reported."""
    flags: list[HealthFlag] = field(default_factory=list)
    """The source's raised health checks (storage.health), each with its reason."""

    @property
    def running(self) -> bool:
        return self.last_run is not None and self.last_run.status == RunStatus.RUNNING

    @property
    def degraded(self) -> bool:
        """The newest run fetched stories it could not store: not failing, not healthy."""
        return self.last_run is not None and self.last_run.status == RunStatus.DEGRADED


def source_statuses(
    config: Config, engine: Engine, now: datetime | None = None
) -> list[SourceStatus]:
    """One :class:`SourceStatus` per configured source, in config order."""
    now = now or datetime.now(UTC)
    articles = articles_per_source(engine)
    with read_session(engine) as session:
        health = {h.source: h.flags for h in source_health(session, config, now)}
    statuses = []
    for source in config.sources:
        runs = recent_runs(engine, source=source.name, limit=HISTORY_RUNS)
        failures = consecutive_failures(runs)
        statuses.append(
            SourceStatus(
                source=source.name,
                schedule=source.schedule,
                timezone=source.timezone,
                last_run=runs[0] if runs else None,
                next_run=next_due(source, runs, config.daemon, now),
                articles=articles.get(source.name, 0),
                failures=failures,
                failing=failures >= config.daemon.failure_backoff_after,
                flags=health.get(source.name, []),
            )
        )
    return statuses


@dataclass(frozen=True)
class ClusterStatus:
    queue: str
    queue_depth: int | None
    """Jobs waiting to be taken by a worker; None when the broker cannot be reached."""
    workers: list[WorkerRecord]
    """Seen in the last hour, most recently seen first."""


def cluster_status(config: Config, engine: Engine) -> ClusterStatus | None:
    """The queue and its workers; None without ``[cluster]``."""
    if config.cluster is None:
        return None
    from .cluster import queue_depth, require_cluster_extra  # Celery: only for a cluster

    require_cluster_extra(config)

    return ClusterStatus(
        queue=config.cluster.queue,
        queue_depth=queue_depth(config),
        workers=recent_workers(engine),
    )
