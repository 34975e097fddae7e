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


_MARKERS = {"same": ("", ""), "deleted": ("[-", "-]"), "inserted": ("{+", "+}")}


@dataclass(frozen=True)
class DiffPiece:
    kind: str
    """``same``, ``deleted`` or ``inserted``."""
    text: str


@dataclass(frozen=True)
class ChangedParagraph:
    """One paragraph of the new version that differs from the old one, as pieces."""

    number: int
    """1-based paragraph number in the new version (in the old one for a deleted paragraph)."""
    pieces: tuple[DiffPiece, ...]

    @property
    def text(self) -> str:
        """The paragraph with deletions in ``[-…-]`` and insertions in ``{+…+}``."""
        return "".join(_MARKERS[p.kind][0] + p.text + _MARKERS[p.kind][1] for p in self.pieces)


def _pieces(old: str, new: str) -> tuple[DiffPiece, ...]:
    a, b = diff_tokens(old), diff_tokens(new)
    ops = SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    # Spaces that happen to match between two changed words split one edit into
    # two; fold them into the edit so "[-three old-]{+two new+}" reads as a phrase.
    merged: list[list[str]] = []
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
    out: list[DiffPiece] = []
    for tag, old_part, new_part in merged:
        if tag == "equal":
            out.append(DiffPiece("same", old_part))
            continue
        if old_part:
            out.append(DiffPiece("deleted", old_part))
        if new_part:
            out.append(DiffPiece("inserted", new_part))
    return tuple(out)


def _whole(number: int, kind: str, text: str) -> ChangedParagraph:
    return ChangedParagraph(number, (DiffPiece(kind, text),))


def word_diff(old: str, new: str) -> list[ChangedParagraph]:
    """The paragraphs (lines) that changed from ``old`` to ``new``, as deleted, inserted
    and unchanged pieces; unchanged paragraphs are left out."""
    a, b = old.splitlines(), new.splitlines()
    changed: list[ChangedParagraph] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        if tag == "delete":
            changed += [_whole(i + 1, "deleted", a[i]) for i in range(i1, i2)]
        elif tag == "insert":
            changed += [_whole(j + 1, "inserted", b[j]) for j in range(j1, j2)]
        else:
            # Pair rewritten paragraphs one to one; any left over were added or cut.
            for k in range(max(i2 - i1, j2 - j1)):
                i, j = i1 + k, j1 + k
                if i < i2 and j < j2:
                    changed.append(ChangedParagraph(j + 1, _pieces(a[i], b[j])))
                elif j < j2:
                    changed.append(_whole(j + 1, "inserted", b[j]))
                else:
                    changed.append(_whole(i + 1, "deleted", a[i]))
    return changed
