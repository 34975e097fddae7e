"""Tests for charset detection: declared, undeclared and wrongly declared pages."""

from __future__ import annotations

import codecs

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from newsarchive.crawler.encoding import decode_html, detect_encoding, normalize_encoding_label

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
