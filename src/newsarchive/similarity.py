"""Text similarity for near-duplicate detection: tokens, shingles, MinHash signatures, LSH bands.

Shared by the crawl (which computes an article's signature) and storage (which
indexes its bands and verifies candidates). Signatures are persisted, so every
parameter here is part of the stored format: changing one means re-signing the
archive.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import numpy as np

from .cjk import UNSPACED_CHARS

NUM_PERM = 128
"""Hash functions per signature; the Jaccard estimate's error is about 1/sqrt(NUM_PERM)."""
BANDS = 20
ROWS = 6
"""LSH layout: BANDS bands of ROWS hash values each (uses the first 120 of the 128).

The chance that a pair with Jaccard J shares a band is 1 - (1 - J**ROWS)**BANDS:
0.998 at 0.8, 0.92 at 0.7, 0.27 at 0.5, 0.01 at 0.3. Fixed rather than derived
from the configured threshold, so changing the threshold needs no re-indexing.
"""
SHINGLE_SIZE = 3
"""Tokens per shingle: three words, or three CJK characters (about one and a half words)."""
MIN_SHINGLES = 8
"""Texts with fewer shingles get no signature: two short briefs look alike by accident."""
SEED = 1
SCHEME = "affine32"
SIGNATURE_BYTES = NUM_PERM * 4

# Han and kana, the scripts written without spaces between words: part of the
# stored signature format (see newsarchive.cjk).
CJK_CHARS = UNSPACED_CHARS
"""A regex character-class body matching one CJK character."""
_CJK_CHAR = re.compile(f"[{CJK_CHARS}]")
_TOKEN = re.compile(f"[{CJK_CHARS}]|[^\\W_]+")


def tokens(text: str) -> list[str]:
    """Words and CJK characters of ``text``, normalised (NFKC, case-folded), punctuation dropped.

    A CJK character is a token of its own, so Chinese and Japanese, which have
    no spaces, are tokenised as finely as space-separated languages by words.
    """
    text = unicodedata.normalize("NFKC", text).casefold()
    # Spaces around every CJK character stop a word match from swallowing an
    # adjacent run of Han characters ("GDP增长" is "gdp", "增", "长").
    return _TOKEN.findall(_CJK_CHAR.sub(r" \g<0> ", text))


def is_cjk(token: str) -> bool:
    return bool(_CJK_CHAR.fullmatch(token))


def shingles(text: str, size: int = SHINGLE_SIZE) -> set[str]:
    """Overlapping runs of ``size`` tokens: word n-grams, CJK character n-grams, or mixed."""
    toks = tokens(text)
    if len(toks) < size:
        return {" ".join(toks)} if toks else set()
    return {" ".join(toks[i : i + size]) for i in range(len(toks) - size + 1)}


@lru_cache(maxsize=1)
def _minhash_factory() -> Callable[[], Any]:
    # Imported here: datasketch loads scipy (0.4 s), which every command touching
    # storage would pay although only a crawl computes signatures.
    from datasketch import MinHash

    # Generating the permutations costs more than hashing a short article; share them.
    permutations = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME).permutations
    return lambda: MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME, permutations=permutations)


def signature(text: str) -> bytes | None:
    """The MinHash signature of ``text`` (NUM_PERM little-endian uint32), or None if too short."""
    items = shingles(text)
    if len(items) < MIN_SHINGLES:
        return None
    minhash = _minhash_factory()()
    minhash.update_batch([s.encode("utf-8") for s in items])
    return minhash.hashvalues.astype("<u4").tobytes()


def _values(sig: bytes) -> np.ndarray:
    if len(sig) != SIGNATURE_BYTES:
        raise ValueError(f"a signature is {SIGNATURE_BYTES} bytes, not {len(sig)}")
    return np.frombuffer(sig, dtype="<u4")


def estimated_jaccard(a: bytes, b: bytes) -> float:
    """Jaccard similarity of two texts' shingle sets, estimated from their signatures."""
    return float(np.count_nonzero(_values(a) == _values(b))) / NUM_PERM


def band_keys(sig: bytes) -> list[int]:
    """One signed 64-bit key per LSH band; two texts sharing any key are candidates.

    The band's number is hashed in, so equal values in different bands never
    collide.
    """
    _values(sig)  # length check
    width = ROWS * 4
    return [
        int.from_bytes(
            hashlib.blake2b(
                bytes([band]) + sig[band * width : (band + 1) * width], digest_size=8
            ).digest(),
            "big",
            signed=True,
        )
        for band in range(BANDS)
    ]


def normalised_text(text: str) -> str:
    """The text's tokens joined by spaces: equal for texts that differ only in spacing,
    punctuation or case, which are not a new version of a story."""
    return " ".join(tokens(text))
