"""Text similarity for near-duplicate detection: tokens, shingles, MinHash signatures, LSH bands.

Shared by the crawl (which computes an article's signature) and storage (which
indexes its bands and verifies candidates). Signatures are persisted, so every
parameter here is part of the stored format: changing one means re-signing the
archive.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import TYPE_CHECKING

from .cjk import UNSPACED_CHARS, nfkc

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
"""datasketch's name for the permutations :func:`signature` applies (see ``_permutations``)."""
SIGNATURE_BYTES = NUM_PERM * 4

if TYPE_CHECKING:
    import numpy as np
# numpy is imported by the functions that compute with it: the commands that only read
# the archive (runs, search, export) import this module through storage and never do.

# Measured with bench/dedupe.py: at 0.75 wire copies with a rewritten lead and a
# cut paragraph are linked (recall 0.96) and stories sharing background
# paragraphs are not (precision 1.0); at 0.8 recall falls to 0.90.
DEFAULT_NEAR_DUPLICATE_THRESHOLD = 0.75
"""Estimated Jaccard similarity from which a story is linked as a copy of another."""

# Han and kana, the scripts written without spaces between words: part of the
# stored signature format (see newsarchive.cjk).
CJK_CHARS = UNSPACED_CHARS
"""A regex character-class body matching one CJK character."""
_CJK_CHAR = re.compile(f"[{CJK_CHARS}]")
# A word is a run of word characters other than CJK ones, so a run of Han
# stops it ("GDP增长" is "gdp", "增", "长"): the negated class does in one
# scan what spacing out every CJK character first did in two.
_TOKEN = re.compile(f"[{CJK_CHARS}]|[^\\W_{CJK_CHARS}]+")


def tokens(text: str) -> list[str]:
    """Words and CJK characters of ``text``, normalised (NFKC, case-folded), punctuation dropped.

    A CJK character is a token of its own, so Chinese and Japanese, which have
    no spaces, are tokenised as finely as space-separated languages by words.
    """
    return _TOKEN.findall(nfkc(text).casefold())


def is_cjk(token: str) -> bool:
    return bool(_CJK_CHAR.fullmatch(token))


def shingles(text: str, size: int = SHINGLE_SIZE) -> set[str]:
    """Overlapping runs of ``size`` tokens: word n-grams, CJK character n-grams, or mixed."""
    toks = tokens(text)
    if len(toks) < size:
        return {" ".join(toks)} if toks else set()
    # The shorter slices end the zip: each run is whole.
    return set(map(" ".join, zip(*(toks[i:] for i in range(size)), strict=False)))


# The signature is datasketch 2.0's MinHash with scheme "affine32", seed SEED and
# its default hash (the first 4 bytes of SHA-1, little-endian), computed here
# byte for byte (tests/test_similarity.py compares the two): importing
# datasketch's MinHash loads its whole package, LSH and scipy included, about
# 50 MiB in every extraction process for these few lines.
_FMIX32 = (16, 0x85EBCA6B, 13, 0xC2B2AE35, 16)


@lru_cache(maxsize=1)
def _permutations() -> tuple[np.ndarray, np.ndarray]:
    """The NUM_PERM affine permutations ``h -> a * h + b mod 2**32`` (``a`` odd, so each
    is a bijection), drawn as datasketch draws them from its seed."""
    import numpy as np

    gen = np.random.RandomState(SEED)  # the legacy generator: its stream never changes
    a = gen.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)
    return a, b


@lru_cache(maxsize=1)
def _fmix32_constants() -> tuple[np.uint32, ...]:
    import numpy as np

    return tuple(map(np.uint32, _FMIX32))


def _fmix32(hv: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer: spreads the input hashes before the permutations."""
    shift1, mult1, shift2, mult2, shift3 = _fmix32_constants()
    hv = (hv ^ (hv >> shift1)) * mult1
    hv = (hv ^ (hv >> shift2)) * mult2
    return hv ^ (hv >> shift3)


def _minhash(items: Iterable[bytes]) -> np.ndarray:
    """The minimum over ``items`` of each permutation of their hashes (uint32 arithmetic
    wraps, which is the modulo)."""
    import numpy as np

    sha1 = hashlib.sha1
    digests = b"".join([sha1(item).digest()[:4] for item in items])
    hv = _fmix32(np.frombuffer(digests, dtype="<u4").astype(np.uint32)).reshape(-1, 1)
    a, b = _permutations()
    return (hv * a + b).min(axis=0)


def signature(text: str) -> bytes | None:
    """The MinHash signature of ``text`` (NUM_PERM little-endian uint32), or None if too short."""
    items = shingles(text)
    if len(items) < MIN_SHINGLES:
        return None
    return _minhash([s.encode("utf-8") for s in items]).astype("<u4").tobytes()


def _values(sig: bytes) -> np.ndarray:
    import numpy as np

    if len(sig) != SIGNATURE_BYTES:
        raise ValueError(f"a signature is {SIGNATURE_BYTES} bytes, not {len(sig)}")
    return np.frombuffer(sig, dtype="<u4")


def estimated_jaccard(a: bytes, b: bytes) -> float:
    """Jaccard similarity of two texts' shingle sets, estimated from their signatures."""
    import numpy as np

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
