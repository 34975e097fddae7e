"""The CJK character classes every module shares."""

from __future__ import annotations

import re
import sys
import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from newsarchive import cjk

# similarity.CJK_CHARS as it was when signatures were first stored: the tokens
# of every persisted MinHash depend on exactly this set.
STORED_SIGNATURE_CHARS = (
    "\u3005-\u3007\u3040-\u30ff\u31f0-\u31ff\u3400-\u4dbf\u4e00-\u9fff"
    "\uf900-\ufaff\uff66-\uff9f\U00020000-\U0003134f"
)


def members(class_body: str) -> set[int]:
    pattern = re.compile(f"[{class_body}]")
    return {cp for cp in range(sys.maxunicode + 1) if pattern.fullmatch(chr(cp))}


def test_unspaced_chars_are_exactly_the_stored_signature_set() -> None:
    assert members(cjk.UNSPACED_CHARS) == members(STORED_SIGNATURE_CHARS)


def test_similarity_and_textdiff_tokenise_with_the_shared_set() -> None:
    from newsarchive import similarity, textdiff

    assert similarity.CJK_CHARS == cjk.UNSPACED_CHARS
    assert similarity.tokens("GDP增长々ｶﾀ한국") == ["gdp", "增", "长", "々", "カ", "タ", "한국"]
    assert textdiff.diff_tokens("增长々 한국어") == ["增", "长", "々", " ", "한국어"]


def test_classes_partition_the_union() -> None:
    han, kana, hangul = (members(c) for c in (cjk.HAN_CHARS, cjk.KANA_CHARS, cjk.HANGUL_CHARS))
    assert not han & kana and not han & hangul and not kana & hangul
    assert members(cjk.CJK_CHARS) == han | kana | hangul
    assert members(cjk.HAN_IDEOGRAPHS) == han - {0x3005, 0x3006, 0x3007}


def test_character_predicates() -> None:
    for char in "中々〇あアｱ한ㄱ𠀀":
        assert cjk.is_cjk(char), char
    for char in "aЯλ1 。，·":
        assert not cjk.is_cjk(char), char
    assert cjk.HAN_RE.fullmatch("中") and not cjk.HAN_RE.fullmatch("あ")
    assert cjk.KANA_RE.fullmatch("ア") and not cjk.KANA_RE.fullmatch("한")
    assert cjk.HANGUL_RE.fullmatch("한") and not cjk.HANGUL_RE.fullmatch("中")
    assert cjk.UNSPACED_RE.fullmatch("あ") and not cjk.UNSPACED_RE.fullmatch("한")
    assert cjk.cjk_count("Tokyo 東京とソウル서울, 2024") == 8
    assert cjk.cjk_count("") == 0


@given(st.text(alphabet="aЯ 1,。東京とソウル서울𠀀々ﾊ\u3000\n", max_size=40))
def test_cjk_count_counts_each_cjk_character(text: str) -> None:
    assert cjk.cjk_count(text) == sum(1 for char in text if cjk.is_cjk(char))


# Full-width forms, the ideographic space, combining marks that compose with
# what a full-width letter maps to (Ａ + ◌́ is Á), half-width kana with their
# voicing marks, and other compatibility characters.
_NFKC_ALPHABET = st.sampled_from(
    [chr(cp) for cp in range(0xFF01, 0xFF5F)]
    + list("\u3000 aAé\u0301\u0300\u0308\u0327\u3099\u309a\uff76\uff9e\uff9f")
    + list("中文かカ가\u1100\u1161\u2026\ufb01\u2460\u00a0\u3002\uff61")
)


@given(st.text(_NFKC_ALPHABET, max_size=24))
def test_nfkc_is_unicodes_nfkc(text: str) -> None:
    # Template hashes and MinHash signatures are stored: the shortcut must not
    # change a single character of what they are computed from.
    assert cjk.nfkc(text) == unicodedata.normalize("NFKC", text)
