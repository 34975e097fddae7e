"""What earlier crawls fetched: HTTP validators per URL, and the known articles of a source.

A story is one article whichever source stored it, so a crawl also asks, for the
URLs its feeds and pages list, which of them another source stored
(:func:`known_by_url`), in batches, by the indexed canonical URL.

A crawl loads both once when it opens (one query each) and writes the validators
it collected in batches, those of stored stories as it goes and the rest when it
closes, so no request waits on the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Engine, func, or_, select

from .articles import ensure_source
from .engine import read_session, write_session
from .models import Article, FetchedUrl, Source
from .upsert import insert_or_update

BATCH_SIZE = 1000


@dataclass(frozen=True)
class Validators:
    """What a server said identifies its last answer for a URL."""

    etag: str | None
    last_modified: str | None


@dataclass(frozen=True)
class FetchRecord:
    """One answer (200 with validators, or 304) a crawl got for a URL."""

    url: str
    etag: str | None
    last_modified: str | None
    fetched_at: datetime


def load_validators(engine: Engine, source: str) -> dict[str, Validators]:
    """URL → validators of every URL ``source``'s crawls recorded."""
    stmt = (
        select(FetchedUrl.url, FetchedUrl.etag, FetchedUrl.last_modified)
        .join(Source, Source.id == FetchedUrl.source_id)
        .where(Source.name == source)
    )
    with read_session(engine) as session:
        return {
            url: Validators(etag, last_modified)
            for url, etag, last_modified in session.execute(stmt.execution_options(yield_per=5000))
        }


def record_fetches(engine: Engine, source: str, records: Iterable[FetchRecord]) -> int:
    """Upsert ``records`` for ``source`` in one transaction; returns how many were written.

    A 304 that repeats no validator keeps the stored ones.
    """
    rows = [
        {
            "url": r.url,
            "etag": r.etag,
            "last_modified": r.last_modified,
            "last_fetched_at": r.fetched_at,
        }
        for r in records
    ]
    if not rows:
        return 0
    with write_session(engine) as session:
        source_id = ensure_source(session, source)
        for row in rows:
            row["source_id"] = source_id
        for start in range(0, len(rows), BATCH_SIZE):
            insert_or_update(
                session,
                FetchedUrl,
                rows[start : start + BATCH_SIZE],
                ["source_id", "url"],
                lambda excluded: {
                    "etag": func.coalesce(excluded.etag, FetchedUrl.etag),
                    "last_modified": func.coalesce(
                        excluded.last_modified, FetchedUrl.last_modified
                    ),
                    "last_fetched_at": excluded.last_fetched_at,
                },
            )
    return len(rows)


@dataclass(frozen=True)
class KnownArticle:
    """A story a source's crawl already stored, with the times the recrawl policy needs."""

    canonical_url: str
    url: str
    first_seen_at: datetime
    last_fetched_at: datetime
    """The latest of: stored (changed or not), or answered 304."""


def iter_known_articles(engine: Engine, source: str) -> Iterator[KnownArticle]:
    """Every article ``source``'s crawls first stored, streamed."""
    stmt = (
        select(
            Article.canonical_url,
            Article.url,
            Article.first_seen_at,
            Article.last_fetched_at,
            FetchedUrl.last_fetched_at,
        )
        .join(Source, Source.id == Article.source_id)
        .outerjoin(
            FetchedUrl,
            (FetchedUrl.url == Article.url) & (FetchedUrl.source_id == Article.source_id),
        )
        .where(Source.name == source)
    )
    with read_session(engine) as session:
        for canonical, url, first_seen, stored_at, checked_at in session.execute(
            stmt.execution_options(yield_per=5000)
        ):
            yield KnownArticle(canonical, url, first_seen, max(stored_at, checked_at or stored_at))


def known_by_url(engine: Engine, source: str, canonical_urls: Iterable[str]) -> list[KnownArticle]:
    """The articles, stored by any source, whose canonical URL is one of ``canonical_urls``.

    Last fetched is the latest of the article's own fetches and of the 304s
    either its source or ``source`` got for its URL: a source re-checking another
    source's story records the answer under its own name.
    """
    urls = sorted(set(canonical_urls))
    asking = select(Source.id).where(Source.name == source).scalar_subquery()
    checked = (
        select(func.max(FetchedUrl.last_fetched_at))
        .where(
            FetchedUrl.url == Article.url,
            or_(FetchedUrl.source_id == Article.source_id, FetchedUrl.source_id == asking),
        )
        .scalar_subquery()
    )
    found: list[KnownArticle] = []
    with read_session(engine) as session:
        for start in range(0, len(urls), BATCH_SIZE):
            stmt = select(
                Article.canonical_url,
                Article.url,
                Article.first_seen_at,
                Article.last_fetched_at,
                checked,
            ).where(Article.canonical_url.in_(urls[start : start + BATCH_SIZE]))
            for canonical, url, first_seen, stored_at, checked_at in session.execute(stmt):
                found.append(
                    KnownArticle(
                        canonical, url, first_seen, max(stored_at, checked_at or stored_at)
                    )
                )
    return found
