"""Is this page a story, or a listing, tag page, section front or about page?"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlsplit

from .lines import weighted_len
from .metadata import ARTICLE_LD_TYPES, ld_types

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


def is_article(
    url: str | None, metas: dict[str, str], ld_objs: list[dict[str, Any]], text: str
) -> bool:
    size = weighted_len(text)
    if size < 100:
        return False
    path = urlsplit(url).path if url else ""
    if url and (path in ("", "/") or _NON_ARTICLE_PATH_RE.search(path)):
        return False
    og_type = metas.get("og:type", "").lower()
    if og_type == "article" or any(ld_types(o) & ARTICLE_LD_TYPES for o in ld_objs):
        return True
    lines = text.split("\n")
    paragraphs = [ln for ln in lines if weighted_len(ln) >= 150]
    if url and _ARTICLE_PATH_RE.search(path) and paragraphs:
        return True
    if og_type in ("website", "profile", "video.other") and not paragraphs:
        return False
    # Listing pages extract as many short headline lines; stories as prose.
    long_share = sum(weighted_len(p) for p in paragraphs) / max(size, 1)
    return size >= 300 and len(paragraphs) >= 2 and long_share >= 0.5
