"""The archived HTTP responses behind article versions: from WARC files, or the zlib column.

A crawl's WARC files lie in ``[archive] warc_dir``; an imported version points at
the original file it was imported from (an absolute path or URL, with
``#MEMBER`` inside a WACZ), read where it is.
"""

from __future__ import annotations

import logging
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, object_session

from .models import Article, ArticleVersion, ImportFile, Source, latest_version
from .warc import OPEN_SUFFIX, WarcPathError, warc_path
from .warc_sources import MEMBER_SEPARATOR, is_url, read_payload_at, split_member

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ArchivedResponse:
    """The response a stored version was extracted from, with what re-extraction needs."""

    article_id: int
    source: str
    canonical_url: str
    url: str
    version: int
    fetched_at: datetime
    body: bytes
    declared_encoding: str | None
    warc_file: str | None
    warc_offset: int | None
    crawl_run_id: int | None
    extractor_version: str | None = None
    """The extraction code that made the stored text; equal to the current one means
    re-extracting would only reproduce it. None for versions stored before it was kept."""


def record_location(session: Session, name: str, warc_dir: Path | None) -> str | None:
    """Where the WARC record named by a version's ``warc_file`` lies, as
    ``storage.warc_sources`` opens it; None for a crawl's file when no WARC folder is set.

    A crawl's (or ``import --copy``'s) file lies inside ``warc_dir``. An absolute
    path or URL is read only if an import recorded it: the name comes from a
    database row, and ``raw`` must not become a way to read any file or URL.
    WarcPathError (a LookupError) otherwise.
    """
    container, member = split_member(name)
    if is_url(container) or Path(container).is_absolute():
        recorded = session.execute(select(ImportFile.id).where(ImportFile.location == name))
        if recorded.first() is None:
            raise WarcPathError(f"WARC file {name!r} is no file an import recorded")
        return name
    if warc_dir is None:
        return None
    path = warc_path(warc_dir, container)
    still_open = warc_path(warc_dir, container + OPEN_SUFFIX)
    if not path.exists() and still_open.exists():
        path = still_open
    return f"{path}{MEMBER_SEPARATOR}{member}" if member else str(path)


def _body(version: ArticleVersion, warc_dir: Path | None) -> bytes | None:
    if version.warc_file is not None and version.warc_offset is not None:
        session = object_session(version)
        assert session is not None
        location = record_location(session, version.warc_file, warc_dir)
        if location is not None:
            try:
                return read_payload_at(location, version.warc_offset)
            except FileNotFoundError:
                if version.raw_html is None:
                    raise
    return zlib.decompress(version.raw_html) if version.raw_html is not None else None


def raw_response(
    session: Session, article_id: int, warc_dir: Path | None, version: int | None = None
) -> bytes:
    """The response body of an article's version (latest by default) exactly as served.

    LookupError when the article or version does not exist or nothing was kept, and
    WarcPathError (a LookupError) when its WARC file name leads outside ``warc_dir``.
    """
    return archived_response(session, article_id, warc_dir, version).body


def archived_response(
    session: Session, article_id: int, warc_dir: Path | None, version: int | None = None
) -> ArchivedResponse:
    """The archived response of an article's version (latest by default), with its URL,
    fetch time and declared charset; raises like :func:`raw_response`."""
    article = session.get(Article, article_id)
    if article is None:
        raise LookupError(f"no article with id {article_id}")
    number = version or article.version
    stored = session.execute(
        select(ArticleVersion).where(
            ArticleVersion.article_id == article_id, ArticleVersion.version == number
        )
    ).scalar_one_or_none()
    if stored is None:
        raise LookupError(f"article {article_id} has no version {number}")
    body = _body(stored, warc_dir)
    if body is None:
        raise LookupError(f"no raw response kept for article {article_id} version {number}")
    return _archived(stored, body)


def _archived(version: ArticleVersion, body: bytes) -> ArchivedResponse:
    return ArchivedResponse(
        article_id=version.article_id,
        source=version.article.source.name,
        canonical_url=version.article.canonical_url,
        url=version.url,
        version=version.version,
        fetched_at=version.fetched_at,
        body=body,
        declared_encoding=version.raw_encoding,
        warc_file=version.warc_file,
        warc_offset=version.warc_offset,
        crawl_run_id=version.crawl_run_id,
        extractor_version=version.extractor_version,
    )


def archived_responses(
    session: Session,
    warc_dir: Path | None,
    *,
    source: str | None = None,
    since: datetime | None = None,
    url: str | None = None,
) -> Iterator[ArchivedResponse]:
    """The latest version's archived response of every article (of ``source``, fetched at or
    after ``since``, fetched from ``url``), in id order; versions without a kept response are
    skipped.

    Ids are read first and each response on its own, so the caller may write
    between items without holding a long read transaction open.
    """
    stmt = (
        select(ArticleVersion.id)
        .join(Article, latest_version())
        .join(Source, Source.id == Article.source_id)
        .order_by(Article.id)
    )
    if source is not None:
        stmt = stmt.where(Source.name == source)
    if since is not None:
        stmt = stmt.where(ArticleVersion.fetched_at >= since)
    if url is not None:
        stmt = stmt.where(ArticleVersion.url == url)
    for version_id in list(session.scalars(stmt)):
        version = session.get(ArticleVersion, version_id)
        assert version is not None
        try:
            body = _body(version, warc_dir)
        except WarcPathError as exc:
            # One bad row must not stop a reprocess of the whole archive.
            logger.warning(
                "article %d version %d skipped: %s", version.article_id, version.version, exc
            )
            session.expunge_all()
            continue
        if body is not None:
            yield _archived(version, body)
        session.expunge_all()  # keep the identity map small on big archives
