"""Downloader middlewares."""

from __future__ import annotations

import logging

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.http import Response
from scrapy.robotstxt import RobotParser
from scrapy.utils.defer import maybe_deferred_to_future
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred
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


class SharedRobotsTxtMiddleware(RobotsTxtMiddleware):
    """Scrapy's robots.txt middleware, with every request that waits for robots.txt obeying it.

    In Scrapy 2.13+ all requests waiting for a host's robots.txt await one shared
    Deferred, and the first waiter consumes its result: the others get ``None``
    and go through unchecked (a Disallowed page queued beside the home page gets
    fetched). Here each waiter gets its own Deferred relayed from the shared one.
    """

    async def robot_parser(self, request: Request) -> RobotParser | None:
        pending = self._parsers.get(urlparse_cached(request).netloc)
        if not isinstance(pending, Deferred):
            return await super().robot_parser(request)
        waiter: Deferred[RobotParser | None] = Deferred()

        def relay(result: RobotParser | None) -> RobotParser | None:
            waiter.callback(result)
            return result  # pass it on unchanged to the next waiter

        pending.addCallback(relay)
        return await maybe_deferred_to_future(waiter)
