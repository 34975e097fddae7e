"""Takedowns: a known story that stops answering is ``removed``; back again, ``restored``.

Each change is one ``article_events`` row plus ``articles.removed_at`` (the
current state, for filters and export), written in one transaction by a
conditional UPDATE: two crawls re-fetching the same story at once record the
change once, and a kill leaves either both or neither.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from .models import Article, ArticleEvent, utcnow


class EventKind(StrEnum):
    REMOVED = "removed"
    RESTORED = "restored"


@dataclass(frozen=True)
class EventRecord:
    """One recorded change of a story's availability."""

    article_id: int
    kind: EventKind
    at: datetime
    url: str
    """The URL that was re-fetched."""
    http_status: int | None
    detail: str | None
    """What was seen: ``HTTP 410``, ``redirected to https://example.com/``."""
    crawl_run_id: int | None


def _article_ids(session: Session, urls: Iterable[str]) -> list[int]:
    # Feeds and recrawls request either URL of a story: the canonical or the fetched one.
    wanted = sorted(set(urls))
    stmt = select(Article.id).where(or_(Article.canonical_url.in_(wanted), Article.url.in_(wanted)))
    return list(session.scalars(stmt.order_by(Article.id)))


def record_change(
    session: Session,
    kind: EventKind,
    urls: Iterable[str],
    *,
    url: str,
    http_status: int | None,
    detail: str | None,
    crawl_run_id: int | None,
    at: datetime | None = None,
) -> list[int]:
    """Record ``kind`` for the stories known by any of ``urls``; the ids whose state changed.

    A story already in that state is left alone (no second event), so calling
    this for every re-fetch that looks like a takedown is safe.
    """
    at = at or utcnow()
    changed = []
    for article_id in _article_ids(session, urls):
        removing = kind is EventKind.REMOVED
        still = Article.removed_at.is_(None) if removing else Article.removed_at.is_not(None)
        result = session.execute(
            update(Article)
            .where(Article.id == article_id, still)
            .values(removed_at=at if removing else None)
        )
        if not result.rowcount:
            continue
        session.add(
            ArticleEvent(
                article_id=article_id,
                kind=kind.value,
                at=at,
                url=url,
                http_status=http_status,
                detail=detail,
                crawl_run_id=crawl_run_id,
            )
        )
        changed.append(article_id)
    return changed


def removed_urls(session: Session) -> set[str]:
    """Canonical and fetched URLs of every story currently removed: what a crawl watches for."""
    rows = session.execute(
        select(Article.canonical_url, Article.url).where(Article.removed_at.is_not(None))
    )
    return {u for row in rows for u in row}


def article_events(session: Session, article_id: int) -> list[EventRecord]:
    """The story's removed/restored events, oldest first."""
    rows = session.scalars(
        select(ArticleEvent)
        .where(ArticleEvent.article_id == article_id)
        .order_by(ArticleEvent.at, ArticleEvent.id)
    )
    return [
        EventRecord(
            article_id=e.article_id,
            kind=EventKind(e.kind),
            at=e.at,
            url=e.url,
            http_status=e.http_status,
            detail=e.detail,
            crawl_run_id=e.crawl_run_id,
        )
        for e in rows
    ]
