"""The language of the extracted text: by script for CJK, else CLD2 or the page's ``lang``.

CLD2 (Chromium's compact language detector, ``pycld2``) replaced py3langid 0.4,
whose model took 75 MiB in every extraction process (a 40 MiB state table, a
27 MiB float16 matrix). CLD2's tables are static data in its library, about
6 MiB once used and shared between processes, and it takes 0.1-0.2 ms a text
where py3langid took 0.9-1.4. On the 2,789 pages of the extraction bench the two
agree on 2,781; most of the rest are tables and datelines that py3langid called
Nigerian Pidgin or "no language".
"""

from __future__ import annotations

import re

from lxml.html import HtmlElement

from ...cjk import HAN_RE, HANGUL_RE, KANA_RE
from .lines import weighted_len

_LETTER_RE = re.compile(r"[^\W\d_]")

# CLD2 still says the ISO 639 codes withdrawn for these.
_RENAMED = {"iw": "he", "jw": "jv"}


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
    return _identified(sample) or html_lang or None


def _identified(sample: str) -> str | None:
    """CLD2's language of ``sample``, or None when it knows none (too little text,
    symbols only) or names only a script."""
    # Imported here: the crawl process imports this module but never identifies.
    import pycld2

    try:
        _reliable, _bytes, details = pycld2.detect(sample)
    except (pycld2.error, ValueError):
        # It refuses a text holding C0/C1 controls, noncharacters or lone
        # surrogates; text from an lxml tree has none, so this is only a guard.
        return None
    code = str(details[0][1])
    if code in ("un", "xxx") or code.startswith("xx-"):
        return None
    code = code.split("-")[0]  # zh-Hant, sr-ME
    return _RENAMED.get(code, code)
