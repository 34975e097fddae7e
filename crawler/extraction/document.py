"""From response bytes to one lxml tree, whatever state the markup is in.

Decoding is ``encoding.decode_html``'s job; here we cap the size, refuse
payloads that are not markup at all, and parse damaged HTML (fragments, stray
XML declarations, odd doctypes) into a tree every other step can read.
"""

from __future__ import annotations

import trafilatura
from lxml.html import HtmlElement

from ..encoding import decode_html

# Pages beyond this are truncated before parsing: real article pages are far
# smaller, and it bounds the worst-case time on pathological input.
_MAX_CHARS = 3_000_000


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


def load_tree(html: bytes | str, declared: str | None) -> HtmlElement | None:
    """The parsed page, or None when ``html`` is empty, binary or unparseable.

    ``html`` is the raw body (decoded with ``declared``, the HTTP header
    charset, as a hint) or already-decoded text.
    """
    text = _to_text(html, declared)
    if not text.strip() or not _looks_like_markup(text):
        return None
    return _parse(text)
