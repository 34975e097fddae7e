"""Re-run today's extraction and dedupe over archived responses, without fetching anything.

For each article's latest version the response is read back (WARC file, or the
zlib column for versions stored before WARC), extracted with the current code
and the source's learned template, and stored through ``save_article``: a new
version appears only where the cleaned text changed, and duplicates are linked
as in a crawl.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from newsarchive.config import Config
from newsarchive.similarity import signature
from newsarchive.storage import (
    Outcome,
    create_archive_engine,
    ensure_schema,
    read_session,
    save_article,
    write_session,
)
from newsarchive.storage.raw import archived_responses
from newsarchive.storage.templates import load_template

from .extraction import extract_article
from .pipelines.dedupe import content_hash
from .pipelines.store import fetched_article

logger = logging.getLogger(__name__)


@dataclass
class ReprocessSummary:
    """How many archived responses were re-extracted, and what storing them did."""

    examined: int = 0
    outcomes: dict[str, int] = field(default_factory=lambda: {o.value: 0 for o in Outcome})
    empty: int = 0
    """Responses the current extraction finds no text in: left as they are."""


def reprocess(
    config: Config, *, source: str | None = None, since: datetime | None = None
) -> ReprocessSummary:
    """Re-extract the latest version of every article (of ``source``, fetched since ``since``)."""
    engine = create_archive_engine(config.database_url)
    ensure_schema(engine)
    summary = ReprocessSummary()
    templates: dict[str, dict[int, int]] = {}
    threshold = config.dedupe.near_duplicate_threshold
    try:
        with read_session(engine) as reader:
            for response in archived_responses(reader, config.warc_dir, source=source, since=since):
                summary.examined += 1
                if response.source not in templates:
                    templates[response.source] = load_template(engine, response.source)
                extraction = extract_article(
                    response.body,
                    response.url,
                    declared_encoding=response.declared_encoding,
                    template=templates[response.source],
                )
                if not extraction.text:
                    summary.empty += 1
                    logger.warning("article %d: no text extracted now", response.article_id)
                    continue
                fetched = fetched_article(
                    extraction,
                    source=response.source,
                    url=response.url,
                    # The story keeps its identity even if the page's canonical link reads
                    # differently to the new extractor.
                    canonical_url=response.canonical_url,
                    content_hash=content_hash(extraction.text),
                    raw_html=None if response.warc_file else response.body,
                    raw_encoding=response.declared_encoding,
                    fetched_at=response.fetched_at,
                    crawl_run_id=response.crawl_run_id,
                    minhash=signature(extraction.text),
                    warc_file=response.warc_file,
                    warc_offset=response.warc_offset,
                )
                with write_session(engine) as session:
                    outcome = save_article(session, fetched, near_duplicate_threshold=threshold)
                summary.outcomes[outcome.value] += 1
                if outcome is not Outcome.UNCHANGED:
                    logger.info("article %d: %s", response.article_id, outcome.value)
    finally:
        engine.dispose()
    return summary
