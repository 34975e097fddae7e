"""The item a spider yields for every fetched HTML page; pipelines fill in the rest."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from newsarchive.storage.models import utcnow
from newsarchive.storage.warc import WarcLocation

from .extraction import Extraction


@dataclass
class ArticleItem:
    """One fetched page on its way through clean → dedupe → store."""

    source: str
    """Name of the configured source whose crawl fetched the page."""
    url: str
    """The URL the page was served from, after redirects."""
    body: bytes = field(repr=False)
    """The response body as served (undecoded)."""
    declared_encoding: str | None = None
    """The charset named in the Content-Type header, if any (it may be wrong)."""
    listed: bool = False
    """True when a feed or sitemap listed the URL: the site itself calls it a story."""
    fetched_at: datetime = field(default_factory=utcnow)
    extraction: Extraction | None = None
    """Set by the clean pipeline."""
    canonical_url: str | None = None
    """Set by the dedupe pipeline: the story's identity."""
    content_hash: str | None = None
    """Set by the dedupe pipeline: SHA-256 of the cleaned text."""
    minhash: bytes | None = None
    """Set by the dedupe pipeline: MinHash signature of the cleaned text (None if too short)."""
    warc: WarcLocation | None = None
    """Where the WARC middleware archived the response, if it did."""
