"""Clean: turn a fetched page into article text and metadata, or drop it as not a story."""

from __future__ import annotations

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from ..extraction import extract_article
from ..items import ArticleItem

# A page a feed or sitemap lists is a story by the site's own word, so it
# needs only some text; a page reached by following links must look like one.
MIN_LISTED_TEXT = 150


class CleanPipeline:
    """Runs :func:`extract_article` on each page; pages that are not stories are dropped."""

    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> CleanPipeline:
        return cls(crawler)

    def process_item(self, item: ArticleItem) -> ArticleItem:
        extraction = extract_article(item.body, item.url, declared_encoding=item.declared_encoding)
        listed_story = item.listed and len(extraction.text) >= MIN_LISTED_TEXT
        if not extraction.text or not (extraction.is_article or listed_story):
            self.stats.inc_value("newsarchive/not_article")
            raise DropItem(f"[{item.source}] not an article: {item.url}", log_level="DEBUG")
        item.extraction = extraction
        return item
