"""Dedupe: give each story its identity (canonical URL, content hash, MinHash signature).

Exact and near copies under other URLs are linked by the store, which sees every
process's writes; here only repeats within this crawl are dropped.
"""

from __future__ import annotations

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from ..items import ArticleItem
from ..pages import identify
from ..urls import UrlKeys, url_key


class DedupePipeline:
    """Sets the item's :class:`StoryIdentity`; drops a story already seen in this crawl."""

    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats
        self.seen = UrlKeys()
        """The canonical URLs of this crawl's stories, as :func:`.urls.url_key`."""

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupePipeline:
        return cls(crawler)

    def process_item(self, item: ArticleItem) -> ArticleItem:
        assert item.extraction is not None, "CleanPipeline must run before DedupePipeline"
        # CleanPipeline computes it with the extraction, in an extraction process.
        identity = item.identity or identify(item.page, item.extraction)
        key = url_key(identity.canonical_url)
        if key in self.seen:
            self.stats.inc_value("newsarchive/duplicates")
            raise DropItem(
                f"[{item.page.source}] {item.page.url} is {identity.canonical_url}, "
                "already seen in this crawl",
                log_level="INFO",
            )
        self.seen.add(key)
        item.identity = identity
        return item
