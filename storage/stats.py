"""What the archive holds: articles per source, day and language, duplicates, size on disk."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from sqlalchemy import ColumnElement, Engine, func, select, text
from sqlalchemy.orm import Session

from .engine import read_session
from .models import Article, ArticleVersion, Source, latest_version


@dataclass(frozen=True)
class ArchiveStats:
    """Totals of the archive; days are UTC calendar days of ``first_seen_at``."""

    articles: int
    versions: int
    duplicates: int
    """Articles that copy another (``duplicate_of`` set: exact or near copies)."""
    per_source: dict[str, int]
    per_day: dict[str, int]
    """``YYYY-MM-DD`` → articles first seen that day, oldest day first."""
    per_language: dict[str, int]
    """Language of each article's latest version (``unknown`` when none was identified)."""
    database_bytes: int | None
    """SQLite: the database file and its WAL; PostgreSQL: ``pg_database_size``; None in memory."""
    warc_files: int
    warc_bytes: int

    @property
    def duplicate_share(self) -> float:
        """Fraction of articles that are copies of another."""
        return self.duplicates / self.articles if self.articles else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "duplicate_share": round(self.duplicate_share, 4)}


def utc_day(session: Session, column: Any) -> ColumnElement[Any]:
    """SQL for the UTC calendar day (``YYYY-MM-DD``) of a stored timestamp."""
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(func.timezone("UTC", column), "YYYY-MM-DD")
    return func.date(column)  # SQLite stores UTC as text: its first 10 characters


def articles_per_day(
    session: Session, *, source: str | None = None, since: datetime | None = None
) -> dict[str, int]:
    """``YYYY-MM-DD`` (UTC day of ``first_seen_at``) → articles first seen that day, oldest
    first; only ``source``'s and those seen at or after ``since`` when given."""
    day = utc_day(session, Article.first_seen_at)
    stmt = select(day, func.count(Article.id)).group_by(day).order_by(day)
    if source is not None:
        stmt = stmt.join(Source, Source.id == Article.source_id).where(Source.name == source)
    if since is not None:
        stmt = stmt.where(Article.first_seen_at >= since)
    return {str(d): n for d, n in session.execute(stmt)}


def source_names(session: Session) -> list[str]:
    """Every source the archive knows (configured or not any more), by name."""
    return list(session.scalars(select(Source.name).order_by(Source.name)))


def archive_stats(engine: Engine, warc_dir: Path | None = None) -> ArchiveStats:
    """Count the archive in one read transaction, and measure it on disk."""
    with read_session(engine) as session:
        articles = session.scalar(select(func.count(Article.id))) or 0
        versions = session.scalar(select(func.count(ArticleVersion.id))) or 0
        duplicates = (
            session.scalar(select(func.count(Article.id)).where(Article.duplicate_of.is_not(None)))
            or 0
        )
        per_source = dict(
            session.execute(
                select(Source.name, func.count(Article.id))
                .join(Article, Article.source_id == Source.id)
                .group_by(Source.name)
                .order_by(Source.name)
            ).all()
        )
        per_day = articles_per_day(session)
        language = func.coalesce(ArticleVersion.language, "unknown")
        per_language = dict(
            session.execute(
                select(language, func.count(Article.id))
                .join(ArticleVersion, latest_version())
                .group_by(language)
                .order_by(func.count(Article.id).desc(), language)
            ).all()
        )
        database_bytes = _database_bytes(session, engine)
    warc = [p for p in warc_dir.glob("*.warc.gz*") if p.is_file()] if warc_dir else []
    return ArchiveStats(
        articles=articles,
        versions=versions,
        duplicates=duplicates,
        per_source=per_source,
        per_day=per_day,
        per_language=per_language,
        database_bytes=database_bytes,
        warc_files=len(warc),
        warc_bytes=sum(p.stat().st_size for p in warc),
    )


def _database_bytes(session: Session, engine: Engine) -> int | None:
    if engine.dialect.name == "postgresql":
        return session.scalar(text("SELECT pg_database_size(current_database())"))
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file::memory:"):
        return None
    if database.startswith("file:"):  # a URI filename, e.g. opened read-only (mode=ro)
        database = unquote(database.removeprefix("file:"))
    path = Path(database)
    # In WAL mode recent commits live in the -wal file until a checkpoint.
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())
