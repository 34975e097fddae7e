"""The ``crawl_runs`` log: a row per crawl of a source, opened at start and closed with counters."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any, Self

from sqlalchemy import Engine, func, null, select, update

from .articles import ensure_source
from .engine import read_session, write_session
from .models import Article, CrawlRun, RunStatus, Source, utcnow

__all__ = [
    "ANSWERED_STATUSES",
    "COUNTERS",
    "FAILURE_STATUSES",
    "STATUSES",
    "RunCounters",
    "RunFigures",
    "RunRecord",
    "RunStatus",
]


@dataclass(frozen=True)
class RunCounters:
    """What one crawl run counted; the same names are ``crawl_runs`` columns."""

    pages: int = 0
    """Responses received (any status)."""
    not_modified: int = 0
    """Conditional requests answered 304 Not Modified."""
    skipped: int = 0
    """Known article URLs not requested: the recrawl policy said they were not due."""
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    duplicates: int = 0
    errors: int = 0
    """Pages that failed: HTTP errors, network errors, unusable content."""
    store_errors: int = 0
    """Stories fetched but not stored: the database refused them or could not be reached.

    Apart from ``errors`` because the remedy differs: a page error is the site's,
    a store error is the archive's own, and the run that had one is not ``ok``."""

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(RunCounters))

    @classmethod
    def from_mapping(cls, values: Mapping[str, int]) -> Self:
        """Counters from a name → count mapping (missing names are 0); ValueError for others."""
        unknown = set(values) - set(cls.names())
        if unknown:
            raise ValueError(f"unknown crawl run counters: {', '.join(sorted(unknown))}")
        return cls(**{k: int(v) for k, v in values.items()})

    @classmethod
    def of(cls, obj: Any) -> RunCounters:
        """The counters held by any object with counter attributes (a CrawlRun row, a record)."""
        return RunCounters(**{k: getattr(obj, k) for k in RunCounters.names()})

    def as_dict(self) -> dict[str, int]:
        """Name → count, in column order."""
        return {k: getattr(self, k) for k in RunCounters.names()}

    def __add__(self, other: RunCounters) -> RunCounters:
        return RunCounters(**{k: getattr(self, k) + getattr(other, k) for k in self.names()})


@dataclass(frozen=True)
class RunFigures:
    """What a run measured besides its counters, for source health and ``/metrics``."""

    http_statuses: dict[str, int] = field(default_factory=dict)
    """Responses received per HTTP status code (``{"200": 41, "404": 2}``)."""
    field_coverage: dict[str, float] | None = None
    """Share of the run's stored stories with each of COVERAGE_FIELDS, plus ``stories``
    (their number); None when the run stored none."""
    warc_bytes: int = 0
    """Bytes the run wrote to WARC files."""


COVERAGE_FIELDS = ("text", "title", "published_at", "authors")
"""The story fields whose coverage each run records."""

COUNTERS = RunCounters.names()
STATUSES = tuple(RunStatus)
# Outcomes that mean the source is broken; "interrupted" is an operator's stop, not a failure.
# "degraded" is not one either: the site answered, the archive lost some stories. Backing
# the source off would only delay fetching those stories again (they are due again, as
# their validators were not kept); `status` reports it and exits 1 instead.
FAILURE_STATUSES = (RunStatus.FAILED, RunStatus.TIMEOUT)
# Outcomes where the site answered the crawl: they end a streak of failures.
ANSWERED_STATUSES = (RunStatus.OK, RunStatus.DEGRADED)
STALE_RUN_ERROR = "the crawl process ended without finishing this run"


# kw_only: the counter fields come first (inherited, with defaults), the rest by name.
@dataclass(frozen=True, kw_only=True)
class RunRecord(RunCounters):
    """A ``crawl_runs`` row with its source's name: the run's counters and how it went."""

    id: int
    source: str
    started_at: datetime
    finished_at: datetime | None
    status: RunStatus
    error: str | None
    worker: str | None = None
    """The cluster worker that ran it; None for the daemon's and the CLI's crawls."""

    @property
    def counters(self) -> RunCounters:
        return RunCounters.of(self)

    @property
    def duration(self) -> float | None:
        """Seconds from start to finish, None while running."""
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


def start_run(engine: Engine, source: str, *, worker: str | None = None) -> int:
    """Open a ``running`` row for a crawl of ``source`` (run by cluster ``worker``); its id."""
    with write_session(engine) as session:
        run = CrawlRun(
            source_id=ensure_source(session, source), status=RunStatus.RUNNING, worker=worker
        )
        session.add(run)
        session.flush()
        return run.id


def finish_run(
    engine: Engine,
    run_id: int,
    status: RunStatus | str,
    counters: RunCounters | Mapping[str, int] = RunCounters(),
    error: str | None = None,
    figures: RunFigures | None = None,
) -> None:
    """Close a run with its outcome, the crawl's counters and (if given) its figures;
    ValueError for an unknown status.

    A mapping of counter names is accepted too, for callers not yet passing RunCounters.
    """
    status = RunStatus(status)
    if not isinstance(counters, RunCounters):
        counters = RunCounters.from_mapping(counters)
    measured = {}
    if figures is not None:
        measured = {
            "http_statuses": figures.http_statuses,
            # SQL NULL, not JSON null: "has coverage" is then a plain IS NOT NULL.
            "field_coverage": figures.field_coverage
            if figures.field_coverage is not None
            else null(),
            "warc_bytes": figures.warc_bytes,
        }
    with write_session(engine) as session:
        session.execute(
            update(CrawlRun)
            .where(CrawlRun.id == run_id)
            .values(
                status=status,
                error=error,
                finished_at=utcnow(),
                **counters.as_dict(),
                **measured,
            )
        )


def recent_runs(
    engine: Engine, *, source: str | None = None, limit: int = 20, before: int | None = None
) -> list[RunRecord]:
    """The latest runs, newest first; ``before`` starts below that run id (a page's last)."""
    stmt = select(CrawlRun, Source.name).join(Source).order_by(CrawlRun.id.desc()).limit(limit)
    if source is not None:
        stmt = stmt.where(Source.name == source)
    if before is not None:
        stmt = stmt.where(CrawlRun.id < before)
    with read_session(engine) as session:
        return [_record(run, name) for run, name in session.execute(stmt)]


def _record(run: CrawlRun, source: str) -> RunRecord:
    return RunRecord(
        id=run.id,
        source=source,
        started_at=run.started_at,
        finished_at=run.finished_at,
        status=run.status,
        error=run.error,
        worker=run.worker,
        **RunCounters.of(run).as_dict(),
    )


def get_run(engine: Engine, run_id: int) -> RunRecord | None:
    """One run by id."""
    stmt = select(CrawlRun, Source.name).join(Source).where(CrawlRun.id == run_id)
    with read_session(engine) as session:
        row = session.execute(stmt).first()
        return _record(*row) if row else None


def abandon_run(engine: Engine, run_id: int, status: RunStatus | str, error: str) -> bool:
    """Close a run whose process died before closing it itself; False if it was closed already.

    Its counters stay as they are: only the dead process knew them.
    """
    status = RunStatus(status)
    if status is RunStatus.RUNNING:
        raise ValueError(f"cannot close a run as {status.value!r}")
    with write_session(engine) as session:
        result = session.execute(
            update(CrawlRun)
            .where(CrawlRun.id == run_id, CrawlRun.status == RunStatus.RUNNING)
            .values(status=status, error=error, finished_at=utcnow())
        )
        return bool(result.rowcount)


def sources_with_running_runs(engine: Engine) -> list[str]:
    """Names of sources that have a ``running`` row (live crawls or stale ones)."""
    stmt = (
        select(Source.name)
        .join(CrawlRun, CrawlRun.source_id == Source.id)
        .where(CrawlRun.status == RunStatus.RUNNING)
        .distinct()
        .order_by(Source.name)
    )
    with read_session(engine) as session:
        return list(session.scalars(stmt))


def mark_stale_runs_interrupted(
    engine: Engine, source: str, error: str = STALE_RUN_ERROR
) -> list[int]:
    """Mark ``source``'s ``running`` rows ``interrupted``; returns their ids.

    Only call this while holding the source's crawl lock (storage.locks): then no
    live crawl of the source exists, so every ``running`` row is left over from a
    process that was killed.
    """
    with write_session(engine) as session:
        ids = list(
            session.scalars(
                select(CrawlRun.id)
                .join(Source)
                .where(Source.name == source, CrawlRun.status == RunStatus.RUNNING)
            )
        )
        if ids:
            session.execute(
                update(CrawlRun)
                .where(CrawlRun.id.in_(ids))
                .values(status=RunStatus.INTERRUPTED, error=error, finished_at=utcnow())
            )
        return ids


def consecutive_failures(runs: Sequence[RunRecord | CrawlRun]) -> int:
    """How many of ``runs`` (newest first) failed in a row before the last success.

    Running and interrupted runs neither count nor break the streak; ok and degraded
    runs (the site answered) break it.
    """
    streak = 0
    for run in runs:
        if run.status in FAILURE_STATUSES:
            streak += 1
        elif run.status in ANSWERED_STATUSES:
            break
    return streak


def articles_per_source(engine: Engine) -> dict[str, int]:
    """How many articles each source has stored (by the source that first stored them)."""
    stmt = (
        select(Source.name, func.count(Article.id))
        .join(Article, Article.source_id == Source.id)
        .group_by(Source.name)
    )
    with read_session(engine) as session:
        return {name: count for name, count in session.execute(stmt)}
