"""The ``crawl_runs`` log: a row per crawl of a source, opened at start and closed with counters."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func, select, update

from .articles import ensure_source
from .engine import read_session, write_session
from .models import Article, CrawlRun, Source, utcnow

COUNTERS = (
    "pages",
    "not_modified",
    "skipped",
    "new",
    "updated",
    "unchanged",
    "duplicates",
    "errors",
)
STATUSES = ("running", "ok", "failed", "timeout", "interrupted")
# Outcomes that mean the source is broken; "interrupted" is an operator's stop, not a failure.
FAILURE_STATUSES = ("failed", "timeout")
STALE_RUN_ERROR = "the crawl process ended without finishing this run"


@dataclass(frozen=True)
class RunRecord:
    id: int
    source: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    error: str | None
    pages: int
    new: int
    updated: int
    unchanged: int
    duplicates: int
    errors: int
    not_modified: int = 0
    skipped: int = 0

    @property
    def duration(self) -> float | None:
        """Seconds from start to finish, None while running."""
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


def start_run(engine: Engine, source: str) -> int:
    """Open a ``running`` row for a crawl of ``source``; returns its id."""
    with write_session(engine) as session:
        run = CrawlRun(source_id=ensure_source(session, source), status="running")
        session.add(run)
        session.flush()
        return run.id


def finish_run(
    engine: Engine,
    run_id: int,
    status: str,
    counters: Mapping[str, int],
    error: str | None = None,
) -> None:
    """Close a run with its outcome and the pipeline's counters."""
    if status not in STATUSES:
        raise ValueError(f"unknown crawl run status {status!r}")
    values = {k: int(counters.get(k, 0)) for k in COUNTERS}
    with write_session(engine) as session:
        session.execute(
            update(CrawlRun)
            .where(CrawlRun.id == run_id)
            .values(status=status, error=error, finished_at=utcnow(), **values)
        )


def recent_runs(engine: Engine, *, source: str | None = None, limit: int = 20) -> list[RunRecord]:
    """The latest runs, newest first."""
    stmt = select(CrawlRun, Source.name).join(Source).order_by(CrawlRun.id.desc()).limit(limit)
    if source is not None:
        stmt = stmt.where(Source.name == source)
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
        **{k: getattr(run, k) for k in COUNTERS},
    )


def get_run(engine: Engine, run_id: int) -> RunRecord | None:
    """One run by id."""
    stmt = select(CrawlRun, Source.name).join(Source).where(CrawlRun.id == run_id)
    with read_session(engine) as session:
        row = session.execute(stmt).first()
        return _record(*row) if row else None


def abandon_run(engine: Engine, run_id: int, status: str, error: str) -> bool:
    """Close a run whose process died before closing it itself; False if it was closed already.

    Its counters stay as they are: only the dead process knew them.
    """
    if status not in STATUSES or status == "running":
        raise ValueError(f"cannot close a run as {status!r}")
    with write_session(engine) as session:
        result = session.execute(
            update(CrawlRun)
            .where(CrawlRun.id == run_id, CrawlRun.status == "running")
            .values(status=status, error=error, finished_at=utcnow())
        )
        return bool(result.rowcount)


def sources_with_running_runs(engine: Engine) -> list[str]:
    """Names of sources that have a ``running`` row (live crawls or stale ones)."""
    stmt = (
        select(Source.name)
        .join(CrawlRun, CrawlRun.source_id == Source.id)
        .where(CrawlRun.status == "running")
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
                .where(Source.name == source, CrawlRun.status == "running")
            )
        )
        if ids:
            session.execute(
                update(CrawlRun)
                .where(CrawlRun.id.in_(ids))
                .values(status="interrupted", error=error, finished_at=utcnow())
            )
        return ids


def consecutive_failures(runs: list[RunRecord]) -> int:
    """How many of ``runs`` (newest first) failed in a row before the last success.

    Running and interrupted runs neither count nor break the streak.
    """
    streak = 0
    for run in runs:
        if run.status in FAILURE_STATUSES:
            streak += 1
        elif run.status == "ok":
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
