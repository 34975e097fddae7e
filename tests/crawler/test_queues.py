"""The scheduler's compact queue: the requests that wait are the requests that come back."""

from __future__ import annotations

from scrapy import Request
from scrapy.http import XmlResponse

from newsarchive.crawler.queues import CompactLifoMemoryQueue
from newsarchive.crawler.settings import DEFAULTS
from tests.crawler.test_spider import BASE, fixture, make_spider, response


def _fields(request: Request) -> tuple[object, ...]:
    return (
        request.url,
        request.callback,
        request.errback,
        request.meta,
        request.headers.to_unicode_dict(),
        request.priority,
        request.dont_filter,
    )


def test_sitemap_requests_come_back_whole_and_last_in_first_out() -> None:
    spider = make_spider({"SCHEDULER_MEMORY_QUEUE": DEFAULTS["SCHEDULER_MEMORY_QUEUE"]})
    urlset = response(f"{BASE}/sitemaps/news.xml", fixture("sitemaps/news.xml"), XmlResponse)
    requests = list(spider.parse_sitemap(urlset))
    requests[0].headers["Referer"] = urlset.url
    queue = CompactLifoMemoryQueue.from_crawler(spider.crawler, "")
    for request in requests:
        queue.push(request)
    assert len(queue) == len(requests)
    assert _fields(queue.peek()) == _fields(requests[-1])  # type: ignore[arg-type]
    popped = [queue.pop() for _ in requests]
    assert [_fields(r) for r in popped] == [_fields(r) for r in reversed(requests)]  # type: ignore[arg-type]
    # The news sitemap's publication date travels with its story's request.
    assert popped[-1].meta["listed_date"].isoformat() == "2024-05-14T09:30:00+01:00"  # type: ignore[union-attr]
    assert queue.pop() is None and len(queue) == 0


def test_a_request_that_cannot_be_serialised_waits_as_it_is() -> None:
    spider = make_spider()
    queue = CompactLifoMemoryQueue.from_crawler(spider.crawler, "")
    odd = Request(f"{BASE}/a.html", callback=lambda response: None)  # no method of the spider
    plain = Request(f"{BASE}/b.html", callback=spider.parse_page)
    queue.push(odd)
    queue.push(plain)
    assert queue.pop().url == plain.url  # type: ignore[union-attr]
    assert queue.pop() is odd


def test_requests_pushed_after_the_queue_emptied_come_back_whole() -> None:
    # Items are compressed against the first request pushed into an empty queue;
    # one pushed while others wait must not change what those decompress with.
    spider = make_spider()
    queue = CompactLifoMemoryQueue.from_crawler(spider.crawler, "")

    def page(name: str, **meta: object) -> Request:
        return Request(f"{BASE}/{name}.html", callback=spider.parse_page, meta=meta)

    first = [page(f"a{i}", listed=True) for i in range(3)]
    for request in first:
        queue.push(request)
    assert [_fields(queue.pop()) for _ in first] == [_fields(r) for r in reversed(first)]  # type: ignore[arg-type]
    waiting, later = page("b1", source="other"), page("b2", follow=True)
    queue.push(waiting)
    queue.push(later)
    assert _fields(queue.pop()) == _fields(later)  # type: ignore[arg-type]
    pushed_while_waiting = Request(f"{BASE}/robots.txt", callback=spider.parse_sitemap)
    queue.push(pushed_while_waiting)
    assert _fields(queue.pop()) == _fields(pushed_while_waiting)  # type: ignore[arg-type]
    assert _fields(queue.pop()) == _fields(waiting)  # type: ignore[arg-type]
    assert queue.pop() is None
