"""From a fetched page to a stored article: the one path every page takes.

A crawl, ``reprocess`` and an import all hand a :class:`FetchedPage` (bytes,
headers' charset, URL, fetch time) to the same steps:

1. :func:`extract_story`: the article's text and metadata, with the source's
   learned template stripped, or :class:`NotAStory`;
2. :func:`identify`: the story's identity (canonical URL), content hash and
   MinHash signature;
3. :func:`stored_article`: the record storage keeps, saved with
   :meth:`CrawlStore.save_article`.

:func:`archive_page` runs all three. A crawl runs them as its clean, dedupe
and store pipelines instead, so that extraction can happen in other processes
and storing on a worker thread while Scrapy keeps downloading; the steps, and
so the result, are the same.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from newsarchive.similarity import signature

from .extraction import (
    EXTRACTOR_VERSION,
    TEMPLATE_MIN_PAGES,
    DateSource,
    Extraction,
    extract_article,
)
from .urls import story_url

# Storage (SQLAlchemy and the models, about 25 MB) is imported where a page is
# stored, not here: the extraction processes import this module to run
# prepare_story and never store anything.
if TYPE_CHECKING:
    from newsarchive.storage import CrawlStore, FetchedArticle, Outcome
    from newsarchive.storage.raw import ArchivedResponse
    from newsarchive.storage.warc import WarcLocation

# A page a feed or sitemap lists is a story by the site's own word, so it
# needs only some text; a page reached by following links must look like one.
MIN_LISTED_TEXT = 150


@dataclass(frozen=True)
class FetchedPage:
    """One HTTP response of a source, as fetched (or as archived then)."""

    source: str
    """Name of the configured source whose crawl fetched the page."""
    url: str
    """The URL the page was served from, after redirects."""
    body: bytes = field(repr=False)
    """The response body as served (undecoded)."""
    declared_encoding: str | None = None
    """The charset named in the Content-Type header, if any (it may be wrong)."""
    fetched_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    listed: bool = False
    """True when a feed or sitemap listed the URL: the site itself calls it a story."""
    crawl_run_id: int | None = None
    warc: WarcLocation | None = None
    """Where the response is archived, if it is (then its body is not stored twice)."""
    canonical_url: str | None = None
    """The story's identity when already known (re-extraction keeps it); else derived."""
    listed_published_at: datetime | None = None
    """The publication date the feed item (``pubDate``, ``updated``) or news sitemap entry
    (``news:publication_date``) that listed the URL gives."""
    listed_by: str | None = None
    """``feed`` or ``sitemap``: which listing gave ``listed_published_at``."""


def archived_page(
    response: ArchivedResponse, *, url: str | None = None, fetched_at: datetime | None = None
) -> FetchedPage:
    """A stored story's archived response as a page to run through the steps again:
    by ``reprocess`` as it was, or by an import's ``revisit`` at another URL and time."""
    from newsarchive.storage.warc import WarcLocation

    return FetchedPage(
        source=response.source,
        url=url or response.url,
        body=response.body,
        declared_encoding=response.declared_encoding,
        fetched_at=fetched_at or response.fetched_at,
        # The archive holds it as a story already: the site listed it or it
        # looked like one, and the rule for listed pages applies.
        listed=True,
        crawl_run_id=response.crawl_run_id,
        warc=(
            WarcLocation(response.warc_file, response.warc_offset)
            if response.warc_file is not None and response.warc_offset is not None
            else None
        ),
        # The story keeps its identity even if the page's canonical link
        # reads differently to the new extractor.
        canonical_url=response.canonical_url,
    )


@dataclass(frozen=True)
class StoryIdentity:
    """How the archive recognises a story: by URL, by exact text, by near-same text."""

    canonical_url: str
    content_hash: str
    """SHA-256 of the cleaned text."""
    minhash: bytes | None
    """MinHash signature of the cleaned text; None when it is too short to compare."""


class NotAStory(Exception):
    """The page has no story text: a section front, a tag page, an error page."""


def content_hash(text: str) -> str:
    """SHA-256 of the cleaned text: equal for the same story text wherever it was served."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def check_story(page: FetchedPage, extraction: Extraction) -> Extraction:
    """``extraction`` if the page is a story, else :class:`NotAStory`."""
    listed_story = page.listed and len(extraction.text) >= MIN_LISTED_TEXT
    if not extraction.text or not (extraction.is_article or listed_story):
        raise NotAStory(f"[{page.source}] not an article: {page.url}")
    return extraction


# Dates a page declares for machines. They beat a listing's date: the feed is
# often generated apart from the story (a feed's "updated" is the time the item
# was last touched, some CMSs stamp items when the feed is rebuilt), while the
# page's own markup is the story's. A listing beats what is only printed or
# guessed (a date in the text may be another story's; a URL names only a day).
_DECLARED = frozenset({DateSource.JSON_LD, DateSource.META, DateSource.TIME_ELEMENT})


def with_listed_date(page: FetchedPage, extraction: Extraction) -> Extraction:
    """``extraction`` dated by the feed or sitemap that listed the page, when the page
    itself declares no date in its markup."""
    if page.listed_published_at is None or page.listed_by is None:
        return extraction
    if extraction.published_at_source in _DECLARED:
        return extraction
    return replace(
        extraction,
        published_at=page.listed_published_at,
        published_at_source=DateSource(page.listed_by),
    )


def extract_story(
    page: FetchedPage,
    template: Mapping[int, int] | None = None,
    template_min_pages: int = TEMPLATE_MIN_PAGES,
) -> Extraction:
    """The story on ``page``, without the lines ``template`` says recur on the source's pages."""
    extraction = extract_article(
        page.body,
        page.url,
        declared_encoding=page.declared_encoding,
        template=template,
        template_min_pages=template_min_pages,
    )
    return with_listed_date(page, check_story(page, extraction))


def identify(page: FetchedPage, extraction: Extraction) -> StoryIdentity:
    return StoryIdentity(
        canonical_url=page.canonical_url or story_url(page.url, extraction.canonical_url),
        content_hash=content_hash(extraction.text),
        minhash=signature(extraction.text),
    )


def stored_article(
    page: FetchedPage, extraction: Extraction, identity: StoryIdentity
) -> FetchedArticle:
    """The record storage keeps for one fetch of a story."""
    from newsarchive.storage import FetchedArticle

    return FetchedArticle(
        source=page.source,
        url=page.url,
        canonical_url=identity.canonical_url,
        text=extraction.text,
        content_hash=identity.content_hash,
        title=extraction.title,
        authors=list(extraction.authors),
        published_at=extraction.published_at,
        published_at_source=(extraction.published_at_source or DateSource.FIRST_SEEN).value,
        access=extraction.access.value,
        language=extraction.language,
        # A response archived in a WARC file is kept there, not twice.
        raw_html=None if page.warc else page.body,
        raw_encoding=page.declared_encoding,
        fetched_at=page.fetched_at,
        crawl_run_id=page.crawl_run_id,
        minhash=identity.minhash,
        warc_file=page.warc.file if page.warc else None,
        warc_offset=page.warc.offset if page.warc else None,
        extractor_version=EXTRACTOR_VERSION,
    )


def archive_page(
    page: FetchedPage,
    store: CrawlStore,
    template: Mapping[int, int] | None = None,
    template_min_pages: int = TEMPLATE_MIN_PAGES,
) -> Outcome:
    """Extract, identify and store ``page``; raises :class:`NotAStory` for a page with no story
    and ``StorageError`` when the database refuses it."""
    return store_story(page, *prepare_story(page, template, template_min_pages), store)


def prepare_story(
    page: FetchedPage,
    template: Mapping[int, int] | None = None,
    template_min_pages: int = TEMPLATE_MIN_PAGES,
) -> tuple[Extraction, StoryIdentity]:
    """:func:`extract_story` then :func:`identify`: the CPU-bound steps, which need no database
    and so may run in another process (hand it :func:`for_extraction` of the page)."""
    extraction = extract_story(page, template, template_min_pages)
    return extraction, identify(page, extraction)


def for_extraction(page: FetchedPage) -> FetchedPage:
    """``page`` without what only storing it needs, to send to an extraction process.

    Its WARC location is storage's type: unpickling it would import storage in
    a process that never stores.
    """
    return replace(page, warc=None) if page.warc is not None else page


def store_story(
    page: FetchedPage, extraction: Extraction, identity: StoryIdentity, store: CrawlStore
) -> Outcome:
    """Store a story :func:`prepare_story` found."""
    return store.save_article(stored_article(page, extraction, identity))
