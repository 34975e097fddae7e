"""What every component of one source's crawl needs to know, in one typed object.

``run_crawl`` binds a :class:`CrawlContext` to each Scrapy crawler it creates;
the spider, middlewares and pipelines read it with :func:`crawl_context` in
their ``from_crawler``, instead of fishing attributes off the spider.
"""

from __future__ import annotations

from dataclasses import dataclass
from weakref import WeakKeyDictionary

from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured

from newsarchive.config import DEFAULT_RECRAWL, RecrawlRule, SourceConfig
from newsarchive.storage import CrawlStore


@dataclass(frozen=True)
class CrawlContext:
    """One source's crawl: the source, its run, and the archive it writes to."""

    source: SourceConfig
    store: CrawlStore | None = None
    """The archive; None crawls without one (nothing is loaded or stored)."""
    run_id: int | None = None
    """The ``crawl_runs`` row of this crawl."""
    recrawl_rules: tuple[RecrawlRule, ...] = tuple(DEFAULT_RECRAWL)
    """When known articles are fetched again: the source's rules, else the config's."""


_contexts: WeakKeyDictionary[Crawler, CrawlContext] = WeakKeyDictionary()


def bind_context(crawler: Crawler, context: CrawlContext) -> None:
    """Make ``context`` the crawl context of ``crawler`` (before its crawl starts)."""
    _contexts[crawler] = context


def crawl_context(crawler: Crawler) -> CrawlContext:
    """The context bound to ``crawler``; NotConfigured (the component switches off) if none."""
    try:
        return _contexts[crawler]
    except KeyError:
        raise NotConfigured("no newsarchive crawl context bound to this crawler") from None


def crawl_store(crawler: Crawler) -> CrawlStore:
    """The archive of ``crawler``'s crawl; NotConfigured when it crawls without one."""
    store = crawl_context(crawler).store
    if store is None:
        raise NotConfigured("this crawl has no archive database")
    return store
