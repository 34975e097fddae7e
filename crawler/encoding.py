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
4. Otherwise a statistical guess (charset_normalizer) on the body.

Decoding never raises; the last resort is UTF-8 with replacement characters.
"""

from __future__ import annotations

import codecs
import re

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
    non_ascii = sum(1 for b in body[:_DETECT_BYTES] if b >= 0x80) or 1
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


_CJK_CODECS = ("gb18030", "big5hkscs", "cp932", "euc_jp", "cp949")


def _guess(body: bytes) -> str | None:
    sample = body[:_DETECT_BYTES]
    try:
        best = charset_normalizer.from_bytes(sample).best()
    except Exception:  # the detector is a heuristic; never let it break decoding
        return None
    if best is None:
        return None
    guess = normalize_encoding_label(best.encoding)
    # On short or markup-heavy pages the detector sometimes reads GBK as
    # Cyrillic (ptcp154, cp1251).  Real single-byte text almost never decodes
    # strictly under a CJK multibyte codec (a lead byte before a space is
    # invalid), so when one does, let the detector choose among those only.
    if guess and _is_single_byte(guess) and sum(1 for b in sample if b >= 0x80) >= 20:
        fitting = [c for c in _CJK_CODECS if _strict(sample, c)]
        if fitting:
            try:
                cjk = charset_normalizer.from_bytes(sample, cp_isolation=fitting).best()
            except Exception:
                cjk = None
            if cjk is not None:
                return normalize_encoding_label(cjk.encoding) or guess
            return fitting[0]
    return guess


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
    non_ascii = sum(1 for b in sample if b >= 0x80)
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
                guess = _guess(body)
                if (
                    guess
                    and not _is_single_byte(guess)
                    and guess != "utf-8"
                    and _decodes_cleanly(body, guess)
                ):
                    return guess
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
