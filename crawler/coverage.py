"""Count which fields the run's stored stories have: the data behind the coverage-drop check.

A Scrapy extension on ``item_scraped``, which fires once the store pipeline
has written the story: per field of ``storage.runs.COVERAGE_FIELDS``, how many
of the run's stories have it, kept in the crawl's stats for ``run_crawl`` to
record. A site redesign that breaks date or author extraction shows as a share
that falls from one run to the next while the crawl still says ``ok``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.statscollectors import StatsCollector

from newsarchive.storage.runs import COVERAGE_FIELDS

from .context import crawl_context
from .extraction import Extraction
from .extraction.lines import weighted_len
from .items import ArticleItem

STORIES = "newsarchive/coverage/stories"
"""Stories of the run that reached the archive."""


def coverage_stat(field: str) -> str:
    return f"newsarchive/coverage/{field}"


FULL_TEXT = 500
"""Characters (a CJK character counting 2.5) of a full story's text. Every stored story has
some text (a page without is no story), so ``text`` coverage is the share of full texts:
one that falls means extraction now finds only a teaser or a caption."""


def has_field(extraction: Extraction, field: str) -> bool:
    """Whether the story has ``field``: a value, and for ``text`` a full story's length."""
    if field == "text":
        return weighted_len(extraction.text) >= FULL_TEXT
    value = getattr(extraction, field)
    return bool(value.strip() if isinstance(value, str) else value)


def field_coverage(stats: Mapping[str, Any]) -> dict[str, float] | None:
    """The run's share of stories with each field, and ``stories``; None if it stored none."""
    stories = int(stats.get(STORIES, 0))
    if not stories:
        return None
    shares = {f: round(int(stats.get(coverage_stat(f), 0)) / stories, 4) for f in COVERAGE_FIELDS}
    return {"stories": stories, **shares}


class FieldCoverage:
    """Counts, per field, the stored stories that have it (``newsarchive/coverage/*`` stats)."""

    def __init__(self, stats: StatsCollector) -> None:
        self.stats = stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> FieldCoverage:
        crawl_context(crawler)  # NotConfigured outside a newsarchive crawl
        assert crawler.stats is not None
        extension = cls(crawler.stats)
        crawler.signals.connect(extension.item_scraped, signal=signals.item_scraped)
        return extension

    def item_scraped(self, item: object) -> None:
        if not isinstance(item, ArticleItem) or item.extraction is None:
            return
        self.stats.inc_value(STORIES)
        for field in COVERAGE_FIELDS:
            if has_field(item.extraction, field):
                self.stats.inc_value(coverage_stat(field))
