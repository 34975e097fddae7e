"""The ``crawl_runs`` log: a row per crawl of a source, opened at start and closed with counters."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, select, update

from .articles import ensure_source
from .engine import read_session, write_session
from .models import CrawlRun, Source, utcnow

COUNTERS = ("pages", "new", "updated", "unchanged", "duplicates", "errors")
STATUSES = ("running", "ok", "failed", "timeout", "interrupted")


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
        return [
            RunRecord(
                id=run.id,
                source=name,
                started_at=run.started_at,
                finished_at=run.finished_at,
                status=run.status,
                error=run.error,
                **{k: getattr(run, k) for k in COUNTERS},
            )
            for run, name in session.execute(stmt)
        ]
