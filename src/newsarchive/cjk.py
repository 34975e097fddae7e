"""Chinese, Japanese and Korean characters: the one definition every module uses.

Each ``*_CHARS`` constant is a regex character-class body (put it inside
``[...]``, alone or with other ranges); each ``*_RE`` matches one character of
that class.

Which class a caller wants depends on why it cares:

* :data:`UNSPACED_CHARS` (Han and kana) are the scripts written without spaces
  between words, so each character is a token of its own.  MinHash signatures
  (``similarity``) and word diffs (``textdiff``) tokenise with it.  Signatures
  are persisted, so this set is part of the stored format: changing it means
  re-signing the archive (``tests/test_cjk.py`` pins it).
* :data:`CJK_CHARS` adds hangul.  Korean puts spaces between words, but a
  hangul syllable carries as much text as a Han character, so size measures and
  substring search count it with them.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

HAN_IDEOGRAPHS = (
    "\u3400-\u4dbf"  # Extension A
    "\u4e00-\u9fff"  # Unified Ideographs
    "\uf900-\ufaff"  # Compatibility Ideographs
    "\U00020000-\U0003134f"  # supplementary planes up to Extension G
)
"""Han ideographs proper, as used in personal names."""
HAN_CHARS = "\u3005-\u3007" + HAN_IDEOGRAPHS
"""Han: the ideographs plus 々 (iteration mark), 〆 and 〇, which are written as Han."""
KANA_CHARS = (
    "\u3040-\u30ff"  # Hiragana, Katakana
    "\u31f0-\u31ff"  # Katakana Phonetic Extensions
    "\uff66-\uff9f"  # half-width Katakana
)
"""Japanese kana, including half-width katakana."""
HANGUL_CHARS = (
    "\u1100-\u11ff"  # Jamo
    "\u3130-\u318f"  # Compatibility Jamo
    "\uac00-\ud7af"  # Syllables
)
"""Korean hangul: syllables and jamo."""
UNSPACED_CHARS = HAN_CHARS + KANA_CHARS
"""Han and kana: scripts without spaces between words, one token per character."""
CJK_CHARS = UNSPACED_CHARS + HANGUL_CHARS
"""Every CJK character: Han, kana and hangul."""

HAN_RE = re.compile(f"[{HAN_CHARS}]")
KANA_RE = re.compile(f"[{KANA_CHARS}]")
HANGUL_RE = re.compile(f"[{HANGUL_CHARS}]")
UNSPACED_RE = re.compile(f"[{UNSPACED_CHARS}]")
CJK_RE = re.compile(f"[{CJK_CHARS}]")
_NON_CJK_RUN_RE = re.compile(f"[^{CJK_CHARS}]+")


def is_cjk(char: str) -> bool:
    """Whether ``char`` (one character) is Han, kana or hangul."""
    return CJK_RE.fullmatch(char) is not None


@lru_cache(maxsize=1024)
def cjk_count(text: str) -> int:
    """How many Han, kana and hangul characters ``text`` holds."""
    # Called on every line of every page, and three times in four on a line
    # already measured (pruning, each candidate text and the choice between
    # them measure the same lines): hashing a string is far cheaper than the
    # scan. ASCII is answered without a scan, and a CJK text is measured by its
    # few non-CJK runs, not a list of characters.
    if text.isascii():
        return 0
    return len(text) - sum(map(len, _NON_CJK_RUN_RE.findall(text)))


# Chinese and Japanese text writes its punctuation full-width (，！：（）) and
# spaces with U+3000. NFKC maps each to one ASCII character, but their presence
# fails NFKC's quick check, and then the whole string is decomposed and
# recomposed. Mapped first, most lines pass the check. ASCII neither composes
# nor decomposes, so the result is NFKC's, character for character.
_FULLWIDTH_RE = re.compile("[\uff01-\uff5e\u3000]")
_FULLWIDTH_TO_ASCII = {
    chr(cp): unicodedata.normalize("NFKC", chr(cp)) for cp in [*range(0xFF01, 0xFF5F), 0x3000]
}


def nfkc(text: str) -> str:
    """``unicodedata.normalize("NFKC", text)``, faster on CJK text."""
    if text.isascii():
        return text
    # One str.replace per distinct full-width character (a text uses a handful)
    # instead of str.translate, which looks up every character in a dict: 0.2
    # against 2.4 ms on 13,000 characters of Chinese. Each replacement is one
    # character, so a match's position stays valid for the next search.
    found = _FULLWIDTH_RE.search(text)
    while found is not None:
        char = found.group()
        text = text.replace(char, _FULLWIDTH_TO_ASCII[char])
        found = _FULLWIDTH_RE.search(text, found.start())
    return unicodedata.normalize("NFKC", text)
