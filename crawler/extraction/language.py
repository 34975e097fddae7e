"""The language of the extracted text: by script for CJK, else py3langid or the page's ``lang``."""

from __future__ import annotations

import re

from lxml.html import HtmlElement

from .lines import weighted_len

_KANA_RE = re.compile(r"[\u3040-\u30ff\u31f0-\u31ff]")
_HANGUL_RE = re.compile(r"[\u1100-\u11ff\u3130-\u318f\uac00-\ud7af]")
_HAN_RE = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
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
    kana = len(_KANA_RE.findall(sample))
    hangul = len(_HANGUL_RE.findall(sample))
    han = len(_HAN_RE.findall(sample))
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
