"""Which source an imported capture belongs to: the configured one covering its host, or not."""

from __future__ import annotations

import re
from collections.abc import Sequence
from urllib.parse import urlsplit

from newsarchive.config import SourceConfig

_NOT_IN_NAME = re.compile(r"[^a-z0-9_-]+")


def covers(domain: str, host: str) -> bool:
    """Whether ``domain`` (an ``allowed_domains`` entry) covers ``host`` or a host under it."""
    return host == domain or host.endswith("." + domain)


def host_source_name(host: str) -> str:
    """A source name (``[a-z0-9_-]+``, as the config requires) made from a host name:
    ``www.Example.co.uk`` → ``example-co-uk``."""
    host = host.lower().removeprefix("www.")
    return _NOT_IN_NAME.sub("-", host).strip("-")[:100] or "unknown-host"


class Attribution:
    """Source names for URLs, by the rules: a configured source whose ``allowed_domains``
    cover the host (the most specific domain wins), else ``fallback`` (``--source``), else a
    source named after the host, which the import creates and marks as imported."""

    def __init__(self, sources: Sequence[SourceConfig], fallback: str | None = None) -> None:
        # Longest domain first: news.example.com's source beats example.com's.
        self._domains = sorted(
            ((domain, source.name) for source in sources for domain in source.domains),
            key=lambda pair: -len(pair[0]),
        )
        self.fallback = fallback
        self._cache: dict[str, tuple[str, bool]] = {}

    def source_for(self, url: str) -> tuple[str, bool]:
        """``(source name, created by the import)`` for ``url``."""
        host = (urlsplit(url).hostname or "").lower()
        if host not in self._cache:
            self._cache[host] = self._attribute(host)
        return self._cache[host]

    def _attribute(self, host: str) -> tuple[str, bool]:
        for domain, name in self._domains:
            if covers(domain, host):
                return name, False
        if self.fallback is not None:
            return self.fallback, False
        return host_source_name(host), True
