"""Crawl run rows written straight into an archive, as a source's history for the health rules."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from newsarchive.storage import write_session
from newsarchive.storage.articles import ensure_source
from newsarchive.storage.models import CrawlRun, RunStatus


def add_runs(engine: Engine, source: str, runs: list[dict[str, Any]]) -> None:
    """Insert finished runs of ``source``; each dict gives ``started_at`` and any columns."""
    with write_session(engine) as session:
        source_id = ensure_source(session, source)
        for values in runs:
            values = {"status": RunStatus.OK, **values}
            values.setdefault("finished_at", values["started_at"] + timedelta(seconds=30))
            session.add(CrawlRun(source_id=source_id, **values))


def hourly(start: datetime, count: int, **values: Any) -> list[dict[str, Any]]:
    """``count`` runs an hour apart from ``start``, each with ``values``."""
    return [{"started_at": start + timedelta(hours=n), **values} for n in range(count)]
