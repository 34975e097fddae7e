"""The scheduler's queue of requests waiting for a download, held compactly.

A sitemap lists up to 50,000 URLs, and the spider schedules a request for each
as soon as it has read them. As objects (the request, its meta and headers, the
fingerprint Scrapy caches for it) each held about 1.5 KiB until its turn came, so
a crawl's memory grew with its sitemap: some 30 MiB at 20,000 URLs. Serialised as
Scrapy's own disk queues do it (``Request.to_dict``, pickle) and compressed, a
waiting request takes about 0.4 KiB, and nothing is written to disk. Compressed
on their own, the requests of one sitemap repeat the same keys, callbacks and
URL prefix in every item; compressed against a dictionary, a request like the
ones before it, each takes about 40 bytes of data instead of 285.
"""

from __future__ import annotations

import pickle
import zlib
from typing import TYPE_CHECKING, Any

from scrapy import Request
from scrapy.utils.request import request_from_dict

if TYPE_CHECKING:
    from typing import Self

    from scrapy.crawler import Crawler


class CompactLifoMemoryQueue:
    """Scrapy's ``LifoMemoryQueue`` (``SCHEDULER_MEMORY_QUEUE``), keeping each request
    serialised until it is popped; same order, same requests back."""

    def __init__(self, crawler: Crawler, key: str = "") -> None:
        self.spider = crawler.spider
        self._items: list[bytes | Request] = []
        # The dictionary every waiting item was compressed against: the first
        # request pushed into a queue with none waiting (a sitemap's first story).
        self._zdict = b""
        self._packed = 0

    @classmethod
    def from_crawler(cls, crawler: Crawler, key: str, *args: Any, **kwargs: Any) -> Self:
        return cls(crawler, key)

    def push(self, request: Request) -> None:
        try:
            packed = pickle.dumps(request.to_dict(spider=self.spider), pickle.HIGHEST_PROTOCOL)
        except (ValueError, TypeError, AttributeError, pickle.PicklingError):
            # A callback that is no method of the spider, or meta that cannot be
            # pickled: kept as the object, as Scrapy's own memory queue keeps all.
            self._items.append(request)
            return
        if not self._packed:
            self._zdict = packed
        compressor = zlib.compressobj(1, zdict=self._zdict)
        self._items.append(compressor.compress(packed) + compressor.flush())
        self._packed += 1

    def pop(self) -> Request | None:
        return self._unpacked(self._items.pop(), popped=True) if self._items else None

    def peek(self) -> Request | None:
        return self._unpacked(self._items[-1]) if self._items else None

    def _unpacked(self, item: bytes | Request, *, popped: bool = False) -> Request:
        if isinstance(item, Request):
            return item
        decompressor = zlib.decompressobj(zdict=self._zdict)
        packed = decompressor.decompress(item) + decompressor.flush()
        if popped:
            self._packed -= 1
        return request_from_dict(pickle.loads(packed), spider=self.spider)

    def close(self) -> None:
        self._items.clear()
        self._packed = 0

    def __len__(self) -> int:
        return len(self._items)
