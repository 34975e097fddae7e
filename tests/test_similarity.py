"""Tokens and shingles for space-separated and CJK text; signatures; band keys."""

from __future__ import annotations

import hashlib
import random
import re
import subprocess
import sys
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from newsarchive.cjk import UNSPACED_CHARS
from newsarchive.similarity import (
    BANDS,
    band_keys,
    estimated_jaccard,
    normalised_text,
    shingles,
    signature,
    tokens,
)

EN = (
    "The harbour council voted on Tuesday to keep the winter ferry running to Gull Island, "
    "reversing a decision taken in March to cut the service from October."
)
ZH = "滨海新城地铁三号线今日开通试运营，首班列车于早上六点整从海港站驶出，车厢内坐满了市民。"
JA = "港町の朝市、五十年の歴史に幕。最後の日には、開店前から千人を超える客が岸壁に列を作った。"


def test_english_is_tokenised_into_casefolded_words_without_punctuation() -> None:
    assert tokens("The Ferry's  LAST sailing, at 10.30pm!") == [
        "the", "ferry", "s", "last", "sailing", "at", "10", "30pm",
    ]  # fmt: skip


def test_cjk_is_tokenised_per_character_and_splits_from_latin_words() -> None:
    assert tokens("GDP增长5%，三号线") == ["gdp", "增", "长", "5", "三", "号", "线"]
    assert tokens("港町の朝市") == ["港", "町", "の", "朝", "市"]
    # Full-width forms fold to their ASCII equivalents (NFKC).
    assert tokens("ＡＢＣ１２３") == ["abc123"]


# Letters of every kind the tokeniser treats apart: Latin, Han, kana (half-width
# too), hangul, full-width forms, combining marks, digits, underscores, spaces.
_MIXED = st.text(alphabet="ab汉字カナかなＡＢ①ﾊﾟ한국_-. \u0301\u3000ßİǅ𠀀々〆ヶ\u3400", max_size=30)


@given(_MIXED)
def test_tokens_are_those_of_the_stored_format(text: str) -> None:
    # Signatures are persisted: tokens must stay those of the first definition,
    # which spaced out every CJK character and then took runs of word characters.
    spaced = re.sub(
        f"[{UNSPACED_CHARS}]", r" \g<0> ", unicodedata.normalize("NFKC", text).casefold()
    )
    assert tokens(text) == re.findall(f"[{UNSPACED_CHARS}]|[^\\W_]+", spaced)


def test_word_shingles_for_english() -> None:
    assert shingles("One two three four") == {"one two three", "two three four"}
    assert shingles("Just two") == {"just two"}
    assert shingles("") == set()


@pytest.mark.parametrize(
    ("text", "first", "across_punctuation"),
    [(ZH, "滨 海 新", "驶 出 车"), (JA, "港 町 の", "幕 最 後")],
    ids=["zh", "ja"],
)
def test_character_shingles_for_text_without_spaces(
    text: str, first: str, across_punctuation: str
) -> None:
    items = shingles(text)
    # Every run of three characters, punctuation dropped; without CJK tokenisation
    # the whole sentence would be one "word" and one shingle.
    chars = [c for c in text if c not in "，。、"]
    assert items == {" ".join(chars[i : i + 3]) for i in range(len(chars) - 2)}
    assert first in items
    assert across_punctuation in items


def test_similar_texts_have_similar_signatures_in_both_scripts() -> None:
    en_copy = EN.replace("The harbour council voted on Tuesday", "Councillors decided on Tuesday")
    zh_copy = ZH.replace("今日", "今天")
    assert estimated_jaccard(signature(EN), signature(EN)) == 1.0
    assert 0.45 < estimated_jaccard(signature(EN), signature(en_copy)) < 0.95
    assert 0.6 < estimated_jaccard(signature(ZH), signature(zh_copy)) < 1.0
    assert estimated_jaccard(signature(EN), signature(ZH)) < 0.05


def test_signatures_are_stable_and_short_texts_get_none() -> None:
    sig = signature(EN)
    assert sig is not None and len(sig) == 512 and signature(EN) == sig
    assert signature("Breaking news.") is None


def test_signatures_are_the_stored_format() -> None:
    # The SHA-256 of signatures the archive stored before MinHash was computed
    # here rather than by datasketch: a change to either would split every
    # story from its stored copies.
    assert hashlib.sha256(signature(EN) or b"").hexdigest() == (
        "125a53d868cbeb1e2068df8197c3e9296ff49aeeec9834317a006a6778274170"
    )
    assert hashlib.sha256(signature(ZH) or b"").hexdigest() == (
        "0d7e187c1d0bb3b0c019a40dec1491642f677fede0f94ec9e39a7ecbdd3f3d66"
    )


def test_signatures_are_datasketchs_minhash_byte_for_byte() -> None:
    datasketch = pytest.importorskip("datasketch")
    rng = random.Random(7)
    words = [*EN.split(), *ZH, *JA, "Ünïcödé", "naïve", "😀", "ﬁ"]
    texts = [" ".join(rng.choices(words, k=rng.randint(10, 2000))) for _ in range(20)]
    for text in [EN, ZH, JA, *texts]:
        minhash = datasketch.MinHash(num_perm=128, seed=1, scheme="affine32")
        minhash.update_batch([s.encode("utf-8") for s in shingles(text)])
        assert signature(text) == minhash.hashvalues.astype("<u4").tobytes()


def test_signing_imports_no_scipy() -> None:
    # scipy (through datasketch's LSH) was about 50 MiB of every extraction process.
    code = f"import sys; from newsarchive.similarity import signature; signature({EN!r}); "
    code += "print(sorted(m for m in ('datasketch', 'scipy') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_band_keys_are_signed_64_bit_and_distinct_per_band() -> None:
    sig = signature(EN)
    assert sig is not None
    keys = band_keys(sig)
    assert len(keys) == BANDS == len(set(keys))
    assert all(-(2**63) <= k < 2**63 for k in keys)
    with pytest.raises(ValueError):
        band_keys(sig[:-4])


def test_normalised_text_ignores_spacing_punctuation_and_case() -> None:
    assert normalised_text("Hello,  world!\nNew line.") == normalised_text("hello world new line")
    assert normalised_text("Price 42") != normalised_text("Price 43")
