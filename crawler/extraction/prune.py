"""Boilerplate pruning on the DOM before trafilatura sees it.

Elements whose class/id names page furniture (ads, share bars, comments,
related links, in English and the pinyin of Chinese CMS templates) are
removed, except the story container, which is found by where prose clusters.
"""

from __future__ import annotations

import functools
import re

from lxml import etree
from lxml.html import HtmlElement

from .lines import RELATED_HEADER_RE, WS_RE, weighted_len

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


@functools.lru_cache(maxsize=4096)
def _tokens(raw: str) -> frozenset[str]:
    # Pages repeat the same few class strings on hundreds of elements.
    return frozenset(tok.lower() for tok in _TOKEN_SPLIT_RE.split(raw) if tok)


_SKIP_TEXT_TAGS = frozenset({"script", "style", "noscript", "template"})


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

    def same_row(other: HtmlElement | None) -> bool:
        # Classless parents with ids of their own are different regions
        # (``#contentbody`` and ``#comments``), not repeats of one row.
        if other is None or _signature(other) != parent_sig:
            return False
        return bool(parent_sig and parent_sig[1]) or not (parent.get("id") and other.get("id"))

    chunks = [
        el
        for el in core.getroottree().iter(core.tag)
        if _signature(el) == sig
        and el.getparent() is not parent
        and same_row(el.getparent())
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
        if text is None or not RELATED_HEADER_RE.match(WS_RE.sub(" ", text).strip()):
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


# The reply button under each reader comment, in the languages we archive.
_REPLY_RE = re.compile(
    r"^(?:reply|respond|odpowiedz|ответить|απάντηση|απαντηση|回复|回覆|返信|답글|antworten"
    r"|répondre|responder|rispondi|odpowiedź)$",
    re.IGNORECASE,
)
# A wrapper is taken with a thread when all it adds is a header ("14 responses").
_THREAD_HEADER_CHARS = 60


def _text_size(el: HtmlElement) -> int:
    return sum(len(t.strip()) for t in el.itertext())


def _common_ancestor(elements: list[HtmlElement]) -> HtmlElement | None:
    common = [elements[0], *elements[0].iterancestors()]
    for el in elements[1:]:
        mine = {el, *el.iterancestors()}
        common = [c for c in common if c in mine]
    return common[0] if common else None


def _drop_comment_threads(root: HtmlElement, protected: set[HtmlElement]) -> None:
    """Remove reader comments recognised by a "Reply" control on each of them.

    Unseen sites call their comment blocks anything ("talk", "thread",
    "opinions"), so class names miss them; the reply button is what they share.
    """
    replies = [
        el
        for el in root.iter("a", "button", "span")
        if len(el) <= 1 and _REPLY_RE.match(" ".join((el.text_content() or "").split()))
    ]
    if len(replies) < 2:
        return
    thread = _common_ancestor(replies)
    if thread is None or thread in protected:
        return
    size = _text_size(thread)
    parent = thread.getparent()
    while parent is not None and parent not in protected:
        if _text_size(parent) > size + _THREAD_HEADER_CHARS:
            break
        thread, parent = parent, parent.getparent()
    _remove_keep_tail(thread)


def _opening_link(el: HtmlElement) -> tuple[bool, bool]:
    """Does ``el`` open with a link, and is that link a headline or all there is (a menu entry)?"""
    for node in el.iter(etree.Element):
        if node.text and node.text.strip():
            link = node if node.tag == "a" else next(node.iterancestors("a"), None)
            if link is None:
                return False, False
            # A headline is a phrase; a story's list of places or names links
            # a word or two and goes on in plain text.
            size = len(link.text_content().strip())
            return True, size >= _HEADLINE or size >= _LINK_ONLY * _text_size(el)
    return False, False


# A teaser: a headline link and at most a blurb; three in a row make a list.
_TEASER_MAX_CHARS = 320
_HEADLINE = 12
_LINK_ONLY = 0.8
_LONG_LIST = 20
_HEADLINE_SHARE = 2 / 3
_TEASERS_MIN = 3


def _drop_teaser_lists(root: HtmlElement, protected: set[HtmlElement]) -> None:
    """Remove runs of same-styled teasers (headline link first, short blurb) outside the story.

    "Around the region" and "Elsewhere" boxes without a telltale class are
    lists of other stories: every item opens with a link to one.
    """
    doomed = []
    for parent in root.iter("div", "section", "ul", "ol", "aside"):
        if len(parent) < _TEASERS_MIN or parent in protected:
            continue
        items = [c for c in parent if isinstance(c.tag, str) and c.tag not in ("h2", "h3", "h4")]
        if len(items) < _TEASERS_MIN or len({_signature(c) for c in items}) != 1:
            continue
        if not all(
            c.find(".//a[@href]") is not None and _text_size(c) <= _TEASER_MAX_CHARS for c in items
        ):
            continue
        openings = [_opening_link(c) for c in items]
        if not all(starts for starts, _ in openings):
            continue
        # A long run of link-first items is a list of other pages whatever its
        # links say; a short one must look like headlines.
        headlines = sum(1 for _, headline in openings if headline)
        if len(items) >= _LONG_LIST or headlines >= _HEADLINE_SHARE * len(items):
            doomed.append(parent)
    # Definition lists pair each headline (<dt>) with its blurb (<dd>).
    for parent in root.iter("dl"):
        terms = parent.findall("dt")
        if len(terms) < _TEASERS_MIN or parent in protected:
            continue
        if all(_opening_link(t)[1] for t in terms) and all(
            _text_size(d) <= _TEASER_MAX_CHARS for d in parent.findall("dd")
        ):
            doomed.append(parent)
    for el in doomed:
        if el.getparent() is not None:
            _remove_keep_tail(el)


# A time of day or a numeric date, as comment and teaser lists stamp each entry
# (not a score or a bowling figure: "8.5-1-27-2").
_STAMP_RE = re.compile(
    r"(?<![\d./:-])(?:\d{1,2}:\d{2}(?::\d{2})?\s*(?:[ap]\.?m\b\.?)?"
    r"|\d{1,4}([./-])\d{1,2}\1\d{1,4})(?![\d:-]|\.\d)",
    re.IGNORECASE,
)
_STAMP_MAX_CHARS = 100
# A stamp's pattern opens with a lookbehind, so re tries it at every position; most
# short texts hold no digit at all, which one character set finds out in C.
_DIGIT_RE = re.compile(r"\d")
# "10:50 p.m.: The fire department arrives." is a timeline's entry, part of a
# story: a stamp followed by a sentence, or leading into one, is no stamp line.
_SENTENCE_AFTER_RE = re.compile(r"\w+\W+\w+\W+\w+.*[.!?。！？]\W*$")
_STAMPED_MIN = 3
_STAMPED_SHARE = 0.6


def _is_stamp_line(text: str, lead_in: str | None) -> bool:
    ends = [m.end() for m in _STAMP_RE.finditer(text)]
    if not ends or _SENTENCE_AFTER_RE.match(text[ends[-1] :]):
        return False
    return not (lead_in and len(lead_in.split()) >= 3)


def _mark_stamps(
    el: HtmlElement, text: str | None, tail: str | None, stamped: set[HtmlElement]
) -> None:
    """Add to ``stamped`` the element holding a short dated text node of ``el``
    ("Posted by x | 07.01.2008 15:06"), with its ancestors (``text`` and ``tail`` are ``el``'s)."""
    # Called on every element of the page: the cheap tests come first.
    if (
        text
        and len(text) <= _STAMP_MAX_CHARS
        and _DIGIT_RE.search(text)
        and _STAMP_RE.search(text)
        and el not in stamped
        and _is_stamp_line(text, el.tail)
    ):
        stamped.add(el)
        stamped.update(el.iterancestors())
    if tail and len(tail) <= _STAMP_MAX_CHARS and _DIGIT_RE.search(tail) and _STAMP_RE.search(tail):
        owner = el.getparent()
        if owner is not None and owner not in stamped and _is_stamp_line(tail, None):
            stamped.add(owner)
            stamped.update(owner.iterancestors())


def _drop_stamped_runs(
    root: HtmlElement, protected: set[HtmlElement], stamped: set[HtmlElement]
) -> None:
    """Remove runs of same-styled entries that each carry a time or date, outside the story.

    Reader comments ("Posted By: name | January 07 2008 at 03:06 PM") and
    archive lists stamp every entry, in any language and whatever the template
    calls them; a story's paragraphs are not stamped one by one.  A live blog,
    whose entries are stamped, holds the story and so is protected.
    """
    doomed: list[HtmlElement] = []
    for parent in root.iter("div", "section", "ul", "ol", "dl", "td", "tbody", "table"):
        if parent in protected or parent not in stamped or len(parent) < _STAMPED_MIN:
            continue
        groups: dict[tuple[str, str] | None, list[HtmlElement]] = {}
        for child in parent:
            if isinstance(child.tag, str):
                groups.setdefault(_signature(child), []).append(child)
        for items in groups.values():
            hits = sum(1 for c in items if c in stamped)
            if hits >= _STAMPED_MIN and hits >= _STAMPED_SHARE * len(items):
                doomed.extend(c for c in items if c not in protected)
    for el in doomed:
        if el.getparent() is not None:
            _remove_keep_tail(el)


# A story container holding this much prose, and this share of the page's, is
# the story beyond doubt; below it (short stories, pages of comments) the
# container may be a sidebar's, and nothing is dropped for being far from it.
_CLEAR_STORY = 1000
_CLEAR_SHARE = 0.5
# Branches this many levels above the story container, or more, are "far".
_FAR = 2
_HEADLINE_TAGS = ("h1", "h2")
_NEVER_FAR = frozenset({"head", "title", *_HEADLINE_TAGS})


def _drop_far_branches(
    root: HtmlElement, core: HtmlElement, prose_under: dict[HtmlElement, int]
) -> None:
    """Remove the branches far from a clear story container that hold no prose.

    Beside the container's grandparent and the ancestors above it are the
    page's menus, footers, tickers and "most read" boxes; what belongs to the
    story up there is its headline, kept, and the date and byline above it,
    which are not links: a branch before the story goes only when it is mostly
    link text.  trafilatura discards most of these branches anyway, but each
    of its passes pays for them (on the DEV parts, 10-25 % of extraction's
    time), and the lines it kept from them were mostly furniture.
    """
    node, height = core, 0
    while node is not root:
        parent = node.getparent()
        if parent is None:
            return
        height += 1
        if height >= _FAR:
            before = True
            for branch in list(parent):
                if branch is node:
                    before = False
                    continue
                if (
                    isinstance(branch.tag, str)
                    and branch.tag not in _NEVER_FAR
                    and not prose_under.get(branch, 0)
                    and next(branch.iter(*_HEADLINE_TAGS), None) is None
                    and (not before or _link_share(branch) >= 0.5)
                ):
                    _remove_keep_tail(branch)
        node = parent


def prune_boilerplate(tree: HtmlElement) -> int:
    """Remove page furniture from ``tree``; return the prose left in it (CJK-weighted chars).

    Prose is text in blocks long enough to be story paragraphs, links excepted:
    a long headline in a list of other stories is not story text.
    """
    body = tree.find("body")
    root = body if body is not None else tree
    # Prose mass: text in blocks long enough to be story paragraphs.  Bylines,
    # menus and teaser links are short; an element holding a large share of
    # the prose is the story container, whatever its class says
    # ("penci_sidebar", "widget Blog", "non-ad-column", "share-enabled").
    # One walk of the tree collects all three: proxies for lxml.html elements
    # are costly to create, and a second full walk doubled the time of this
    # step.  Every element visited stays in ``own`` (its text, then its
    # children's tails), which keeps its proxy alive for getparent().
    own: dict[HtmlElement, int] = {}
    tokened: list[HtmlElement] = []
    stamped: set[HtmlElement] = set()
    for el in root.iter(etree.Element):
        tag = el.tag
        if not isinstance(tag, str):
            continue
        text, tail = el.text, el.tail
        if tail and not tail.isspace():
            parent = el.getparent()
            parent_size = own.get(parent) if parent is not None else None
            if parent_size is not None:
                own[parent] = parent_size + weighted_len(tail.strip())
        if tag in _SKIP_TEXT_TAGS:
            continue
        has_text = bool(text) and not text.isspace()
        own[el] = weighted_len(text.strip()) if has_text else 0
        if has_text or tail:
            _mark_stamps(el, text if has_text else None, tail, stamped)
        if tag not in _NEVER_PRUNE:
            cls, ident = el.get("class"), el.get("id")
            if (cls or ident) and _tokens(f"{cls or ''} {ident or ''}") & _BOILERPLATE_TOKENS:
                tokened.append(el)
    prose = {el: size for el, size in own.items() if size >= 120 and el.tag != "a"}
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
    core: HtmlElement | None = None
    if by_parent:
        core = max(by_parent, key=by_parent.__getitem__)
        _join_continuations(core, by_parent)
        _drop_sibling_articles(root, core)
        node: HtmlElement | None = core
        while node is not None:
            protected.add(node)
            node = node.getparent()
    _drop_related_blocks(root, protected)
    _drop_comment_threads(root, protected)
    _drop_teaser_lists(root, protected)
    _drop_stamped_runs(root, protected, stamped)
    # Prose inside each element, summed up the ancestors once: walking every
    # flagged element's subtree instead cost more than the rest of pruning.
    prose_under: dict[HtmlElement, int] = {}
    for el, size in prose.items():
        prose_under[el] = prose_under.get(el, 0) + size
        for ancestor in el.iterancestors():
            prose_under[ancestor] = prose_under.get(ancestor, 0) + size
    # Long stories come in sections built alike (<section id="early-life">,
    # <section id="career-beginnings">): one beside the story container,
    # styled as it is and holding prose, is the story's next section, whatever
    # its id says.
    core_parent = core.getparent() if core is not None else None
    core_sig = _signature(core)
    doomed: list[HtmlElement] = []
    for el in tokened:
        if el in protected or el.get("itemprop") == "articleBody":
            continue
        if (
            core_parent is not None
            and el.getparent() is core_parent
            and _signature(el) == core_sig
            and prose_under.get(el, 0)
        ):
            continue
        if el.find(".//*[@itemprop='articleBody']") is not None:
            continue
        if total and prose_under.get(el, 0) >= total * 0.3:
            continue
        doomed.append(el)
    for el in doomed:
        # The tail is text of the parent that follows the element: keep it.
        _remove_keep_tail(el)
    if core is not None and by_parent[core] >= max(_CLEAR_STORY, _CLEAR_SHARE * total):
        _drop_far_branches(root, core, prose_under)
    top = root.getroottree().getroot()
    return sum(size for el, size in prose.items() if _attached(el, top))


def _attached(el: HtmlElement, top: HtmlElement) -> bool:
    # A removed subtree still belongs to the document (its getroottree() is the
    # page's), so only the chain of parents tells whether it is still in it.
    last = el
    for last in el.iterancestors():  # noqa: B007 - the loop finds the outermost one
        pass
    return last is top
