"""The archive's tables as SQLAlchemy 2.0 typed models.

The schema itself is created and changed only by the Alembic migrations in
``migrations/``; these classes must describe the same tables.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    ColumnElement,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    and_,
    false,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.orm.util import AliasedClass

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware datetimes in, UTC-aware datetimes out, on every dialect.

    SQLite has no timezone type and hands back naive values; storing UTC and
    re-attaching it on read keeps comparisons and exports honest.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} refused: pass a timezone-aware value")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {  # noqa: RUF012 - SQLAlchemy reads this class attribute
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        list[str]: JSON(),
    }


class Source(Base):
    """A news site as named in the config; rows outlive config edits so history stays attached."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    """The source's name from the config (``[a-z0-9_-]+``)."""
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    """When a crawl first met this source."""
    imported: Mapped[bool] = mapped_column(default=False, server_default=false())
    """Created on the fly by ``import`` for a host no configured source covers."""


class Article(Base):
    """One story, identified by its canonical URL; its text lives in versions."""

    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), index=True)
    """The source whose crawl first stored the story."""
    canonical_url: Mapped[str] = mapped_column(Text, unique=True)
    """The story's identity: rel=canonical/og:url or the fetched URL, normalised."""
    url: Mapped[str] = mapped_column(Text)
    """The URL the story was first fetched from (after redirects)."""
    version: Mapped[int] = mapped_column(default=0)
    """Number of the latest version; 0 only inside the transaction that creates the row."""
    content_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    """SHA-256 of the latest version's cleaned text: finds exact copies under other URLs."""
    duplicate_of: Mapped[int | None] = mapped_column(
        ForeignKey("articles.id", ondelete="SET NULL"), index=True
    )
    """The root of this article's duplicate cluster (its earliest-published member), or NULL for
    a root or a lone story; always a root itself (storage.near_duplicates)."""
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    """When the story was first stored."""
    last_fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
    """When a crawl last fetched the story, changed or not."""
    minhash: Mapped[bytes | None] = mapped_column(LargeBinary)
    """MinHash signature of the latest text (128 uint32), or NULL for texts too short to compare."""
    removed_at: Mapped[datetime | None] = mapped_column(index=True)
    """When a re-fetch found the story taken down (404/410, or a redirect to a home or section
    page); NULL while it is up. Its history is in ``article_events``."""

    source: Mapped[Source] = relationship()
    versions: Mapped[list[ArticleVersion]] = relationship(
        back_populates="article", order_by="ArticleVersion.version", cascade="all, delete-orphan"
    )


class ArticleVersion(Base):
    """What a story said at one time: a new row only when the cleaned text changed."""

    __tablename__ = "article_versions"
    __table_args__ = (UniqueConstraint("article_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    version: Mapped[int]
    """1 for the first text seen, n+1 for each material change."""
    url: Mapped[str] = mapped_column(Text)
    """The URL this version was fetched from."""
    title: Mapped[str | None] = mapped_column(Text)
    authors: Mapped[list[str]] = mapped_column(default=list)
    """Author names, without "By" or dates."""
    published_at: Mapped[datetime | None]
    """Publication time as the page states it (UTC), if it does."""
    language: Mapped[str | None] = mapped_column(String(8))
    """ISO 639-1 code identified from the text."""
    text: Mapped[str] = mapped_column(Text)
    """The cleaned article text, paragraphs separated by newlines."""
    content_hash: Mapped[str] = mapped_column(String(64))
    """SHA-256 of ``text``."""
    extractor_version: Mapped[str | None] = mapped_column(String(32))
    """Version of the extraction code that made ``text`` from the response; NULL before 0005."""
    raw_html: Mapped[bytes | None] = mapped_column(LargeBinary)
    """The response body exactly as served, zlib-compressed, for re-extraction."""
    raw_encoding: Mapped[str | None] = mapped_column(String(40))
    """The charset the server declared for ``raw_html``, if any."""
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
    crawl_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("crawl_runs.id", ondelete="SET NULL"), index=True
    )
    """The crawl that fetched this version."""
    warc_file: Mapped[str | None] = mapped_column(Text, index=True)
    """Name (within ``[archive] warc_dir``) of the WARC file holding the response, if archived."""
    warc_offset: Mapped[int | None] = mapped_column(BigInteger)
    """Byte offset of the response's WARC record in ``warc_file``."""
    published_at_source: Mapped[str | None] = mapped_column(String(16))
    """Where ``published_at`` came from: ``json-ld``, ``meta``, ``time-element``, ``url``,
    ``text``, ``feed``, ``sitemap``, or ``first-seen`` when nothing dated the page."""
    access: Mapped[str | None] = mapped_column(String(16))
    """``free``, ``paywalled`` or ``unknown``."""

    article: Mapped[Article] = relationship(back_populates="versions")


class RunStatus(StrEnum):
    """How a crawl run ended (``running`` until it does); stored as its value."""

    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"
    TIMEOUT = "timeout"
    INTERRUPTED = "interrupted"
    DEGRADED = "degraded"
    """Finished, but some articles could not be stored (``store_errors``): not ``ok``."""


class CrawlRun(Base):
    """One crawl of one source: written as ``running`` at start, finished with its counters."""

    __tablename__ = "crawl_runs"
    __table_args__ = (Index("ix_crawl_runs_source_started", "source_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]
    status: Mapped[RunStatus] = mapped_column(
        # A string column, not a native enum: a new status is a CHECK change, not an ALTER TYPE.
        Enum(
            RunStatus,
            name="status",
            native_enum=False,
            create_constraint=True,
            length=16,
            values_callable=lambda statuses: [s.value for s in statuses],
        ),
        default=RunStatus.RUNNING,
    )
    """One of RunStatus (a CHECK constraint refuses anything else)."""
    error: Mapped[str | None] = mapped_column(Text)
    """Why the crawl failed, when it did."""
    pages: Mapped[int] = mapped_column(default=0)
    """Responses received (any status)."""
    new: Mapped[int] = mapped_column(default=0)
    updated: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    duplicates: Mapped[int] = mapped_column(default=0)
    errors: Mapped[int] = mapped_column(default=0)
    """Pages that failed: HTTP errors, network errors, unusable content."""
    not_modified: Mapped[int] = mapped_column(default=0, server_default="0")
    """Conditional requests the server answered 304 Not Modified (not parsed, not stored)."""
    skipped: Mapped[int] = mapped_column(default=0, server_default="0")
    """Known article URLs not requested because the recrawl policy said they were not due."""
    store_errors: Mapped[int] = mapped_column(default=0, server_default="0")
    """Stories fetched and extracted that the database refused or could not be reached for."""
    worker: Mapped[str | None] = mapped_column(String(200))
    """The cluster worker that ran the crawl; NULL for a crawl the daemon or the CLI ran."""
    http_statuses: Mapped[dict[str, Any] | None]
    """Responses received per HTTP status code (``{"200": 41, "404": 2}``)."""
    field_coverage: Mapped[dict[str, Any] | None]
    """Share of the run's stories with each field (text, title, published_at, authors)."""
    warc_bytes: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    """Bytes the run wrote to WARC files."""

    source: Mapped[Source] = relationship()


def latest_version(
    article: type[Article] | AliasedClass[Article] = Article,
    version: type[ArticleVersion] | AliasedClass[ArticleVersion] = ArticleVersion,
) -> ColumnElement[bool]:
    """Join condition: ``version`` is ``article``'s latest version (aliases allowed)."""
    return and_(version.article_id == article.id, version.version == article.version)


class ArticleBand(Base):
    """One LSH band key of an article's signature: articles sharing a key are near-duplicate
    candidates. Rows change with the article's text, in the same transaction."""

    __tablename__ = "article_bands"
    # Clustered on the key on SQLite: a candidate lookup is one range scan, and
    # the table (20 rows per article) is half the size of a rowid table + index.
    __table_args__ = ({"sqlite_with_rowid": False},)

    band_key: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    """64-bit hash of the band's number and its hash values."""
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class FetchedUrl(Base):
    """HTTP validators of a URL a source's crawl fetched: sent back as a conditional request."""

    __tablename__ = "fetched_urls"
    __table_args__ = (UniqueConstraint("source_id", "url"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"))
    url: Mapped[str] = mapped_column(Text)
    """The URL that answered (after redirects), as requested."""
    etag: Mapped[str | None] = mapped_column(Text)
    """The last ``ETag`` the server sent, sent back in ``If-None-Match``."""
    last_modified: Mapped[str | None] = mapped_column(Text)
    """The last ``Last-Modified`` header as sent, sent back in ``If-Modified-Since``."""
    last_fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
    """When a crawl last got an answer for the URL (200 or 304)."""


class TemplateBlock(Base):
    """A text line a source's pages print (hashed), and on how many distinct pages it was seen:
    lines on many pages are the site's template, not story."""

    __tablename__ = "template_blocks"
    __table_args__ = ({"sqlite_with_rowid": False},)

    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id"), primary_key=True)
    block_hash: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    """Signed 64-bit SHA-1 prefix of the NFKC-casefolded, space-collapsed line."""
    pages: Mapped[int] = mapped_column(default=0)
    """Distinct stored stories of the source the line appeared on."""
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    """When a crawl last saw the line on a new story."""


class Worker(Base):
    """A cluster worker's heartbeat: ``status`` lists the workers seen lately."""

    __tablename__ = "workers"

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    """``--name``, or ``newsarchive@HOSTNAME``: unique in the cluster."""
    hostname: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int]
    queue: Mapped[str] = mapped_column(String(200))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class ImportFile(Base):
    """How far ``import`` got in one WARC/WACZ file or URL: resumes there, never reads twice."""

    __tablename__ = "import_files"

    id: Mapped[int] = mapped_column(primary_key=True)
    location: Mapped[str] = mapped_column(Text, unique=True)
    """The file's absolute path or its URL, as imported."""
    size: Mapped[int | None] = mapped_column(BigInteger)
    resume_offset: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    """Offset of the first record not yet fully imported."""
    records: Mapped[int] = mapped_column(default=0, server_default="0")
    articles: Mapped[int] = mapped_column(default=0, server_default="0")
    errors: Mapped[int] = mapped_column(default=0, server_default="0")
    status: Mapped[str] = mapped_column(String(16), default="running", server_default="running")
    """``running`` (or interrupted), ``done`` or ``failed``."""
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None]


class ArticleEvent(Base):
    """Something that happened to a published story: ``removed`` or ``restored``."""

    __tablename__ = "article_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    url: Mapped[str] = mapped_column(Text)
    """The URL that was re-fetched."""
    http_status: Mapped[int | None]
    detail: Mapped[str | None] = mapped_column(Text)
    """What was seen, e.g. ``410`` or ``redirected to https://example.com/``."""
    crawl_run_id: Mapped[int | None] = mapped_column(
        ForeignKey("crawl_runs.id", ondelete="SET NULL")
    )
