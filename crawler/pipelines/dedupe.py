"""Dedupe: give each story one identity (canonical URL), a content hash and a MinHash signature.

Exact and near copies under other URLs are linked by the store, which sees every
process's writes; here only repeats within this crawl are dropped.
"""

from __future__ import annotations

import hashlib

from scrapy.crawler import Crawler
from scrapy.exceptions import DropItem

from newsarchive.similarity import signature

from ..items import ArticleItem
from ..urls import story_url


def content_hash(text: str) -> str:
    """SHA-256 of the cleaned text: equal for the same story text wherever it was served."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class DedupePipeline:
    """Sets ``canonical_url``, ``content_hash`` and ``minhash``; drops a story already seen in
    this crawl."""

    def __init__(self, crawler: Crawler) -> None:
        self.stats = crawler.stats
        self.seen: set[str] = set()

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> DedupePipeline:
        return cls(crawler)

    def process_item(self, item: ArticleItem) -> ArticleItem:
        assert item.extraction is not None, "CleanPipeline must run before DedupePipeline"
        item.canonical_url = story_url(item.url, item.extraction.canonical_url)
        item.content_hash = content_hash(item.extraction.text)
        if item.canonical_url in self.seen:
            self.stats.inc_value("newsarchive/duplicates")
            raise DropItem(
                f"[{item.source}] {item.url} is {item.canonical_url}, already seen in this crawl",
                log_level="INFO",
            )
        self.seen.add(item.canonical_url)
        item.minhash = signature(item.extraction.text)
        return item
