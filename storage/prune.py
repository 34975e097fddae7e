"""Retention: remove articles first seen before a date, with their versions and search entries.

Age is ``first_seen_at``, when the archive first stored the story, not
``last_fetched_at``: a story re-fetched yesterday but published years ago is old,
and judging by fetch time would keep anything a recrawl touches forever.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session

from .engine import writer
from .models import Article, ArticleVersion, Source
from .warc import WarcPathError, warc_path

logger = logging.getLogger(__name__)

# Keeps every IN list far below SQLite's bound-parameter limit.
CHUNK = 500


@dataclass(frozen=True)
class PruneReport:
    """What a prune removed, or with ``dry_run`` would remove (computed by the same deletes)."""

    before: datetime
    source: str | None
    dry_run: bool
    article_ids: list[int]
    versions: int
    unreferenced_warc: list[str] = field(default_factory=list)
    """WARC files the removed versions pointed into that no remaining version references."""
    deleted_warc: list[str] = field(default_factory=list)

    @property
    def articles(self) -> int:
        return len(self.article_ids)


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def prune_articles(
    engine: Engine,
    before: datetime,
    *,
    source: str | None = None,
    dry_run: bool = False,
    warc_dir: Path | None = None,
    delete_warc: bool = False,
) -> PruneReport:
    """Delete articles first seen before ``before`` (of ``source`` only, if given), in one
    transaction.

    Versions, near-duplicate bands and search entries go with them (foreign keys
    and triggers); copies of a removed article stay, no longer linked. A dry run
    performs the very same deletes and rolls them back, so its report is exactly
    what a real run would do. WARC files are deleted only with ``delete_warc``
    (and never in a dry run), after the commit, and only inside ``warc_dir``.
    """
    with Session(writer(engine)) as session:
        transaction = session.begin()
        try:
            report = _prune(session, before, source, dry_run)
        except BaseException:
            transaction.rollback()
            raise
        if dry_run:
            transaction.rollback()
        else:
            transaction.commit()
    if delete_warc and not dry_run and warc_dir is not None:
        deleted = []
        for name in report.unreferenced_warc:
            try:
                path = warc_path(warc_dir, name)
            except WarcPathError as exc:
                logger.warning("%s: not deleted", exc)
                continue
            if path.is_file():
                path.unlink()
                deleted.append(name)
        report = PruneReport(**{**report.__dict__, "deleted_warc": deleted})
    return report


def _prune(session: Session, before: datetime, source: str | None, dry_run: bool) -> PruneReport:
    stmt = select(Article.id).where(Article.first_seen_at < before).order_by(Article.id)
    if source is not None:
        stmt = stmt.join(Source, Source.id == Article.source_id).where(Source.name == source)
    ids = list(session.scalars(stmt))
    files: set[str] = set()
    versions = 0
    for chunk in _chunks(ids):
        files.update(
            session.scalars(
                select(ArticleVersion.warc_file)
                .where(ArticleVersion.article_id.in_(chunk), ArticleVersion.warc_file.is_not(None))
                .distinct()
            )
        )
        versions += (
            session.scalar(
                select(func.count(ArticleVersion.id)).where(ArticleVersion.article_id.in_(chunk))
            )
            or 0
        )
        # Versions, bands and search rows follow by ON DELETE CASCADE / trigger.
        session.execute(delete(Article).where(Article.id.in_(chunk)))
    still_used = set(
        session.scalars(
            select(ArticleVersion.warc_file).where(ArticleVersion.warc_file.in_(files)).distinct()
        )
    )
    return PruneReport(
        before=before,
        source=source,
        dry_run=dry_run,
        article_ids=ids,
        versions=versions,
        unreferenced_warc=sorted(files - still_used),
    )
