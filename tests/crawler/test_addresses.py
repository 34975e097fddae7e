"""Private addresses are refused: by the middleware for IP literals and redirect hops, by the
resolver for names, unless ``[crawl] allow_private_networks`` allows them.

Nothing here connects anywhere: the resolver runs its lookup synchronously on a fake
reactor, and the addresses outside 127.0.0.0/8 are only classified, never contacted.
"""

from __future__ import annotations

import ipaddress
import logging
import socket
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from scrapy import Request
from scrapy.downloadermiddlewares.redirect import RedirectMiddleware
from scrapy.exceptions import CannotResolveHostError
from scrapy.http import Response
from scrapy.resolver import dnscache
from scrapy.utils.test import get_crawler
from twisted.internet.error import DNSLookupError
from twisted.internet.testing import MemoryReactorClock
from twisted.python.failure import Failure

from newsarchive.config import ConfigError, parse_config
from newsarchive.crawler.addresses import (
    REFUSED_STAT,
    SETTING,
    PrivateNetworkMiddleware,
    PrivateNetworkResolver,
    RefusedAddress,
    refusal,
    refused_lookup,
)
from newsarchive.crawler.settings import crawl_settings
from tests.crawler.components import make_crawler

PORT = 8123
NOT_ALLOWED = "not in [crawl] allow_private_networks"


def middleware(allowed: list[str] | None = None) -> PrivateNetworkMiddleware:
    settings = {} if allowed is None else {SETTING: allowed}
    return PrivateNetworkMiddleware.from_crawler(make_crawler(None, settings=settings))


def refused_count(mw: PrivateNetworkMiddleware) -> Any:
    assert mw.stats is not None
    return mw.stats.get_value(REFUSED_STAT)


def warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


# --- which addresses ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("127.0.0.1", "loopback"),
        ("127.8.9.10", "loopback"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("192.168.1.1", "private"),
        ("169.254.169.254", "link-local"),  # the cloud metadata service
        ("100.64.0.1", "shared (carrier-grade NAT)"),
        ("0.0.0.0", "unspecified"),
        ("0.1.2.3", "private"),
        ("224.0.0.1", "multicast"),
        ("240.0.0.1", "private"),
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fd12:3456::1", "private"),
        ("fe80::1", "link-local"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:169.254.169.254", "link-local"),
        ("93.184.216.34", None),
        ("2606:4700::1111", None),
    ],
)
def test_addresses_outside_the_public_internet_are_refused(
    address: str, reason: str | None
) -> None:
    assert refusal(address) == reason


def test_allowed_networks_are_not_refused() -> None:
    loopback = [ipaddress.ip_network("127.0.0.0/8")]
    assert refusal("127.0.0.2", loopback) is None
    assert refusal("::ffff:127.0.0.2", loopback) is None  # the IPv4 address it carries
    assert refusal("127.0.0.1", [ipaddress.ip_network("127.0.0.2/32")]) == "loopback"
    assert refusal("10.0.0.1", loopback) == "private"


# --- the middleware: IP literals and redirect hops ------------------------------------


def test_an_ip_literal_is_refused_counted_and_logged_with_source_and_url(
    caplog: pytest.LogCaptureFixture,
) -> None:
    mw = middleware()
    url = f"http://127.0.0.1:{PORT}/robots.txt"
    with pytest.raises(RefusedAddress, match=r"127\.0\.0\.1 \(loopback\)"):
        mw.process_request(Request(url))
    assert refused_count(mw) == 1
    assert warnings(caplog) == [
        f"[harbour] private address refused: 127.0.0.1 (loopback), {NOT_ALLOWED}: {url}"
    ]


def test_the_spider_logs_its_own_refused_requests_once_with_source_and_url(
    caplog: pytest.LogCaptureFixture,
) -> None:
    crawler = make_crawler(None)
    mw = PrivateNetworkMiddleware.from_crawler(crawler)
    url = f"http://[::1]:{PORT}/feeds/rss.xml"
    request = Request(url, errback=crawler.spider.on_error)
    with pytest.raises(RefusedAddress) as refused:
        mw.process_request(request)
    failure = Failure(refused.value)
    failure.request = request  # type: ignore[attr-defined]  # as Scrapy's errback gets it
    crawler.spider.on_error(failure)
    assert warnings(caplog) == [
        f"[harbour] fetch failed (private address refused: ::1 (loopback), {NOT_ALLOWED}): {url}"
    ]
    assert crawler.stats.get_value("newsarchive/errors") == 1
    assert crawler.stats.get_value(REFUSED_STAT) == 1


def test_an_allowed_network_and_a_public_address_pass() -> None:
    mw = middleware(["127.0.0.0/30"])
    assert mw.process_request(Request(f"http://127.0.0.2:{PORT}/")) is None
    assert mw.process_request(Request("http://93.184.216.34/")) is None
    with pytest.raises(RefusedAddress):
        mw.process_request(Request(f"http://127.0.0.4:{PORT}/"))
    assert refused_count(mw) == 1


def test_a_name_is_left_to_the_resolver() -> None:
    mw = middleware()
    assert mw.process_request(Request(f"http://localhost:{PORT}/")) is None
    assert refused_count(mw) is None


def test_a_redirect_hop_to_a_refused_address_is_refused_with_its_origin(
    caplog: pytest.LogCaptureFixture,
) -> None:
    crawler = make_crawler(None, settings={SETTING: ["127.0.0.2/32"]})
    mw = PrivateNetworkMiddleware.from_crawler(crawler)
    origin = Request(f"http://127.0.0.2:{PORT}/go")
    assert mw.process_request(origin) is None
    moved = Response(origin.url, status=302, headers={"Location": f"http://127.0.0.1:{PORT}/"})
    hop = RedirectMiddleware.from_crawler(crawler).process_response(origin, moved)
    assert isinstance(hop, Request)
    with pytest.raises(RefusedAddress, match=f"redirected from {origin.url}"):
        mw.process_request(hop)
    assert refused_count(mw) == 1
    assert len(warnings(caplog)) == 1


# --- the resolver: names, cached answers, changing answers -----------------------------


class SyncReactor(MemoryReactorClock):
    """Runs the resolver's lookup at once, in this thread: no reactor thread, no thread pool."""

    def getThreadPool(self) -> SyncReactor:  # type: ignore[override]
        return self

    def callInThreadWithCallback(
        self, on_result: Callable[[bool, object], None], f: Callable[..., object], *args: Any
    ) -> None:
        try:
            result = f(*args)
        except Exception:
            on_result(False, Failure())
        else:
            on_result(True, result)

    def callFromThread(self, f: Callable[..., object], *args: Any, **kwargs: Any) -> None:  # type: ignore[override]
        f(*args, **kwargs)


@pytest.fixture
def resolver() -> Iterator[PrivateNetworkResolver]:
    """The crawl's resolver on a fake reactor, with Scrapy's DNS cache off and emptied after."""
    limit = dnscache.limit
    crawler = get_crawler(settings_dict={"DNSCACHE_ENABLED": False})
    yield PrivateNetworkResolver.from_crawler(crawler, SyncReactor())
    dnscache.clear()
    dnscache.limit = limit


def lookup(resolver: PrivateNetworkResolver, name: str) -> str | Failure:
    results: list[str | Failure] = []
    resolver.getHostByName(name).addBoth(results.append)
    (result,) = results
    return result


def test_a_name_resolving_to_loopback_is_not_found(resolver: PrivateNetworkResolver) -> None:
    result = lookup(resolver, "localhost")
    assert isinstance(result, Failure) and result.check(DNSLookupError)
    assert refused_lookup("localhost") == "127.0.0.1"


def test_a_name_in_an_allowed_network_resolves(resolver: PrivateNetworkResolver) -> None:
    resolver.allowed = (ipaddress.ip_network("127.0.0.1/32"),)
    assert lookup(resolver, "localhost") == "127.0.0.1"
    assert refused_lookup("localhost") is None


def test_the_allowed_networks_reach_the_resolver_from_the_settings() -> None:
    crawler = get_crawler(settings_dict={SETTING: ["127.0.0.0/8", "fd00::/8"]})
    resolver = PrivateNetworkResolver.from_crawler(crawler, SyncReactor())
    assert resolver.allowed == (
        ipaddress.ip_network("127.0.0.0/8"),
        ipaddress.ip_network("fd00::/8"),
    )


def test_every_answer_is_checked_so_a_rebinding_name_cannot_pass(
    resolver: PrivateNetworkResolver, monkeypatch: pytest.MonkeyPatch
) -> None:
    # First public, then loopback: the answer the connection would use is the one judged.
    answers = iter(["93.184.216.34", "127.0.0.1"])
    monkeypatch.setattr(socket, "gethostbyname", lambda name: next(answers))
    assert lookup(resolver, "rebind.test") == "93.184.216.34"
    assert isinstance(lookup(resolver, "rebind.test"), Failure)


def test_a_cached_answer_is_checked_too(resolver: PrivateNetworkResolver) -> None:
    dnscache.limit = 10
    dnscache["cached.test"] = "10.0.0.7"
    assert isinstance(lookup(resolver, "cached.test"), Failure)
    assert refused_lookup("cached.test") == "10.0.0.7"


def test_a_resolver_refusal_becomes_a_counted_refusal_not_a_retried_dns_error(
    resolver: PrivateNetworkResolver, caplog: pytest.LogCaptureFixture
) -> None:
    mw = middleware()
    lookup(resolver, "localhost")
    url = f"http://localhost:{PORT}/robots.txt"
    dns_error = CannotResolveHostError("no results for hostname lookup: localhost.")
    with pytest.raises(RefusedAddress, match=r"localhost -> 127\.0\.0\.1 \(loopback\)"):
        mw.process_exception(Request(url), dns_error)
    assert refused_count(mw) == 1
    assert warnings(caplog) == [
        f"[harbour] private address refused: localhost -> 127.0.0.1 (loopback), {NOT_ALLOWED}: "
        f"{url}"
    ]
    # A name that really is not found stays a DNS error, for the retry middleware.
    unknown = CannotResolveHostError("no results for hostname lookup: nowhere.test.")
    assert mw.process_exception(Request("http://nowhere.test/"), unknown) is None
    assert refused_count(mw) == 1


# --- wiring and config -----------------------------------------------------------------


def test_crawls_use_the_resolver_and_the_middleware_with_the_configured_networks() -> None:
    settings = crawl_settings(parse_config({"crawl": {"allow_private_networks": ["10.0.0.0/8"]}}))
    assert (
        settings["TWISTED_DNS_RESOLVER"] == "newsarchive.crawler.addresses.PrivateNetworkResolver"
    )
    middlewares = settings.getdict("DOWNLOADER_MIDDLEWARES")
    assert (
        middlewares["newsarchive.crawler.addresses.PrivateNetworkMiddleware"]
        > middlewares["newsarchive.crawler.middlewares.BackoffRetryMiddleware"]
    )  # its process_exception runs first: a refusal is never retried
    assert settings.getlist(SETTING) == ["10.0.0.0/8"]
    assert crawl_settings(parse_config({})).getlist(SETTING) == []


def test_the_config_normalises_networks_and_names_the_key_of_a_bad_one() -> None:
    config = parse_config({"crawl": {"allow_private_networks": ["127.0.0.1", "fd00::/8"]}})
    assert config.crawl.allow_private_networks == ["127.0.0.1/32", "fd00::/8"]
    for bad in ("127.0.0.1/8", "localhost", "10.0.0.0/33"):
        with pytest.raises(ConfigError, match=r"news\.toml: crawl\.allow_private_networks: "):
            parse_config({"crawl": {"allow_private_networks": [bad]}}, "news.toml")
