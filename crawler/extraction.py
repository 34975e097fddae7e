"""Main-text and metadata extraction for news pages.

This is the single extraction entry point shared by the crawl pipeline, the
``newsarchive extract`` CLI and the benchmarks (``bench/extraction.py``), so
that what we measure is what we archive.

Pipeline: decode bytes robustly (``encoding.decode_html``) -> parse once with
lxml -> read metadata from the untouched tree (dates, authors, canonical URL,
page type) -> prune boilerplate elements by class/id vocabulary -> trafilatura
on the pruned tree -> line-level clean-up of what still slipped through.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import unicodedata
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin, urlsplit

import htmldate
import trafilatura
from dateutil import parser as date_parser
from lxml import etree
from lxml.html import HtmlElement

from .encoding import decode_html

__all__ = [
    "TEMPLATE_MIN_PAGES",
    "Extraction",
    "block_hash",
    "block_hashes",
    "extract_article",
    "strip_template",
]

# Pages beyond this are truncated before parsing: real article pages are far
# smaller, and it bounds the worst-case time on pathological input.
_MAX_CHARS = 3_000_000


@dataclass(frozen=True)
class Extraction:
    """What one page says: the story's text (one paragraph per line) and its metadata."""

    title: str | None
    text: str
    authors: list[str] = field(default_factory=list)
    published_at: datetime | None = None
    """Timezone-aware; a page's naive time is taken as UTC."""
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
    blocks: frozenset[int] = field(default_factory=frozenset, repr=False, compare=False)
    """:func:`block_hash` of every line before template stripping: what a learner counts."""


# --------------------------------------------------------------------------
# Per-source templates: lines a site prints on many of its pages

# A line seen on this many distinct pages of one source is template.
TEMPLATE_MIN_PAGES = 5
# Stripping never removes more than this share of a page's text: a page that
# is mostly "template" is more likely a story the site syndicated in full.
_TEMPLATE_MAX_SHARE = 0.5


def _block_key(line: str) -> str:
    return _WS_RE.sub(" ", unicodedata.normalize("NFKC", line).casefold()).strip()


def block_hash(line: str) -> int:
    """Stable signed 64-bit hash of a text line, insensitive to case, width and spacing."""
    digest = hashlib.sha1(_block_key(line).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def block_hashes(text: str) -> set[int]:
    """The distinct :func:`block_hash` values of ``text``'s non-empty lines."""
    return {block_hash(line) for line in text.split("\n") if _block_key(line)}


def strip_template(
    text: str, template: Mapping[int, int], *, min_pages: int = TEMPLATE_MIN_PAGES
) -> str:
    """``text`` without the lines ``template`` says recur on ≥ ``min_pages`` pages.

    Nothing is stripped when that would remove most of the text.
    """
    lines = text.split("\n")
    keep = [line for line in lines if template.get(block_hash(line), 0) < min_pages]
    if len(keep) == len(lines):
        return text
    kept = sum(_weighted_len(line) for line in keep)
    if kept < (1 - _TEMPLATE_MAX_SHARE) * sum(_weighted_len(line) for line in lines):
        return text
    return "\n".join(keep)


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


# --------------------------------------------------------------------------
# Parsing


def _to_text(html: bytes | str, declared: str | None) -> str:
    if isinstance(html, bytes | bytearray | memoryview):
        text = decode_html(bytes(html), declared)
    else:
        text = str(html).replace("\x00", "")
    return text[:_MAX_CHARS]


def _looks_like_markup(text: str) -> bool:
    head = text[:20_000]
    if "<" not in head:
        return False
    # Binary payloads decoded as text are full of control characters.
    controls = sum(1 for ch in head if ch < " " and ch not in "\t\n\r\f")
    return controls < len(head) * 0.05


def _parse(text: str) -> HtmlElement | None:
    # trafilatura's loader copes with XML declarations in str input, broken
    # markup and odd doctypes better than a bare lxml.html.fromstring.
    tree = trafilatura.utils.load_html(text)
    if tree is None and "<html" not in text[:2000].lower():
        # Fragments and documents without an <html> root (some CMS exports,
        # archived snippets) fail trafilatura's "is this HTML" check.
        tree = trafilatura.utils.load_html(f"<html><body>{text}</body></html>")
    if tree is None or not isinstance(tree, HtmlElement):
        return None
    return tree


# --------------------------------------------------------------------------
# Boilerplate pruning before extraction

# Class/id tokens that mark page furniture around a story, in English and the
# pinyin that Chinese CMS templates use.  Matched per token (split on
# separators and camelCase) so "header", "shadow", "download" never match "ad".
_BOILERPLATE_TOKENS = frozenset(
    [
        "ad",
        "ads",
        "adv",
        "advert",
        "adverts",
        "advertisement",
        "advertisements",
        "advertising",
        "adsense",
        "adslot",
        "adunit",
        "adsbygoogle",
        "adbox",
        "adblock",
        "adcontainer",
        "adwrap",
        "dfp",
        "gpt",
        "banner",
        "sponsor",
        "sponsored",
        "sponsors",
        "promo",
        "promos",
        "promotion",
        "promoted",
        "share",
        "shares",
        "sharing",
        "sharebar",
        "sharethis",
        "addthis",
        "social",
        "newsletter",
        "newsletters",
        "subscribe",
        "subscription",
        "signup",
        "comment",
        "comments",
        "commentlist",
        "disqus",
        "related",
        "relatedposts",
        "recommend",
        "recommended",
        "recommendation",
        "recommendations",
        "outbrain",
        "taboola",
        "job",
        "jobs",
        "career",
        "careers",
        "widget",
        "widgets",
        "sidebar",
        "breadcrumb",
        "breadcrumbs",
        "popular",
        "trending",
        "mostread",
        "most-read",
        "hot",
        "paywall",
        "cookie",
        "cookies",
        "popup",
        "modal",
        "toolbar",
        "pager",
        "pagination",
        "guanggao",
        "gg",
        "fenxiang",
        "xiangguan",
        "pinglun",
        "tuijian",
        "remen",
        "zhaopin",
    ]
)
_TOKEN_SPLIT_RE = re.compile(r"[^A-Za-z0-9]+|(?<=[a-z])(?=[A-Z])")
_NEVER_PRUNE = frozenset({"html", "body", "main", "article"})


def _attr_tokens(el: HtmlElement) -> set[str]:
    raw = f"{el.get('class', '')} {el.get('id', '')}"
    return {tok.lower() for tok in _TOKEN_SPLIT_RE.split(raw) if tok}


_SKIP_TEXT_TAGS = frozenset({"script", "style", "noscript", "template"})


def _own_text_len(el: HtmlElement) -> int:
    """Weighted length of the text directly inside ``el`` (not in children)."""
    size = _weighted_len(el.text.strip()) if el.text else 0
    for child in el:
        if child.tail:
            size += _weighted_len(child.tail.strip())
    return size


def _signature(el: HtmlElement | None) -> tuple[str, str] | None:
    if el is None:
        return None
    return str(el.tag), " ".join((el.get("class") or "").split())


def _join_continuations(core: HtmlElement, by_parent: dict[HtmlElement, int]) -> None:
    """Pull the rest of a story split into several same-styled containers into ``core``.

    Magazine templates cut the body into chunks (``<div class="article__body">``
    ×N, each in its own grid row) with ad rows between them; an extractor that
    picks one container keeps only the first chunk.  A chunk has the same tag
    and class as ``core`` and sits in a parent of the same tag and class as
    ``core``'s (a repeated row, not a quote box that happens to share a class);
    at least one of them must hold prose.  Every chunk is moved, in document
    order, so short paragraphs stay between their long neighbours.
    """
    sig = _signature(core)
    parent = core.getparent()
    if sig is None or not sig[1] or parent is None:
        return
    parent_sig = _signature(parent)
    ancestors = set(core.iterancestors())
    chunks = [
        el
        for el in core.getroottree().iter(core.tag)
        if _signature(el) == sig
        and _signature(el.getparent()) == parent_sig
        and el.getparent() is not parent
        and el not in ancestors
    ]
    if not any(c in by_parent for c in chunks):
        return
    inside_core = set(core.iter())
    chunks = [c for c in chunks if c not in inside_core]
    order = [*chunks, core]
    position = {el: i for i, el in enumerate(core.getroottree().iter())}
    order.sort(key=position.__getitem__)
    own = list(core)
    own_text, core.text = core.text, None
    for child in own:
        core.remove(child)
    for chunk in order:
        if chunk is core:
            if own_text and own_text.strip():
                holder = etree.SubElement(core, "p")
                holder.text = own_text
            core.extend(own)
            continue
        chunk_parent = chunk.getparent()
        if chunk_parent is not None:
            chunk.tail = None
            chunk_parent.remove(chunk)
        core.append(chunk)


def _drop_sibling_articles(root: HtmlElement, core: HtmlElement) -> None:
    """Remove ``<article>`` elements beside the one holding the story.

    "You may also like" rails are often rendered as full ``<article>`` teasers
    with a lead paragraph each; once the story's own ``<article>`` is known,
    every other one outside it is another story.
    """
    main = next((a for a in core.iterancestors("article")), None)
    if core.tag == "article":
        main = core
    if main is None:
        return
    keep = set(main.iterancestors())
    for other in list(root.iter("article")):
        if other is main or other in keep:
            continue
        if any(a is main for a in other.iterancestors("article")):
            continue
        parent = other.getparent()
        if parent is not None:
            parent.remove(other)


_HEADER_TAGS = frozenset(
    {"h2", "h3", "h4", "h5", "h6", "div", "p", "span", "strong", "b", "header"}
)
_LIST_TAGS = frozenset({"ul", "ol", "div", "section", "aside", "nav"})


def _link_share(el: HtmlElement) -> float:
    total = sum(len(t.strip()) for t in el.itertext())
    if not total:
        return 0.0
    linked = sum(len(t.strip()) for a in el.iter("a") for t in a.itertext())
    return linked / total


def _short_text(el: HtmlElement, limit: int) -> str | None:
    """``el``'s text if it is at most ``limit`` characters, else None (without reading it all)."""
    parts: list[str] = []
    size = 0
    for chunk in el.itertext():
        size += len(chunk)
        if size > limit:
            return None
        parts.append(chunk)
    return "".join(parts)


def _drop_related_blocks(root: HtmlElement, protected: set[HtmlElement]) -> None:
    """Remove "More stories" / "相关阅读" / "Czytaj także" headers and the link list after them.

    The header's wording is the reliable signal; the list is taken only when
    links make up much of its text, so a story that merely continues after a
    "Read more" line keeps its paragraphs.
    """
    doomed: list[HtmlElement] = []
    for el in root.iter(*_HEADER_TAGS):
        if el in protected or len(el) > 2:
            continue
        text = _short_text(el, 60)
        if text is None or not _RELATED_HEADER_RE.match(_WS_RE.sub(" ", text).strip()):
            continue
        doomed.append(el)
        nxt = el.getnext()
        if (
            nxt is not None
            and nxt.tag in _LIST_TAGS
            and nxt not in protected
            and _link_share(nxt) >= 0.4
        ):
            doomed.append(nxt)
    for el in doomed:
        parent = el.getparent()
        if parent is not None:
            _remove_keep_tail(el)


def _remove_keep_tail(el: HtmlElement) -> None:
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    if tail and tail.strip():
        prev = el.getprevious()
        if prev is not None:
            prev.tail = (prev.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)


def _prune_boilerplate(tree: HtmlElement) -> None:
    body = tree.find("body")
    root = body if body is not None else tree
    # Prose mass: text in blocks long enough to be story paragraphs.  Bylines,
    # menus and teaser links are short; an element holding a large share of
    # the prose is the story container, whatever its class says
    # ("penci_sidebar", "widget Blog", "non-ad-column", "share-enabled").
    prose: dict[HtmlElement, int] = {}
    for el in root.iter(etree.Element):
        if not isinstance(el.tag, str) or el.tag in _SKIP_TEXT_TAGS:
            continue
        own = _own_text_len(el)
        if own >= 120:
            prose[el] = own
    total = sum(prose.values())
    # The story container is where prose paragraphs cluster (readability's
    # idea): the parent collecting the most prose.  It and its ancestors are
    # never pruned, even when teaser blurbs elsewhere add up to more text.
    by_parent: dict[HtmlElement, int] = {}
    for el, size in prose.items():
        parent = el.getparent()
        if parent is not None:
            by_parent[parent] = by_parent.get(parent, 0) + size
    protected: set[HtmlElement] = set()
    if by_parent:
        core = max(by_parent, key=by_parent.__getitem__)
        _join_continuations(core, by_parent)
        _drop_sibling_articles(root, core)
        node: HtmlElement | None = core
        while node is not None:
            protected.add(node)
            node = node.getparent()
    _drop_related_blocks(root, protected)
    doomed: list[HtmlElement] = []
    for el in root.iter(etree.Element):
        if not isinstance(el.tag, str) or el.tag in _NEVER_PRUNE:
            continue
        tokens = _attr_tokens(el)
        if not tokens & _BOILERPLATE_TOKENS:
            continue
        if el in protected or el.get("itemprop") == "articleBody":
            continue
        if el.find(".//*[@itemprop='articleBody']") is not None:
            continue
        if total:
            inside = sum(prose.get(d, 0) for d in el.iter(etree.Element))
            if inside >= total * 0.3:
                continue
        doomed.append(el)
    for el in doomed:
        # The tail is text of the parent that follows the element: keep it.
        _remove_keep_tail(el)


# --------------------------------------------------------------------------
# Line-level clean-up after extraction

_AD_MARKERS = frozenset(
    [
        "advertisement",
        "advertisements",
        "advertising",
        "ad",
        "ads",
        "sponsored",
        "sponsoredcontent",
        "paidcontent",
        "promoted",
        "广告",
        "推广",
        "赞助",
        "реклама",
        "anzeige",
        "werbung",
        "publicité",
        "publicidad",
        "pubblicità",
        "광고",
        "広告",
        "スポンサーリンク",
    ]
)
_COUNT_LINE_RE = re.compile(
    r"^\(?\d[\d,.]*\)?\s*(?:comments?|replies|shares?|条评论|评论|个评论|комментари\w*|kommentare?)$",
    re.IGNORECASE,
)
_BOILERPLATE_LINE_RE = re.compile(
    r"^(?:share this(?: article| story| page)?|share on \w+|share|分享到[:：]?.*|分享[:：]?"
    r"|sign up for (?:our|the) \w*\s*newsletters?.*|subscribe to (?:our|the) newsletter.*"
    r"|(?:read|see) more[:：]?|click here to (?:read|subscribe).*|leave a comment"
    r"|comments?|post a comment|发表评论|我要评论|网友评论|查看评论|打印本页|关闭窗口|返回顶部"
    r"|apply now|立即申请|[›»>]\s*立即申请.*|follow us on .*"
    r")$",
    re.IGNORECASE,
)
# Headers of link lists ("Related stories", "相关新闻"): the header and the
# short headline lines right after it are dropped together.
_RELATED_HEADER_RE = re.compile(
    r"^(?:related(?: stories| articles| news| posts| content| coverage| reading| topics)?"
    r"|more (?:stories|news|from \w+)|more\b.{0,30}\b(?:stories|news|articles|reads|videos)"
    r"|you (?:may|might) also (?:like|enjoy).*|recommended(?: for you| stories| reading)?"
    r"|most (?:read|popular|viewed)|trending(?: now| stories)?|read (?:more|next|also)"
    r"|(?:see|read) also|also read|don'?t miss|top stories|latest news"
    r"|相关新闻|相关阅读|相关文章|相关报道|相关链接|延伸阅读|推荐阅读|热门推荐|猜你喜欢|热点新闻|热门文章"
    r"|читайте также|см\. также|смотрите также|другие новости|похожие новости|по теме"
    r"|关联阅读|関連記事|関連ニュース|관련기사|관련 기사|많이 본 뉴스"
    r"|zobacz (?:też|także|również)|czytaj (?:też|także|również|więcej)|polecamy"
    r"|najczęściej czytane"
    r"|δε[ίι]τε (?:επίσης|ακόμα)|διαβάστε (?:επίσης|ακόμα|ακόμη)|σχετικά άρθρα|σχετικές ειδήσεις"
    r"|lesen sie auch|mehr zum thema|das könnte sie auch interessieren|weitere artikel"
    r"|(?:à )?lire aussi|sur le même sujet|lea también|te puede interesar|noticias relacionadas"
    r"|(?:leia|veja) (?:também|mais)|você (?:pode|também pode) gostar.*|notícias relacionadas"
    r"|leggi anche|potrebbe interessarti)[\s:：.…]*$",
    re.IGNORECASE,
)
_SALARY_RE = re.compile(
    r"(?:MYR|RM|SGD|USD|HKD|RMB|CNY|¥|\$)\s?\d[\d,.]*\s?[Kk万]?\s*/\s*(?:month|mo|月|year|yr|年)\b",
    re.IGNORECASE,
)
_PHOTO_CREDIT_RE = re.compile(
    r"^(?:\(?(?:photo|image|picture|credit|photograph|illustration)s?(?: by| credit)?\s*[:：]"
    r"|图片来源|图片[:：]|图[:：]|摄影[:：]|фото[:：]|写真[:：]|사진[:：])",
    re.IGNORECASE,
)
_WS_RE = re.compile(r"[ \t\u00a0\u2000-\u200b\u3000\u202f\u205f\ufeff\r\f\v]+")
_CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


def _marker_key(line: str) -> str:
    return re.sub(r"[\W_]+", "", line).lower()


def _is_short(line: str) -> bool:
    cjk = len(_CJK_RE.findall(line))
    return len(line) - cjk + 2 * cjk < 90


def _is_table_row(line: str) -> bool:
    return line.startswith("|") and line.rstrip().endswith("|")


def _untable(lines: list[str]) -> list[str]:
    """Turn layout tables back into paragraphs.

    trafilatura renders tables as ``| cell | cell |`` rows.  A table with a
    prose-sized cell is page layout (old portals and blogs), not data: keep its
    long cells as paragraphs and drop the menu/toolbar cells around them.
    Tables without any long cell are real data tables and stay as they are.
    """
    out: list[str] = []
    i = 0
    while i < len(lines):
        if not _is_table_row(lines[i]):
            out.append(lines[i])
            i += 1
            continue
        j = i
        while j < len(lines) and _is_table_row(lines[j]):
            j += 1
        block = lines[i:j]
        rows = [[c.strip() for c in re.split(r"(?<!\\)\|", row.strip()[1:-1])] for row in block]
        if any(_weighted_len(c) >= 120 for row in rows for c in row):
            for row in rows:
                out.extend(c.replace("\\|", "|") for c in row if _weighted_len(c) >= 60)
        else:
            out.extend(block)
        i = j
    return out


def _clean_lines(text: str) -> str:
    out: list[str] = []
    in_related = False
    lines = _untable([_WS_RE.sub(" ", raw).strip() for raw in text.splitlines()])
    for line in lines:
        if not line:
            continue
        if in_related:
            if _is_short(line):
                continue
            in_related = False
        key = _marker_key(line)
        if key in _AD_MARKERS or _COUNT_LINE_RE.match(line) or _BOILERPLATE_LINE_RE.match(line):
            continue
        if _RELATED_HEADER_RE.match(line):
            in_related = True
            continue
        if _SALARY_RE.search(line) and len(line) < 200:
            continue
        if _PHOTO_CREDIT_RE.match(line) and len(line) < 150:
            continue
        out.append(line)
    return "\n".join(out)


def _normalize(text: str) -> str:
    return unicodedata.normalize("NFC", text.replace("\x00", ""))


# --------------------------------------------------------------------------
# Metadata from the untouched tree


def _meta_map(tree: HtmlElement) -> dict[str, str]:
    metas: dict[str, str] = {}
    for el in tree.iter("meta"):
        key = el.get("property") or el.get("name") or el.get("itemprop") or el.get("http-equiv")
        content = el.get("content")
        if key and content and content.strip():
            metas.setdefault(key.strip().lower(), content.strip())
    return metas


def _json_ld_objects(tree: HtmlElement) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for script in tree.iter("script"):
        if (script.get("type") or "").strip().lower() != "application/ld+json":
            continue
        raw = (script.text or "").strip()
        if not raw:
            continue
        try:
            data = json.loads(raw, strict=False)
        except ValueError:
            continue
        found.extend(_walk_json_ld(data, depth=0))
    return found


def _walk_json_ld(data: Any, depth: int) -> Iterator[dict[str, Any]]:
    if depth > 6:
        return
    if isinstance(data, list):
        for item in data:
            yield from _walk_json_ld(item, depth + 1)
    elif isinstance(data, dict):
        if "@type" in data:
            yield data
        graph = data.get("@graph")
        if graph is not None:
            yield from _walk_json_ld(graph, depth + 1)
        main = data.get("mainEntity")
        if isinstance(main, dict | list):
            yield from _walk_json_ld(main, depth + 1)


def _ld_types(obj: dict[str, Any]) -> set[str]:
    kind = obj.get("@type")
    if isinstance(kind, str):
        return {kind}
    if isinstance(kind, list):
        return {k for k in kind if isinstance(k, str)}
    return set()


_ARTICLE_LD_TYPES = frozenset(
    {
        "Article",
        "NewsArticle",
        "BlogPosting",
        "ReportageNews",
        "AnalysisNewsArticle",
        "OpinionNewsArticle",
        "BackgroundNewsArticle",
        "ReviewNewsArticle",
        "AskPublicNewsArticle",
        "LiveBlogPosting",
        "ScholarlyArticle",
        "TechArticle",
        "Report",
        "SocialMediaPosting",
    }
)


# ----- dates

_PUBLISHED_META_KEYS = (
    "article:published_time",
    "og:article:published_time",
    "article:published",
    "published_time",
    "datepublished",
    "publishdate",
    "publish-date",
    "publish_date",
    "pubdate",
    "sailthru.date",
    "parsely-pub-date",
    "dc.date.issued",
    "dcterms.issued",
    "dc.date.created",
    "dcterms.created",
    "dc.date",
    "date",
    "article.published",
    "og:published_time",
    "weibo: article:create_at",
)
_MODIFIED_META_KEYS = (
    "article:modified_time",
    "og:article:modified_time",
    "og:updated_time",
    "datemodified",
    "article:modified",
    "dcterms.modified",
    "dc.date.modified",
    "last-modified",
    "weibo: article:update_at",
)
# Numeric and CJK dates as printed in bylines: 2023-05-12 10:30, 2023/5/12,
# 2023年05月12日 10:30, 2023.05.12 10:30:15.
_TEXT_DATE_RE = re.compile(
    r"(?<!\d)((?:19|20)\d{2})\s*(?:年|[-/.])\s*(\d{1,2})\s*(?:月|[-/.])\s*(\d{1,2})(?!\d)\s*日?"
    r"(?:\s*(?:[T ]|\u3000)?\s*(\d{1,2})\s*[:：时]\s*(\d{1,2})(?:\s*[:：分]\s*(\d{1,2}))?)?"
)


# Abbreviations dateutil doesn't resolve on its own; others are dropped quietly.
_TZINFOS = {
    name: offset * 3600
    for name, offset in {
        "UTC": 0,
        "GMT": 0,
        "Z": 0,
        "EST": -5,
        "EDT": -4,
        "CST": -6,
        "CDT": -5,
        "MST": -7,
        "MDT": -6,
        "PST": -8,
        "PDT": -7,
        "BST": 1,
        "CET": 1,
        "CEST": 2,
        "EET": 2,
        "EEST": 3,
        "MSK": 3,
        "IST": 5.5,
        "HKT": 8,
        "SGT": 8,
        "JST": 9,
        "KST": 9,
        "AEST": 10,
        "AEDT": 11,
    }.items()
}


def _parse_datetime(value: str | None) -> datetime | None:
    if not value or not isinstance(value, str):
        return None
    value = value.strip()
    if not value or len(value) > 80:
        return None
    dt: datetime | None = None
    match = _TEXT_DATE_RE.search(value)
    if match and ("年" in value or not re.search(r"[T+Z]|\d:\d\d[+-]", value)):
        dt = _datetime_from_match(match)
    if dt is None:
        try:
            dt = date_parser.isoparse(value)
        except (ValueError, OverflowError):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    dt = date_parser.parse(value, fuzzy=False, tzinfos=_TZINFOS)
            except (ValueError, OverflowError, TypeError, date_parser.ParserError):
                return None
    return _sane(dt)


def _datetime_from_match(match: re.Match[str]) -> datetime | None:
    year, month, day, hour, minute, second = match.groups()
    try:
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour) if hour else 0,
            int(minute) if minute else 0,
            int(second) if second else 0,
        )
    except ValueError:
        return None


def _sane(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    try:
        now = datetime.now(UTC)
        if dt.year < 1990 or dt > now + timedelta(days=2):
            return None
    except (OverflowError, ValueError):
        return None
    return dt


def _first_date(values: Iterable[str | None]) -> datetime | None:
    for value in values:
        dt = _parse_datetime(value)
        if dt is not None:
            return dt
    return None


def _ld_values(objs: list[dict[str, Any]], key: str) -> list[str]:
    values: list[str] = []
    for obj in objs:
        val = obj.get(key)
        if isinstance(val, str):
            values.append(val)
        elif isinstance(val, list):
            values.extend(v for v in val if isinstance(v, str))
    return values


def _article_objs(objs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    arts = [o for o in objs if _ld_types(o) & _ARTICLE_LD_TYPES]
    return arts or objs


def _time_elements(tree: HtmlElement, prop: str) -> list[str]:
    values: list[str] = []
    for el in tree.xpath(f"//*[@itemprop='{prop}']"):
        values.append(el.get("content") or el.get("datetime") or el.text_content())
    if prop == "datePublished":
        scopes = tree.xpath("//article") or [tree]
        for scope in scopes[:1]:
            for el in scope.iter("time"):
                if el.get("datetime"):
                    values.append(el.get("datetime"))
                    break
    return values


def _byline_window(tree: HtmlElement, title: str | None) -> str:
    """Text just below the headline, where bylines and dates are printed."""
    body = tree.find("body")
    if body is None:
        body = tree
    parts: list[str] = []
    size = 0
    for el in body.iter(etree.Element):
        if el.tag in ("script", "style", "noscript", "template"):
            continue
        for chunk in (el.text, el.tail):
            if chunk and chunk.strip():
                parts.append(chunk.strip())
                size += len(chunk)
        if size > 60_000:
            break
    page = " ".join(parts)
    start = 0
    if title:
        probe = title.strip()[:12]
        pos = page.find(probe) if probe else -1
        # The <title> is often repeated in the nav; the headline proper is the
        # last early occurrence before the story.
        if pos >= 0:
            start = pos
            nxt = page.find(probe, pos + 1)
            if 0 <= nxt < pos + 3000:
                start = nxt
    return page[start : start + 600]


def _text_date(window: str) -> datetime | None:
    for match in _TEXT_DATE_RE.finditer(window):
        dt = _sane(_datetime_from_match(match))
        if dt is not None:
            return dt
    return None


# ----- authors

_BY_PREFIX_RE = re.compile(
    r"^(?:(?:written|posted|reported|text|story)\s+)?(?:by|von|par|por|di|door|автор)\s*[:：]?\s+"
    r"|^(?:作者|记者|文|撰文|撰稿|来源)\s*[:：/]\s*",
    re.IGNORECASE,
)
_AUTHOR_SPLIT_RE = re.compile(r"\s*(?:,|;|&|\band\b|\bund\b|\bet\b|\by\b|\bи\b|、|，|/|\|)\s*")
_EMAIL_RE = re.compile(r"\S+@\S+")
_NOT_AUTHOR_WORDS = re.compile(
    r"(?:https?:|www\.|staff|editor|admin|news desk|\bteam\b|编辑|责任|来源|本报|新华社|图片)",
    re.IGNORECASE,
)


def _clean_authors(values: Iterable[str]) -> list[str]:
    authors: list[str] = []
    seen: set[str] = set()
    for value in values:
        if not value:
            continue
        value = _EMAIL_RE.sub(" ", _WS_RE.sub(" ", value)).strip()
        value = _TEXT_DATE_RE.sub(" ", value)
        value = re.sub(r"\b(?:updated|published|posted)\b.*$", "", value, flags=re.IGNORECASE)
        value = _BY_PREFIX_RE.sub("", value.strip())
        for part in _AUTHOR_SPLIT_RE.split(value):
            name = _BY_PREFIX_RE.sub("", part.strip(" .:-|·\t")).strip(" .:-|·")
            if not name or len(name) > 60 or len(name.split()) > 5:
                continue
            if any(ch.isdigit() for ch in name) or _NOT_AUTHOR_WORDS.search(name):
                continue
            if name.lower() in seen:
                continue
            seen.add(name.lower())
            authors.append(name)
    return authors


def _ld_authors(objs: list[dict[str, Any]]) -> list[str]:
    names: list[str] = []
    for obj in objs:
        val = obj.get("author") or obj.get("creator")
        items = val if isinstance(val, list) else [val]
        for item in items:
            if isinstance(item, str):
                names.append(item)
            elif isinstance(item, dict) and isinstance(item.get("name"), str):
                names.append(item["name"])
    return names


# Chinese bylines: "记者 张三", "本报记者张三 李四", "作者：张三", "（记者 张三）",
# "文/张三".  "来源：" names a publication, "编辑"/"责编" an editor: neither is
# an author.  A name is 2–4 Han characters starting with a common surname,
# which keeps "记者近日从…" and "作者：佚名" out.
_ZH_SURNAMES = frozenset(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏"
    "魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚"
    "邵万钱严覃武戴莫孔向汤常温康施文牛樊葛邢安齐易乔伍庞颜倪庄聂章鲁岳翟殷詹申欧耿关兰焦俞左"
    "柳甘祝包宁尚符舒阮柯纪梅童凌毕单季裴霍涂成苗谷盛曲翁冉骆蓝路游辛靳管柴蒙鲍华喻祁蒲房滕屈"
    "饶解牟艾尤阳时穆农司卓古吉缪简车项连芦麦褚娄窦戚岑景党宫费卜冷晏席卫米柏宗瞿桂全佟应臧闵"
    "苟邬边卞姬师和仇栾隋商刁沙荣巫寇桑郎甄丛仲虞敖巩明佘池查麻苑迟邝官封谈匡鞠惠荆乐冀郁胥南"
    "班储原栗燕楚鄢劳谌奚皮粟冼蔺楼盘满闻位厉伊仝区郜海阚花权强帅屠豆朴盖练廉禹井祖漆巴丰支卿"
    "国狄平计索宣晋相初门云容敬来扈晁芮都普阙浦戈伏鹿薄邱雍辜羊阿乌母裘亓修邰赫杭况那宿鲜印逯"
    "隆茹诸战慕危玉银亢嵇公哈湛宾戎勾茅利於呼居揭干但尉冶斯元束檀衣信展阴昝智幸奉植衡富尧闭由"
)
_ZH_COMPOUND_SURNAMES = frozenset(
    "欧阳 司马 上官 诸葛 东方 皇甫 尉迟 公孙 慕容 长孙 宇文 司徒 令狐 夏侯 端木 呼延".split()
)
_ZH_NAME = r"[\u4e00-\u9fff·]{2,4}"
_ZH_NAMES = rf"{_ZH_NAME}(?:[ \u3000、，,]+{_ZH_NAME})*"
_ZH_REPORTER_RE = re.compile(
    rf"(?:作者|撰文|撰稿|执笔人?|文|记者|通讯员)\s*[:：/]\s*({_ZH_NAMES})"
    rf"|(?:[（(]|^|\s)记者[ \u3000]+({_ZH_NAMES})"
    rf"|(?<![编辑])记者[ \u3000]*({_ZH_NAMES})"
)
# A story signed at its very end: "…作出贡献。（记者 张三）" / "（张三 李四 上海报道）".
_ZH_SIGNATURE_RE = re.compile(
    rf"[（(]\s*(?:[\u4e00-\u9fff]{{0,4}}记者[ \u3000]*)?({_ZH_NAMES})\s*"
    rf"(?:[\u4e00-\u9fff]{{0,6}}报道)?\s*[）)]\s*$"
)
_ZH_NOT_NAME = frozenset(
    {"佚名", "报道", "发自", "摄影", "综合", "整理", "编辑", "责编", "来源", "本报"}
    | {"近日", "日前", "获悉", "了解", "表示", "介绍", "通讯", "实习"}
)
_ZH_NAME_STOPS = ("报道", "发自", "摄", "电", "讯", "文", "图")


def _zh_person(piece: str, *, marked: bool) -> str | None:
    for stop in _ZH_NAME_STOPS:
        if piece.endswith(stop) and len(piece) > 2:
            piece = piece[: -len(stop)]
    if not 2 <= len(piece) <= 4 or piece in _ZH_NOT_NAME:
        return None
    # Behind an explicit "记者 " / "作者：" any name goes (minority and foreign
    # names too); elsewhere only a common surname tells a name from prose.
    if marked or "·" in piece:
        return piece
    if piece[0] in _ZH_SURNAMES or piece[:2] in _ZH_COMPOUND_SURNAMES:
        return piece
    return None


def _zh_names(run: str, *, marked: bool) -> list[str]:
    names: list[str] = []
    for i, piece in enumerate(p for p in re.split(r"[ \u3000、，,]+", run) if p):
        name = _zh_person(piece, marked=marked and i == 0)
        if name is None:
            break
        names.append(name)
    return names


def _zh_byline(*texts: str) -> list[str]:
    """Reporter names from Chinese bylines in ``texts`` (the first text with one wins)."""
    for text in texts:
        for match in _ZH_REPORTER_RE.finditer(text):
            first, spaced, glued = match.groups()
            # "记者：" also opens the questions of an interview ("记者：首先…"),
            # so only the spaced form "（记者 张三）" vouches for the name itself.
            names = _zh_names(first or spaced or glued, marked=bool(spaced))
            if names:
                return names
    return []


def _zh_signature(text: str) -> list[str]:
    """Names a story is signed with at its end, in parentheses."""
    match = _ZH_SIGNATURE_RE.search(text[-80:])
    return _zh_names(match.group(1), marked=False) if match else []


def _find_authors(
    tree: HtmlElement,
    metas: dict[str, str],
    ld_objs: list[dict[str, Any]],
    window: str,
) -> list[str]:
    candidates: list[list[str]] = [_ld_authors(ld_objs)]
    meta_names = [
        metas.get(k, "")
        for k in ("author", "article:author", "parsely-author", "sailthru.author", "dc.creator")
    ]
    candidates.append([m for m in meta_names if m and not m.startswith("http")])
    candidates.append([metas.get("byl", "")])
    dom: list[str] = []
    for el in tree.xpath(
        "//*[@itemprop='author' or @rel='author' or contains(@class,'byline')"
        " or contains(@class,'author-name')]"
    )[:4]:
        name_el = el.find(".//*[@itemprop='name']")
        text = (name_el if name_el is not None else el).text_content()
        if len(text) < 120:
            dom.append(text)
    candidates.append(dom)
    candidates.append(_zh_byline(window))
    for group in candidates:
        cleaned = _clean_authors(group)
        if cleaned:
            return cleaned
    return []


# ----- page type

_NON_ARTICLE_PATH_RE = re.compile(
    r"/(?:tags?|topics?|categor(?:y|ies)|sections?|search|about(?:-us)?|contact(?:-us)?|authors?"
    r"|page/\d+|archives?|index|login|register|subscribe|newsletters?|privacy|terms)(?:/|\.\w+)?$"
    r"|/(?:tags?|topics?|categor(?:y|ies)|search)/",
    re.IGNORECASE,
)
_ARTICLE_PATH_RE = re.compile(
    r"/(?:19|20)\d{2}[/-]?\d{1,2}[/-]?(?:\d{1,2})?/"  # dated path
    r"|\d{5,}"  # numeric id
    r"|/[^/]*\w+-\w+-\w+-\w+[^/]*/?$"  # long slug
    r"|/[^/]*\d[^/]*\.s?html?$",  # t20230512_12345.shtml style ids
    re.IGNORECASE,
)


def _weighted_len(text: str) -> int:
    """Length where one CJK character counts like ~2.5 Latin characters."""
    cjk = len(_CJK_RE.findall(text))
    return len(text) - cjk + int(cjk * 2.5)


def _is_article(
    url: str | None, metas: dict[str, str], ld_objs: list[dict[str, Any]], text: str
) -> bool:
    size = _weighted_len(text)
    if size < 100:
        return False
    path = urlsplit(url).path if url else ""
    if url and (path in ("", "/") or _NON_ARTICLE_PATH_RE.search(path)):
        return False
    og_type = metas.get("og:type", "").lower()
    if og_type == "article" or any(_ld_types(o) & _ARTICLE_LD_TYPES for o in ld_objs):
        return True
    lines = text.split("\n")
    paragraphs = [ln for ln in lines if _weighted_len(ln) >= 150]
    if url and _ARTICLE_PATH_RE.search(path) and paragraphs:
        return True
    if og_type in ("website", "profile", "video.other") and not paragraphs:
        return False
    # Listing pages extract as many short headline lines; stories as prose.
    long_share = sum(_weighted_len(p) for p in paragraphs) / max(size, 1)
    return size >= 300 and len(paragraphs) >= 2 and long_share >= 0.5


# ----- language, canonical


_KANA_RE = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff]")
_HANGUL_RE = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")
_HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LETTER_RE = re.compile(r"[^\W\d_]")


def _script_language(sample: str) -> str | None:
    """The language a CJK script decides on its own, or None.

    Statistical identifiers confuse Chinese, Japanese and Korean on short or
    mixed texts (Japanese is mostly Han; Korean news quotes Han).  Scripts
    decide reliably: kana means Japanese, hangul Korean, Han alone Chinese.
    """
    letters = len(_LETTER_RE.findall(sample))
    if not letters:
        return None
    kana = len(_KANA_RE.findall(sample))
    hangul = len(_HANGUL_RE.findall(sample))
    han = len(_HAN_RE.findall(sample))
    if hangul >= 0.3 * letters:
        return "ko"
    if kana >= 0.05 * letters and kana + han >= 0.3 * letters:
        return "ja"
    if han >= 0.3 * letters and kana == 0 and hangul < 0.05 * letters:
        return "zh"
    return None


def _language(text: str, tree: HtmlElement) -> str | None:
    if not text:
        return None
    sample = text[:2000]
    by_script = _script_language(sample)
    if by_script:
        return by_script
    html_lang = (tree.get("lang") or tree.get("xml:lang") or "").strip().lower()
    html_lang = html_lang.split("-")[0].split("_")[0]
    html_lang = html_lang if len(html_lang) == 2 and html_lang.isalpha() else ""
    # A few words are too few for a character n-gram model; the page's own
    # declaration is the better guess there.
    if _weighted_len(text) < 80 and html_lang:
        return html_lang
    try:
        import py3langid

        lang, _score = py3langid.classify(sample)
    except Exception:
        return html_lang or None
    return str(lang)


def _absolute_http(href: str | None, base: str | None) -> str | None:
    if not href or not isinstance(href, str):
        return None
    try:
        absolute = urljoin(base or "", href.strip())
    except ValueError:
        return None
    return absolute if urlsplit(absolute).scheme in ("http", "https") else None


def _ld_image_urls(value: Any, depth: int = 0) -> Iterator[str]:
    if depth > 3:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, list):
        for item in value:
            yield from _ld_image_urls(item, depth + 1)
    elif isinstance(value, dict):
        for key in ("url", "contentUrl"):
            if isinstance(value.get(key), str):
                yield value[key]
                return


def _top_image(
    tree: HtmlElement, metas: dict[str, str], ld_objs: list[dict[str, Any]], url: str | None
) -> str | None:
    candidates = [
        metas.get("og:image"),
        metas.get("og:image:url"),
        metas.get("og:image:secure_url"),
        metas.get("twitter:image"),
        metas.get("twitter:image:src"),
    ]
    for obj in ld_objs:
        candidates.extend(_ld_image_urls(obj.get("image")))
        candidates.extend(_ld_image_urls(obj.get("thumbnailUrl")))
    for el in tree.iter("link"):
        if (el.get("rel") or "").lower() == "image_src":
            candidates.append(el.get("href"))
    for candidate in candidates:
        absolute = _absolute_http(candidate, url)
        if absolute:
            return absolute
    return None


def _plain(value: str) -> str:
    return _WS_RE.sub(" ", value).strip()


def _section(metas: dict[str, str], ld_objs: list[dict[str, Any]]) -> str | None:
    for value in [metas.get("article:section"), *_ld_values(ld_objs, "articleSection")]:
        if value and _plain(value) and len(value) <= 100:
            return _plain(value)
    return None


def _tags(tree: HtmlElement, metas: dict[str, str], ld_objs: list[dict[str, Any]]) -> list[str]:
    raw: list[str] = []
    for el in tree.iter("meta"):
        if (el.get("property") or el.get("name") or "").strip().lower() == "article:tag":
            raw.append(el.get("content") or "")
    if not raw:
        raw.extend(_ld_values(ld_objs, "keywords"))
    if not raw and metas.get("news_keywords"):
        raw.append(metas["news_keywords"])
    tags: list[str] = []
    seen: set[str] = set()
    for value in raw:
        # "a, b, c" in one string is the common form; "a；b" and "a|b" in Chinese CMSs.
        for part in re.split(r"[,;，；|、]", value):
            tag = _plain(part)
            if tag and len(tag) <= 80 and tag.casefold() not in seen:
                seen.add(tag.casefold())
                tags.append(tag)
    return tags[:50]


def _canonical(tree: HtmlElement, metas: dict[str, str], url: str | None) -> str | None:
    href = None
    for el in tree.iter("link"):
        rel = (el.get("rel") or "").lower().split()
        if "canonical" in rel and el.get("href"):
            href = el.get("href", "").strip()
            break
    href = href or metas.get("og:url")
    if not href:
        return None
    try:
        absolute = urljoin(url or "", href)
    except ValueError:
        return None
    if urlsplit(absolute).scheme not in ("http", "https"):
        return None
    return absolute


_TITLE_SEPARATORS_RE = re.compile(r"\s+[|\-–—_:»]\s+|_|｜|\s*-\s*-\s*")


def _title(tree: HtmlElement, metas: dict[str, str]) -> str | None:
    for candidate in (metas.get("og:title"), metas.get("twitter:title")):
        if candidate and candidate.strip():
            return _WS_RE.sub(" ", candidate).strip()
    title_el = tree.find(".//title")
    page_title = _WS_RE.sub(" ", title_el.text_content()).strip() if title_el is not None else ""
    # The headline is usually the <h1>, but sites also use h1 for their logo:
    # take it only when the <title> confirms it.
    for h1 in tree.iter("h1"):
        text = _WS_RE.sub(" ", h1.text_content()).strip()
        if 4 <= len(text) <= 300 and (not page_title or text[:20] in page_title):
            return text
    if page_title:
        # "Headline - Site Name" / "Headline_Channel_Portal": keep the longest part.
        parts = [p.strip() for p in _TITLE_SEPARATORS_RE.split(page_title) if p.strip()]
        return max(parts, key=len) if parts else page_title
    return None


# A URL names a day only when it holds year, month and day; htmldate would turn
# ".../2024/05/slug" into 2024-05-01, a date the page never stated.
_URL_DAY_RE = re.compile(
    r"(?<!\d)(19|20)\d\d([/_-]?)(0?[1-9]|1[0-2])\2(0?[1-9]|[12]\d|3[01])(?!\d)"
)


def _fallback_date(tree: HtmlElement, url: str | None) -> datetime | None:
    if url and not _URL_DAY_RE.search(urlsplit(url).path):
        url = None
    try:
        found = htmldate.find_date(
            tree, url=url, extensive_search=False, original_date=True, deferred_url_extractor=True
        )
    except Exception:  # htmldate is a best-effort heuristic
        return None
    return _parse_datetime(found)


# --------------------------------------------------------------------------
# Main text


# Measured on both benchmark sets: precision mode with tables kept scores
# best (old portals lay the story out in <td> cells, so tables must stay).
_TRAF_OPTS: dict[str, Any] = {"include_tables": True, "favor_precision": True}


def _trafilatura_text(tree: HtmlElement, url: str | None, *, recall: bool = False) -> str:
    opts = {"include_tables": True, "favor_recall": True} if recall else _TRAF_OPTS
    doc = trafilatura.bare_extraction(
        tree,
        url=url,
        with_metadata=False,
        include_comments=False,
        deduplicate=False,
        **opts,
    )
    return (doc.text or "") if doc is not None else ""


def _extract(
    html: bytes | str,
    url: str | None,
    declared: str | None,
    template: Mapping[int, int] | None,
    template_min_pages: int,
) -> Extraction:
    text_in = _to_text(html, declared)
    if not text_in.strip() or not _looks_like_markup(text_in):
        return _EMPTY
    tree = _parse(text_in)
    if tree is None:
        return _EMPTY

    metas = _meta_map(tree)
    ld_objs = _article_objs(_json_ld_objects(tree))
    canonical = _canonical(tree, metas, url)
    title = _title(tree, metas)
    window = _byline_window(tree, title)

    published = _first_date(
        [metas.get(k) for k in _PUBLISHED_META_KEYS]
        + _ld_values(ld_objs, "datePublished")
        + _time_elements(tree, "datePublished")
    )
    modified = _first_date(
        [metas.get(k) for k in _MODIFIED_META_KEYS]
        + _ld_values(ld_objs, "dateModified")
        + _time_elements(tree, "dateModified")
    )
    if published is None:
        published = _text_date(window)
    if published is None:
        published = _fallback_date(tree, url)
    # Bylines live in elements the pruning below may drop, so read them first.
    authors = _find_authors(tree, metas, ld_objs, window)
    top_image = _top_image(tree, metas, ld_objs, url)
    section = _section(metas, ld_objs)
    tags = _tags(tree, metas, ld_objs)

    _prune_boilerplate(tree)
    # Precision mode can drop the whole story when it is short or oddly
    # structured; then the recall-oriented pass on a fresh copy of the pruned
    # tree (bare_extraction edits its input) is worth its cost.
    backup = copy.deepcopy(tree)
    raw_text = _trafilatura_text(tree, url)
    if _weighted_len(raw_text) < 1000:
        recall_text = _trafilatura_text(backup, url, recall=True)
        if _weighted_len(recall_text) > 2 * _weighted_len(raw_text):
            raw_text = recall_text
    text = _clean_lines(_normalize(raw_text))
    blocks = frozenset(block_hashes(text))
    if template:
        text = strip_template(text, template, min_pages=template_min_pages)
    if not authors:
        # Chinese papers often sign at the end: "…（记者 张三）".
        authors = _clean_authors(_zh_byline(text[:200], text[-200:]) or _zh_signature(text))
    if published is None:
        published = _text_date(text[:300])

    return Extraction(
        title=title,
        text=text,
        authors=authors,
        published_at=published,
        modified_at=modified,
        language=_language(text, tree),
        canonical_url=canonical,
        is_article=_is_article(url, metas, ld_objs, text),
        top_image=top_image,
        section=section,
        tags=tags,
        blocks=blocks,
    )
