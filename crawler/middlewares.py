"""Downloader middlewares."""

from __future__ import annotations

import logging

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.http import Response
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.task import deferLater

logger = logging.getLogger(__name__)


class BackoffRetryMiddleware(RetryMiddleware):
    """Scrapy's retry, but waiting before each retry: ``RETRY_BACKOFF_BASE`` × 2^attempt seconds.

    A ``Retry-After`` header (seconds) is honoured when longer; every wait is capped
    at ``RETRY_BACKOFF_MAX``. Hammering a server that answers 5xx or 429 is what
    gets crawlers banned.
    """

    def __init__(self, crawler: Crawler) -> None:
        super().__init__(crawler.settings)
        self.crawler = crawler
        self.base = crawler.settings.getfloat("RETRY_BACKOFF_BASE", 1.0)
        self.cap = crawler.settings.getfloat("RETRY_BACKOFF_MAX", 60.0)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> BackoffRetryMiddleware:
        return cls(crawler)

    async def process_response(self, request: Request, response: Response) -> Request | Response:  # type: ignore[override]
        result = super().process_response(request, response)
        if isinstance(result, Request):
            delay = self._delay(result, response)
            if delay > 0:
                from twisted.internet import reactor  # imported late: Scrapy installs the reactor

                logger.info(
                    "retrying %s in %.1fs after HTTP %d", request.url, delay, response.status
                )
                await maybe_deferred_to_future(deferLater(reactor, delay, lambda: None))
        return result

    def _delay(self, retry: Request, response: Response) -> float:
        attempt = retry.meta.get("retry_times", 1)
        delay = self.base * 2 ** (attempt - 1)
        retry_after = response.headers.get(b"Retry-After")
        if retry_after and retry_after.strip().isdigit():
            delay = max(delay, float(retry_after.strip()))
        return min(delay, self.cap)
