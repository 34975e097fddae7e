"""Re-run today's extraction and dedupe over archived responses, without fetching anything.

Each article's latest archived response (WARC file, or the zlib column for
versions stored before WARC) goes through the same per-page path as a crawl
(:func:`.pages.archive_page`): the is-this-a-story rule, the source's learned
template with the configured minimum, identity and dedupe. A new version
appears only where the cleaned text changed; duplicates are linked as in a
crawl. By default only versions an older extractor produced are re-extracted.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from newsarchive.config import Config
from newsarchive.storage import CrawlStore, Outcome

from .extraction import EXTRACTOR_VERSION
from .pages import NotAStory, archive_page, archived_page
from .settings import crawl_settings, setting_int

logger = logging.getLogger(__name__)


@dataclass
class ReprocessSummary:
    """How many archived responses were re-extracted, and what storing them did."""

    examined: int = 0
    outcomes: dict[str, int] = field(default_factory=lambda: {o.value: 0 for o in Outcome})
    empty: int = 0
    """Responses in which the current extraction finds no story: left as they are."""
    current: int = 0
    """Versions the current extractor produced already: not re-extracted."""


def reprocess(
    config: Config,
    *,
    source: str | None = None,
    since: datetime | None = None,
    everything: bool = False,
) -> ReprocessSummary:
    """Re-extract the latest version of every article (of ``source``, fetched since ``since``)
    that an older extractor produced, or of every article with ``everything``."""
    settings = crawl_settings(config)
    min_pages = setting_int(settings, "NEWSARCHIVE_TEMPLATE_MIN_PAGES")
    summary = ReprocessSummary()
    templates: dict[str, dict[int, int]] = {}
    with CrawlStore(
        config.database_url, near_duplicate_threshold=config.dedupe.near_duplicate_threshold
    ) as store:
        store.migrate()
        for response in store.archived_responses(config.warc_dir, source=source, since=since):
            summary.examined += 1
            if not everything and response.extractor_version == EXTRACTOR_VERSION:
                summary.current += 1
                continue
            if response.source not in templates:
                templates[response.source] = store.template(response.source)
            page = archived_page(response)
            try:
                outcome = archive_page(page, store, templates[response.source], min_pages)
            except NotAStory:
                summary.empty += 1
                logger.warning(
                    "[%s] article %d: no story extracted now from %s",
                    response.source,
                    response.article_id,
                    response.url,
                )
                continue
            summary.outcomes[outcome.value] += 1
            if outcome is not Outcome.UNCHANGED:
                logger.info("[%s] article %d: %s", response.source, response.article_id, outcome)
    return summary
