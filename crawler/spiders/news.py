"""The spider for one configured source: discovery from feeds, sitemaps and links."""

from __future__ import annotations

import gzip
import io
import logging
import time
import zlib
from collections.abc import AsyncIterator, Iterator, Sequence
from datetime import datetime
from itertools import repeat
from typing import Any, cast
from urllib.parse import urlsplit

import feedparser
from scrapy import Request, Spider, signals
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Response, TextResponse, XmlResponse
from scrapy.linkextractors import IGNORED_EXTENSIONS, LinkExtractor
from scrapy.utils.sitemap import Sitemap, sitemap_urls_from_robots
from twisted.python.failure import Failure

from newsarchive.config import SourceConfig

from ..conditional import NotModified
from ..context import crawl_context
from ..extraction.dates import parse_date
from ..items import ArticleItem
from ..pages import FetchedPage
from ..settings import NEWSARCHIVE_DEFAULTS, setting_int
from ..urls import canonical_url

logger = logging.getLogger(__name__)

# Gzipped sitemaps can inflate far beyond their download size.
MAX_SITEMAP_BYTES = 50 * 1024 * 1024
SITEMAP_ROOTS = ("urlset", "sitemapindex")


class NewsSpider(Spider):
    """Crawls one source: every page a feed or sitemap lists, and pages linked from start_urls.

    Every HTML page becomes an :class:`ArticleItem`; the clean pipeline decides
    whether it is a story. Failures are logged with their URL and counted under
    ``newsarchive/errors``, and the crawl goes on.
    """

    name = "news"
    sitemap_depth_limit: int = cast(int, NEWSARCHIVE_DEFAULTS["NEWSARCHIVE_SITEMAP_DEPTH"])

    def __init__(
        self, source: SourceConfig, crawl_run_id: int | None = None, **kwargs: Any
    ) -> None:
        super().__init__(name=f"news:{source.name}", **kwargs)
        self.source = source
        self.crawl_run_id = crawl_run_id
        self.allowed_domains = source.domains
        # Domains are matched on the host name here: LinkExtractor's allow_domains
        # compares host:port, which misses any site on a non-default port.
        self.link_extractor = LinkExtractor(
            # Feeds and sitemaps linked from pages are not pages: parsed as one they
            # fail, and, if first, keep the configured sitemap from being read.
            # IGNORED_EXTENSIONS, not LinkExtractor().deny_extensions: those carry a
            # leading dot already, and dotted again ("..pdf") they matched nothing.
            deny_extensions=[*IGNORED_EXTENSIONS, "rss", "atom", "xml", "rdf"]
        )

    async def start(self) -> AsyncIterator[Request]:
        for url in self.source.feeds:
            yield self._request(url, self.parse_feed)
        for url in self.source.sitemaps:
            callback = (
                self.parse_robots if url.rstrip("/").endswith("/robots.txt") else self.parse_sitemap
            )
            yield self._request(url, callback, sitemap_depth=0)
        for url in self.source.start_urls:
            yield self._request(url, self.parse_page, follow=True)

    def _request(
        self,
        url: str,
        callback: Any,
        *,
        follow: bool = False,
        listed: bool = False,
        **meta: Any,
    ) -> Request:
        # Canonical before scheduling: links with tracking junk or fragments are
        # fetched once, by Scrapy's duplicate filter.
        return Request(
            canonical_url(url),
            callback=callback,
            errback=self.on_error,
            # Conditional: ConditionalFetchMiddleware sends the last crawl's validators.
            meta={"follow": follow, "listed": listed, "conditional": True, **meta},
        )

    def article_request(self, url: str) -> Request:
        """A request for a known story's page, as if a feed listed it (used by recrawls)."""
        return self._request(url, self.parse_page, listed=True)

    def _requests(
        self,
        urls: list[str],
        callback: Any,
        *,
        source_url: str,
        dates: Sequence[datetime | None] | None = None,
        listed_by: str | None = None,
        **kwargs: Any,
    ) -> Iterator[Request]:
        """Requests for URLs a feed, robots.txt or sitemap lists; unusable ones are logged.

        DEPTH_LIMIT bounds link following only: robots.txt → index → sitemap →
        story is three hops no matter how shallow the site is, and Scrapy would
        drop the story at DEBUG level. ``depth_reset`` gives these requests depth
        0; sitemap chains have their own bound (``NEWSARCHIVE_SITEMAP_DEPTH``).
        ``dates`` are the publication dates the listing gives (one per URL, or
        None); they travel with the request to the per-page path, which weighs
        them against what the page itself states.
        """
        for url, listed_date in zip(urls, dates or repeat(None), strict=False):
            if urlsplit(url).scheme not in ("http", "https"):
                self._error("unusable URL %r listed", source_url, url)
                continue
            dated = {"listed_date": listed_date, "listed_by": listed_by} if listed_date else {}
            yield self._request(url, callback, depth_reset=True, **kwargs, **dated)

    def _listed_stories(
        self,
        response: Response,
        urls: list[str],
        dates: list[datetime | None],
        listed_by: str,
    ) -> Iterator[Request]:
        """Requests for the stories a feed or sitemap lists, each with the date it gives."""
        yield from self._requests(
            urls,
            self.parse_page,
            source_url=response.url,
            listed=True,
            dates=dates,
            listed_by=listed_by,
        )

    def _sitemap_requests(self, urls: list[str], response: Response) -> Iterator[Request]:
        """Requests for the sitemaps robots.txt or a sitemap index lists, within the chain bound."""
        depth = int(response.meta.get("sitemap_depth", 0)) + 1
        if depth > self.sitemap_depth_limit:
            # An index listing itself under another URL, or a generator gone wrong.
            self._error(
                "sitemap chain deeper than NEWSARCHIVE_SITEMAP_DEPTH=%d, %d sitemaps not read",
                response.url,
                self.sitemap_depth_limit,
                len(urls),
            )
            return
        yield from self._requests(
            urls, self.parse_sitemap, source_url=response.url, sitemap_depth=depth
        )

    def _error(self, message: str, url: str, *args: Any) -> None:
        self.crawler.stats.inc_value("newsarchive/errors")
        logger.warning(f"[{self.source.name}] {message}: %s", *args, url)

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> NewsSpider:
        """The spider of the source in ``crawler``'s crawl context."""
        context = crawl_context(crawler)
        kwargs.setdefault("source", context.source)
        kwargs.setdefault("crawl_run_id", context.run_id)
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider.sitemap_depth_limit = setting_int(crawler.settings, "NEWSARCHIVE_SITEMAP_DEPTH")
        crawler.signals.connect(spider.on_request_dropped, signal=signals.request_dropped)
        return spider

    def on_request_dropped(self, request: Request) -> None:
        # A redirect back to a URL of its own chain is a loop; the duplicate
        # filter drops it silently, so this is the only place to see it.
        chain = [canonical_url(u) for u in request.meta.get("redirect_urls", [])]
        if canonical_url(request.url) in chain:
            self._error("redirect loop (%s)", chain[0], " -> ".join([*chain, request.url]))

    def on_error(self, failure: Failure) -> None:
        request = getattr(failure, "request", None)
        url = request.url if request is not None else "?"
        if failure.check(NotModified):  # counted by the middleware; not an error
            return
        if failure.check(IgnoreRequest) and "robots.txt" in failure.getErrorMessage():
            self.crawler.stats.inc_value("newsarchive/robots_forbidden")
            logger.info("[%s] skipped, forbidden by robots.txt: %s", self.source.name, url)
            return
        response = getattr(failure.value, "response", None)
        reason = (
            f"HTTP {response.status}"
            if response is not None
            else failure.getErrorMessage() or failure.type.__name__
        )
        self._error("fetch failed (%s)", url, reason)

    def parse_feed(self, response: Response) -> Iterator[Request]:
        feed = feedparser.parse(response.body, response_headers={"content-location": response.url})
        entries = [entry for entry in feed.entries if entry.get("link")]
        links = [entry["link"] for entry in entries]
        if not links:
            self._error(
                "feed lists no items%s",
                response.url,
                f" ({feed.bozo_exception})" if feed.bozo else "",
            )
            return
        logger.info("[%s] feed %s lists %d items", self.source.name, response.url, len(links))
        urls = [response.urljoin(link) for link in links]
        dates = [_entry_date(entry) for entry in entries]
        yield from self._listed_stories(response, urls, dates, "feed")

    def parse_robots(self, response: Response) -> Iterator[Request]:
        urls = list(sitemap_urls_from_robots(response.body, base_url=response.url))
        if not urls:
            # The source lists this robots.txt as its sitemap: without Sitemap:
            # lines it discovers nothing, and the crawl would still say "ok".
            self._error("robots.txt lists no sitemaps", response.url)
            return
        yield from self._sitemap_requests(urls, response)

    def parse_sitemap(self, response: Response) -> Iterator[Request]:
        body = response.body
        if body[:2] == b"\x1f\x8b":
            try:
                with gzip.GzipFile(fileobj=io.BytesIO(body)) as f:
                    body = f.read(MAX_SITEMAP_BYTES)
            except (OSError, EOFError, zlib.error) as exc:  # bad header, cut short, bad deflate
                self._error("bad gzip sitemap (%s)", response.url, exc)
                return
        if b"<!ENTITY" in body:
            # Entities are not expanded (billion laughs), so a <loc> built from
            # them would be a cut-down, wrong URL: none of its URLs can be trusted.
            self._error("sitemap declares XML entities, not read", response.url)
            return
        try:
            sitemap = NewsSitemap(body)
        except Exception as exc:  # lxml raises several types for garbage
            self._error("not a sitemap (%s)", response.url, exc)
            return
        if sitemap.type not in SITEMAP_ROOTS:
            self._error("not a sitemap (root element <%s>)", response.url, sitemap.type)
            return
        # Sitemaps must hold absolute URLs, but relative ones are common enough to accept.
        # Only the URLs and dates are kept (not each entry's dict, 0.3 KiB): the
        # requests of a sitemap of 50,000 are yielded for as long as their look-ups take.
        urls: list[str] = []
        published: list[str | None] = []
        for entry in sitemap:
            if entry.get("loc"):
                urls.append(response.urljoin(entry["loc"]))
                published.append(entry.get("publication_date"))
        if not urls:
            self._error("%s lists no URLs", response.url, sitemap.type)
            return
        logger.info(
            "[%s] sitemap %s lists %d %s", self.source.name, response.url, len(urls), sitemap.type
        )
        if sitemap.type == "sitemapindex":
            yield from self._sitemap_requests(urls, response)
        else:
            dates = [parse_date(text) for text in published]
            yield from self._listed_stories(response, urls, dates, "sitemap")

    def parse_page(self, response: Response) -> Iterator[ArticleItem | Request]:
        if not _is_html(response):
            ctype = (
                response.headers.get(b"Content-Type", b"").decode("latin-1") or "no content type"
            )
            self._error("not an HTML page (%s)", response.url, ctype)
            return
        yield ArticleItem(
            FetchedPage(
                source=self.source.name,
                url=response.url,
                body=response.body,
                declared_encoding=_header_charset(response),
                listed=bool(response.meta.get("listed")),
                listed_published_at=response.meta.get("listed_date"),
                listed_by=response.meta.get("listed_by"),
                crawl_run_id=self.crawl_run_id,
                warc=response.meta.get("warc"),
            )
        )
        if response.meta.get("follow"):
            for link in self.link_extractor.extract_links(response):
                if self._in_domains(link.url):
                    yield self._request(link.url, self.parse_page, follow=True)

    def _in_domains(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").lower()
        return any(host == d or host.endswith(f".{d}") for d in self.allowed_domains)


class NewsSitemap(Sitemap):
    """Scrapy's sitemap reader, also keeping a Google News entry's ``publication_date``.

    Scrapy keeps only the text of each ``<url>``'s direct children, and
    ``<news:publication_date>`` sits one level deeper, inside ``<news:news>``.
    """

    __slots__ = ()

    def _process_sitemap_element(self, elem: Any) -> dict[str, Any] | None:
        published = next(
            (
                el.text.strip()
                for el in elem.iter()
                if self._get_tag_name(el) == "publication_date" and el.text
            ),
            None,
        )
        entry = super()._process_sitemap_element(elem)
        if entry is not None and published:
            entry["publication_date"] = published
        return entry


def _entry_date(entry: Any) -> datetime | None:
    """A feed item's publication date: ``pubDate``/``published``, else Atom's ``updated``."""
    for key in ("published", "updated"):
        dt = parse_date(entry.get(key))
        if dt is None and entry.get(f"{key}_parsed"):
            # feedparser normalised a date our parser could not read (e.g. RFC 822
            # with an obsolete zone name) to a UTC struct_time; read it the same way,
            # so the same sanity bounds apply.
            dt = parse_date(time.strftime("%Y-%m-%dT%H:%M:%S+00:00", entry[f"{key}_parsed"]))
        if dt is not None:
            return dt
    return None


def _is_html(response: Response) -> bool:
    if isinstance(response, HtmlResponse):
        return True
    if isinstance(response, XmlResponse) or not isinstance(response, TextResponse):
        return False
    return b"<html" in response.body[:4096].lower()


def _header_charset(response: Response) -> str | None:
    ctype = response.headers.get(b"Content-Type", b"").decode("latin-1").lower()
    for part in ctype.split(";")[1:]:
        key, _, value = part.strip().partition("=")
        if key == "charset" and value:
            return value.strip("\"' ")
    return None
