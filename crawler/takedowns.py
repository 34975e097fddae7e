"""Notice when a known story is taken down, and when it comes back.

A downloader middleware next to the downloader, above redirects: it sees every
answer as the site gave it, a redirect before it is followed (the home page it
points to is often fetched already, and the duplicate filter would drop the
followed request unseen). A re-fetched story that answers 404 or 410, or that
redirects to the site's home page or to a section it was filed under, is
recorded ``removed`` (``storage.events``); a removed story that answers 2xx (or
304 to a conditional request) at its own URL again is recorded ``restored``.

Only such answers cost a database call (off the reactor thread): whether the
URL is a known story is asked of the archive then, not for every response. The
URLs of removed stories are loaded once, at the first answer.
"""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urljoin, urlsplit

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.http import Response

from newsarchive.storage import CrawlStore, StorageError
from newsarchive.storage.events import EventKind

from .context import CrawlContext, crawl_context, crawl_store
from .urls import canonical_url

logger = logging.getLogger(__name__)

GONE_STATUSES = frozenset({404, 410})
NOT_MODIFIED = 304
"""The answer to a conditional re-fetch of a story that is back unchanged: up again too."""


def _segments(url: str) -> list[str]:
    return [s for s in urlsplit(url).path.split("/") if s]


def is_home_or_section(original: str, final: str, start_urls: list[str]) -> bool:
    """Whether a redirect from ``original`` to ``final`` lands on a home or section page.

    A section is a configured start URL, or a path the story's own path lies
    under (``/world/2024/story`` → ``/world/``): what a CMS redirects an
    unpublished story to. A story moved to another story URL is neither.
    """
    before, after = _segments(original), _segments(final)
    if not before or canonical_url(final) == canonical_url(original):
        return False
    if canonical_url(final) in {canonical_url(u) for u in start_urls}:
        return True
    return len(after) < len(before) and before[: len(after)] == after


class TakedownMiddleware:
    """Records removed and restored stories from the answers their re-fetches get."""

    def __init__(self, context: CrawlContext, store: CrawlStore) -> None:
        self.context = context
        self.store = store
        self.removed: set[str] | None = None
        self._loading: asyncio.Future[set[str]] | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> TakedownMiddleware:
        return cls(crawl_context(crawler), crawl_store(crawler))

    async def _removed_urls(self) -> set[str]:
        if self.removed is None:
            if self._loading is None:
                self._loading = asyncio.ensure_future(asyncio.to_thread(self.store.removed_urls))
            try:
                self.removed = await self._loading
            except StorageError as exc:
                # Without the list no story is seen coming back in this crawl; nothing is lost.
                logger.error(
                    "[%s] could not load removed stories: %s", self.context.source.name, exc
                )
                self.removed = set()
        return self.removed

    async def process_response(self, request: Request, response: Response) -> Response:
        url, status = request.url, response.status
        location = response.headers.get(b"Location")
        if status in GONE_STATUSES:
            await self._record(EventKind.REMOVED, url, status, f"HTTP {status}")
        elif 300 <= status < 400 and location:
            target = urljoin(url, location.decode("latin-1"))
            if is_home_or_section(url, target, self.context.source.start_urls):
                await self._record(EventKind.REMOVED, url, status, f"redirected to {target}")
        elif (200 <= status < 300 or status == NOT_MODIFIED) and canonical_url(
            url
        ) in await self._removed_urls():
            await self._record(EventKind.RESTORED, url, status, f"HTTP {status}")
        return response

    async def _record(self, kind: EventKind, url: str, status: int, detail: str) -> None:
        source = self.context.source.name
        urls = sorted({url, canonical_url(url)})
        try:
            changed = await asyncio.to_thread(
                self.store.record_availability,
                kind,
                urls,
                url=url,
                http_status=status,
                detail=detail,
                crawl_run_id=self.context.run_id,
            )
        except StorageError as exc:
            logger.error("[%s] could not record %s story %s: %s", source, kind, url, exc)
            return
        removed = await self._removed_urls()
        level = logging.WARNING if kind is EventKind.REMOVED else logging.INFO
        for article_id in changed:
            logger.log(
                level, "[%s] story %s (%s): %s (article %d)", source, kind, detail, url, article_id
            )
        if changed and kind is EventKind.REMOVED:
            removed.update(urls)
        elif changed:
            removed.difference_update(urls)
