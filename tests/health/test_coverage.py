"""What a run records as its stories' field coverage."""

from __future__ import annotations

from datetime import UTC, datetime

from scrapy.utils.test import get_crawler

from newsarchive.crawler.coverage import FieldCoverage, field_coverage
from newsarchive.crawler.extraction import Extraction
from newsarchive.crawler.items import ArticleItem
from newsarchive.crawler.pages import FetchedPage

FULL = "\n".join(["The ferry timetable changes on Monday for the whole winter season."] * 9)


def item(text: str, **fields: object) -> ArticleItem:
    page = FetchedPage(
        source="kestrel", url="https://k.example/a", body=b"", declared_encoding=None
    )
    return ArticleItem(page, Extraction(title=fields.pop("title", "Ferry"), text=text, **fields))


def test_coverage_counts_dates_bylines_and_full_texts_of_stored_stories() -> None:
    stats = get_crawler().stats
    coverage = FieldCoverage(stats)
    dated = datetime(2026, 11, 20, tzinfo=UTC)
    coverage.item_scraped(item(FULL, authors=["Ann Reed"], published_at=dated))
    coverage.item_scraped(item(FULL, published_at=dated))
    # After a redesign: no date, no byline, and only the teaser is extracted.
    coverage.item_scraped(item("Ferry timetable changes on Monday.", title=" "))
    coverage.item_scraped(object())  # not a story: not counted

    assert field_coverage(stats.get_stats()) == {
        "stories": 3,
        "text": 0.6667,
        "title": 0.6667,
        "published_at": 0.6667,
        "authors": 0.3333,
    }
    assert field_coverage(get_crawler().stats.get_stats()) is None  # a run that stored none
