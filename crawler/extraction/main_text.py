"""The story's text: of several extractions of one page, the one that reads most like a story.

The default candidate is trafilatura in precision mode on the pruned tree
(:mod:`.prune`).  Two failure modes of a single pass are checked on every page:
pruning that took the story with it, which leaves little prose (then
trafilatura on the unpruned page is a candidate), and precision mode stopping
after the first paragraphs of a long story (then the recall-mode pass adds what
precision left out, when that reads as prose).  :mod:`.candidates` scores
them.  The chosen text then ends where readability, a second opinion on other
signals, last agrees with it: what trafilatura kept after that is mostly
comments, teasers and footers.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import lxml.html
import trafilatura
from lxml.html import HtmlElement
from trafilatura.external import SANITIZED_XPATH
from trafilatura.readability_lxml import Document as Readability
from trafilatura.settings import DEFAULT_CONFIG

from .candidates import (
    added_prose,
    best,
    drop_link_rows,
    drop_repeats,
    end_where_agreed,
    extend,
    link_texts,
    measure,
)
from .lines import clean_lines, normalize
from .paragraphs import split_br_paragraphs
from .prune import prune_boilerplate

# Old portals lay the story out in <td> cells, so tables must stay.  The
# default pass keeps trafilatura's own comparison with a readability-style
# extraction (it picks the right story on pages that hold several) where that
# can change its text (see _comparison_may_change); the second opinions skip
# it (``fast``), as they are compared here.
_PRECISION: dict[str, Any] = {"include_tables": True, "favor_precision": True}
_PRECISION_FAST: dict[str, Any] = {**_PRECISION, "fast": True}
_RECALL: dict[str, Any] = {"include_tables": True, "favor_recall": True, "fast": True}
_UNPRUNED = _PRECISION_FAST
# trafilatura's comparison falls back to jusText below this many characters.
_MIN_EXTRACTED = DEFAULT_CONFIG.getint("DEFAULT", "MIN_EXTRACTED_SIZE")
# Below this much prose, a candidate is worth a second opinion whatever pruning did.
_THIN_PROSE = 500
# Precision mode can drop the whole of a short or oddly built story: below this
# size a recall pass with twice the prose is taken whole.
_SHORT = 1000
# A precise text with at least this share of the prose that pruning kept in
# paragraph-sized blocks left nothing out worth a recall pass (measured on the
# DEV parts: 0.85 skipped passes that would have added story paragraphs).
_COVERED = 1.0
# The recall pass's extra lines are taken when they add this share of prose
# to the precision text, and are mostly prose themselves.
_RECALL_GAIN = 0.12
_RECALL_MAX_JUNK = 0.5


def _extraction(tree: HtmlElement, url: str | None, opts: dict[str, Any]) -> Any:
    # trafilatura (2.3 and later) works on a copy of a tree it is given, so one
    # tree serves several passes.
    return trafilatura.bare_extraction(
        tree, url=url, with_metadata=False, include_comments=False, deduplicate=False, **opts
    )


def _cleaned(doc: Any) -> str:
    return clean_lines(normalize(doc.text or "")) if doc is not None else ""


def trafilatura_text(tree: HtmlElement, url: str | None, opts: dict[str, Any]) -> str:
    """trafilatura's text of ``tree``, cleaned line by line."""
    return _cleaned(_extraction(tree, url, opts))


def _comparison_may_change(doc: Any, second_opinion: str) -> bool:
    """Whether trafilatura's comparison with readability could replace ``doc``'s text.

    It keeps its own extraction unless that is short (then jusText is tried),
    holds markup it distrusts, or readability's text is far longer or its own
    has no paragraphs; readability's reading here (``second_opinion``) is of
    the same tree, so where none of that holds the comparison (6 ms, a third
    of the pass) would change nothing.  On 647 DEV pages this runs it on 74,
    which include 46 of the 47 where it changed the text.
    """
    if doc is None or doc.body is None:
        return True
    size, theirs = len(doc.text or ""), len(second_opinion.strip())
    body = doc.body
    return (
        size < _MIN_EXTRACTED
        or bool(body.xpath(SANITIZED_XPATH))
        or theirs > 1.6 * size
        or (
            theirs > 1.6 * _MIN_EXTRACTED
            and (
                not body.xpath(".//p//text()")
                or len(body.findall(".//table")) > len(body.findall(".//p"))
            )
        )
    )


def precise_text(tree: HtmlElement, url: str | None, second_opinion: str) -> str:
    """trafilatura's precision-mode text, compared with readability where that can matter."""
    doc = _extraction(tree, url, _PRECISION_FAST)
    if _comparison_may_change(doc, second_opinion):
        doc = _extraction(tree, url, _PRECISION)
    return _cleaned(doc)


def readability_text(tree: HtmlElement) -> str:
    """readability's story text of ``tree`` (trafilatura's port), which it takes apart."""
    try:
        summary = Readability(tree, min_text_length=25).summary()
        return "\n".join(lxml.html.fromstring(summary).itertext())
    except Exception:  # a second opinion only: without it the text stands as it is
        return ""


def main_text(tree: HtmlElement, url: str | None, reparse: Callable[[], HtmlElement | None]) -> str:
    """The story's text, one paragraph per line; ``tree`` is pruned on the way.

    ``reparse`` returns a fresh tree of the same page: the unpruned page is
    read on few pages (3 % of the bench's), so it is parsed again for them
    rather than copied beforehand for all.
    """
    links = link_texts(tree)
    split_br_paragraphs(tree)
    kept = prune_boilerplate(tree)
    # readability takes the tree it reads apart, and the passes below need it.
    second_opinion = readability_text(copy.deepcopy(tree))
    texts = {"precision": precise_text(tree, url, second_opinion)}
    chosen = measure(texts["precision"], links)

    # The recall pass costs as much as the first: it is run only when the
    # precise text left out prose that pruning kept on the page.
    if chosen.prose < _COVERED * kept:
        recall = trafilatura_text(tree, url, _RECALL)
        wide = measure(recall, links)
        if chosen.size < _SHORT and wide.prose > 2 * chosen.prose:
            texts["precision"], chosen = recall, wide
        else:
            extended = extend(chosen, recall, links)
            if extended is not None:
                gain, junk = added_prose(chosen, extended, links)
                if gain > _RECALL_GAIN * chosen.prose and junk <= _RECALL_MAX_JUNK * (gain + junk):
                    texts["precision"] = extended
                    chosen = measure(extended, links)

    # Not on the share of prose pruning removed: teaser blurbs and comments are
    # prose too, and on the DEV parts a pass wherever pruning took a quarter
    # ran on three times as many pages and chose worse (l3s-gn1 -0.0016).
    name = "precision"
    if chosen.prose < _THIN_PROSE and (unpruned := reparse()) is not None:
        split_br_paragraphs(unpruned)
        texts["unpruned"] = trafilatura_text(unpruned, url, _UNPRUNED)
        name, _ = best(["precision", "unpruned"], texts, links)
    # readability read the pruned tree: on the DEV parts that served as well
    # as the whole page, in two thirds of the time.
    return end_where_agreed(drop_repeats(drop_link_rows(texts[name], links)), second_opinion)
