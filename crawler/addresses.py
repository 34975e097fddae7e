"""Refuse connections to private, loopback, link-local and other non-public addresses.

A feed, a link or a redirect on an allowed site can point at (or resolve to)
``127.0.0.1``, ``10.0.0.5`` or the cloud metadata address ``169.254.169.254``;
fetching and archiving that is server-side request forgery. Only the networks in
``NEWSARCHIVE_ALLOW_PRIVATE_NETWORKS`` (``[crawl] allow_private_networks``) may
be reached.

Two components share the check:

- :class:`PrivateNetworkResolver` is the crawl's DNS resolver. Twisted connects
  to exactly the address it returns, cached or fresh, so checking that return
  value checks the connection itself: a name whose DNS answer changes between
  a check and the connection (rebinding) has nothing to slip through.
- :class:`PrivateNetworkMiddleware` refuses IP-literal URLs before anything is
  sent (IPv6 literals never reach Scrapy's IPv4 resolver), and every redirect
  hop, which Scrapy schedules as a new request through the downloader
  middlewares again. It also turns the resolver's refusals, which reach the
  download only as a DNS failure, into :class:`RefusedAddress`: logged with
  the source and URL, counted, and not retried.
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Iterable, Sequence
from typing import Any

from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import CannotResolveHostError, IgnoreRequest, NotConfigured
from scrapy.resolver import CachingThreadedResolver
from scrapy.settings import BaseSettings
from scrapy.utils.datatypes import LocalCache
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred
from twisted.internet.error import DNSLookupError

from .context import crawl_context
from .settings import setting_list

logger = logging.getLogger(__name__)

SETTING = "NEWSARCHIVE_ALLOW_PRIVATE_NETWORKS"
REFUSED_STAT = "newsarchive/refused_address"
CONFIG_KEY = "[crawl] allow_private_networks"

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Carrier-grade NAT space: not "private" to ipaddress, but never a public site.
SHARED = ipaddress.ip_network("100.64.0.0/10")

# Names the resolver refused, with the address refused, so the middleware can
# tell a refusal from a real DNS failure: Twisted reports both as "no address".
_refused_names: LocalCache[str, str] = LocalCache(10_000)


class RefusedAddress(IgnoreRequest):
    """A request to an address outside the public internet that the config does not allow."""


def allowed_networks(settings: BaseSettings) -> tuple[Network, ...]:
    """The private networks ``settings`` allow (``NEWSARCHIVE_ALLOW_PRIVATE_NETWORKS``)."""
    values = setting_list(settings, SETTING)
    try:
        return tuple(ipaddress.ip_network(str(v).strip()) for v in values)
    except ValueError as exc:
        # Refusing everything or nothing instead would both be a silent surprise.
        raise ValueError(f"{SETTING}: {exc}") from None


def refusal(address: str | Address, allowed: Iterable[Network] = ()) -> str | None:
    """Why ``address`` may not be connected to (``"loopback"``, ``"private"``…), None if it may."""
    ip = ipaddress.ip_address(address) if isinstance(address, str) else address
    # ::ffff:127.0.0.1 reaches 127.0.0.1; judge the IPv4 address it carries.
    candidates = [ip]
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        candidates.append(ip.ipv4_mapped)
    if any(a in network for a in candidates for network in allowed):
        return None
    ip = candidates[-1]
    for reason, refused in (
        ("unspecified", ip.is_unspecified),
        ("loopback", ip.is_loopback),
        ("link-local", ip.is_link_local),
        ("multicast", ip.is_multicast),
        ("shared (carrier-grade NAT)", ip in SHARED),
        ("private", ip.is_private),
        ("reserved", ip.is_reserved),
    ):
        if refused:
            return reason
    return None


def _ip_literal(host: str) -> Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None


class PrivateNetworkResolver(CachingThreadedResolver):
    """Scrapy's caching resolver, answering "not found" for addresses the crawl may not reach."""

    allowed: tuple[Network, ...] = ()

    @classmethod
    def from_crawler(cls, crawler: Crawler, reactor: Any) -> PrivateNetworkResolver:
        # Scrapy builds the one resolver of the process from the CrawlerProcess,
        # whose settings are the crawl's: the same allowed networks as the middleware.
        resolver = super().from_crawler(crawler, reactor)
        resolver.allowed = allowed_networks(crawler.settings)
        return resolver

    def getHostByName(self, name: str, timeout: Sequence[int] = ()) -> Deferred[str]:
        # Checked after the cache too: a cached answer is connected to as well.
        return super().getHostByName(name, timeout).addCallback(self._refuse, name)

    def _refuse(self, address: str, name: str) -> str:
        reason = refusal(address, self.allowed)
        key = name.lower()
        if reason is None:
            _refused_names.pop(key, None)
            return address
        _refused_names[key] = address
        raise DNSLookupError(f"{name} resolves to {address}, a {reason} address: refused")


def refused_lookup(host: str) -> str | None:
    """The address the resolver last refused for ``host``, None if it did not refuse it."""
    return _refused_names.get(host.lower())


class PrivateNetworkMiddleware:
    """Refuses IP literals and redirect hops outside the allowed networks; reports refusals."""

    def __init__(self, crawler: Crawler) -> None:
        self.allowed = allowed_networks(crawler.settings)
        self.stats = crawler.stats
        try:
            self.source = crawl_context(crawler).source.name
        except NotConfigured:
            # The check protects any crawl: it must not switch off with the context.
            self.source = crawler.spidercls.name

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> PrivateNetworkMiddleware:
        return cls(crawler)

    def process_request(self, request: Request) -> None:
        host = urlparse_cached(request).hostname or ""
        address = _ip_literal(host)
        if address is None:
            return  # a name: the resolver judges what it resolves to
        reason = refusal(address, self.allowed)
        if reason is not None:
            raise self._refused(request, f"{address} ({reason})")

    def process_exception(self, request: Request, exception: Exception) -> None:
        # Scrapy's download handlers wrap Twisted's DNSLookupError in their own.
        if not isinstance(exception, DNSLookupError | CannotResolveHostError):
            return
        host = urlparse_cached(request).hostname or ""
        address = refused_lookup(host)
        if address is None:
            return  # a real DNS failure: retried and reported as one
        # Raised rather than returned: a refusal is no transient failure to retry.
        raise self._refused(request, f"{host} -> {address} ({refusal(address)})") from exception

    def _refused(self, request: Request, what: str) -> RefusedAddress:
        message = f"private address refused: {what}, not in {CONFIG_KEY}"
        origin = request.meta.get("redirect_urls")
        if origin:
            message += f"; redirected from {origin[0]}"
        if self.stats is not None:
            self.stats.inc_value(REFUSED_STAT)
        if request.errback is None:
            # Requests with an errback (the spider's) are logged there, with the
            # source, the URL and this message; logging here too would say it twice.
            logger.warning("[%s] %s: %s", self.source, message, request.url)
        return RefusedAddress(message)
