"""URL identity: one canonical form per story URL, however it was disguised."""

from __future__ import annotations

import functools
import hashlib
from bisect import bisect_left
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import numpy as np
from w3lib.url import canonicalize_url

# Parameters that say where a click came from, never which story it is.
TRACKING_PARAMS = frozenset(
    {
        "fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "twclid",
        "igshid", "mc_cid", "mc_eid", "_ga", "_gl", "_hsenc", "_hsmi", "mkt_tok",
        "ref_src", "ref_url", "cmpid", "ocid", "spm", "ns_source",
        "ns_mchannel", "ns_campaign", "ito", "icid", "smid", "sr_share",
    }
)  # fmt: skip
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "at_", "hsa_")


def _is_tracking(name: str) -> bool:
    name = name.lower()
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES)


# A crawl canonicalises one URL at several steps close together (the spider's
# discovery, the recrawl check, template learning), and w3lib's canonical form
# costs about 15 µs: recent answers are kept.
@functools.lru_cache(maxsize=1024)
def canonical_url(url: str) -> str:
    """The URL without fragment, tracking parameters, default port or case noise.

    Query parameters that remain are sorted (w3lib's canonical form), so two
    spellings of one page compare equal.
    """
    parts = urlsplit(url.strip())
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if not _is_tracking(k)
    ]
    host = (parts.hostname or "").rstrip(".")
    port = parts.port
    netloc = (
        host
        if port is None or (parts.scheme, port) in (("http", 80), ("https", 443))
        else f"{host}:{port}"
    )
    path = parts.path or "/"
    cleaned = urlunsplit((parts.scheme.lower(), netloc, path, urlencode(query), ""))
    return canonicalize_url(cleaned, keep_fragments=False)


def story_url(fetched_url: str, declared: str | None) -> str:
    """The identity of the story on a page: its rel=canonical/og:url if sane, else the fetched URL.

    A declared canonical that is not http(s), or that points a deep page at the
    site's home page (a common CMS misconfiguration), is ignored; otherwise every
    article of such a site would collapse into one.
    """
    fetched = canonical_url(fetched_url)
    if not declared:
        return fetched
    parts = urlsplit(declared)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return fetched
    candidate = canonical_url(declared)
    if urlsplit(candidate).path in ("", "/") and urlsplit(fetched).path not in ("", "/"):
        return fetched
    return candidate


def url_key(url: str) -> int:
    """A 128-bit digest of ``url``, for the sets a crawl keeps of the URLs it has seen.

    One is kept per URL a crawl lists: in a set, a URL string of 80 characters
    costs about 190 bytes and this 115. Two URLs sharing one is beyond any
    crawl's chance (about 2**-64 at four billion URLs).
    """
    return int.from_bytes(hashlib.blake2b(url.encode(), digest_size=16).digest(), "big")


_LOW = (1 << 64) - 1
_MERGE_AT_LEAST = 1024


class UrlKeys:
    """A set of :func:`url_key` values at about 20 bytes a key; a set of ints takes 90.

    A crawl keeps several (URLs looked up, stories counted, stories seen), each
    with a key for every URL it lists, and they grew with the crawl. Keys live
    in two sorted arrays (the high and low 64 bits); those added since the last
    merge wait in a small set, merged once it holds an eighth of the arrays, so
    each key is sorted in O(log n) times.
    """

    def __init__(self, keys: Iterable[int] = ()) -> None:
        self._high = self._low = memoryview(np.empty(0, dtype=np.uint64))
        self._recent: set[int] = set(keys)
        self._merge()

    def __len__(self) -> int:
        return len(self._high) + len(self._recent)

    def __contains__(self, key: object) -> bool:
        if key in self._recent:
            return True
        if not isinstance(key, int):
            return False
        # Searched through memoryviews, whose items are Python ints: indexing the
        # arrays themselves made numpy scalars, at ten times the cost.
        high, low = key >> 64, key & _LOW
        i = bisect_left(self._high, high)
        while i < len(self._high) and self._high[i] == high:
            if self._low[i] == low:
                return True
            i += 1
        return False

    def add(self, key: int) -> None:
        if key in self:
            return
        self._recent.add(key)
        if len(self._recent) >= max(_MERGE_AT_LEAST, len(self._high) >> 3):
            self._merge()

    def update(self, keys: Iterable[int]) -> None:
        for key in keys:
            self.add(key)

    def _merge(self) -> None:
        # add() lets in no key the arrays hold, so the merged arrays have no duplicates.
        recent = list(self._recent)
        high = np.fromiter((key >> 64 for key in recent), dtype=np.uint64, count=len(recent))
        low = np.fromiter((key & _LOW for key in recent), dtype=np.uint64, count=len(recent))
        high, low = np.concatenate((self._high, high)), np.concatenate((self._low, low))
        order = np.lexsort((low, high))
        self._high, self._low = memoryview(high[order]), memoryview(low[order])
        self._recent = set()
