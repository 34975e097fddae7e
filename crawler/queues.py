"""The scheduler's queue of requests waiting for a download, held compactly.

A sitemap lists up to 50,000 URLs, and the spider schedules a request for each
as soon as it has read them. As objects (the request, its meta and headers, the
fingerprint Scrapy caches for it) each held about 1.5 KiB until its turn came, so
a crawl's memory grew with its sitemap: some 30 MiB at 20,000 URLs. Serialised as
Scrapy's own disk queues do it (``Request.to_dict``, pickle) and compressed, a
waiting request takes about 0.4 KiB, and nothing is written to disk.
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
        self._items.append(zlib.compress(packed, 1))

    def pop(self) -> Request | None:
        return self._unpacked(self._items.pop()) if self._items else None

    def peek(self) -> Request | None:
        return self._unpacked(self._items[-1]) if self._items else None

    def _unpacked(self, item: bytes | Request) -> Request:
        if isinstance(item, Request):
            return item
        return request_from_dict(pickle.loads(zlib.decompress(item)), spider=self.spider)

    def close(self) -> None:
        self._items.clear()

    def __len__(self) -> int:
        return len(self._items)
