"""Per-source page templates: text lines a site prints on many of its pages.

A crawl loads what earlier crawls learned for its source when it opens (one
query) and adds what it saw in batches; extraction strips lines seen on enough
distinct pages (``newsarchive.crawler.extraction.strip_template``).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import Engine, select

from .articles import ensure_source
from .engine import read_session, write_session
from .models import Source, TemplateBlock, utcnow
from .upsert import insert_or_update

BATCH_SIZE = 1000
# Blocks seen on a single page are nearly all story text; loading them would
# make the in-memory template as big as the archive.  Their rows still count:
# increments are added to the stored number, never replace it.
LOAD_MIN_PAGES = 2


def load_template(
    engine: Engine, source: str, *, min_pages: int = LOAD_MIN_PAGES
) -> dict[int, int]:
    """Block hash → number of distinct pages of ``source`` it was seen on (≥ ``min_pages``)."""
    stmt = (
        select(TemplateBlock.block_hash, TemplateBlock.pages)
        .join(Source, Source.id == TemplateBlock.source_id)
        .where(Source.name == source, TemplateBlock.pages >= min_pages)
    )
    with read_session(engine) as session:
        rows = session.execute(stmt.execution_options(yield_per=5000))
        return {block: pages for block, pages in rows}


def record_blocks(
    engine: Engine, source: str, counts: Mapping[int, int], seen_at: datetime | None = None
) -> int:
    """Add ``counts`` (block hash → pages newly seen with it) to ``source``'s template.

    One transaction; returns the number of blocks written.
    """
    if not counts:
        return 0
    seen_at = seen_at or utcnow()
    with write_session(engine) as session:
        source_id = ensure_source(session, source)
        rows = [
            {"source_id": source_id, "block_hash": h, "pages": n, "last_seen_at": seen_at}
            for h, n in counts.items()
            if n > 0
        ]
        for start in range(0, len(rows), BATCH_SIZE):
            insert_or_update(
                session,
                TemplateBlock,
                rows[start : start + BATCH_SIZE],
                ["source_id", "block_hash"],
                lambda excluded: {
                    "pages": TemplateBlock.pages + excluded.pages,
                    "last_seen_at": excluded.last_seen_at,
                },
            )
    return len(rows)
