"""The story's text from a pruned tree, by trafilatura."""

from __future__ import annotations

import copy
from typing import Any

import trafilatura
from lxml.html import HtmlElement

from .lines import weighted_len

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


def main_text(tree: HtmlElement, url: str | None) -> str:
    """trafilatura's text of ``tree`` (which it edits), before line clean-up."""
    # Precision mode can drop the whole story when it is short or oddly
    # structured; then the recall-oriented pass on a fresh copy of the pruned
    # tree (bare_extraction edits its input) is worth its cost.
    backup = copy.deepcopy(tree)
    raw_text = _trafilatura_text(tree, url)
    if weighted_len(raw_text) < 1000:
        recall_text = _trafilatura_text(backup, url, recall=True)
        if weighted_len(recall_text) > 2 * weighted_len(raw_text):
            raw_text = recall_text
    return raw_text
