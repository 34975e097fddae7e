"""Build newsarchive's Scrapy components the way Scrapy does, on a real archive database."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from pathlib import Path
from typing import Any, TypeVar

from scrapy.crawler import Crawler
from scrapy.utils.test import get_crawler

from newsarchive.config import DEFAULT_RECRAWL, RecrawlRule, SourceConfig
from newsarchive.crawler.context import CrawlContext, bind_context
from newsarchive.crawler.settings import NEWSARCHIVE_DEFAULTS
from newsarchive.crawler.spiders.news import NewsSpider
from newsarchive.storage import CrawlStore

T = TypeVar("T")

SITE = Path(__file__).parents[1] / "fixtures" / "site"
SOURCE = SourceConfig(name="harbour", start_urls=["http://127.0.0.1/"])


def fixture_page(path: str) -> bytes:
    """A page of the fixture news site, as its server sends it."""
    return (SITE / path.lstrip("/")).read_bytes()


def make_crawler(
    store: CrawlStore | None,
    *,
    source: SourceConfig = SOURCE,
    run_id: int | None = None,
    recrawl_rules: tuple[RecrawlRule, ...] = tuple(DEFAULT_RECRAWL),
    settings: dict[str, Any] | None = None,
) -> Crawler:
    """A crawler of ``source`` with its crawl context bound and its spider created.

    Extraction runs in this process unless ``settings`` say otherwise.
    """
    crawler = get_crawler(
        NewsSpider,
        {**NEWSARCHIVE_DEFAULTS, "NEWSARCHIVE_EXTRACT_PROCESSES": 0, **(settings or {})},
    )
    bind_context(crawler, CrawlContext(source, store, run_id, recrawl_rules))
    crawler.spider = crawler._create_spider()
    return crawler


def run(awaitable: Awaitable[T]) -> T:
    """Drive one coroutine of a component to its end (no reactor needed)."""

    async def main() -> T:
        return await awaitable

    return asyncio.run(main())
