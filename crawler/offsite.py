"""Scrapy's off-site filter, with every dropped request a counted WARNING.

The spider follows only links within the source's domains, so what the filter
drops is a redirect to another site or a feed or sitemap entry on another site:
work the crawl was given and did not do. Scrapy logs the first of each domain at
DEBUG level, which the default log level hides.
"""

from __future__ import annotations

import logging
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.offsite import OffsiteMiddleware
from scrapy.exceptions import IgnoreRequest, NotConfigured

from .context import crawl_context

logger = logging.getLogger(__name__)


class ReportingOffsiteMiddleware(OffsiteMiddleware):
    """Drops what Scrapy's ``OffsiteMiddleware`` drops; each one is logged with its source,
    URL and redirect origin, and counted under ``newsarchive/errors``."""

    source: str

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Any:
        middleware = super().from_crawler(crawler)
        try:
            middleware.source = crawl_context(crawler).source.name
        except NotConfigured:
            # The filter must still work without a context: it keeps the crawl on site.
            middleware.source = crawler.spidercls.name
        return middleware

    def process_request(self, request: Request) -> None:  # type: ignore[override]
        try:
            super().process_request(request)
        except IgnoreRequest:
            self.stats.inc_value("newsarchive/errors")
            redirects = request.meta.get("redirect_urls")
            if redirects:
                logger.warning(
                    "[%s] off-site redirect (from %s), not followed: %s",
                    self.source,
                    redirects[0],
                    request.url,
                )
            else:
                logger.warning("[%s] off-site URL, not fetched: %s", self.source, request.url)
            raise
