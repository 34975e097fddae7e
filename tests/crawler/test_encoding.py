"""Tests for charset detection: declared, undeclared and wrongly declared pages."""

from __future__ import annotations

import codecs
import json
import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsarchive.crawler import encoding as E
from newsarchive.crawler.encoding import decode_html, detect_encoding, normalize_encoding_label
from newsarchive.crawler.extraction import extract_article

ZH = "江宁区第三批老旧小区改造工程正式开工，涉及居民楼八十六栋、住户四千余户，预计十月底前完工。"
ZH_TW = "臺北市政府今天宣布，捷運環狀線北段工程將於明年動工，預計七年後通車，沿線居民期待已久。"
JA = "静岡県は十五日、今年の新茶の初取引が静岡市の茶市場で行われたと発表した。関係者は品質を評価。"
KO = "서울시는 오늘 한강 공원의 야간 개방 시간을 연장한다고 발표했다. 시민 반응은 긍정적이다."
RU = "В Новосибирске завершился первый этап реконструкции Октябрьского моста, движение открыто."
FR = "Le conseil municipal a voté mardi la transformation de deux parkings en logements."


def page(text: str, meta: str | None = None) -> str:
    head = f'<meta charset="{meta}">' if meta else ""
    return (
        f"<!DOCTYPE html><html><head>{head}<title>t</title></head>"
        f"<body><h1>{text[:10]}</h1><p>{text}</p><p>{text}</p></body></html>"
    )


CASES = [
    (ZH, "gbk"),
    (ZH, "gb2312"),
    (ZH, "gb18030"),
    (ZH_TW, "big5"),
    (JA, "shift_jis"),
    (JA, "euc_jp"),
    (KO, "euc_kr"),
    (RU, "windows-1251"),
    (FR, "windows-1252"),
    (ZH, "utf-8"),
]


@pytest.mark.parametrize(("text", "charset"), CASES)
def test_meta_declaration_only(text: str, charset: str) -> None:
    body = page(text, charset).encode(charset)
    assert text in decode_html(body)


@pytest.mark.parametrize(("text", "charset"), CASES)
def test_header_declaration_only(text: str, charset: str) -> None:
    body = page(text).encode(charset)
    assert text in decode_html(body, charset)


@pytest.mark.parametrize(
    ("text", "charset"),
    [
        (ZH, "gbk"),
        (ZH_TW, "big5"),
        (JA, "shift_jis"),
        (KO, "euc_kr"),
        (RU, "windows-1251"),
        (ZH, "utf-8"),
    ],
)
def test_no_declaration(text: str, charset: str) -> None:
    body = page(text).encode(charset)
    assert text in decode_html(body)


@pytest.mark.parametrize(
    "wrong", ["iso-8859-1", "latin1", "ascii", "windows-1252", "gbk", "shift_jis"]
)
def test_wrong_header_over_utf8_body(wrong: str) -> None:
    body = page(ZH).encode("utf-8")
    assert ZH in decode_html(body, wrong)


def test_wrong_header_over_gbk_body_with_meta() -> None:
    body = page(ZH, "gb2312").encode("gbk")
    assert ZH in decode_html(body, "iso-8859-1")


def test_wrong_header_over_gbk_body_without_meta() -> None:
    body = page(ZH).encode("gbk")
    assert ZH in decode_html(body, "iso-8859-1")


def test_wrong_meta_over_utf8_body() -> None:
    body = page(RU, "windows-1251").encode("utf-8")
    assert RU in decode_html(body)


def test_latin1_header_is_cp1252() -> None:
    # WHATWG: iso-8859-1 means windows-1252, so curly quotes survive.
    text = "“Quoted” — dash and euro €"
    body = page(text).encode("cp1252")
    assert text in decode_html(body, "ISO-8859-1")


def test_gbk_only_characters_under_gb2312_label() -> None:
    text = "镕基与喆、堃、犇都不在GB2312里，但网页常常这样声明。" * 3
    body = page(text, "gb2312").encode("gb18030")
    assert text in decode_html(body)


def test_boms() -> None:
    for codec, bom in [("utf-8", codecs.BOM_UTF8), ("utf-16-le", codecs.BOM_UTF16_LE)]:
        body = bom + page(ZH).encode(codec)
        text = decode_html(body, "iso-8859-1")
        assert ZH in text
        assert not text.startswith("\ufeff")


def test_nul_bytes_stripped_and_invalid_bytes_tolerated() -> None:
    body = page(FR).encode("utf-8") + b"\x00\x00\xff\xfe\x81"
    text = decode_html(body, "utf-8")
    assert "\x00" not in text
    assert FR in text


def test_declared_utf8_with_a_few_corrupt_bytes_stays_utf8() -> None:
    """A damaged UTF-8 page (mostly ASCII, a few bad bytes) must not be read as cp125x."""
    body = (
        b'<html><head><meta charset="utf-8"></head><body><p>The beach caf\xc3\xa9 opened.</p>'
        b"<p>Monday morning\xff\xfe\xc3\x28\xe2\x80 the tide came in.</p>" + b"<p>x</p>" * 50
    )
    assert detect_encoding(body) == "utf-8"
    assert "beach café opened" in decode_html(body)


def test_truncated_utf8_tail_is_still_utf8() -> None:
    body = page(ZH).encode("utf-8") + "江".encode()[:2]
    assert detect_encoding(body) == "utf-8"


def test_label_normalisation() -> None:
    assert normalize_encoding_label("GB2312") == "gb18030"
    assert normalize_encoding_label('"gbk"') == "gb18030"
    assert normalize_encoding_label("Shift_JIS") == "cp932"
    assert normalize_encoding_label("x-sjis") == "cp932"
    assert normalize_encoding_label("EUC-KR") == "cp949"
    assert normalize_encoding_label("ISO-8859-1") == "cp1252"
    assert normalize_encoding_label("no-such-charset") is None
    assert normalize_encoding_label(None) is None


def test_empty_and_ascii() -> None:
    assert decode_html(b"") == ""
    assert decode_html(b"<p>hello</p>", "bogus") == "<p>hello</p>"


@settings(max_examples=200, deadline=None)
@given(
    st.binary(max_size=2000),
    st.one_of(st.none(), st.sampled_from(["utf-8", "gbk", "latin1", "bogus", "utf-16"])),
)
def test_never_raises(body: bytes, declared: str | None) -> None:
    text = decode_html(body, declared)
    assert isinstance(text, str)
    assert "\x00" not in text
    assert isinstance(detect_encoding(body, declared), str)


# --- legacy single-byte pages (tests/fixtures/encodings) -------------------------------

ENCODINGS = Path(__file__).resolve().parent.parent / "fixtures" / "encodings"
_MANIFEST = json.loads((ENCODINGS / "cases.json").read_text(encoding="utf-8"))
LEGACY = [
    (source, charset)
    for source, case in _MANIFEST.items()
    if not source.startswith("#")
    for charset in case["charsets"]
]
# How a page says (or doesn't say) its charset.
DECLARATIONS = ["header", "meta", "header+meta", "undeclared"]


def legacy_page(source: str, declaration: str, charset: str, *, brief: bool = False) -> str:
    """The fixture page as the server's text; ``brief`` keeps only its first paragraph.

    Briefs matter because short pages give detectors the least evidence: that is
    where German read as GBK and Czech read as the wrong Latin-2 showed up.
    """
    text = (ENCODINGS / source).read_text(encoding="utf-8")
    if brief:
        for p in re.findall(r"<p>.*?</p>\n", text)[1:]:
            text = text.replace(p, "")
    if declaration in ("meta", "header+meta"):
        text = text.replace("<head>\n", f'<head>\n<meta charset="{charset}">\n', 1)
    return text


def header_charset(declaration: str, charset: str) -> str | None:
    return charset if declaration in ("header", "header+meta") else None


@pytest.mark.parametrize("brief", [False, True], ids=["article", "brief"])
@pytest.mark.parametrize("declaration", DECLARATIONS)
@pytest.mark.parametrize(("source", "charset"), LEGACY)
def test_legacy_page_decodes_exactly(
    source: str, charset: str, declaration: str, brief: bool
) -> None:
    text = legacy_page(source, declaration, charset, brief=brief)
    body = text.encode(charset)
    assert decode_html(body, header_charset(declaration, charset)) == text


@pytest.mark.parametrize("declaration", ["header", "undeclared"])
@pytest.mark.parametrize(("source", "charset"), LEGACY)
def test_legacy_page_extracts_special_words(source: str, charset: str, declaration: str) -> None:
    body = legacy_page(source, declaration, charset).encode(charset)
    result = extract_article(
        body,
        f"http://127.0.0.1/{source}",
        declared_encoding=header_charset(declaration, charset),
    )
    missing = [w for w in _MANIFEST[source]["words"] if w not in result.text]
    assert not missing, result.text


def test_latin1_declared_german_is_not_read_as_gbk() -> None:
    """The issue's case: every accented letter plus the next one is a valid GBK pair."""
    text = legacy_page("de.html", "header", "ISO-8859-1")
    assert detect_encoding(text.encode("latin-1"), "iso-8859-1") == "cp1252"
    assert "Brücke über die Saale eröffnet" in decode_html(text.encode("latin-1"), "iso-8859-1")


@pytest.mark.parametrize("declaration", ["header", "meta", "header+meta"])
@pytest.mark.parametrize(("source", "charset"), LEGACY)
def test_legacy_declaration_over_utf8_body_is_ignored(
    source: str, charset: str, declaration: str
) -> None:
    # A template that says windows-1250 on a page the CMS writes as UTF-8.
    text = legacy_page(source, declaration, charset)
    assert decode_html(text.encode("utf-8"), header_charset(declaration, charset)) == text


@pytest.mark.parametrize("header", ["iso-8859-1", "windows-1252"])
@pytest.mark.parametrize("fixture", ["zh-gbk-meta.html", "zh-gb18030-undeclared.html"])
def test_default_latin1_header_over_gbk_site_pages(fixture: str, header: str) -> None:
    """Portals' iso-8859-1 default over GBK bytes still yields the hanzi, not cp1252."""
    body = (ENCODINGS.parent / "site" / "intl" / fixture).read_bytes()
    assert detect_encoding(body, header) == "gb18030"


@pytest.mark.parametrize(("source", "charset"), LEGACY)
def test_undeclared_legacy_snippet(source: str, charset: str) -> None:
    """One paragraph with hardly any markup, as in a feed item or an AJAX fragment."""
    first = re.findall(r"<p>.*?</p>", (ENCODINGS / source).read_text(encoding="utf-8"))[0]
    text = f"<html><body>{first}</body></html>"
    assert decode_html(text.encode(charset)) == text


# --- the plausibility score is computed from per-character tables --------------------


def _plausibility_by_definition(visible: str) -> float:
    """The score as first written, one Unicode lookup per character and neighbour."""
    good = bad = 0.0
    total = 0
    latin: dict[str, int] = {}
    upper: dict[str, int] = {}
    lower: dict[str, int] = {}
    for run in E._NON_ASCII_RE.finditer(visible):
        if total >= E._SCORE_CHARS:
            break
        for i in range(run.start(), run.end()):
            ch = visible[i]
            if ch.isspace():
                continue
            prev = visible[i - 1] if i else " "
            nxt = visible[i + 1] if i + 1 < len(visible) else " "
            category = unicodedata.category(ch)
            if ch == "\ufffd" or category in ("Cc", "Co", "Cn", "Cs"):
                total += 1
                bad += 1
                continue
            if not ch.isalpha():
                if (
                    (
                        category[0] in "SN"
                        or (category[0] == "P" and ch not in E._IN_WORD_PUNCTUATION)
                    )
                    and prev.isalpha()
                    and nxt.isalpha()
                ):
                    total += 1
                    bad += 1
                # Otherwise typography (« » – € ©, 、。) is neutral: it must
                # not dilute a page's score against a codec that turns it
                # into letters.
                continue
            total += 1
            script = E._script(ch)
            if script == "HALFWIDTH":
                bad += 1
            elif script in ("CJK", "HANGUL"):
                g, b = E._cjk_score(ch, script, prev, nxt)
                good += g
                bad += b
            elif any(n.isalpha() and E._script(n) != script for n in (prev, nxt)) and not (
                script == "LATIN"
                and all(n.isascii() or E._script(n) == "LATIN" for n in (prev, nxt))
            ):
                # Two scripts inside one word.
                bad += 1
            elif (ch.isupper() and prev.islower()) or (prev.isdigit() and nxt.isdigit()):
                # theyÆre (’ read as cp850), έΑΦ, 144Ч144: a capital inside a
                # small-letter word, or a letter inside a number.
                bad += 1
            else:
                if ch.isupper():
                    upper[script] = upper.get(script, 0) + 1
                elif ch.islower():
                    lower[script] = lower.get(script, 0) + 1
                if script == "LATIN":
                    low = ch.lower()
                    key = low if len(low) == 1 else ch
                    latin[key] = latin.get(key, 0) + 1
                elif script in E._ALPHABETIC_SCRIPTS:
                    good += 1
    if latin:
        # Letters outside the best-fitting language count against the codec.
        covered = max(
            sum(n for c, n in latin.items() if c in alphabet) for alphabet in E._LATIN_ALPHABETS
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


_MIXED = "aZé ÆœßşğıÖЯяжΑαέΦ東京とｶﾞ서울\ufffd\x85\ue000³·’«»–€©、。123<p>\n.,"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=_MIXED, max_size=120))
def test_plausibility_matches_its_definition_on_mixed_text(text: str) -> None:
    assert E._plausibility(text) == pytest.approx(_plausibility_by_definition(text))


@settings(max_examples=200, deadline=None)
@given(
    st.binary(min_size=1, max_size=600),
    st.sampled_from(["cp1252", "cp1251", "koi8-r", "iso8859-7", "cp1250", "gb18030", "big5"]),
)
def test_plausibility_matches_its_definition_on_mojibake(body: bytes, codec: str) -> None:
    """Any bytes read as any codec: the wrong readings a page's guess has to score."""
    text = E._decode_sample(E._visible(body), codec)
    assert E._plausibility(text) == pytest.approx(_plausibility_by_definition(text))
