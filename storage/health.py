"""Per-source health, judged against each source's own history in ``crawl_runs``.

Four checks, each a :class:`HealthFlag` with the reason in words:

- ``silent``: no run has found a new story for ``[metrics] silent_after_intervals``
  (default 4) of the source's usual intervals, the median gap between its last
  runs that found new stories (at least :data:`MIN_NEW_STORY_RUNS` of them).
- ``coverage_drop``: a field (text, title, published_at, authors) the source's
  stories usually have (on at least :data:`MIN_BASELINE_COVERAGE` of them, over
  its previous :data:`BASELINE_RUNS` runs with stories) is on less than
  ``[metrics] coverage_drop_ratio`` (default 0.5) of that in its last run with
  at least :data:`MIN_COVERAGE_STORIES` stories: the site changed and extraction
  no longer finds it.
- ``blocked``: at least ``[metrics] blocked_share`` (default 0.25) of the last
  run's responses were 403 or 429, and that share is :data:`BLOCKED_JUMP` above
  the source's usual share.
- ``failing``: the last ``[daemon] failure_backoff_after`` runs failed or timed
  out (the rule the daemon backs off by).

The queries read a few rows per source through ``ix_crawl_runs_source_started``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from statistics import median
from typing import TYPE_CHECKING

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from .models import CrawlRun, RunStatus, Source
from .runs import COVERAGE_FIELDS, consecutive_failures

if TYPE_CHECKING:
    from newsarchive.config import Config

CHECKS = ("silent", "coverage_drop", "blocked", "failing")

HISTORY_RUNS = 50
"""Runs read for the failure streak and the blocked baseline."""
MIN_NEW_STORY_RUNS = 3
"""Runs with new stories needed before a source's usual interval is trusted."""
NEW_STORY_RUNS = 20
"""Runs with new stories the usual interval is the median gap of."""
BASELINE_RUNS = 10
MIN_BASELINE_RUNS = 3
MIN_COVERAGE_STORIES = 3
"""A run with fewer stories says too little about coverage to be judged."""
MIN_BASELINE_COVERAGE = 0.5
"""Fields on fewer of a source's stories than this are not ones it reliably has."""
BLOCKED_STATUSES = ("403", "429")
BLOCKED_JUMP = 0.2
MIN_BLOCKED_RESPONSES = 3


@dataclass(frozen=True)
class HealthFlag:
    check: str
    """One of :data:`CHECKS`."""
    reason: str


@dataclass(frozen=True)
class SourceHealth:
    source: str
    flags: list[HealthFlag] = field(default_factory=list)
    coverage: dict[str, float] | None = None
    """Field shares of the last run that stored stories (``stories``: how many)."""

    def flagged(self, check: str) -> bool:
        return any(f.check == check for f in self.flags)


def _runs(source_id: int) -> Select[tuple[CrawlRun]]:
    return (
        select(CrawlRun)
        .where(CrawlRun.source_id == source_id, CrawlRun.status != RunStatus.RUNNING)
        .order_by(CrawlRun.started_at.desc(), CrawlRun.id.desc())
    )


def _duration(delta: timedelta) -> str:
    seconds = int(delta.total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds / size:.1f}{unit}"
    return f"{seconds}s"


def _silent(session: Session, source_id: int, now: datetime, intervals: float) -> HealthFlag | None:
    starts = list(
        session.scalars(
            _runs(source_id)
            .where(CrawlRun.new > 0)
            .with_only_columns(CrawlRun.started_at)
            .limit(NEW_STORY_RUNS)
        )
    )
    if len(starts) < MIN_NEW_STORY_RUNS:
        return None
    usual = median(a - b for a, b in itertools.pairwise(starts))
    quiet = now - starts[0]
    if quiet <= usual * intervals:
        return None
    return HealthFlag(
        "silent",
        f"no new story for {_duration(quiet)} (usually one every {_duration(usual)};"
        f" silent after {intervals:g} intervals)",
    )


def _coverage_drop(
    session: Session, source_id: int, ratio: float
) -> tuple[HealthFlag | None, dict[str, float] | None]:
    with_stories = _runs(source_id).where(
        CrawlRun.new + CrawlRun.updated + CrawlRun.unchanged + CrawlRun.duplicates > 0
    )
    runs = [
        r.field_coverage
        for r in session.scalars(with_stories.limit(BASELINE_RUNS + 1))
        if r.field_coverage
    ]
    if not runs:
        return None, None
    last, baseline = runs[0], runs[1:]
    if len(baseline) < MIN_BASELINE_RUNS or last.get("stories", 0) < MIN_COVERAGE_STORIES:
        return None, last
    dropped = []
    for name in COVERAGE_FIELDS:
        usual = sum(r.get(name, 0.0) for r in baseline) / len(baseline)
        now = last.get(name, 0.0)
        if usual >= MIN_BASELINE_COVERAGE and now < usual * ratio:
            dropped.append(f"{name} on {now:.0%} of the last run's stories (usually {usual:.0%})")
    if not dropped:
        return None, last
    return HealthFlag("coverage_drop", "; ".join(dropped) + ": did the site change?"), last


def _blocked_share(statuses: dict[str, int]) -> tuple[int, int]:
    return sum(statuses.get(s, 0) for s in BLOCKED_STATUSES), sum(statuses.values())


def _blocked(runs: list[CrawlRun], threshold: float) -> HealthFlag | None:
    if not runs or not runs[0].http_statuses:
        return None
    blocked, total = _blocked_share(runs[0].http_statuses)
    if total < MIN_BLOCKED_RESPONSES:
        return None
    before = [_blocked_share(r.http_statuses) for r in runs[1:] if r.http_statuses]
    before = before[:BASELINE_RUNS]
    before_total = sum(t for _, t in before)
    usual = sum(b for b, _ in before) / before_total if before_total else 0.0
    share = blocked / total
    if share < threshold or share < usual + BLOCKED_JUMP:
        return None
    return HealthFlag(
        "blocked",
        f"{blocked} of {total} responses in the last run were 403/429 ({share:.0%};"
        f" usually {usual:.0%})",
    )


def _failing(runs: list[CrawlRun], after: int) -> HealthFlag | None:
    failures = consecutive_failures(runs)
    if failures < after:
        return None
    last = next((r for r in runs if r.status in (RunStatus.FAILED, RunStatus.TIMEOUT)), None)
    error = f" (last: {last.error})" if last is not None and last.error else ""
    return HealthFlag("failing", f"{failures} failed runs in a row{error}")


def source_health(
    session: Session, config: Config, now: datetime | None = None
) -> list[SourceHealth]:
    """The health of every configured source, in config order; a source never crawled
    has no flags."""
    now = now or datetime.now(UTC)
    thresholds = config.metrics
    ids = {name: id_ for name, id_ in session.execute(select(Source.name, Source.id))}
    report = []
    for source in config.sources:
        source_id = ids.get(source.name)
        if source_id is None:
            report.append(SourceHealth(source.name))
            continue
        runs = list(session.scalars(_runs(source_id).limit(HISTORY_RUNS)))
        coverage_flag, coverage = _coverage_drop(session, source_id, thresholds.coverage_drop_ratio)
        flags = [
            _silent(session, source_id, now, thresholds.silent_after_intervals),
            coverage_flag,
            _blocked(runs, thresholds.blocked_share),
            _failing(runs, config.daemon.failure_backoff_after),
        ]
        report.append(SourceHealth(source.name, [f for f in flags if f], coverage))
    return report
