"""From response bytes to one lxml tree, whatever state the markup is in.

Decoding is ``encoding.decode_html``'s job; here we cap the size, refuse
payloads that are not markup at all, and parse damaged HTML (fragments, stray
XML declarations, odd doctypes) into a tree every other step can read.
"""

from __future__ import annotations

import re

import lxml.html
from lxml import etree
from lxml.html import HtmlComment, HtmlElement, HtmlEntity, HtmlProcessingInstruction
from trafilatura.utils import repair_faulty_html

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


# Elements whose content the parser reads as raw text up to their end tag: one
# left open (a truncated download, a broken template) swallows the rest of the
# page, which then ends up in the title or nowhere.
_RAW_TEXT_OPEN_RE = re.compile(r"<(title|script|style|textarea)\b[^>]*>|<!--", re.IGNORECASE)
# Where an unclosed element is closed: the next tag (a title holds no markup),
# or, for scripts and comments, whose content may quote markup, the next tag
# that only page structure uses.
_ANY_TAG_RE = re.compile(r"<[a-zA-Z/!]")
_STRUCTURE_TAG_RE = re.compile(
    r"</?(?:head|body|div|p|article|main|section|table|tr|td|h[1-6]|ul|li|header|footer|nav)\b",
    re.IGNORECASE,
)
# Editors and proxies put their own tags before the doctype (``<x-editor>``,
# a second ``<?xml ...?>``): the parser then starts the body early or drops the
# doctype's document.
_BEFORE_DOCTYPE_RE = re.compile(r"\A[^<]*(?:<(?!!doctype)[^>]*>\s*)+(?=<!doctype)", re.IGNORECASE)


def _closing(text: str, match: re.Match[str]) -> tuple[int, bool]:
    """Where the raw-text element opened by ``match`` ends, and whether a closer must go there.

    Only what no browser could read as closed counts: a script, style or
    comment with no end anywhere after it, a title that meets a tag before its
    end tag.  (Scripts that write ``<script>`` and conditional comments holding
    ``<body>`` are common and whole.)
    """
    name = (match.group(1) or "").lower()
    start = match.end()
    if name:
        close = re.compile(f"</{name}\\s*>", re.IGNORECASE).search(text, start)
        close_at, close_end = (close.start(), close.end()) if close else (-1, -1)
    else:
        close_at = text.find("-->", start)
        close_end = close_at + 3
    if name == "title":
        stop = _ANY_TAG_RE.search(text, start)
        if stop is None or stop.start() == close_at:
            return close_end, False
        return stop.start(), True
    if close_at != -1:
        return close_end, False
    stop = _STRUCTURE_TAG_RE.search(text, start)
    return (stop.start(), True) if stop else (len(text), False)


def repair_markup(text: str) -> str:
    """``text`` with unclosed raw-text elements closed and junk before the doctype dropped.

    Only damaged pages change, so well-formed pages parse exactly as before.
    """
    text = _BEFORE_DOCTYPE_RE.sub("", text, count=1)
    pieces: list[str] = []
    done = skip = 0
    for match in _RAW_TEXT_OPEN_RE.finditer(text):
        if match.start() < skip:
            continue  # quoted inside a script, a style or a comment
        end, unclosed = _closing(text, match)
        skip = end
        if not unclosed:
            continue
        closer = "-->" if match.group(1) is None else f"</{match.group(1)}>"
        pieces.extend((text[done:end], closer))
        done = end
    if not pieces:
        return text
    pieces.append(text[done:])
    return "".join(pieces)


# Control characters other than the blanks (tab, newline, carriage return, form feed).
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")


def _looks_like_markup(text: str) -> bool:
    head = text[:20_000]
    if "<" not in head:
        return False
    # Binary payloads decoded as text are full of control characters.
    controls = len(_CONTROL_RE.findall(head))
    return controls < len(head) * 0.05


# trafilatura's parser settings, with one difference: every element is a plain
# HtmlElement, chosen in C.  lxml.html's default lookup calls back into Python
# for every element proxy to find the form-field classes, which nothing here
# uses; that callback was a tenth of extraction's time (pruning and each
# trafilatura pass walk the whole tree).  Copies of a tree keep its parser.
_PARSER = lxml.html.HTMLParser(
    collect_ids=False,
    default_doctype=False,
    encoding="utf-8",
    remove_comments=True,
    remove_pis=True,
)
_PARSER.set_element_class_lookup(
    etree.ElementDefaultClassLookup(
        element=HtmlElement, comment=HtmlComment, pi=HtmlProcessingInstruction, entity=HtmlEntity
    )
)


def _fromstring(text: str) -> HtmlElement | None:
    """The tree of ``text`` as trafilatura's ``load_html`` builds it, or None."""
    beginning = text[:50].lower()
    # trafilatura's rejection test: without "html" up front, a tree of one
    # block is not taken for a page.
    dubious = "html" not in beginning
    text = repair_faulty_html(text, beginning)
    try:
        tree = lxml.html.fromstring(text, parser=_PARSER)
    except Exception:  # a str with an encoding declaration, or nothing to parse
        tree = None
    if tree is None or len(tree) < 1:
        # As bytes, which the parser reads as UTF-8.
        try:
            tree = lxml.html.fromstring(text.encode("utf-8", "surrogatepass"), parser=_PARSER)
        except Exception:
            return None
    if tree is None or (dubious and len(tree) < 2):
        return None
    return tree


def parse_page(text: str) -> HtmlElement | None:
    """A fresh tree of :func:`page_markup`'s result, or None when it cannot be parsed."""
    # Repairs of XML declarations in str input, broken markup and odd doctypes
    # are trafilatura's; a bare lxml.html.fromstring copes worse.
    tree = _fromstring(text)
    if tree is None and "<html" not in text[:2000].lower():
        # Fragments and documents without an <html> root (some CMS exports,
        # archived snippets) fail the "is this HTML" check.
        tree = _fromstring(f"<html><body>{text}</body></html>")
    if tree is None or not isinstance(tree, HtmlElement):
        return None
    return tree


def page_markup(html: bytes | str, declared: str | None) -> str | None:
    """The page's markup, decoded and repaired, or None when ``html`` is empty or binary.

    ``html`` is the raw body (decoded with ``declared``, the HTTP header
    charset, as a hint) or already-decoded text.
    """
    text = _to_text(html, declared)
    if not text.strip() or not _looks_like_markup(text):
        return None
    return repair_markup(text)
