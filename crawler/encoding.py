"""Character-encoding detection and decoding for fetched HTML.

Servers and pages lie about their charset often enough that no single
declaration can be trusted blindly: Chinese portals send ``iso-8859-1`` in the
HTTP header while the bytes are GBK, CMS templates say ``gb2312`` on UTF-8
pages, and many old pages declare nothing.  The policy here is:

1. A byte-order mark wins (it cannot be there by accident).
2. Declared labels (HTTP header first, then ``<meta>``/XML declaration) are
   widened to the superset browsers actually use (WHATWG encoding standard),
   and are trusted only if the body decodes under them.
3. Valid UTF-8 containing non-ASCII text beats any legacy declaration: legacy
   multibyte text is practically never valid UTF-8 by accident, while UTF-8
   bytes frequently decode "successfully" (as mojibake) under GBK or cp1252.
4. Otherwise the candidate decodings (charset_normalizer's list, the CJK
   codecs and the common single-byte web charsets) are scored by how plausible
   their letters are for a language, and the best one wins (``_plausibility``).
   A cp1252 declaration that decodes cleanly is the server default, so it loses
   only to a CJK decoding that scores far better, never to a bare guess.

Decoding never raises; the last resort is UTF-8 with replacement characters.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from functools import lru_cache

import charset_normalizer

__all__ = ["decode_html", "detect_encoding", "normalize_encoding_label"]

# Only the head of a document is scanned for declarations; browsers use 1 KiB,
# but real pages put huge <script> blocks before their <meta>, so look further.
_SNIFF_BYTES = 64 * 1024
# charset_normalizer is slow on big inputs and a prefix is plenty for a guess.
_DETECT_BYTES = 256 * 1024

_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # must precede UTF-16 LE (shared prefix)
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Python codec name (as returned by codecs.lookup().name) -> the superset that
# browsers decode it with.  Pages labelled with the narrow charset routinely
# contain characters only the superset has (e.g. GB2312 pages with GBK-only
# hanzi), so the narrow codec would fail or drop them.
_SUPERSETS: dict[str, str] = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "hz": "gb18030",
    "big5": "big5hkscs",
    "cp950": "big5hkscs",
    "shift_jis": "cp932",
    "shift_jisx0213": "cp932",
    "shift_jis_2004": "cp932",
    "euc_kr": "cp949",
    "iso8859-1": "cp1252",
    "latin-1": "cp1252",
    "latin_1": "cp1252",
    "ascii": "cp1252",
    "iso8859-9": "cp1254",
    "iso8859-11": "cp874",
    "tis-620": "cp874",
    # A <meta> can't meaningfully say UTF-16 on an ASCII-compatible document;
    # WHATWG maps it to UTF-8 (real UTF-16 pages carry a BOM, handled first).
    "utf-16": "utf-8",
    "utf-16-le": "utf-8",
    "utf-16-be": "utf-8",
    "utf-32": "utf-8",
    "utf-32-le": "utf-8",
    "utf-32-be": "utf-8",
}

# Labels Python doesn't know under the name the web uses.
_ALIASES: dict[str, str] = {
    "x-sjis": "cp932",
    "sjis": "cp932",
    "ms_kanji": "cp932",
    "windows-31j": "cp932",
    "x-gbk": "gb18030",
    "x-euc-jp": "euc_jp",
    "ks_c_5601-1987": "cp949",
    "unicode-1-1-utf-8": "utf-8",
    "utf8": "utf-8",
    "x-mac-cyrillic": "mac_cyrillic",
}

# Everything not multibyte is treated as single-byte: under those codecs
# (almost) every byte sequence decodes, so "it decoded" proves nothing.
_MULTIBYTE_PREFIXES = (
    "utf",
    "gb",
    "big5",
    "cp932",
    "cp949",
    "cp950",
    "euc",
    "shift_jis",
    "iso2022",
    "hz",
    "johab",
)

_META_CHARSET_RE = re.compile(
    rb"""<meta[^>]{0,512}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:\-]{2,40})""",
    re.IGNORECASE,
)
_XML_DECL_RE = re.compile(rb"""^\s*<\?xml[^>]{0,200}?encoding\s*=\s*["']([A-Za-z0-9_.:\-]{2,40})""")


def normalize_encoding_label(label: str | None) -> str | None:
    """Map a web charset label to the Python codec browsers would effectively use.

    Returns None for empty or unknown labels.
    """
    if not label:
        return None
    cleaned = label.strip().strip("\"'").strip().lower()
    if not cleaned:
        return None
    cleaned = _ALIASES.get(cleaned, cleaned)
    try:
        name = codecs.lookup(cleaned).name
    except (LookupError, ValueError):
        return None
    return _SUPERSETS.get(name, name)


def _is_single_byte(codec: str) -> bool:
    return not codec.startswith(_MULTIBYTE_PREFIXES)


def _bom_encoding(body: bytes) -> str | None:
    for bom, codec in _BOMS:
        if body.startswith(bom):
            return codec
    return None


def _in_document_declarations(body: bytes) -> list[str]:
    head = body[:_SNIFF_BYTES]
    labels: list[str] = []
    xml = _XML_DECL_RE.match(head)
    if xml:
        labels.append(xml.group(1).decode("ascii", "ignore"))
    labels.extend(m.group(1).decode("ascii", "ignore") for m in _META_CHARSET_RE.finditer(head))
    return labels


def _decodes_cleanly(body: bytes, codec: str) -> bool:
    """True if ``body`` decodes under ``codec`` with at most a stray error or two.

    A handful of bad sequences is normal in real legacy pages (a hanzi cut in
    half by a CMS's byte-based truncation), and shouldn't discard a correct
    declaration; a steady stream of errors means the declaration is wrong.
    """
    try:
        body.decode(codec)
        return True
    except UnicodeDecodeError:
        pass
    except LookupError:
        return False
    if _is_single_byte(codec):
        # Undefined bytes in cp125x (0x81, 0x8d, ...) are rare in real text;
        # treat any as a sign that the page is really something else.
        return False
    non_ascii = _high_bytes(body[:_DETECT_BYTES]) or 1
    text = body.decode(codec, errors="replace")
    errors = text.count("\ufffd")
    return errors <= max(2, non_ascii // 1000)


def _is_utf8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        # A multibyte char cut off at the very end (truncated download) still
        # means UTF-8.
        try:
            body[:-3].decode("utf-8") if len(body) > 3 else body.decode("utf-8")
        except UnicodeDecodeError:
            return False
        tail = body[-3:]
        return any(b >= 0xC0 for b in tail)
    return True


def _mostly_utf8(body: bytes) -> bool:
    """Declared UTF-8 with a few corrupt bytes (a damaged page) rather than another charset.

    A legacy-charset page read as UTF-8 fails on nearly every non-ASCII byte and
    practically never forms a valid multibyte sequence; a damaged UTF-8 page has
    a handful of failures beside good sequences.
    """
    text = body.decode("utf-8", errors="replace")
    errors = text.count("\ufffd")
    good = sum(1 for ch in text if ord(ch) >= 0x80) - errors
    return good > 0 and errors <= max(8, good // 10)


def _has_non_ascii(body: bytes) -> bool:
    return not body.isascii()


_HIGH_BYTES = bytes(range(0x80, 0x100))
_ASCII_BYTES = bytes(range(0x80))


def _high_bytes(data: bytes) -> int:
    """The number of bytes >= 0x80, counted in C: a Python loop over 256 KB took 10 ms."""
    return len(data) - len(data.translate(None, _HIGH_BYTES))


_CJK_CODECS = ("gb18030", "big5hkscs", "cp932", "euc_jp", "cp949")
# Legacy charsets still served on the web; charset_normalizer's short list
# sometimes leaves the right one out (Polish ISO-8859-2 came back as
# iso8859-10), so they are always scored too.
_SINGLE_BYTE_CODECS = (
    "cp1252",
    "cp1250",
    "iso8859-2",
    "cp1251",
    "koi8-r",
    "cp1254",
    "cp1253",
    "cp1257",
    "iso8859-15",
)

# A CJK decoding of a cp1252-declared page must beat the declared decoding by
# this much: the declaration is evidence, and mojibake CJK never scores near 1.
_DECLARED_MARGIN = 0.25
# Only this many non-ASCII characters are scored: enough to tell languages
# apart, and it bounds the cost, paid per candidate codec on a page that
# declares none.  On the 2,789 bench pages 1,000 picks what 4,000 did, at
# half the detection time (a fifth of a Chinese page's extraction went here).
_SCORE_CHARS = 1000
# Candidates are first scored on this many characters; those this far below
# the best first score (wrong codecs score near -1 from the first letters)
# are not scored further.
_SCREEN_CHARS = 200
_SCREEN_MARGIN = 0.6

# Non-ASCII letters of the Latin-script languages, lower case.  A decoding's
# letters are plausible if one language accounts for them; wrong single-byte
# codecs produce letters no single language uses together (Turkish ş ğ ı read
# as cp1252 become Icelandic þ ð ý next to Turkish ç ö ü).
_LATIN_ALPHABETS: tuple[frozenset[str], ...] = tuple(
    frozenset(letters)
    for letters in (
        "äöüßé",  # German
        "àâæçéèêëîïôœùûüÿ",  # French
        "áéíñóúü",  # Spanish
        "áâãàçéêíóôõú",  # Portuguese
        "àèéìíîòóùú",  # Italian
        "éëïóöüèáà",  # Dutch
        "åäöé",  # Swedish, Finnish
        "æøåé",  # Danish, Norwegian
        "áðéíóúýþæö",  # Icelandic
        "ąćęłńóśźż",  # Polish
        "áčďéěíňóřšťúůýž",  # Czech
        "áäčďéíĺľňóôŕšťúýž",  # Slovak
        "áéíóöőúüű",  # Hungarian
        "ăâîșțşţ",  # Romanian
        "čćđšž",  # Croatian, Slovene, Bosnian
        "çğıöşüâîûİ",  # Turkish (İ has no one-letter lower case)
        "ąčęėįšųūž",  # Lithuanian
        "āčēģīķļņšūž",  # Latvian
        "äõöüšž",  # Estonian
        "àçèéíïòóú",  # Catalan
    )
)
# Between two letters these are part of a word (d’attente, l·l, that—or), not
# mojibake.
_IN_WORD_PUNCTUATION = frozenset("’'ʼ‘·-‐–—…“”„«»")
# What browsers can decode (WHATWG) without a declaration being needed to pick
# it: DOS code pages (cp850, cp852, cp775) and Mac ones never reach a browser
# undeclared, yet charset_normalizer proposes them for mojibake and
# typography-only pages.
_WEB_SINGLE_BYTE = frozenset(
    [
        "cp866",
        "koi8-r",
        "koi8-u",
        "cp874",
        *(f"cp{n}" for n in range(1250, 1259)),
        *(f"iso8859-{n}" for n in (2, 3, 4, 5, 6, 7, 8, 10, 13, 14, 15, 16)),
    ]
)
_ALPHABETIC_SCRIPTS = ("LATIN", "CYRILLIC", "GREEK", "ARMENIAN", "HEBREW", "ARABIC", "THAI")
# Tags are ASCII, and no candidate codec reads ``<`` or ``>`` as part of a
# multibyte character, so they are stripped from the bytes once instead of from
# every candidate's decoding.
_TAGS_RE = re.compile(rb"<script\b.*?</script>|<style\b.*?</style>|<!--.*?-->|<[^>]*>", re.S | re.I)
_NON_ASCII_RE = re.compile(r"[^\x00-\x7f]+")


# Per-character lookups, cached: a page's few hundred distinct characters are
# scored thousands of times, once per candidate codec.
@lru_cache(maxsize=16384)
def _script(ch: str) -> str:
    if "\uff61" <= ch <= "\uff9f":
        return "HALFWIDTH"
    name = unicodedata.name(ch, "")
    if name.startswith("HANGUL"):
        return "HANGUL"
    if name.startswith(("CJK", "HIRAGANA", "KATAKANA")):
        return "CJK"
    return name.split(" ", 1)[0]


@lru_cache(maxsize=16384)
def _common_cjk(ch: str) -> bool:
    """In GB2312, Big5 level 1 or JIS X 0208 level 1: what real CJK text is made of."""
    for codec, first, last in (
        ("gb2312", 0xB0, 0xF7),
        ("big5", 0xA4, 0xC6),
        ("shift_jis", 0x88, 0x98),
    ):
        try:
            lead = ch.encode(codec)[0]
        except UnicodeEncodeError:
            continue
        if first <= lead <= last:
            return True
    return False


def _is_ascii_letter(ch: str) -> bool:
    return ch.isascii() and ch.isalpha()


def _cjk_score(ch: str, script: str, prev: str, nxt: str) -> tuple[float, float]:
    """(good, bad) for one CJK character from its neighbours."""
    latin_sides = _is_ascii_letter(prev) + _is_ascii_letter(nxt)
    if latin_sides == 2:
        # Br點ke: an accented Latin letter and the next ASCII one read as a pair.
        return 0.0, 1.0
    if latin_sides == 1 or (script == "CJK" and " " in (prev, nxt)):
        # Real CJK text has a Latin word (GDP增长) or a space here and there,
        # not at every other character; Korean alone spaces its words.
        return 0.0, 0.5
    if script == "CJK" and not "\u3040" <= ch <= "\u30ff" and not _common_cjk(ch):
        # Mojibake hanzi are mostly rare ones.
        return 0.0, 0.0
    return 1.0, 0.0


# Kinds of a non-ASCII character, for _plausibility.
_SPACE, _BROKEN, _SEPARATOR, _TYPOGRAPHY, _HALFWIDTH, _CJK_LETTER, _LETTER = range(7)


@lru_cache(maxsize=16384)
def _kind(ch: str) -> tuple[int, str, int, str | None, bool]:
    """(kind, script, case: 1 upper / -1 lower / 0, Latin alphabet key, alphabetic script)."""
    if ch.isspace():
        return _SPACE, "", 0, None, False
    category = unicodedata.category(ch)
    if ch == "\ufffd" or category in ("Cc", "Co", "Cn", "Cs"):
        return _BROKEN, "", 0, None, False
    if not ch.isalpha():
        separator = category[0] in "SN" or (category[0] == "P" and ch not in _IN_WORD_PUNCTUATION)
        return (_SEPARATOR if separator else _TYPOGRAPHY), "", 0, None, False
    script = _script(ch)
    if script == "HALFWIDTH":
        return _HALFWIDTH, script, 0, None, False
    if script in ("CJK", "HANGUL"):
        return _CJK_LETTER, script, 0, None, False
    case = 1 if ch.isupper() else -1 if ch.islower() else 0
    key = None
    if script == "LATIN":
        low = ch.lower()
        key = low if len(low) == 1 else ch
    return _LETTER, script, case, key, script in _ALPHABETIC_SCRIPTS


@lru_cache(maxsize=16384)
def _side(ch: str) -> tuple[str | None, bool]:
    """A neighbour's script if it is a letter, and whether it is ASCII or Latin."""
    return (_script(ch) if ch.isalpha() else None), ch.isascii() or _script(ch) == "LATIN"


def _visible(sample: bytes) -> bytes:
    """The sample with its tags, scripts, styles and comments each turned into a newline.

    Element boundaries become newlines: a space next to a hanzi is evidence
    (see _cjk_score), a tag is not.
    """
    return _TAGS_RE.sub(b"\n", sample)


def _plausibility(visible: str, limit: int = _SCORE_CHARS) -> float:
    """How much the non-ASCII characters of a page's decoded text (``_visible``) look
    like real text, -1 to 1.

    Each non-ASCII letter of the visible text counts +1 if it is plausible and
    -1 (or -0.5) if it is a sign of a wrong codec; the score is the mean.
    Wrong codecs leave characteristic traces: control, private-use and
    unassigned code points; symbols in the middle of words (cp1257's ³ for
    Polish ł); half-width katakana (Cyrillic read as Shift_JIS); CJK
    characters wedged between Latin letters (Br點ke: German read as GBK) or
    between spaces (Russian words read as GBK pairs), or rare ones; letters of
    two scripts in one word; case-swapped Cyrillic (KOI8-R read as cp1251 is
    mostly upper case); and Latin letters no single language uses together.
    """
    last = len(visible) - 1
    good = bad = 0.0
    total = 0
    latin: dict[str, int] = {}
    upper: dict[str, int] = {}
    lower: dict[str, int] = {}
    for run in _NON_ASCII_RE.finditer(visible):
        if total >= limit:
            break
        for i in range(run.start(), run.end()):
            ch = visible[i]
            kind, script, case, key, alphabetic = _kind(ch)
            if kind in (_SPACE, _TYPOGRAPHY):
                # Typography (« » – € ©, 、。) is neutral: it must not dilute a
                # page's score against a codec that turns it into letters.
                continue
            if kind == _BROKEN:
                total += 1
                bad += 1
                continue
            prev = visible[i - 1] if i else " "
            nxt = visible[i + 1] if i < last else " "
            if kind == _SEPARATOR:
                if prev.isalpha() and nxt.isalpha():
                    total += 1
                    bad += 1
                continue
            total += 1
            if kind == _HALFWIDTH:
                bad += 1
                continue
            if kind == _CJK_LETTER:
                g, b = _cjk_score(ch, script, prev, nxt)
                good += g
                bad += b
                continue
            prev_script, prev_latin = _side(prev)
            next_script, next_latin = _side(nxt)
            if (
                (prev_script is not None and prev_script != script)
                or (next_script is not None and next_script != script)
            ) and not (script == "LATIN" and prev_latin and next_latin):
                # Two scripts inside one word.
                bad += 1
            elif (case == 1 and prev.islower()) or (prev.isdigit() and nxt.isdigit()):
                # theyÆre (’ read as cp850), έΑΦ, 144Ч144: a capital inside a
                # small-letter word, or a letter inside a number.
                bad += 1
            else:
                if case == 1:
                    upper[script] = upper.get(script, 0) + 1
                elif case == -1:
                    lower[script] = lower.get(script, 0) + 1
                if key is not None:
                    latin[key] = latin.get(key, 0) + 1
                elif alphabetic:
                    good += 1
    if latin:
        # Letters outside the best-fitting language count against the codec.
        covered = max(
            sum(n for c, n in latin.items() if c in alphabet) for alphabet in _LATIN_ALPHABETS
        )
        good += covered
        bad += sum(latin.values()) - covered
    for script, n_upper in upper.items():
        # Text is mostly lower case; more capitals than small letters is the
        # signature of a case-swapping mix-up (KOI8-R read as cp1251).
        if n_upper > lower.get(script, 0):
            bad += 2 * n_upper
    if not total:
        return 0.0
    return (good - bad) / total


def _decode_sample(sample: bytes, codec: str) -> str:
    # The sample may end in the middle of a multibyte character.
    return codecs.getincrementaldecoder(codec)(errors="replace").decode(sample, final=False)


def _fits(sample: bytes, codec: str, high: bytes) -> bool:
    """Whether ``sample`` decodes under ``codec``; ``high`` is each of its bytes >= 0x80 once."""
    if _is_single_byte(codec):
        # A single-byte codec maps every ASCII byte: it fails on the sample
        # exactly when it fails on one of the high bytes, a few dozen, not 256 KB.
        try:
            high.decode(codec)
        except (UnicodeDecodeError, LookupError):
            return False
        return True
    return _strict(sample, codec)


def _detector_order(sample: bytes, only: list[str] | None = None) -> list[str]:
    """charset_normalizer's candidates, best first, as normalised codec names."""
    try:
        matches = charset_normalizer.from_bytes(sample, cp_isolation=only)
    except Exception:  # the detector is a heuristic; never let it break decoding
        return []
    order: list[str] = []
    for match in matches:
        codec = normalize_encoding_label(match.encoding)
        if codec and codec not in order:
            order.append(codec)
    return order


def _most_plausible(
    sample: bytes, visible: bytes, candidates: list[str]
) -> tuple[str | None, float]:
    """The best-scoring candidate for ``sample``, whose ``_visible`` text is given; ties go
    to the earliest, so order carries the detector's view."""
    best: str | None = None
    best_score = -2.0
    tied: list[str] = []
    # Screened one decoding at a time, and the few left decoded again: holding
    # every candidate's decoding of the sample at once cost megabytes.
    screen: dict[str, float] = {}
    for codec in candidates:
        try:
            screen[codec] = _plausibility(_decode_sample(visible, codec), _SCREEN_CHARS)
        except LookupError:
            continue
    bar = max(screen.values(), default=0.0) - _SCREEN_MARGIN
    for codec, screened in screen.items():
        if screened < bar:
            continue
        score = _plausibility(_decode_sample(visible, codec))
        if score > best_score + 1e-9:
            best, best_score, tied = codec, score, [codec]
        elif abs(score - best_score) <= 1e-9:
            tied.append(codec)
    multibyte = [c for c in tied if not _is_single_byte(c)]
    if len(multibyte) > 1:
        # Letter plausibility can't rank one CJK codec against another
        # (hanzi are hanzi); charset_normalizer's character frequencies can.
        ranked = [c for c in _detector_order(sample, multibyte) if c in multibyte]
        if ranked:
            best = ranked[0]
    return best, best_score


def _guess(body: bytes) -> str | None:
    sample = body[:_DETECT_BYTES]
    order = _detector_order(sample)
    high = bytes(set(sample.translate(None, _ASCII_BYTES)))
    candidates = [
        c
        for c in dict.fromkeys([*order, *_CJK_CODECS, *_SINGLE_BYTE_CODECS])
        if (c in _CJK_CODECS or c in _WEB_SINGLE_BYTE) and _fits(sample, c, high)
    ]
    # With no web charset fitting, the detector's exotic pick beats nothing.
    best = _most_plausible(sample, _visible(sample), candidates)[0]
    return best or (order[0] if order else None)


def _cjk_behind_default(body: bytes, declared: str) -> str | None:
    """A CJK codec for a page whose default-like single-byte declaration hides CJK bytes.

    Chinese portals send ``iso-8859-1`` over GBK.  Latin text also often decodes
    strictly as GBK or Shift_JIS (an accented letter plus the next ASCII letter
    is a valid pair), so decoding is no evidence: the CJK reading must be far
    more plausible than the declared one.
    """
    sample = body[:_DETECT_BYTES]
    if _high_bytes(sample) < 20:
        return None
    fitting = [c for c in _CJK_CODECS if _strict(sample, c)]
    if not fitting:
        return None
    visible = _visible(sample)
    cjk, score = _most_plausible(sample, visible, fitting)
    declared_score = _plausibility(_decode_sample(visible, declared))
    if cjk and score >= declared_score + _DECLARED_MARGIN and _decodes_cleanly(body, cjk):
        return cjk
    return None


def _strict(sample: bytes, codec: str) -> bool:
    """True if ``sample`` decodes under ``codec`` with at most a stray error.

    Tolerates the odd broken character that real legacy pages contain, but
    not the steady stream of errors that wrong guesses produce.
    """
    try:
        # The sample may end in the middle of a multibyte character.
        text = codecs.getincrementaldecoder(codec)(errors="replace").decode(sample, final=False)
    except LookupError:
        return False
    non_ascii = _high_bytes(sample)
    return text.count("\ufffd") <= max(2, non_ascii // 1000)


def detect_encoding(body: bytes, declared: str | None = None) -> str:
    """Return the Python codec name to decode ``body`` with.

    ``declared`` is the charset from the HTTP Content-Type header, which may be
    missing or wrong.  Never raises.
    """
    try:
        return _detect(body, declared)
    except Exception:
        return "utf-8"


def _detect(body: bytes, declared: str | None) -> str:
    bom = _bom_encoding(body)
    if bom:
        return bom
    if not body or not _has_non_ascii(body):
        # Pure ASCII reads the same under every ASCII-compatible codec.
        header = normalize_encoding_label(declared)
        return header if header and not header.startswith("utf-16") else "utf-8"

    utf8 = _is_utf8(body)
    candidates: list[str] = []
    for label in (declared, *_in_document_declarations(body)):
        codec = normalize_encoding_label(label)
        if codec and codec not in candidates:
            candidates.append(codec)

    for codec in candidates:
        if codec in ("utf-8", "utf-8-sig"):
            if utf8 or _mostly_utf8(body):
                return "utf-8"
            continue
        if utf8:
            # Legacy declaration, but the bytes are valid non-ASCII UTF-8:
            # that is the mis-declared-template case, not a coincidence.
            continue
        if _decodes_cleanly(body, codec):
            if codec == "cp1252":
                # iso-8859-1 is many servers' default, not a statement about
                # the page, and cp1252 decodes almost anything: double-check
                # that the page isn't really CJK behind it.
                return _cjk_behind_default(body, codec) or codec
            return codec

    if utf8:
        return "utf-8"
    guess = _guess(body)
    if guess and _decodes_cleanly(body, guess):
        return guess
    # Nothing fits cleanly: prefer a declaration (even with errors) over noise.
    for codec in candidates:
        if codec not in ("utf-8", "utf-8-sig"):
            return codec
    return guess or "utf-8"


def decode_html(body: bytes, declared: str | None = None) -> str:
    """Decode an HTML response body to text, choosing the encoding robustly.

    NUL bytes are stripped from the result (they break lxml and databases).
    Never raises.
    """
    if not body:
        return ""
    codec = detect_encoding(body, declared)
    try:
        text = body.decode(codec, errors="replace")
    except Exception:
        text = body.decode("utf-8", errors="replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.replace("\x00", "")
