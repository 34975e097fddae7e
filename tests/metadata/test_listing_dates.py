"""A feed's or news sitemap's publication date, carried from the listing to the stored story.

The spider is built the Scrapy way (``get_crawler`` with a bound crawl context);
its requests are inspected and answered with built responses, nothing is fetched.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from scrapy import Request
from scrapy.http import HtmlResponse, XmlResponse

from newsarchive.config import SourceConfig
from newsarchive.crawler.pages import extract_story, identify, stored_article
from newsarchive.crawler.spiders.news import NewsSpider
from tests.crawler.components import make_crawler

BASE = "http://127.0.0.1:8123"
PAGES = Path(__file__).resolve().parents[1] / "fixtures" / "metadata"
SOURCE = SourceConfig(name="harbour", feeds=[f"{BASE}/rss.xml"], sitemaps=[f"{BASE}/news.xml"])

RSS = f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>Harbour</title><link>{BASE}/</link>
<item><title>Undated page</title><link>{BASE}/news/market-reopens</link>
  <pubDate>Sun, 05 Mar 2017 10:20:00 +0800</pubDate></item>
<item><title>Printed date</title><link>{BASE}/news/naberezhnaya</link>
  <pubDate>Mon, 06 Mar 2017 08:00:00 GMT</pubDate></item>
<item><title>No date at all</title><link>{BASE}/news/no-date</link></item>
<item><title>Bad date</title><link>{BASE}/news/bad-date</link><pubDate>soon</pubDate></item>
<item><title>Future date</title><link>{BASE}/news/future</link>
  <pubDate>Sun, 05 Mar 2099 10:20:00 GMT</pubDate></item>
</channel></rss>""".encode()

ATOM = f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Harbour</title>
<entry><title>Only updated</title><link href="{BASE}/news/atom-story"/>
  <id>urn:x:1</id><updated>2024-01-09T12:00:00+01:00</updated></entry>
</feed>""".encode()

NEWS_SITEMAP = f"""<?xml version="1.0" encoding="UTF-8"?>
<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"
        xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">
<url><loc>{BASE}/news/market-reopens</loc>
  <news:news><news:publication><news:name>Harbour</news:name><news:language>en</news:language>
  </news:publication><news:publication_date>2024-06-01T09:30:00Z</news:publication_date>
  <news:title>Market reopens</news:title></news:news></url>
<url><loc>{BASE}/kraj/nabrzeze-odbudowa</loc>
  <news:news><news:publication_date>2024-06-20</news:publication_date></news:news></url>
<url><loc>{BASE}/about</loc><lastmod>2024-06-02</lastmod></url>
</urlset>""".encode()


def spider() -> NewsSpider:
    return make_crawler(None, source=SOURCE).spider


def listed(requests: list[Request]) -> dict[str, tuple[datetime | None, str | None]]:
    return {r.url: (r.meta.get("listed_date"), r.meta.get("listed_by")) for r in requests}


def story(request: Request, page: str, news: NewsSpider):
    """The stored record of ``page`` served for ``request`` (what the pipelines would save)."""
    body = (PAGES / page).read_bytes()
    response = HtmlResponse(url=request.url, body=body, request=request)
    (item,) = [i for i in news.parse_page(response)]
    extraction = extract_story(item.page)
    return stored_article(item.page, extraction, identify(item.page, extraction))


def test_feed_dates_travel_with_their_requests() -> None:
    news = spider()
    rss = list(news.parse_feed(XmlResponse(url=f"{BASE}/rss.xml", body=RSS)))
    atom = list(news.parse_feed(XmlResponse(url=f"{BASE}/atom.xml", body=ATOM)))

    assert listed(rss) == {
        f"{BASE}/news/market-reopens": (datetime(2017, 3, 5, 2, 20, tzinfo=UTC), "feed"),
        f"{BASE}/news/naberezhnaya": (datetime(2017, 3, 6, 8, 0, tzinfo=UTC), "feed"),
        f"{BASE}/news/no-date": (None, None),
        # A date that cannot be read, or lies in the future, dates nothing.
        f"{BASE}/news/bad-date": (None, None),
        f"{BASE}/news/future": (None, None),
    }
    # An Atom entry without <published> is dated by its <updated>.
    assert listed(atom) == {
        f"{BASE}/news/atom-story": (datetime(2024, 1, 9, 11, 0, tzinfo=UTC), "feed")
    }


def test_feed_date_dates_a_page_that_declares_none() -> None:
    news = spider()
    by_url = {r.url: r for r in news.parse_feed(XmlResponse(url=f"{BASE}/rss.xml", body=RSS))}

    undated = story(by_url[f"{BASE}/news/market-reopens"], "en_undated_newsletter.html", news)
    assert (undated.published_at, undated.published_at_source) == (
        datetime(2017, 3, 5, 2, 20, tzinfo=UTC),
        "feed",
    )
    # A date only printed in the text is weaker evidence than the feed's.
    printed = story(by_url[f"{BASE}/news/naberezhnaya"], "ru_month_name_byline.html", news)
    assert (printed.published_at, printed.published_at_source) == (
        datetime(2017, 3, 6, 8, 0, tzinfo=UTC),
        "feed",
    )
    # Neither the page nor the feed dates it: stored undated, first-seen.
    nothing = story(by_url[f"{BASE}/news/no-date"], "en_undated_newsletter.html", news)
    assert (nothing.published_at, nothing.published_at_source) == (None, "first-seen")


def test_news_sitemap_publication_date_yields_to_the_page_json_ld() -> None:
    news = spider()
    requests = list(news.parse_sitemap(XmlResponse(url=f"{BASE}/news.xml", body=NEWS_SITEMAP)))

    assert listed(requests) == {
        f"{BASE}/news/market-reopens": (datetime(2024, 6, 1, 9, 30, tzinfo=UTC), "sitemap"),
        f"{BASE}/kraj/nabrzeze-odbudowa": (datetime(2024, 6, 20, tzinfo=UTC), "sitemap"),
        # <lastmod> is when the page last changed, not when the story was published.
        f"{BASE}/about": (None, None),
    }
    by_url = {r.url: r for r in requests}
    undated = story(by_url[f"{BASE}/news/market-reopens"], "en_undated_newsletter.html", news)
    assert (undated.published_at, undated.published_at_source) == (
        datetime(2024, 6, 1, 9, 30, tzinfo=UTC),
        "sitemap",
    )
    declared = story(by_url[f"{BASE}/kraj/nabrzeze-odbudowa"], "pl_json_ld_paywalled.html", news)
    assert declared.published_at_source == "json-ld"
    assert declared.published_at == datetime.fromisoformat("2024-06-18T08:30:00+02:00")
    assert declared.access == "paywalled"
