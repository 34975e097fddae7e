"""Main-text and metadata extraction for news pages.

This is the single extraction entry point shared by the crawl pipeline, the
``newsarchive extract`` CLI and the benchmarks (``bench/extraction.py``), so
that what we measure is what we archive.

Pipeline (one module per step): decode, repair and parse (:mod:`.document`) ->
read metadata from the untouched tree (:mod:`.metadata`, :mod:`.dates`,
:mod:`.authors`) -> the main text (:mod:`.main_text`): paragraphs made explicit
(:mod:`.paragraphs`), boilerplate pruned (:mod:`.prune`), trafilatura passes
cleaned line by line (:mod:`.lines`) and the candidate that reads most like a
story kept (:mod:`.candidates`) -> strip the source's learned template
(:mod:`.template`) -> language (:mod:`.language`) and page type
(:mod:`.page_type`) of the result.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from .access import Access, find_access
from .authors import above_headline, byline_window, find_authors, signed_authors
from .dates import (
    Dated,
    DateSource,
    heuristic_published,
    issue_date,
    stated_modified,
    stated_published,
    text_date,
)
from .document import page_markup, parse_page
from .language import text_language
from .main_text import main_text
from .metadata import (
    article_objs,
    find_canonical,
    find_section,
    find_tags,
    find_title,
    find_top_image,
    json_ld_objects,
    meta_map,
    page_text,
)
from .page_type import is_article
from .template import TEMPLATE_MIN_PAGES, block_hash, block_hashes, strip_template

__all__ = [
    "EXTRACTOR_VERSION",
    "TEMPLATE_MIN_PAGES",
    "Access",
    "DateSource",
    "Extraction",
    "block_hash",
    "block_hashes",
    "extract_article",
    "strip_template",
]

# Stored with every extracted version so ``reprocess`` can re-run only pages an
# older extractor produced.  Change it (to the day of the change, plus ".N" for
# the N-th change of a day) whenever the output of extract_article changes for
# any page: text, metadata, is_article.
# A refactor that leaves every output byte-identical keeps it.
EXTRACTOR_VERSION = "2026-12-04.4"


@dataclass(frozen=True)
class Extraction:
    """What one page says: the story's text (one paragraph per line) and its metadata."""

    title: str | None
    text: str
    authors: list[str] = field(default_factory=list)
    published_at: datetime | None = None
    """Timezone-aware; a page's naive time is taken as UTC."""
    published_at_source: DateSource | None = None
    """Where ``published_at`` came from on the page; None when the page did not date it."""
    modified_at: datetime | None = None
    language: str | None = None
    """ISO 639-1 code of the text."""
    canonical_url: str | None = None
    is_article: bool = False
    top_image: str | None = None
    """Absolute URL of the story's lead image (``og:image``, JSON-LD ``image``)."""
    section: str | None = None
    """The site's section for the story (``article:section``, ``articleSection``)."""
    tags: list[str] = field(default_factory=list)
    """Keywords the site tagged the story with (``article:tag``, ``keywords``)."""
    access: Access = Access.UNKNOWN
    """Free, behind a paywall (JSON-LD ``isAccessibleForFree``, or a short text ending in
    a paywall's words), or not known (:mod:`.access`)."""
    extractor_version: str = EXTRACTOR_VERSION
    """:data:`EXTRACTOR_VERSION` of the code that produced this extraction."""
    blocks: frozenset[int] = field(default_factory=frozenset, repr=False, compare=False)
    """:func:`block_hash` of every line before template stripping: what a learner counts."""


_EMPTY = Extraction(title=None, text="")


def extract_article(
    html: bytes | str,
    url: str | None = None,
    *,
    declared_encoding: str | None = None,
    template: Mapping[int, int] | None = None,
    template_min_pages: int = TEMPLATE_MIN_PAGES,
) -> Extraction:
    """Extract the article text and metadata from one HTML page.

    ``html`` is the raw response body (decoded with ``decode_html`` using
    ``declared_encoding``, the HTTP header charset) or already-decoded text.
    ``template`` is what a source's crawl learned (:func:`block_hash` → number
    of distinct pages the block was seen on): lines seen on at least
    ``template_min_pages`` pages are the site's furniture and are removed.
    Never raises: unusable input yields ``Extraction(title=None, text="")``.
    """
    try:
        return _extract(html, url, declared_encoding, template, template_min_pages)
    except Exception:  # robustness contract: one bad page must not stop a crawl
        return _EMPTY


def _extract(
    html: bytes | str,
    url: str | None,
    declared: str | None,
    template: Mapping[int, int] | None,
    template_min_pages: int,
) -> Extraction:
    markup = page_markup(html, declared)
    tree = parse_page(markup) if markup is not None else None
    if tree is None:
        return _EMPTY

    metas = meta_map(tree)
    all_ld = json_ld_objects(tree)
    ld_objs = article_objs(all_ld)
    canonical = find_canonical(tree, metas, url)
    title = find_title(tree, metas)
    page = page_text(tree)
    window = byline_window(page, title)

    published = stated_published(tree, metas, ld_objs) or heuristic_published(
        tree, metas, window, page, url, above_headline(page, title)
    )
    modified = stated_modified(tree, metas, ld_objs)
    # Bylines live in elements the pruning below may drop, so read them first.
    authors = find_authors(tree, metas, ld_objs, window)
    top_image = find_top_image(tree, metas, ld_objs, url)
    section = find_section(metas, ld_objs)
    tags = find_tags(tree, metas, ld_objs)

    text = main_text(tree, url, lambda: parse_page(markup))
    blocks = frozenset(block_hashes(text))
    if template:
        text = strip_template(text, template, min_pages=template_min_pages)
    if not authors:
        authors = signed_authors(text, page, title)
    if published is None and (in_text := text_date(text[:300]) or issue_date(text)) is not None:
        published = Dated(in_text, DateSource.TEXT)

    return Extraction(
        title=title,
        text=text,
        authors=authors,
        published_at=published.value if published else None,
        published_at_source=published.source if published else None,
        access=find_access(all_ld, [text]),
        modified_at=modified,
        language=text_language(text, tree),
        canonical_url=canonical,
        is_article=is_article(url, metas, ld_objs, text),
        top_image=top_image,
        section=section,
        tags=tags,
        blocks=blocks,
    )
