"""When a source is due: its trigger, its regular next run, and the backoff of a failing source.

Everything here is computed from the ``crawl_runs`` history, never from state
the daemon keeps, so a restarted daemon and the ``status`` command reach the
same answer as the daemon that was running.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger

from newsarchive.config import DaemonConfig, SourceConfig, schedule_interval_seconds
from newsarchive.storage.runs import RunRecord, RunStatus, consecutive_failures

from .cron import crontab_trigger

# Runs that did the crawl's work, for better or worse; an interrupted or
# still-running row does not make the next run any less due. A degraded run
# crawled the site: the next one is due on schedule, and fetches again the
# stories it could not store.
COMPLETED_STATUSES = (RunStatus.OK, RunStatus.DEGRADED, RunStatus.FAILED, RunStatus.TIMEOUT)


def source_trigger(source: SourceConfig) -> BaseTrigger:
    """The APScheduler trigger for the source's ``schedule``, ``timezone`` and ``jitter``."""
    zone = ZoneInfo(source.timezone)
    interval = schedule_interval_seconds(source.schedule)
    if interval is not None:
        return IntervalTrigger(seconds=interval, timezone=zone, jitter=source.jitter or None)
    return crontab_trigger(source.schedule, timezone=zone, jitter=source.jitter)


def regular_interval(source: SourceConfig, around: datetime) -> float:
    """Seconds between two regular runs near ``around`` (for cron: its next two fire times)."""
    interval = schedule_interval_seconds(source.schedule)
    if interval is not None:
        return float(interval)
    trigger = crontab_trigger(source.schedule, timezone=ZoneInfo(source.timezone))
    first = trigger.get_next_fire_time(None, around)
    second = trigger.get_next_fire_time(first, first + timedelta(seconds=1))
    return (second - first).total_seconds()


def regular_next_run(source: SourceConfig, last_started: datetime) -> datetime:
    """The first regular run time after a run that started at ``last_started``."""
    interval = schedule_interval_seconds(source.schedule)
    if interval is not None:
        return last_started + timedelta(seconds=interval)
    trigger = crontab_trigger(source.schedule, timezone=ZoneInfo(source.timezone))
    # Strictly after: a run started at 06:00:00.0 must not be due again at 06:00.
    return trigger.get_next_fire_time(None, last_started + timedelta(seconds=1))


def backoff_seconds(
    source: SourceConfig, failures: int, daemon: DaemonConfig, now: datetime
) -> float:
    """How long after its last run a source that failed ``failures`` times in a row waits.

    Zero below ``failure_backoff_after``; then the regular interval doubled for
    every further failure, capped at ``failure_backoff_max``.
    """
    if failures < daemon.failure_backoff_after:
        return 0.0
    doublings = min(failures - daemon.failure_backoff_after + 1, 32)
    return min(regular_interval(source, now) * 2**doublings, float(daemon.failure_backoff_max))


def next_due(
    source: SourceConfig, runs: Sequence[RunRecord], daemon: DaemonConfig, now: datetime
) -> datetime:
    """When ``source`` should next be crawled, given its runs (newest first).

    Never crawled, or overdue after downtime: ``now`` (one run, however many were
    missed). A failing source is pushed back by :func:`backoff_seconds`.
    """
    completed = [r for r in runs if r.status in COMPLETED_STATUSES]
    if not completed:
        return now
    last = completed[0]
    due = regular_next_run(source, last.started_at)
    delay = backoff_seconds(source, consecutive_failures(list(runs)), daemon, now)
    if delay:
        due = max(due, (last.finished_at or last.started_at) + timedelta(seconds=delay))
    return max(due, now)


def upcoming_runs(source: SourceConfig, now: datetime, count: int = 3) -> list[datetime]:
    """The next ``count`` regular run times after ``now`` (no jitter, no backoff)."""
    times: list[datetime] = []
    previous = now
    for _ in range(count):
        interval = schedule_interval_seconds(source.schedule)
        if interval is not None:
            previous = previous + timedelta(seconds=interval)
        else:
            previous = regular_next_run(source, previous)
        times.append(previous)
    return times
