"""A small, typed query API over the archive for admin scripts.

    from newsarchive.storage import Archive

    with Archive.open("newsarchive.toml") as archive:   # or a database URL
        for article in archive.articles(source="harbour", since=yesterday):
            print(article.id, article.title)

Every method opens its own read transaction; :meth:`Archive.articles` streams
rows in batches (constant memory, any archive size). Nothing here writes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType

from sqlalchemy import Engine, or_, select
from sqlalchemy.orm import aliased

from .articles import EXPORT_COLUMNS
from .engine import create_archive_engine, read_session
from .history import VersionRecord, article_history
from .models import Article, ArticleVersion, Source, latest_version
from .schema import ensure_schema
from .search import SearchHit, search_articles
from .stats import ArchiveStats, archive_stats


@dataclass(frozen=True, slots=True)
class ArticleRecord:
    """An article as its latest version states it."""

    id: int
    source: str
    url: str
    canonical_url: str
    title: str | None
    authors: list[str]
    published_at: datetime | None
    language: str | None
    text: str
    content_hash: str
    duplicate_of: int | None
    """The root of the duplicate cluster this article is in (its earliest-published member,
    an exact or near copy), or None for a root or a lone story."""
    version: int
    fetched_at: datetime
    """When the latest version was fetched."""
    removed_at: datetime | None
    """When a re-fetch found the story taken down; None while it is up (storage.events)."""
    published_at_source: str | None
    """Where ``published_at`` came from: ``json-ld``, ``meta``, ``time-element``, ``url``,
    ``text``, ``feed``, ``sitemap``, or ``first-seen`` (nothing dated it; ``published_at``
    is None). None for versions stored before this was recorded."""
    access: str | None
    """``free``, ``paywalled`` or ``unknown``; None for versions stored before it was recorded."""
    first_seen_at: datetime


_COLUMNS = (
    *EXPORT_COLUMNS,
    Article.first_seen_at,
)


def _latest_articles():  # type: ignore[no-untyped-def]
    return (
        select(*_COLUMNS)
        .join(ArticleVersion, latest_version())
        .join(Source, Source.id == Article.source_id)
    )


def _record(row: tuple) -> ArticleRecord:  # type: ignore[type-arg]
    values = list(row)
    values[5] = list(values[5] or [])
    return ArticleRecord(*values)


class Archive:
    """Read access to an archive database (and its WARC folder) for scripts."""

    def __init__(self, engine: Engine, warc_dir: Path | None = None) -> None:
        self.engine = engine
        self.warc_dir = warc_dir

    @classmethod
    def open(cls, target: str | Path | None = None) -> Archive:
        """Open the archive a config file describes, or a database URL (``sqlite:///…``,
        ``postgresql://…``); None means the default config lookup (``$NEWSARCHIVE_CONFIG``,
        ``./newsarchive.toml``). An empty database is migrated first."""
        from newsarchive.config import load_config

        if isinstance(target, str) and "://" in target:
            engine, warc_dir = create_archive_engine(target), None
        else:
            config = load_config(target, required=target is not None)
            engine, warc_dir = create_archive_engine(config.database_url), config.warc_dir
        ensure_schema(engine)
        return cls(engine, warc_dir)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Archive:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def articles(
        self,
        *,
        source: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        language: str | None = None,
        after: int | None = None,
        access: str | None = None,
        batch_size: int = 1000,
    ) -> Iterator[ArticleRecord]:
        """Articles (latest versions) in id order, streamed ``batch_size`` rows at a time;
        ``after`` starts past that id (a page's last), so pages cost the same at any depth.

        ``since`` (inclusive) and ``until`` (exclusive) bound ``first_seen_at``, when
        the archive first stored the story: every article has one, unlike a
        publication date. Datetimes must be timezone-aware. ``access`` keeps the stories
        that are ``free``, ``paywalled`` or ``unknown``.
        """
        stmt = _latest_articles()
        if source is not None:
            stmt = stmt.where(Source.name == source)
        if since is not None:
            stmt = stmt.where(Article.first_seen_at >= since)
        if until is not None:
            stmt = stmt.where(Article.first_seen_at < until)
        if language is not None:
            stmt = stmt.where(ArticleVersion.language == language)
        if after is not None:
            stmt = stmt.where(Article.id > after)
        if access is not None:
            stmt = stmt.where(ArticleVersion.access == access)
        stmt = stmt.order_by(Article.id).execution_options(yield_per=batch_size)
        with read_session(self.engine) as session:
            for row in session.execute(stmt):
                yield _record(row)

    def article(self, article_id: int) -> ArticleRecord:
        """One article; LookupError for an unknown id."""
        with read_session(self.engine) as session:
            row = session.execute(_latest_articles().where(Article.id == article_id)).first()
        if row is None:
            raise LookupError(f"no article with id {article_id}")
        return _record(row)

    def versions(self, article_id: int) -> list[VersionRecord]:
        """Every stored version of the article, oldest first; LookupError for an unknown id."""
        with read_session(self.engine) as session:
            return article_history(session, article_id)

    def search(
        self,
        query: str,
        *,
        source: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        language: str | None = None,
        access: str | None = None,
        limit: int = 20,
        include_duplicates: bool = False,
        removed: bool | None = None,
        offset: int = 0,
    ) -> list[SearchHit]:
        """Ranked full-text search (see :mod:`newsarchive.storage.search` for the syntax)."""
        with read_session(self.engine) as session:
            return search_articles(
                session,
                query,
                source=source,
                since=since,
                until=until,
                language=language,
                access=access,
                limit=limit,
                include_duplicates=include_duplicates,
                removed=removed,
                offset=offset,
            )

    def duplicates(self, article_id: int) -> list[ArticleRecord]:
        """The other members of the article's duplicate cluster: its root (if it is a copy)
        and every article linked to the same root, oldest first; [] for a lone story."""
        original = self.article(article_id)
        root = original.duplicate_of or original.id
        copy = aliased(Article)
        members = select(copy.id).where(or_(copy.id == root, copy.duplicate_of == root))
        stmt = (
            _latest_articles()
            .where(Article.id.in_(members), Article.id != article_id)
            .order_by(Article.first_seen_at, Article.id)
        )
        with read_session(self.engine) as session:
            return [_record(row) for row in session.execute(stmt)]

    def stats(self) -> ArchiveStats:
        """Counts per source, day and language, duplicates, and size on disk."""
        return archive_stats(self.engine, self.warc_dir)
