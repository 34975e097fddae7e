"""The language of the extracted text: by script for CJK, else py3langid or the page's ``lang``."""

from __future__ import annotations

import re

from lxml.html import HtmlElement

from ...cjk import HAN_RE, HANGUL_RE, KANA_RE
from .lines import weighted_len

_LETTER_RE = re.compile(r"[^\W\d_]")


def _script_language(sample: str) -> str | None:
    """The language a CJK script decides on its own, or None.

    Statistical identifiers confuse Chinese, Japanese and Korean on short or
    mixed texts (Japanese is mostly Han; Korean news quotes Han).  Scripts
    decide reliably: kana means Japanese, hangul Korean, Han alone Chinese.
    """
    letters = len(_LETTER_RE.findall(sample))
    if not letters:
        return None
    kana = len(KANA_RE.findall(sample))
    hangul = len(HANGUL_RE.findall(sample))
    han = len(HAN_RE.findall(sample))
    if hangul >= 0.3 * letters:
        return "ko"
    if kana >= 0.05 * letters and kana + han >= 0.3 * letters:
        return "ja"
    if han >= 0.3 * letters and kana == 0 and hangul < 0.05 * letters:
        return "zh"
    return None


def text_language(text: str, tree: HtmlElement) -> str | None:
    if not text:
        return None
    sample = text[:2000]
    by_script = _script_language(sample)
    if by_script:
        return by_script
    html_lang = (tree.get("lang") or tree.get("xml:lang") or "").strip().lower()
    html_lang = html_lang.split("-")[0].split("_")[0]
    html_lang = html_lang if len(html_lang) == 2 and html_lang.isalpha() else ""
    # A few words are too few for a character n-gram model; the page's own
    # declaration is the better guess there.
    if weighted_len(text) < 80 and html_lang:
        return html_lang
    try:
        import py3langid

        lang, _score = py3langid.classify(sample)
    except Exception:
        return html_lang or None
    return str(lang)
