"""A captured page made safe to show: no scripts, nothing fetched from the live site.

The page is served with ``Content-Security-Policy: sandbox`` and an empty
``default-src``, inside a sandboxed iframe, so even markup this cleaning missed
can neither run nor load anything. The cleaning is the second wall and makes the
capture look as archived rather than half-broken: scripts, frames, forms, event
handlers and ``javascript:`` URLs are removed (lxml_html_clean), and every URL
that would reach out (images, stylesheets, CSS ``url()``, links) is dropped,
its original kept in a ``data-archived-url`` attribute for the curious.
"""

from __future__ import annotations

import re

import lxml.html
from lxml_html_clean import Cleaner

from newsarchive.crawler.encoding import decode_html

CAPTURE_CSP = (
    "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'self'"
)
"""Headers the capture response carries: no script runs (no ``allow-scripts``), and
nothing but inline styles and ``data:`` images loads."""

_URL_ATTRIBUTES = ("src", "srcset", "href", "poster", "background", "data", "action", "cite")
_CSS_URL = re.compile(r"url\s*\([^)]*\)|@import[^;]*;?", re.I)

_CLEANER = Cleaner(
    scripts=True,
    javascript=True,
    comments=True,
    style=False,  # inline <style> stays (its url()s are cut below): the page keeps its look
    inline_style=False,
    links=True,  # <link>: stylesheets, preloads, icons would all be fetched
    meta=True,  # <meta http-equiv=refresh> would navigate away
    page_structure=False,
    processing_instructions=True,
    embedded=True,
    frames=True,
    forms=True,
    annoying_tags=False,
    remove_unknown_tags=False,
    safe_attrs_only=False,
)


def _is_data_image(value: str) -> bool:
    return value.strip().lower().startswith("data:image/")


def _neutralise(element: lxml.html.HtmlElement) -> None:
    for name in _URL_ATTRIBUTES:
        value = element.get(name)
        if value is None or (name == "src" and _is_data_image(value)):
            continue
        del element.attrib[name]
        element.set(f"data-archived-{name}", value)
    style = element.get("style")
    if style and _CSS_URL.search(style):
        element.set("style", _CSS_URL.sub("none", style))


def safe_capture(body: bytes, declared_encoding: str | None = None) -> str:
    """The archived HTML ``body`` as a self-contained document that runs and fetches nothing."""
    text = decode_html(body, declared_encoding)
    if not text.strip():
        return "<!DOCTYPE html><html><body><p>(empty response)</p></body></html>"
    try:
        document = lxml.html.document_fromstring(text)
    except (lxml.etree.ParserError, ValueError):
        return "<!DOCTYPE html><html><body><p>(not an HTML page)</p></body></html>"
    _CLEANER(document)
    for base in document.iter("base"):
        base.drop_tree()
    for element in document.iter(lxml.etree.Element):
        _neutralise(element)
        if element.tag == "style" and element.text:
            element.text = _CSS_URL.sub("none", element.text)
    head = document.find("head")
    if head is None:
        head = lxml.html.Element("head")
        document.insert(0, head)
    # The bytes were decoded here: the browser must not guess another charset.
    head.insert(0, lxml.html.Element("meta", charset="utf-8"))
    return "<!DOCTYPE html>\n" + lxml.html.tostring(document, encoding="unicode")
