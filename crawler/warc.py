"""Archive every successful response, with its request, as WARC records while the crawl runs.

A downloader middleware: it sees each final 2xx response (after decompression,
below retries and redirects), writes the exchange with :class:`WarcWriter`, and
puts the response record's location in ``response.meta["warc"]`` for the spider
to hand on with the item. Records are built, gzipped and written on one thread
of their own (in order): on the reactor thread they were a fifth of its time
(py-spy, 60 KB pages), and zlib lets go of the GIL while it compresses, so the
reactor goes on downloading meanwhile. The response goes on to the spider once
its record is written.

A write that fails (a full disk) is logged once, the file is closed at its last
complete record, and archiving stops for the rest of the crawl: every later
write would fail the same way. The crawl goes on, and the database still keeps
each stored story's body (``raw_html``).
"""

from __future__ import annotations

import asyncio
import functools
import logging
import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import NotConfigured
from scrapy.http import Response
from scrapy.statscollectors import StatsCollector

from newsarchive.storage.warc import WarcLocation, WarcWriter

from .context import CrawlContext, crawl_context
from .settings import setting_int

logger = logging.getLogger(__name__)

WARC_BYTES = "newsarchive/warc_bytes"
"""Bytes the crawl wrote to WARC files: the run's ``warc_bytes``."""


def _headers(headers: object) -> list[tuple[str, str]]:
    return [
        (key.decode("latin-1"), value.decode("latin-1"))
        for key, values in headers.items()  # type: ignore[attr-defined]
        for value in values
    ]


def _file_safe(name: str) -> str:
    """``newsarchive@host.example`` → ``newsarchive_host.example``: no shell or path characters."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name)


class WarcArchiveMiddleware:
    """Writes request + response records of every 2xx response to ``NEWSARCHIVE_WARC_DIR``."""

    def __init__(
        self,
        context: CrawlContext,
        directory: Path,
        max_size: int,
        stats: StatsCollector | None = None,
        worker: str | None = None,
    ) -> None:
        self.context = context
        self.stats = stats
        self.directory = directory
        self.max_size = max_size
        self.worker = worker
        self.writer: WarcWriter | None = None
        """Set and closed on the WARC thread once the spider opened."""
        self.executor: ThreadPoolExecutor | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> WarcArchiveMiddleware:
        directory = crawler.settings.get("NEWSARCHIVE_WARC_DIR")
        if not directory:
            raise NotConfigured("NEWSARCHIVE_WARC_DIR is not set")
        max_size = setting_int(crawler.settings, "NEWSARCHIVE_WARC_MAX_SIZE")
        worker = crawler.settings.get("NEWSARCHIVE_WORKER")
        middleware = cls(crawl_context(crawler), Path(directory), max_size, crawler.stats, worker)
        crawler.signals.connect(middleware.spider_opened, signal=signals.spider_opened)
        crawler.signals.connect(middleware.spider_closed, signal=signals.spider_closed)
        return middleware

    def spider_opened(self) -> None:
        source, run_id = self.context.source.name, self.context.run_id
        prefix = f"newsarchive-{source}-run{run_id or 0}"
        if self.worker:
            # Workers on several machines share warc_dir: the name says whose file it is.
            prefix = f"newsarchive-{_file_safe(self.worker)}-{source}-run{run_id or 0}"
        self.writer = WarcWriter(
            self.directory,
            max_size=self.max_size,
            prefix=prefix,
            info={"isPartOf": f"newsarchive crawl run {run_id} of source {source}"},
        )
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="newsarchive-warc")

    def spider_closed(self) -> None:
        if self.executor is not None:
            # Every response has gone through already; this waits for nothing new.
            self.executor.shutdown(wait=True)
        if self.writer is not None:
            self._close_writer()

    def _count_bytes(self) -> None:
        # Set, not incremented: the writer's total already includes rotations and warcinfo.
        if self.stats is not None and self.writer is not None:
            self.stats.set_value(WARC_BYTES, self.writer.bytes_written)

    def _close_writer(self) -> None:
        assert self.writer is not None
        self._count_bytes()
        writer, self.writer = self.writer, None
        path = writer.path
        try:
            writer.close()
        except OSError as exc:
            logger.error("could not finish WARC file %s: %s", path, exc)

    async def process_response(self, request: Request, response: Response) -> Response:
        if self.writer is None or self.executor is None or not 200 <= response.status < 300:
            return response
        exchange = functools.partial(
            self._write,
            self.writer,
            response.url,
            method=request.method,
            request_headers=_headers(request.headers),
            status=response.status,
            reason="OK" if response.status == 200 else "",
            response_headers=_headers(response.headers),
            body=response.body,
            protocol=(response.protocol or "HTTP/1.1").upper(),
        )
        location = await asyncio.wrap_future(self.executor.submit(exchange))
        if location is not None:
            self._count_bytes()
            request.meta["warc"] = location  # the callback reads it as response.meta["warc"]
        return response

    def _write(self, writer: WarcWriter, url: str, **exchange: Any) -> WarcLocation | None:
        """On the WARC thread: write one exchange; None once archiving has stopped."""
        if self.writer is not writer:  # a write queued before this one failed
            return None
        try:
            return writer.write_exchange(url, **exchange)
        except OSError as exc:  # a full disk must not stop the crawl; the DB keeps raw_html
            logger.error(
                "[%s] could not archive %s to WARC file %s: %s; archiving stopped for this"
                " crawl (the database keeps each story's raw HTML)",
                self.context.source.name,
                url,
                writer.path,
                exc,
            )
            self._close_writer()
            return None
