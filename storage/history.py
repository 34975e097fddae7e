"""An article's stored versions, oldest first, for ``newsarchive history``."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Article, ArticleVersion


@dataclass(frozen=True)
class VersionRecord:
    """One stored version of a story."""

    article_id: int
    version: int
    fetched_at: datetime
    url: str
    title: str | None
    content_hash: str
    text: str
    crawl_run_id: int | None
    extractor_version: str | None = None
    """Version of the extraction code that made ``text``; None if stored before it was kept."""
    title_changed: bool = False
    """The headline differs from the version before: sites rewrite headlines quietly."""
    published_at: datetime | None = None
    published_at_source: str | None = None
    """Where ``published_at`` came from (``json-ld``, ``meta``, …), when recorded."""
    authors: tuple[str, ...] = ()
    language: str | None = None
    access: str | None = None
    """``free``, ``paywalled`` or ``unknown``, when recorded."""
    has_capture: bool = False
    """Whether the response it was extracted from was kept (WARC record or zlib copy)."""


def article_history(session: Session, article_id: int) -> list[VersionRecord]:
    """Every version of the article, oldest first; LookupError for an unknown id."""
    if session.get(Article, article_id) is None:
        raise LookupError(f"no article with id {article_id}")
    rows = session.execute(
        select(
            ArticleVersion.version,
            ArticleVersion.fetched_at,
            ArticleVersion.url,
            ArticleVersion.title,
            ArticleVersion.content_hash,
            ArticleVersion.text,
            ArticleVersion.crawl_run_id,
            ArticleVersion.extractor_version,
            ArticleVersion.published_at,
            ArticleVersion.published_at_source,
            ArticleVersion.authors,
            ArticleVersion.language,
            ArticleVersion.access,
            (ArticleVersion.warc_offset.is_not(None) | ArticleVersion.raw_html.is_not(None)).label(
                "has_capture"
            ),
        )
        .where(ArticleVersion.article_id == article_id)
        .order_by(ArticleVersion.version)
    )
    versions: list[VersionRecord] = []
    for row in rows:
        before = versions[-1].title if versions else None
        changed = bool(versions) and _headline(row.title) != _headline(before)
        fields = {
            **row._asdict(),
            "authors": tuple(row.authors or ()),
            "has_capture": bool(row.has_capture),
        }
        versions.append(VersionRecord(article_id=article_id, title_changed=changed, **fields))
    return versions


def _headline(title: str | None) -> str:
    # Spacing is not a rewrite: compare the words.
    return " ".join((title or "").split())
