"""Storing fetched articles (new, new version, unchanged, exact duplicate) and reading them back."""

from __future__ import annotations

import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from newsarchive.similarity import normalised_text

from .models import Article, ArticleVersion, Source, utcnow
from .near_duplicates import find_near_duplicate, index_article, lock_bands, signature_band_keys
from .upsert import insert_or_ignore


class Outcome(StrEnum):
    """What storing a fetched article did; the crawl summary counts these."""

    NEW = "new"
    UPDATED = "updated"
    UNCHANGED = "unchanged"
    DUPLICATE = "duplicate"


@dataclass(frozen=True)
class FetchedArticle:
    """A cleaned article as a crawl hands it to storage."""

    source: str
    url: str
    canonical_url: str
    text: str
    content_hash: str
    title: str | None = None
    authors: list[str] = field(default_factory=list)
    published_at: datetime | None = None
    language: str | None = None
    raw_html: bytes | None = None
    raw_encoding: str | None = None
    fetched_at: datetime = field(default_factory=utcnow)
    crawl_run_id: int | None = None
    minhash: bytes | None = None
    """MinHash signature of ``text`` (``newsarchive.similarity.signature``), if long enough."""
    warc_file: str | None = None
    """The WARC file holding the response (then ``raw_html`` is not stored twice)."""
    warc_offset: int | None = None


# Measured with bench/dedupe.py: at 0.75 wire copies with a rewritten lead and a
# cut paragraph are linked (recall 0.96) and stories sharing background
# paragraphs are not (precision 1.0); at 0.8 recall falls to 0.90.
DEFAULT_NEAR_DUPLICATE_THRESHOLD = 0.75


def ensure_source(session: Session, name: str) -> int:
    """The id of the named source, creating its row if this is its first crawl."""
    insert_or_ignore(session, Source, {"name": name, "created_at": utcnow()}, ["name"])
    return session.execute(select(Source.id).where(Source.name == name)).scalar_one()


def save_article(
    session: Session,
    fetched: FetchedArticle,
    *,
    near_duplicate_threshold: float = DEFAULT_NEAR_DUPLICATE_THRESHOLD,
) -> Outcome:
    """Record one fetch of a story, inside the caller's transaction.

    The row is claimed with an atomic insert-or-ignore on ``canonical_url`` first,
    so two processes storing the same story at once serialise on it instead of
    both inserting. A new text is linked to the earliest-seen article it copies,
    exactly (same hash) or nearly (estimated Jaccard ≥ ``near_duplicate_threshold``),
    and its LSH bands are indexed in the same transaction.
    """
    source_id = ensure_source(session, fetched.source)
    insert_or_ignore(
        session,
        Article,
        {
            "source_id": source_id,
            "canonical_url": fetched.canonical_url,
            "url": fetched.url,
            "version": 0,
            "first_seen_at": fetched.fetched_at,
            "last_fetched_at": fetched.fetched_at,
        },
        ["canonical_url"],
    )
    article = session.execute(
        select(Article).where(Article.canonical_url == fetched.canonical_url).with_for_update()
    ).scalar_one()
    article.last_fetched_at = fetched.fetched_at
    if article.version and article.content_hash == fetched.content_hash:
        return Outcome.UNCHANGED
    if article.version and _same_words(session, article, fetched.text):
        # Only spacing, punctuation or case moved: not a new version of the story.
        return Outcome.UNCHANGED
    keys = signature_band_keys(fetched.minhash)
    lock_bands(session, keys)

    # An exact copy of another story's current text is linked, not counted as a new story.
    original = session.execute(
        select(Article.id)
        .where(Article.content_hash == fetched.content_hash, Article.id != article.id)
        .order_by(Article.duplicate_of.is_not(None), Article.id)
        .limit(1)
    ).scalar_one_or_none()
    if original is not None:
        # Point at the cluster's root so chains never form.
        root = session.get(Article, original)
        original = (root.duplicate_of or root.id) if root else original
    exact = original is not None
    # A story others already copy stays their original, or chains would form.
    if not exact and fetched.minhash is not None and not _has_copies(session, article):
        near = find_near_duplicate(
            session, article.id, fetched.minhash, keys, near_duplicate_threshold
        )
        original = near.root_id if near else None
    outcome = Outcome.NEW if article.version == 0 else Outcome.UPDATED
    article.version += 1
    article.content_hash = fetched.content_hash
    article.duplicate_of = original
    article.minhash = fetched.minhash
    # An exact copy's bands are its original's: indexing them again would only
    # lengthen every later look-up's candidate list.
    index_article(session, article.id, [] if exact else keys)
    session.add(
        ArticleVersion(
            article_id=article.id,
            version=article.version,
            url=fetched.url,
            title=fetched.title,
            authors=list(fetched.authors),
            published_at=fetched.published_at,
            language=fetched.language,
            text=fetched.text,
            content_hash=fetched.content_hash,
            raw_html=_compressed_raw(fetched),
            raw_encoding=fetched.raw_encoding,
            fetched_at=fetched.fetched_at,
            crawl_run_id=fetched.crawl_run_id,
            warc_file=fetched.warc_file,
            warc_offset=fetched.warc_offset,
        )
    )
    session.flush()
    if outcome is Outcome.NEW and original is not None:
        return Outcome.DUPLICATE
    return outcome


def _compressed_raw(fetched: FetchedArticle) -> bytes | None:
    # A response archived in a WARC file is kept there; the zlib copy is for the rest.
    if fetched.raw_html is None or fetched.warc_file is not None:
        return None
    return zlib.compress(fetched.raw_html, 6)


def _same_words(session: Session, article: Article, text: str) -> bool:
    stored = session.execute(
        select(ArticleVersion.text).where(
            ArticleVersion.article_id == article.id, ArticleVersion.version == article.version
        )
    ).scalar_one()
    return normalised_text(stored) == normalised_text(text)


def _has_copies(session: Session, article: Article) -> bool:
    if not article.version:
        return False
    copy = select(Article.id).where(Article.duplicate_of == article.id).limit(1)
    return session.execute(copy).first() is not None


def raw_html(version: ArticleVersion) -> bytes | None:
    """The response body of a version exactly as it was served."""
    return zlib.decompress(version.raw_html) if version.raw_html is not None else None


EXPORT_FIELDS = (
    "id",
    "source",
    "url",
    "canonical_url",
    "title",
    "authors",
    "published_at",
    "language",
    "text",
    "content_hash",
    "duplicate_of",
    "version",
    "fetched_at",
)


EXPORT_COLUMNS = (
    Article.id,
    Source.name.label("source"),
    ArticleVersion.url,
    Article.canonical_url,
    ArticleVersion.title,
    ArticleVersion.authors,
    ArticleVersion.published_at,
    ArticleVersion.language,
    ArticleVersion.text,
    ArticleVersion.content_hash,
    Article.duplicate_of,
    ArticleVersion.version,
    ArticleVersion.fetched_at,
)
"""The columns of an export record, in EXPORT_FIELDS order (joined over articles,
article_versions and sources). Columns, not entities: the compressed raw HTML must
not be loaded, and no identity map grows while a caller streams."""


def _export_query(source: str | None, since: datetime | None, all_versions: bool) -> Select[Any]:
    stmt = (
        select(*EXPORT_COLUMNS)
        .join(ArticleVersion, ArticleVersion.article_id == Article.id)
        .join(Source, Source.id == Article.source_id)
    )
    if not all_versions:
        stmt = stmt.where(ArticleVersion.version == Article.version)
    if source is not None:
        stmt = stmt.where(Source.name == source)
    if since is not None:
        stmt = stmt.where(ArticleVersion.fetched_at >= since)
    return stmt.order_by(Article.id, ArticleVersion.version)


def iter_articles(
    session: Session,
    *,
    source: str | None = None,
    since: datetime | None = None,
    all_versions: bool = False,
    batch_size: int = 500,
) -> Iterator[dict[str, Any]]:
    """Articles as export records (keys: EXPORT_FIELDS), streamed in constant memory.

    Only each article's latest version unless ``all_versions``; ``since`` keeps
    versions fetched at or after that time.
    """
    stmt = _export_query(source, since, all_versions).execution_options(yield_per=batch_size)
    for row in session.execute(stmt):
        record = dict(row._mapping)
        record["authors"] = list(record["authors"] or [])
        yield record
