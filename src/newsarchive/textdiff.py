"""Readable word-level diffs between two versions of an article: ``[-old-]{+new+}``.

Paragraphs are aligned first, so a moved or rewritten paragraph does not smear
the whole text; inside changed paragraphs Chinese and Japanese are compared
character by character (they have no spaces), other scripts word by word.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from .cjk import UNSPACED_CHARS

_PIECE = re.compile(f"[{UNSPACED_CHARS}]|[^\\W_]+|\\s+|[\\W_]")


def diff_tokens(text: str) -> list[str]:
    """``text`` as words, single CJK characters, whitespace runs and punctuation marks.

    Nothing is dropped: ``"".join(diff_tokens(t)) == t``.
    """
    return _PIECE.findall(text)


@dataclass(frozen=True)
class ChangedParagraph:
    """One paragraph of the new version that differs from the old one, rendered with markers."""

    number: int
    """1-based paragraph number in the new version (in the old one for a deleted paragraph)."""
    text: str


def _render(old: str, new: str) -> str:
    a, b = diff_tokens(old), diff_tokens(new)
    ops = SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    # Spaces that happen to match between two changed words split one edit into
    # two; fold them into the edit so "[-three old-]{+two new+}" reads as a phrase.
    merged: list[list[object]] = []
    for tag, i1, i2, j1, j2 in ops:
        old_part, new_part = "".join(a[i1:i2]), "".join(b[j1:j2])
        between_edits = merged and merged[-1][0] != "equal"
        if tag == "equal" and old_part.isspace() and between_edits and j2 < len(b) and i2 < len(a):
            merged[-1][1] = f"{merged[-1][1]}{old_part}"
            merged[-1][2] = f"{merged[-1][2]}{new_part}"
            continue
        if tag != "equal" and merged and merged[-1][0] != "equal":
            merged[-1][1] = f"{merged[-1][1]}{old_part}"
            merged[-1][2] = f"{merged[-1][2]}{new_part}"
            continue
        merged.append([tag, old_part, new_part])
    out = []
    for tag, old_part, new_part in merged:
        if tag == "equal":
            out.append(str(old_part))
            continue
        if old_part:
            out.append(f"[-{old_part}-]")
        if new_part:
            out.append(f"{{+{new_part}+}}")
    return "".join(out)


def word_diff(old: str, new: str) -> list[ChangedParagraph]:
    """The paragraphs (lines) that changed from ``old`` to ``new``, with deletions in
    ``[-…-]`` and insertions in ``{+…+}``; unchanged paragraphs are left out."""
    a, b = old.splitlines(), new.splitlines()
    changed: list[ChangedParagraph] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        if tag == "delete":
            changed += [ChangedParagraph(i + 1, f"[-{a[i]}-]") for i in range(i1, i2)]
        elif tag == "insert":
            changed += [ChangedParagraph(j + 1, f"{{+{b[j]}+}}") for j in range(j1, j2)]
        else:
            # Pair rewritten paragraphs one to one; any left over were added or cut.
            for k in range(max(i2 - i1, j2 - j1)):
                i, j = i1 + k, j1 + k
                if i < i2 and j < j2:
                    changed.append(ChangedParagraph(j + 1, _render(a[i], b[j])))
                elif j < j2:
                    changed.append(ChangedParagraph(j + 1, f"{{+{b[j]}+}}"))
                else:
                    changed.append(ChangedParagraph(i + 1, f"[-{a[i]}-]"))
    return changed
