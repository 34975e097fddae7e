"""Downloader middlewares."""

from __future__ import annotations

import logging

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.downloadermiddlewares.retry import RetryMiddleware
from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Response
from scrapy.http.request import NO_CALLBACK
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

    A robots.txt that cannot be fetched (the site is down) is one WARNING line and
    a counted ``newsarchive/errors``, like any failed fetch; Scrapy logs an ERROR
    with a 60-line traceback.
    """

    async def robot_parser(self, request: Request) -> RobotParser | None:
        netloc = urlparse_cached(request).netloc
        if netloc not in self._parsers:
            return await self._fetch_robots(request, netloc)
        pending = self._parsers[netloc]
        if not isinstance(pending, Deferred):
            return pending
        waiter: Deferred[RobotParser | None] = Deferred()

        def relay(result: RobotParser | None) -> RobotParser | None:
            waiter.callback(result)
            return result  # pass it on unchanged to the next waiter

        pending.addCallback(relay)
        return await maybe_deferred_to_future(waiter)

    async def _fetch_robots(self, request: Request, netloc: str) -> RobotParser | None:
        # Scrapy's RobotsTxtMiddleware.robot_parser for a host's first request, but
        # for how a failure is reported.
        self._parsers[netloc] = Deferred()
        robots_url = f"{urlparse_cached(request).scheme}://{netloc}/robots.txt"
        robots_request = Request(
            robots_url,
            priority=self.DOWNLOAD_PRIORITY,
            meta={
                "dont_obey_robotstxt": True,
                # A download slot of its own: in the host's slot, robots.txt would
                # make the first page wait AUTOTHROTTLE_START_DELAY (a second, most
                # of what a crawl of a feed answering 304 takes). That page still
                # waits for robots.txt's answer, and every request after it for
                # the host's delay, so the host never sees two requests at once.
                "download_slot": f"{netloc} robots.txt",
            },
            callback=NO_CALLBACK,
        )
        assert self.crawler.engine is not None
        try:
            response = await self.crawler.engine.download_async(robots_request)
            await self._parse_robots(response, netloc, request)
        except Exception as exc:
            if not isinstance(exc, IgnoreRequest):
                self._stats.inc_value("newsarchive/errors")
                source = getattr(getattr(self.crawler.spider, "source", None), "name", None)
                logger.warning(
                    "%srobots.txt fetch failed (%s): %s",
                    f"[{source}] " if source else "",
                    str(exc) or type(exc).__name__,
                    robots_url,
                )
            self._robots_error(exc, netloc)
        self._stats.inc_value("robotstxt/request_count")
        parser = self._parsers[netloc]
        assert not isinstance(parser, Deferred)  # settled by _parse_robots or _robots_error
        return parser
