"""Page metadata read from the untouched tree.

Meta tags, JSON-LD objects, title, canonical URL, lead image, section and tags.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

from lxml import etree
from lxml.html import HtmlElement

from .lines import WS_RE


def meta_map(tree: HtmlElement) -> dict[str, str]:
    metas: dict[str, str] = {}
    for el in tree.iter("meta"):
        key = el.get("property") or el.get("name") or el.get("itemprop") or el.get("http-equiv")
        content = el.get("content")
        if key and content and content.strip():
            metas.setdefault(key.strip().lower(), content.strip())
    return metas


def json_ld_objects(tree: HtmlElement) -> list[dict[str, Any]]:
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


def ld_types(obj: dict[str, Any]) -> set[str]:
    kind = obj.get("@type")
    if isinstance(kind, str):
        return {kind}
    if isinstance(kind, list):
        return {k for k in kind if isinstance(k, str)}
    return set()


ARTICLE_LD_TYPES = frozenset(
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


def ld_values(objs: list[dict[str, Any]], key: str) -> list[str]:
    values: list[str] = []
    for obj in objs:
        val = obj.get(key)
        if isinstance(val, str):
            values.append(val)
        elif isinstance(val, list):
            values.extend(v for v in val if isinstance(v, str))
    return values


def article_objs(objs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    arts = [o for o in objs if ld_types(o) & ARTICLE_LD_TYPES]
    return arts or objs


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


def find_top_image(
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
    return WS_RE.sub(" ", value).strip()


def find_section(metas: dict[str, str], ld_objs: list[dict[str, Any]]) -> str | None:
    for value in [metas.get("article:section"), *ld_values(ld_objs, "articleSection")]:
        if value and _plain(value) and len(value) <= 100:
            return _plain(value)
    return None


def find_tags(tree: HtmlElement, metas: dict[str, str], ld_objs: list[dict[str, Any]]) -> list[str]:
    raw: list[str] = []
    for el in tree.iter("meta"):
        if (el.get("property") or el.get("name") or "").strip().lower() == "article:tag":
            raw.append(el.get("content") or "")
    if not raw:
        raw.extend(ld_values(ld_objs, "keywords"))
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


def find_canonical(tree: HtmlElement, metas: dict[str, str], url: str | None) -> str | None:
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


def find_title(tree: HtmlElement, metas: dict[str, str]) -> str | None:
    for candidate in (metas.get("og:title"), metas.get("twitter:title")):
        if candidate and candidate.strip():
            return WS_RE.sub(" ", candidate).strip()
    title_el = tree.find(".//title")
    page_title = WS_RE.sub(" ", title_el.text_content()).strip() if title_el is not None else ""
    # The headline is usually the <h1>, but sites also use h1 for their logo:
    # take it only when the <title> confirms it.
    for h1 in tree.iter("h1"):
        text = WS_RE.sub(" ", h1.text_content()).strip()
        if 4 <= len(text) <= 300 and (not page_title or text[:20] in page_title):
            return text
    if page_title:
        # "Headline - Site Name" / "Headline_Channel_Portal": keep the longest part.
        parts = [p.strip() for p in _TITLE_SEPARATORS_RE.split(page_title) if p.strip()]
        return max(parts, key=len) if parts else page_title
    return None


def page_text(tree: HtmlElement, limit: int = 60_000) -> str:
    """The page's visible text in document order, chunks joined by spaces, up to ``limit``."""
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
                parts.append(" ".join(chunk.split()))
                size += len(chunk)
        if size > limit:
            break
    return " ".join(parts)
