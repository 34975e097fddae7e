"""Per-source templates: lines a site prints on many of its pages.

A source's crawl counts, per :func:`block_hash`, on how many distinct pages a
line appeared; lines past :data:`TEMPLATE_MIN_PAGES` are the site's furniture
(promos, footers, standing disclaimers) that element pruning cannot recognise.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import cast

from ...cjk import nfkc
from ..settings import NEWSARCHIVE_DEFAULTS
from .lines import WS_RE, weighted_len

# A line seen on this many distinct pages of one source is template; a crawl's
# NEWSARCHIVE_TEMPLATE_MIN_PAGES setting, whose default this is, overrides it.
TEMPLATE_MIN_PAGES = cast(int, NEWSARCHIVE_DEFAULTS["NEWSARCHIVE_TEMPLATE_MIN_PAGES"])
# Stripping never removes more than this share of a page's text: a page that
# is mostly "template" is more likely a story the site syndicated in full.
_TEMPLATE_MAX_SHARE = 0.5


def _block_key(line: str) -> str:
    return WS_RE.sub(" ", nfkc(line).casefold()).strip()


def _key_hash(key: str) -> int:
    digest = hashlib.sha1(key.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def block_hash(line: str) -> int:
    """Stable signed 64-bit hash of a text line, insensitive to case, width and spacing."""
    return _key_hash(_block_key(line))


def block_hashes(text: str) -> set[int]:
    """The distinct :func:`block_hash` values of ``text``'s non-empty lines."""
    # NFKC is the costly part on CJK text (see cjk.nfkc), so each line is
    # normalised once.
    return {_key_hash(key) for key in map(_block_key, text.split("\n")) if key}


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
    kept = sum(weighted_len(line) for line in keep)
    if kept < (1 - _TEMPLATE_MAX_SHARE) * sum(weighted_len(line) for line in lines):
        return text
    return "\n".join(keep)
