"""Paragraphs made explicit: story text laid out with tables and ``<br>`` instead of ``<p>``.

Old portals and forum-style CMSs put a whole story into one table cell or
``<font>``, its paragraphs separated by ``<br><br>``.  Extractors score and
emit by block element and render a table cell as one ``| cell |`` line, so
such a story becomes one line beside the menu cells, or is dropped as a single
block of unknown kind.  Here each run of text between line breaks in a
prose-sized element becomes its own ``<p>``, and a table holding such a cell,
being page layout rather than data, becomes plain blocks.
"""

from __future__ import annotations

from lxml import etree
from lxml.html import HtmlElement

from .lines import weighted_len

# Inline elements stay inside the paragraph they occur in; anything else
# (a nested table, a div, a list) ends it.
_INLINE = frozenset(
    "a abbr b bdi bdo cite code data dfn em font i img kbd mark q s samp small span strong"
    " sub sup time u var wbr".split()
)
# An element is split only when its own text (not its children's) is story-sized
# and it has at least this many line breaks: a short address block stays whole.
_MIN_OWN_TEXT = 200
_MIN_BREAKS = 2
# Story paragraphs are long; a run of short lines between breaks (dictionary
# examples, an address, verse) reads better kept together.
_MIN_MEAN_PARAGRAPH = 60
# A cell of dated links ("January 9 - Headline<br>...") is a link list, not a story.
_MAX_LINK_SHARE = 0.3


def _own_text(el: HtmlElement) -> int:
    size = weighted_len(el.text.strip()) if el.text else 0
    for child in el:
        if child.tag in _INLINE and child.tag != "a":
            size += sum(weighted_len(t.strip()) for t in child.itertext())
        if child.tail:
            size += weighted_len(child.tail.strip())
    return size


def _breaks(el: HtmlElement) -> int:
    """Paragraph breaks in ``el``: a run of ``<br>`` with no text between counts once."""
    count, previous = 0, None
    for child in el:
        if child.tag == "br" and not (
            previous is not None
            and previous.tag == "br"
            and not (previous.tail and previous.tail.strip())
        ):
            count += 1
        previous = child
    return count


def _link_share(el: HtmlElement) -> float:
    linked = sum(weighted_len(t.strip()) for a in el.iter("a") for t in a.itertext())
    return linked / max(_text_size(el), 1)


def _split(el: HtmlElement) -> None:
    children = list(el)
    text, el.text = el.text, None
    for child in children:
        el.remove(child)
    para: HtmlElement | None = None

    def current() -> HtmlElement:
        nonlocal para
        if para is None:
            para = etree.SubElement(el, "p")
        return para

    def add_text(value: str | None) -> None:
        if not value or not value.strip():
            return
        p = current()
        if len(p):
            p[-1].tail = (p[-1].tail or "") + value
        else:
            p.text = (p.text or "") + value

    add_text(text)
    for child in children:
        tail, child.tail = child.tail, None
        if child.tag == "br":
            para = None
        elif isinstance(child.tag, str) and child.tag in _INLINE:
            current().append(child)
        else:
            para = None
            el.append(child)
        add_text(tail)


_TABLE_PARTS = ("table", "tbody", "thead", "tfoot", "tr", "td", "th")
_LAYOUT_STORY_SHARE = 0.6


def _text_size(el: HtmlElement) -> int:
    return sum(weighted_len(t.strip()) for t in el.itertext())


def _unwrap_layout_tables(root: HtmlElement, story_cells: list[HtmlElement]) -> None:
    layout: set[HtmlElement] = set()
    # Portals nest tables: the cells of one page share their ancestor tables.
    sizes: dict[HtmlElement, int] = {}

    def size(el: HtmlElement) -> int:
        if el not in sizes:
            sizes[el] = _text_size(el)
        return sizes[el]

    for cell in story_cells:
        story = size(cell)
        for table in cell.iterancestors("table"):
            # Only where the story is most of the table: a portal grid full of
            # weather boxes and headline cells is better left to the
            # extractor's table handling, which keeps cells apart.
            if story < _LAYOUT_STORY_SHARE * size(table):
                break
            layout.add(table)
    for table in layout:
        for el in [table, *table.iter(*_TABLE_PARTS)]:
            if el is table or _nearest_table(el) is table:
                el.tag = "div"
                for attr in ("width", "colspan", "rowspan", "cellpadding", "cellspacing"):
                    el.attrib.pop(attr, None)


def _nearest_table(el: HtmlElement) -> HtmlElement | None:
    return next(el.iterancestors("table"), None)


def _children_per_parent(root: HtmlElement, tag: str) -> dict[HtmlElement, int]:
    """How many ``tag`` children each element under ``root`` has (those with any)."""
    counts: dict[HtmlElement, int] = {}
    for el in root.iter(tag):
        parent = el.getparent()
        if parent is not None:
            counts[parent] = counts.get(parent, 0) + 1
    return counts


def split_br_paragraphs(root: HtmlElement) -> None:
    """Turn ``<br>``-separated runs of story text under ``root`` into ``<p>`` elements,
    and the layout tables around story cells into plain blocks."""
    # Counted from the children's side: walking every block's children to
    # find its <br>s and <p>s cost more than the splitting.
    brs = _children_per_parent(root, "br")
    todo = [
        el
        for el in root.iter("td", "font", "div", "span", "center", "blockquote", "article")
        if brs.get(el, 0) >= _MIN_BREAKS
        and _own_text(el) >= _MIN_OWN_TEXT
        and _own_text(el) >= _MIN_MEAN_PARAGRAPH * (1 + _breaks(el))
        and _link_share(el) < _MAX_LINK_SHARE
    ]
    story_cells = []
    for el in todo:
        _split(el)
        if el.tag in ("font", "span"):
            # A <p> inside an inline element is invalid: extractors skip it.
            el.tag = "div"
        cell = el if el.tag in ("td", "th") else next(el.iterancestors("td", "th"), None)
        if cell is not None:
            story_cells.append(cell)
    # A cell that already holds the story's paragraphs as <p> is layout too:
    # rendered as a table cell, its paragraphs would run into one line.
    paragraphs = _children_per_parent(root, "p")
    story_cells.extend(
        cell
        for cell in root.iter("td", "th")
        if paragraphs.get(cell, 0) >= _MIN_BREAKS
        and sum(_text_size(child) for child in cell if child.tag == "p") >= _MIN_OWN_TEXT
    )
    _unwrap_layout_tables(root, story_cells)
