"""Word-level diffs between versions: readable markers, CJK per character."""

from __future__ import annotations

from newsarchive.textdiff import diff_tokens, word_diff


def render(old: str, new: str) -> list[tuple[int, str]]:
    return [(c.number, c.text) for c in word_diff(old, new)]


def test_tokens_round_trip() -> None:
    text = "Hello, world — 港町の朝市 costs 4,50 €.\n  Next"
    assert "".join(diff_tokens(text)) == text


def test_changed_words_are_marked_and_unchanged_paragraphs_left_out() -> None:
    old = "The council met on Tuesday.\nThree old ferries will be retired.\nMore later."
    new = "The council met on Wednesday.\nTwo new ferries will be retired.\nMore later."
    assert render(old, new) == [
        (1, "The council met on [-Tuesday-]{+Wednesday+}."),
        (2, "[-Three old-]{+Two new+} ferries will be retired."),
    ]


def test_added_and_removed_paragraphs() -> None:
    assert render("A.\nB.", "A.\nNew one.\nB.") == [(2, "{+New one.+}")]
    assert render("A.\nGone.\nB.", "A.\nB.") == [(2, "[-Gone.-]")]


def test_cjk_differences_are_single_characters() -> None:
    old = "首班列车于早上六点整从海港站驶出。"
    new = "首班列车于早上七点整从海港站驶出。"
    assert render(old, new) == [(1, "首班列车于早上[-六-]{+七+}点整从海港站驶出。")]


def test_identical_texts_have_no_diff() -> None:
    assert render("Same.\nText.", "Same.\nText.") == []
