"""The spider's callbacks, driven the Scrapy way: a crawler from ``get_crawler``, built responses.

Nothing is fetched: requests are built and inspected, responses are built from
the fixture site's files (``{{BASE_URL}}`` replaced by :data:`BASE`).
"""

from __future__ import annotations

import asyncio
import gzip
import logging
from pathlib import Path
from typing import Any

import pytest
from scrapy import Request, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Response, TextResponse, XmlResponse
from scrapy.spidermiddlewares.depth import DepthMiddleware
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.test import get_crawler
from twisted.internet.error import DNSLookupError
from twisted.python.failure import Failure

from newsarchive.config import SourceConfig
from newsarchive.crawler.conditional import NotModified
from newsarchive.crawler.context import CrawlContext, bind_context
from newsarchive.crawler.items import ArticleItem
from newsarchive.crawler.offsite import ReportingOffsiteMiddleware
from newsarchive.crawler.pages import FetchedPage
from newsarchive.crawler.settings import DEFAULTS, NEWSARCHIVE_DEFAULTS
from newsarchive.crawler.spiders.news import NewsSpider

# A loopback origin on a non-default port; never contacted.
BASE = "http://127.0.0.1:8123"
SITE = Path(__file__).resolve().parents[1] / "fixtures" / "site"
SPIDER_LOGGER = "newsarchive.crawler.spiders.news"
ERRORS = "newsarchive/errors"


def make_spider(settings: dict[str, Any] | None = None, **source: Any) -> NewsSpider:
    """A spider for one source (``name`` and ``start_urls`` defaulted), bound to a fresh crawler.

    The one place that knows how a spider gets its source.
    """
    fields: dict[str, Any] = {"name": "harbour", "start_urls": [f"{BASE}/"], **source}
    crawler: Crawler = get_crawler(NewsSpider, settings)
    bind_context(crawler, CrawlContext(source=SourceConfig(**fields)))
    spider = crawler.spidercls.from_crawler(crawler)
    crawler.spider = spider
    return spider


def stat(spider: NewsSpider, key: str) -> Any:
    return spider.crawler.stats.get_value(key)


def page_of(item: ArticleItem) -> FetchedPage:
    return item.page


def fixture(path: str) -> bytes:
    return (SITE / path).read_bytes().replace(b"{{BASE_URL}}", BASE.encode())


def response(
    url: str,
    body: bytes,
    cls: type[Response] = HtmlResponse,
    *,
    content_type: str | None = None,
    **meta: Any,
) -> Response:
    """A response to a request for ``url`` whose meta is the spider's plus ``meta``."""
    request = Request(url, meta={"follow": False, "listed": False, "conditional": True, **meta})
    headers = {"Content-Type": content_type} if content_type else {}
    return cls(url=url, body=body, headers=headers, request=request)


def summary(requests: list[Any]) -> list[tuple[str, str, bool, bool]]:
    """What each request asks for: (url, callback, follow, listed)."""
    assert all(isinstance(r, Request) for r in requests), requests
    for r in requests:
        assert r.meta["conditional"] is True
        assert r.errback.__name__ == "on_error"
    return [(r.url, r.callback.__name__, r.meta["follow"], r.meta["listed"]) for r in requests]


def warnings_about(caplog: pytest.LogCaptureFixture, url: str) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == SPIDER_LOGGER and r.levelno == logging.WARNING and url in r.getMessage()
    ]


async def _collect(spider: NewsSpider) -> list[Request]:
    return [request async for request in spider.start()]


def start_requests(spider: NewsSpider) -> list[Request]:
    return asyncio.run(_collect(spider))


# --- start() --------------------------------------------------------------------------


def test_start_requests_every_entry_point_with_its_callback() -> None:
    spider = make_spider(
        feeds=[f"{BASE}/feeds/rss.xml", f"{BASE}/feeds/atom.xml"],
        sitemaps=[f"{BASE}/sitemap_index.xml", f"{BASE}/robots.txt"],
        start_urls=[f"{BASE}/", f"{BASE}/news/"],
    )
    assert summary(start_requests(spider)) == [
        (f"{BASE}/feeds/rss.xml", "parse_feed", False, False),
        (f"{BASE}/feeds/atom.xml", "parse_feed", False, False),
        (f"{BASE}/sitemap_index.xml", "parse_sitemap", False, False),
        (f"{BASE}/robots.txt", "parse_robots", False, False),
        (f"{BASE}/", "parse_page", True, False),
        (f"{BASE}/news/", "parse_page", True, False),
    ]


def test_start_urls_are_canonicalised() -> None:
    spider = make_spider(
        start_urls=["HTTP://127.0.0.1:8123/News/?b=2&a=1&utm_source=x#top"],
        feeds=["http://127.0.0.1:80/rss.xml?fbclid=abc"],
        sitemaps=["http://127.0.0.1:8123/robots.txt/"],
    )
    requests = start_requests(spider)
    assert [(r.url, r.callback.__name__) for r in requests] == [
        ("http://127.0.0.1/rss.xml", "parse_feed"),
        ("http://127.0.0.1:8123/robots.txt/", "parse_robots"),
        ("http://127.0.0.1:8123/News/?a=1&b=2", "parse_page"),
    ]


# --- parse_feed -----------------------------------------------------------------------

RSS2_ITEMS = [
    "/news/2024/05/harbour-bridge-reopens.html",
    "/news/2024/05/ferry-timetable-changes.html",  # utm_* parameters dropped
    "/news/2024/05/fish-market-prices.html",
    "/news/2024/05/council-approves-seawall.html",
    "/news/2024/05/withdrawn-story.html",
    "/intl/zh-gbk-header.html",
    "/intl/zh-gb18030-undeclared.html",
    "/flaky.html",
]
RSS1_ITEMS = [
    "/news/2024/05/rowing-club-centenary.html",
    "/news/2024/05/harbour-bridge-reopens.html",
    "/intl/ja-shiftjis-header.html",
    "/intl/ko-euckr-meta.html",
    "/intl/zh-tw-big5-meta.html",
]
ATOM_ITEMS = [
    "/news/2024/05/council-approves-seawall.html",
    "/news/2024/05/rowing-club-centenary.html",
    "/news/2024/05/storm-cleanup-volunteers.html",
    "/intl/fr-cp1252-header-latin1.html",
    "/intl/de-utf8-header-wrong.html",
    "/intl/ru-cp1251-undeclared.html",
    "/intl/zh-gbk-meta.html",
    "/busy.html",
]


@pytest.mark.parametrize(
    ("path", "content_type", "expected"),
    [
        ("feeds/rss.xml", "application/rss+xml; charset=utf-8", RSS2_ITEMS),
        ("feeds/rss1.rdf", "application/rdf+xml", RSS1_ITEMS),
        ("feeds/atom.xml", "application/atom+xml; charset=utf-8", ATOM_ITEMS),
    ],
    ids=["rss2", "rss1", "atom"],
)
def test_feed_items_become_listed_page_requests(
    path: str, content_type: str, expected: list[str]
) -> None:
    spider = make_spider()
    feed = response(f"{BASE}/{path}", fixture(path), XmlResponse, content_type=content_type)
    requests = list(spider.parse_feed(feed))
    assert summary(requests) == [(f"{BASE}{p}", "parse_page", False, True) for p in expected]
    assert stat(spider, ERRORS) is None


def test_relative_feed_links_resolve_against_the_feed_url() -> None:
    spider = make_spider()
    body = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
      <item><link>/news/a.html</link></item>
      <item><link>b.html</link></item>
    </channel></rss>"""
    feed = response(f"{BASE}/feeds/rss.xml", body, XmlResponse)
    assert [r.url for r in spider.parse_feed(feed)] == [
        f"{BASE}/news/a.html",
        f"{BASE}/feeds/b.html",
    ]


def test_non_http_feed_links_are_logged_and_skipped(caplog: pytest.LogCaptureFixture) -> None:
    spider = make_spider()
    body = b"""<?xml version="1.0"?><rss version="2.0"><channel><title>t</title>
      <item><link>ftp://127.0.0.1/story.html</link></item>
      <item><link>/news/a.html</link></item>
    </channel></rss>"""
    url = f"{BASE}/feeds/rss.xml"
    assert [r.url for r in spider.parse_feed(response(url, body, XmlResponse))] == [
        f"{BASE}/news/a.html"
    ]
    assert stat(spider, ERRORS) == 1
    [warning] = warnings_about(caplog, url)
    assert "ftp://127.0.0.1/story.html" in warning


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"garbage \x00 <<< not a feed",
        b'<?xml version="1.0"?><rss version="2.0"><channel><title>t</title></channel></rss>',
    ],
    ids=["empty", "garbage", "no-items"],
)
def test_feed_without_items_is_an_error_with_its_url(
    body: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    spider = make_spider()
    url = f"{BASE}/feeds/broken.xml"
    assert list(spider.parse_feed(response(url, body, XmlResponse))) == []
    assert stat(spider, ERRORS) == 1
    [warning] = warnings_about(caplog, url)
    assert "[harbour] feed lists no items" in warning


# --- parse_robots ---------------------------------------------------------------------


def test_robots_txt_sitemaps_become_sitemap_requests() -> None:
    spider = make_spider()
    robots = response(f"{BASE}/robots.txt", fixture("robots.txt"), TextResponse)
    assert summary(list(spider.parse_robots(robots))) == [
        (f"{BASE}/sitemap_index.xml", "parse_sitemap", False, False),
        (f"{BASE}/sitemaps/news.xml", "parse_sitemap", False, False),
    ]


def test_robots_txt_without_sitemaps_is_an_error_with_its_url(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The source lists robots.txt as its sitemap: without Sitemap: lines it
    # discovers nothing, which must not pass as an "ok" crawl.
    spider = make_spider(sitemaps=[f"{BASE}/robots.txt"])
    url = f"{BASE}/robots.txt"
    robots = response(url, b"User-agent: *\nDisallow: /private/\n", TextResponse)
    assert list(spider.parse_robots(robots)) == []
    assert stat(spider, ERRORS) == 1
    assert warnings_about(caplog, url) == [f"[harbour] robots.txt lists no sitemaps: {url}"]


# --- parse_sitemap --------------------------------------------------------------------

NEWS_SITEMAP_PAGES = [
    "/news/2024/05/harbour-bridge-reopens.html",
    "/news/2024/05/ferry-timetable-changes.html",
    "/news/2024/05/fish-market-prices.html",
    "/news/2024/05/council-approves-seawall.html",
    "/news/2024/05/rowing-club-centenary.html",
    "/news/2024/05/storm-cleanup-volunteers.html",
    "/flaky.html",
    "/busy.html",
    "/wire/2024/05/fish-market-prices.html",
    "/intl/zh-gbk-header.html",
    "/intl/zh-gbk-meta.html",
    "/intl/zh-gb18030-undeclared.html",
    "/intl/zh-tw-big5-meta.html",
    "/intl/ja-shiftjis-header.html",
    "/intl/ko-euckr-meta.html",
    "/intl/ru-cp1251-undeclared.html",
    "/intl/fr-cp1252-header-latin1.html",
    "/intl/de-utf8-header-wrong.html",
]


def test_sitemap_index_yields_sitemap_requests() -> None:
    spider = make_spider()
    index = response(f"{BASE}/sitemap_index.xml", fixture("sitemap_index.xml"), XmlResponse)
    assert summary(list(spider.parse_sitemap(index))) == [
        (f"{BASE}/sitemaps/news.xml", "parse_sitemap", False, False),
        (f"{BASE}/sitemaps/pages.xml", "parse_sitemap", False, False),
    ]


def test_urlset_yields_listed_page_requests() -> None:
    spider = make_spider()
    urlset = response(f"{BASE}/sitemaps/news.xml", fixture("sitemaps/news.xml"), XmlResponse)
    assert summary(list(spider.parse_sitemap(urlset))) == [
        (f"{BASE}{p}", "parse_page", False, True) for p in NEWS_SITEMAP_PAGES
    ]


def test_gzipped_sitemap_is_read() -> None:
    spider = make_spider()
    body = gzip.compress(fixture("sitemaps/news.xml"))
    urlset = response(f"{BASE}/sitemaps/news.xml.gz", body, Response)
    assert [r.url for r in spider.parse_sitemap(urlset)] == [
        f"{BASE}{p}" for p in NEWS_SITEMAP_PAGES
    ]
    assert stat(spider, ERRORS) is None


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"\x1f\x8b\x07 not deflate", "bad gzip sitemap"),
        pytest.param(
            b"\x1f\x8b\x08\x00 corrupt deflate stream",
            "bad gzip sitemap",
            id="corrupt-gzip",
        ),
        pytest.param(
            gzip.compress(fixture("sitemaps/news.xml"))[:-40],
            "bad gzip sitemap",
            id="truncated-gzip",
        ),
        (b"this is not xml at all", "not a sitemap"),
        (b"", "not a sitemap"),
    ],
    ids=["bad-gzip-header", "corrupt-gzip", "truncated-gzip", "garbage", "empty"],
)
def test_unreadable_sitemap_is_an_error_with_its_url(
    body: bytes, message: str, caplog: pytest.LogCaptureFixture
) -> None:
    spider = make_spider()
    url = f"{BASE}/sitemaps/broken.xml"
    assert list(spider.parse_sitemap(response(url, body, Response))) == []
    assert stat(spider, ERRORS) == 1
    [warning] = warnings_about(caplog, url)
    assert message in warning


def test_relative_sitemap_locs_resolve_against_the_sitemap_url() -> None:
    spider = make_spider()
    body = b"""<?xml version="1.0"?>
    <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <url><loc>/news/a.html</loc></url>
      <url><loc>b.html</loc></url>
    </urlset>"""
    urlset = response(f"{BASE}/sitemaps/pages.xml", body, XmlResponse)
    assert [r.url for r in spider.parse_sitemap(urlset)] == [
        f"{BASE}/news/a.html",
        f"{BASE}/sitemaps/b.html",
    ]


def test_non_http_sitemap_locs_are_logged_and_skipped(caplog: pytest.LogCaptureFixture) -> None:
    spider = make_spider()
    body = b"""<?xml version="1.0"?>
    <urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
      <url><loc>ftp://127.0.0.1/a.html</loc></url>
      <url><loc>http://127.0.0.1:8123/b.html</loc></url>
      <url><loc>mailto:desk@127.0.0.1</loc></url>
    </urlset>"""
    url = f"{BASE}/sitemaps/pages.xml"
    assert [r.url for r in spider.parse_sitemap(response(url, body, XmlResponse))] == [
        f"{BASE}/b.html"
    ]
    assert stat(spider, ERRORS) == 2
    warnings = warnings_about(caplog, url)
    assert len(warnings) == 2
    assert "ftp://127.0.0.1/a.html" in warnings[0]
    assert "mailto:desk@127.0.0.1" in warnings[1]


# --- parse_page -----------------------------------------------------------------------


def test_html_page_becomes_an_article_item() -> None:
    spider = make_spider()
    url = f"{BASE}/news/2024/05/harbour-bridge-reopens.html"
    body = fixture("news/2024/05/harbour-bridge-reopens.html")
    [item] = spider.parse_page(response(url, body, content_type="text/html"))
    page = page_of(item)
    assert (page.source, page.url, page.body) == ("harbour", url, body)
    assert page.declared_encoding is None
    assert page.listed is False
    assert page.warc is None


def test_listed_page_item_is_marked_listed() -> None:
    spider = make_spider()
    url = f"{BASE}/flaky.html"
    [item] = spider.parse_page(response(url, fixture("flaky.html"), listed=True))
    assert page_of(item).listed is True


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        ("text/html; charset=gbk", "gbk"),
        ("text/html; charset=GBK", "gbk"),
        ('text/html; charset="shift_jis"', "shift_jis"),
        ("text/html;charset=iso-8859-1", "iso-8859-1"),
        ("text/html", None),
    ],
)
def test_item_carries_the_header_charset(content_type: str, expected: str | None) -> None:
    spider = make_spider()
    url = f"{BASE}/intl/zh-gbk-header.html"
    page = response(url, fixture("intl/zh-gbk-header.html"), content_type=content_type)
    [item] = spider.parse_page(page)
    assert page_of(item).declared_encoding == expected


def test_html_served_as_text_plain_is_still_a_page() -> None:
    spider = make_spider()
    url = f"{BASE}/about.html"
    body = fixture("about.html")
    [item] = spider.parse_page(response(url, body, TextResponse, content_type="text/plain"))
    assert page_of(item).url == url


@pytest.mark.parametrize(
    ("cls", "body", "content_type", "reason"),
    [
        (Response, b"%PDF-1.4 ...", "application/pdf", "application/pdf"),
        (Response, b"\x89PNG\r\n", None, "no content type"),
        (XmlResponse, fixture("feeds/rss.xml"), "application/rss+xml", "application/rss+xml"),
        (TextResponse, b"just some text", "text/plain", "text/plain"),
    ],
    ids=["pdf", "untyped-binary", "xml", "plain-text"],
)
def test_non_html_response_is_an_error_not_an_item(
    cls: type[Response],
    body: bytes,
    content_type: str | None,
    reason: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    spider = make_spider()
    url = f"{BASE}/files/thing"
    page = response(url, body, cls, content_type=content_type, follow=True)
    assert list(spider.parse_page(page)) == []
    assert stat(spider, ERRORS) == 1
    [warning] = warnings_about(caplog, url)
    assert f"not an HTML page ({reason})" in warning


def test_home_page_links_are_followed_on_a_non_default_port() -> None:
    spider = make_spider()  # allowed domain: 127.0.0.1, the start URL's host
    home = response(f"{BASE}/", fixture("index.html"), follow=True)
    [item, *requests] = spider.parse_page(home)
    assert page_of(item).url == f"{BASE}/"
    followed = {url: rest for url, *rest in summary(requests)}
    assert {tuple(rest) for rest in followed.values()} == {("parse_page", True, False)}
    paths = {url.removeprefix(BASE) for url in followed}
    assert {
        "/",
        "/news/",
        "/about.html",
        "/tag/harbour.html",
        "/news/2024/05/harbour-bridge-reopens.html",
        # tracking parameters and fragment gone
        "/news/2024/05/ferry-timetable-changes.html",
        "/wire/2024/05/fish-market-prices.html",
        "/go/1",
        "/loop/a",
        "/photos/crane-at-dusk",
    } <= paths
    assert all(url.startswith(f"{BASE}/") for url in followed)
    # Feeds are not pages; the search form and scripts are not links.
    assert not paths & {"/feeds/rss.xml", "/feeds/atom.xml", "/feeds/rss1.rdf"}
    assert not any("search.example" in url or "ads.example" in url for url in followed)


def test_documents_and_images_linked_from_a_page_are_not_followed() -> None:
    spider = make_spider()
    home = response(f"{BASE}/", fixture("index.html"), follow=True)
    [_item, *requests] = spider.parse_page(home)
    paths = {r.url.removeprefix(BASE) for r in requests}
    assert "/about.html" in paths
    assert not paths & {"/files/report.pdf", "/media/harbour-crane.png"}


def test_links_are_followed_only_within_allowed_domains_and_their_subdomains() -> None:
    spider = make_spider(
        start_urls=["http://example.com:8080/"], allowed_domains=["example.com:8080"]
    )
    body = b"""<html><body>
      <a href="http://example.com:8080/a.html">same host and port</a>
      <a href="http://example.com/b.html">same host, default port</a>
      <a href="http://news.example.com:9000/c.html">subdomain</a>
      <a href="http://NEWS.Example.COM/d.html">subdomain, other case</a>
      <a href="http://notexample.com/e.html">a suffix but not a subdomain</a>
      <a href="http://example.com.evil.test/f.html">the domain as a prefix</a>
      <a href="http://127.0.0.1/g.html">another host</a>
      <a href="http://example.com:8080/sitemap.xml">xml</a>
      <a href="http://example.com:8080/feed.atom">atom</a>
      <a href="http://example.com:8080/feed.rss">rss</a>
      <a href="http://example.com:8080/feed.rdf">rdf</a>
    </body></html>"""
    page = response("http://example.com:8080/", body, follow=True)
    [_item, *requests] = spider.parse_page(page)
    assert [r.url for r in requests] == [
        "http://example.com:8080/a.html",
        "http://example.com/b.html",
        "http://news.example.com:9000/c.html",
        "http://news.example.com/d.html",
    ]


def test_links_are_not_followed_from_pages_not_marked_follow() -> None:
    spider = make_spider()
    listed = response(f"{BASE}/", fixture("index.html"), listed=True)
    items = list(spider.parse_page(listed))
    assert len(items) == 1
    assert not isinstance(items[0], Request)


# --- on_error -------------------------------------------------------------------------


def failure_for(exc: Exception, url: str) -> Failure:
    failure = Failure(exc)
    failure.request = Request(url)  # type: ignore[attr-defined]  # as Scrapy sets it
    return failure


def test_robots_forbidden_is_counted_apart_from_errors(caplog: pytest.LogCaptureFixture) -> None:
    spider = make_spider()
    url = f"{BASE}/private/secret.html"
    with caplog.at_level(logging.INFO, logger=SPIDER_LOGGER):
        spider.on_error(failure_for(IgnoreRequest("Forbidden by robots.txt"), url))
    assert stat(spider, "newsarchive/robots_forbidden") == 1
    assert stat(spider, ERRORS) is None
    assert [r.getMessage() for r in caplog.records if r.name == SPIDER_LOGGER] == [
        f"[harbour] skipped, forbidden by robots.txt: {url}"
    ]


def test_http_error_is_counted_and_logged_with_status(caplog: pytest.LogCaptureFixture) -> None:
    spider = make_spider()
    url = f"{BASE}/old/2019/regatta-results.html"
    not_found = HtmlResponse(url=url, status=404, body=b"<html>gone</html>", request=Request(url))
    spider.on_error(failure_for(HttpError(not_found, "Ignoring non-200 response"), url))
    assert stat(spider, ERRORS) == 1
    assert warnings_about(caplog, url) == [f"[harbour] fetch failed (HTTP 404): {url}"]


def test_network_error_is_counted_and_logged(caplog: pytest.LogCaptureFixture) -> None:
    spider = make_spider()
    url = f"{BASE}/slow.html"
    spider.on_error(failure_for(DNSLookupError("no such host"), url))
    assert stat(spider, ERRORS) == 1
    [warning] = warnings_about(caplog, url)
    assert warning.startswith("[harbour] fetch failed (") and "no such host" in warning


def test_not_modified_is_neither_an_error_nor_logged(caplog: pytest.LogCaptureFixture) -> None:
    spider = make_spider()
    url = f"{BASE}/news/2024/05/harbour-bridge-reopens.html"
    with caplog.at_level(logging.DEBUG, logger=SPIDER_LOGGER):
        spider.on_error(failure_for(NotModified(f"not modified: {url}"), url))
    assert stat(spider, ERRORS) is None
    assert stat(spider, "newsarchive/robots_forbidden") is None
    assert [r for r in caplog.records if r.name == SPIDER_LOGGER] == []


def test_other_ignored_request_is_an_error() -> None:
    spider = make_spider()
    url = f"{BASE}/offsite.html"
    spider.on_error(failure_for(IgnoreRequest("filtered offsite"), url))
    assert stat(spider, ERRORS) == 1
    assert stat(spider, "newsarchive/robots_forbidden") is None


# --- redirect loops (request_dropped) -------------------------------------------------


def dropped(spider: NewsSpider, url: str, redirect_urls: list[str] | None = None) -> None:
    """Drop ``url`` the way the scheduler does: through the crawler's signal."""
    meta = {"redirect_urls": redirect_urls} if redirect_urls is not None else {}
    spider.crawler.signals.send_catch_log(
        signals.request_dropped, request=Request(url, meta=meta), spider=spider
    )


def test_redirect_back_into_its_chain_is_a_loop_error(caplog: pytest.LogCaptureFixture) -> None:
    spider = make_spider()
    chain = [f"{BASE}/loop/a", f"{BASE}/loop/b"]
    dropped(spider, f"{BASE}/loop/a", chain)
    assert stat(spider, ERRORS) == 1
    assert warnings_about(caplog, f"{BASE}/loop/a") == [
        f"[harbour] redirect loop ({BASE}/loop/a -> {BASE}/loop/b -> {BASE}/loop/a): {BASE}/loop/a"
    ]


def test_loop_is_recognised_through_url_disguises() -> None:
    spider = make_spider()
    dropped(spider, f"{BASE}/loop/a#again", [f"{BASE}/loop/a?utm_source=x", f"{BASE}/loop/b"])
    assert stat(spider, ERRORS) == 1


@pytest.mark.parametrize(
    "redirect_urls",
    [None, [f"{BASE}/go/1", f"{BASE}/go/2"]],
    ids=["plain-duplicate", "chain-ending-on-a-seen-page"],
)
def test_dropped_duplicate_that_is_no_loop_is_not_an_error(
    redirect_urls: list[str] | None, caplog: pytest.LogCaptureFixture
) -> None:
    spider = make_spider()
    dropped(spider, f"{BASE}/news/2024/05/old-customs-house-museum.html", redirect_urls)
    assert stat(spider, ERRORS) is None
    assert [r for r in caplog.records if r.name == SPIDER_LOGGER] == []


# --- discovery depth ------------------------------------------------------------------

INDEX_OF_ONE = b"""<?xml version="1.0"?>
<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <sitemap><loc>%s</loc></sitemap>
</sitemapindex>"""
URLSET_OF_ONE = b"""<?xml version="1.0"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>%s</loc></url>
</urlset>"""


def answer(request: Request, body: bytes, cls: type[Response] = XmlResponse) -> Response:
    """The response to a request the spider made, carrying its meta as Scrapy's would."""
    return cls(url=request.url, body=body, request=request)


def through_depth(spider: NewsSpider, response: Response, callback: Any) -> list[Any]:
    """What ``callback`` makes of ``response``, after Scrapy's DepthMiddleware."""
    middleware = DepthMiddleware.from_crawler(spider.crawler)
    return list(middleware.process_spider_output(response, callback(response)))


def test_a_sitemap_chain_does_not_count_against_the_link_depth() -> None:
    story = f"{BASE}/news/2024/05/harbour-bridge-reopens.html"
    spider = make_spider({"DEPTH_LIMIT": 1}, start_urls=[], sitemaps=[f"{BASE}/robots.txt"])
    [robots] = start_requests(spider)
    robots_txt = f"Sitemap: {BASE}/sitemap_index.xml\n".encode()
    [index] = through_depth(spider, answer(robots, robots_txt, TextResponse), spider.parse_robots)
    index_body = INDEX_OF_ONE % f"{BASE}/sitemaps/news.xml".encode()
    [urlset] = through_depth(spider, answer(index, index_body), spider.parse_sitemap)
    urlset_body = URLSET_OF_ONE % story.encode()
    [article] = through_depth(spider, answer(urlset, urlset_body), spider.parse_sitemap)

    assert summary([article]) == [(story, "parse_page", False, True)]
    assert stat(spider, "depth/request_ignored_count") is None
    # The listed story's own links would be the first link-following hop.
    [_item, *links] = through_depth(
        spider, answer(article, fixture("index.html"), HtmlResponse), spider.parse_page
    )
    assert links == []  # listed pages are not followed


def test_links_followed_from_pages_still_count_against_the_link_depth() -> None:
    spider = make_spider({"DEPTH_LIMIT": 1})
    [home] = start_requests(spider)
    [_item, *links] = through_depth(
        spider, answer(home, fixture("index.html"), HtmlResponse), spider.parse_page
    )
    assert links and {r.meta["depth"] for r in links} == {1}
    deeper = through_depth(
        spider, answer(links[0], fixture("index.html"), HtmlResponse), spider.parse_page
    )
    assert [type(o) for o in deeper] == [ArticleItem]
    assert stat(spider, "depth/request_ignored_count") > 0


def test_a_sitemap_chain_deeper_than_its_own_bound_is_an_error(
    caplog: pytest.LogCaptureFixture,
) -> None:
    spider = make_spider(
        {"NEWSARCHIVE_SITEMAP_DEPTH": 2}, start_urls=[], sitemaps=[f"{BASE}/index/0.xml"]
    )
    [request] = start_requests(spider)
    for n in range(1, 3):  # index 0 → index 1 → index 2: two sitemaps below the configured one
        body = INDEX_OF_ONE % f"{BASE}/index/{n}.xml".encode()
        [request] = through_depth(spider, answer(request, body), spider.parse_sitemap)
        assert request.meta["depth"] == 0
    body = INDEX_OF_ONE % f"{BASE}/index/3.xml".encode()
    assert through_depth(spider, answer(request, body), spider.parse_sitemap) == []
    assert stat(spider, ERRORS) == 1
    assert warnings_about(caplog, f"{BASE}/index/2.xml") == [
        "[harbour] sitemap chain deeper than NEWSARCHIVE_SITEMAP_DEPTH=2, 1 sitemaps not read: "
        f"{BASE}/index/2.xml"
    ]


def test_the_sitemap_depth_setting_is_declared_with_its_default() -> None:
    assert NEWSARCHIVE_DEFAULTS["NEWSARCHIVE_SITEMAP_DEPTH"] == 5
    assert make_spider().sitemap_depth_limit == 5


# --- dropped discovery is visible ------------------------------------------------------

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
]>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
  <url><loc>http://127.0.0.1:8123/&lol3;</loc></url>
  <url><loc>&lol3;</loc></url>
</urlset>"""


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            b"</urlset>",
            "urlset lists no URLs",
        ),
        (
            b'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/'
            b'sitemap/0.9"><sitemap><lastmod>2024-05-01</lastmod></sitemap></sitemapindex>',
            "sitemapindex lists no URLs",
        ),
        (b"<html><body><p>Page not found</p></body></html>", "not a sitemap (root element <html>)"),
        (BILLION_LAUGHS, "sitemap declares XML entities, not read"),
    ],
    ids=["empty-urlset", "index-without-locs", "html-page", "billion-laughs"],
)
def test_a_sitemap_that_lists_nothing_usable_is_an_error_with_its_url(
    body: bytes, message: str, caplog: pytest.LogCaptureFixture
) -> None:
    spider = make_spider()
    url = f"{BASE}/sitemaps/news.xml"
    assert list(spider.parse_sitemap(response(url, body, XmlResponse))) == []
    assert stat(spider, ERRORS) == 1
    assert warnings_about(caplog, url) == [f"[harbour] {message}: {url}"]


def offsite_filter(spider: NewsSpider) -> ReportingOffsiteMiddleware:
    middleware = ReportingOffsiteMiddleware.from_crawler(spider.crawler)
    middleware.spider_opened(spider)
    return middleware


def offsite_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == "newsarchive.crawler.offsite" and r.levelno == logging.WARNING
    ]


def test_an_off_site_redirect_is_a_counted_warning_with_its_origin(
    caplog: pytest.LogCaptureFixture,
) -> None:
    spider = make_spider()
    middleware = offsite_filter(spider)
    origin = f"{BASE}/go/elsewhere"
    redirected = Request("http://127.0.0.2/story.html", meta={"redirect_urls": [origin]})
    with pytest.raises(IgnoreRequest):
        middleware.request_scheduled(redirected, spider)
    assert stat(spider, ERRORS) == 1
    assert offsite_warnings(caplog) == [
        f"[harbour] off-site redirect (from {origin}), not followed: http://127.0.0.2/story.html"
    ]


def test_an_off_site_listed_url_is_a_counted_warning_and_on_site_ones_pass(
    caplog: pytest.LogCaptureFixture,
) -> None:
    spider = make_spider()
    middleware = offsite_filter(spider)
    middleware.process_request(Request(f"{BASE}/news/a.html"))
    with pytest.raises(IgnoreRequest):
        middleware.process_request(Request("http://127.0.0.2/b.html"))
    assert stat(spider, ERRORS) == 1
    assert offsite_warnings(caplog) == [
        "[harbour] off-site URL, not fetched: http://127.0.0.2/b.html"
    ]


def test_the_reporting_offsite_filter_replaces_scrapys_in_the_crawl_settings() -> None:
    middlewares = DEFAULTS["DOWNLOADER_MIDDLEWARES"]
    assert middlewares["scrapy.downloadermiddlewares.offsite.OffsiteMiddleware"] is None  # type: ignore[index]
    assert "newsarchive.crawler.offsite.ReportingOffsiteMiddleware" in middlewares  # type: ignore[operator]
