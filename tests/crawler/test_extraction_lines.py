"""Line clean-up's shortcuts give what their plain definitions give."""

from __future__ import annotations

import re

from hypothesis import given, settings
from hypothesis import strategies as st

from newsarchive.crawler.extraction import document, lines

_BLANKS = " \t\u00a0\u2002\u200b\u3000\u202f\u205f\ufeff\r\f\v"
_PLAIN_WS = re.compile(f"[{_BLANKS}]+")
_LETTERS = "ad Advertisement 广告 реклама ΣΟΣ İ x1_-·.|"


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=_BLANKS + "ab字\n", max_size=60))
def test_blank_runs_collapse_as_one_class_plus_would(text: str) -> None:
    assert lines.WS_RE.sub(" ", text) == _PLAIN_WS.sub(" ", text)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=_LETTERS, max_size=200))
def test_ad_marker_shortcut_matches_the_whole_line_key(line: str) -> None:
    plain = re.sub(r"[\W_]+", "", line).lower() in lines._AD_MARKERS
    assert lines._is_ad_marker(line) == plain


def test_ad_markers_found_in_long_separator_lines() -> None:
    assert lines._is_ad_marker("-" * 120 + " Advertisement " + "-" * 120)
    assert lines._is_ad_marker("· · · 广告 · · ·")
    assert not lines._is_ad_marker("Advertisement: the council approved the harbour plan")


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="<a>\x00\x01\x08\t\n\x0b\x0c\r\x0e\x1f é", max_size=300))
def test_markup_test_counts_control_characters_by_definition(text: str) -> None:
    head = text[:20_000]
    controls = sum(1 for ch in head if ch < " " and ch not in "\t\n\r\f")
    expected = "<" in head and controls < len(head) * 0.05
    assert document._looks_like_markup(text) == expected
