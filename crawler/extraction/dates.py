"""Publication and modification dates: meta tags, JSON-LD, ``<time>``, bylines, htmldate.

Every date returned is timezone-aware (a naive one is taken as UTC) and sane
(not before 1990, not in the future).
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

import htmldate
from dateutil import parser as date_parser
from lxml.html import HtmlElement

from .anchored import Anchored
from .metadata import ld_values

PUBLISHED_META_KEYS = (
    "article:published_time",
    "og:article:published_time",
    "article:published",
    "published_time",
    "datepublished",
    "publishdate",
    "publish-date",
    "publish_date",
    "pubdate",
    "sailthru.date",
    "parsely-pub-date",
    "dc.date.issued",
    "dcterms.issued",
    "dc.date.created",
    "dcterms.created",
    "dc.date",
    "date",
    "article.published",
    "og:published_time",
    "weibo: article:create_at",
)
MODIFIED_META_KEYS = (
    "article:modified_time",
    "og:article:modified_time",
    "og:updated_time",
    "datemodified",
    "article:modified",
    "dcterms.modified",
    "dc.date.modified",
    "last-modified",
    "weibo: article:update_at",
)
# Numeric and CJK dates as printed in bylines: 2023-05-12 10:30, 2023/5/12,
# 2023年05月12日 10:30, 2023.05.12 10:30:15.
TEXT_DATE_RE = re.compile(
    r"(?<!\d)((?:19|20)\d{2})\s*(?:年|[-/.])\s*(\d{1,2})\s*(?:月|[-/.])\s*(\d{1,2})(?!\d)\s*日?"
    r"(?:\s*(?:[T ]|\u3000)?\s*(\d{1,2})\s*[:：时]\s*(\d{1,2})(?:\s*[:：分]\s*(\d{1,2}))?)?"
)


# Abbreviations dateutil doesn't resolve on its own; others are dropped quietly.
_TZINFOS = {
    name: offset * 3600
    for name, offset in {
        "UTC": 0,
        "GMT": 0,
        "Z": 0,
        "EST": -5,
        "EDT": -4,
        "CST": -6,
        "CDT": -5,
        "MST": -7,
        "MDT": -6,
        "PST": -8,
        "PDT": -7,
        "BST": 1,
        "CET": 1,
        "CEST": 2,
        "EET": 2,
        "EEST": 3,
        "MSK": 3,
        "IST": 5.5,
        "HKT": 8,
        "SGT": 8,
        "JST": 9,
        "KST": 9,
        "AEST": 10,
        "AEDT": 11,
    }.items()
}


def _parse_datetime(value: str | None) -> datetime | None:
    if not value or not isinstance(value, str):
        return None
    value = value.strip()
    if not value or len(value) > 80:
        return None
    dt: datetime | None = None
    match = TEXT_DATE_RE.search(value)
    if match and ("年" in value or not re.search(r"[T+Z]|\d:\d\d[+-]", value)):
        dt = _datetime_from_match(match)
    if dt is None:
        try:
            dt = date_parser.isoparse(value)
        except (ValueError, OverflowError):
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    dt = date_parser.parse(value, fuzzy=False, tzinfos=_TZINFOS)
            except (ValueError, OverflowError, TypeError, date_parser.ParserError):
                return None
    return _sane(dt)


def _datetime_from_match(match: re.Match[str]) -> datetime | None:
    year, month, day, hour, minute, second = match.groups()
    try:
        return datetime(
            int(year),
            int(month),
            int(day),
            int(hour) if hour else 0,
            int(minute) if minute else 0,
            int(second) if second else 0,
        )
    except ValueError:
        return None


def _sane(dt: datetime | None) -> datetime | None:
    if dt is None:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    try:
        now = datetime.now(UTC)
        if dt.year < 1990 or dt > now + timedelta(days=2):
            return None
    except (OverflowError, ValueError):
        return None
    return dt


def parse_date(value: str | None) -> datetime | None:
    """A date as a feed, a sitemap or a meta tag writes it, timezone-aware and sane, or None."""
    return _parse_datetime(value)


def first_date(values: Iterable[str | None]) -> datetime | None:
    for value in values:
        dt = _parse_datetime(value)
        if dt is not None:
            return dt
    return None


def time_elements(tree: HtmlElement, prop: str) -> list[str]:
    values: list[str] = []
    # Through the attribute: an element test reads every element of the page.
    for el in tree.xpath("//@itemprop[. = $prop]/..", prop=prop):
        values.append(el.get("content") or el.get("datetime") or el.text_content())
    if prop == "datePublished":
        scope = next(tree.iter("article"), tree)
        for el in scope.iter("time"):
            if el.get("datetime"):
                values.append(el.get("datetime"))
                break
    return values


# Month names as printed in dates ("5 марта 2017", "5 marca 2017", "5 Μαρτίου 2017",
# "March 5, 2017"), Greek without its accents; Russian, Polish and Greek use the genitive.
_MONTH_NAMES = {
    name: month
    for month, names in enumerate(
        (
            "january jan января январь stycznia styczeń ιανουαριου ιανουαριος ιαν",
            "february feb февраля февраль lutego luty φεβρουαριου φεβρουαριος φεβ",
            "march mar марта март marca marzec μαρτιου μαρτιος μαρ",
            "april apr апреля апрель kwietnia kwiecień απριλιου απριλιος απρ",
            "may мая май maja maj μαιου μαιος",
            "june jun июня июнь czerwca czerwiec ιουνιου ιουνιος ιουν",
            "july jul июля июль lipca lipiec ιουλιου ιουλιος ιουλ",
            "august aug августа август sierpnia sierpień αυγουστου αυγουστος αυγ",
            "september sep sept сентября сентябрь września wrzesień σεπτεμβριου σεπτεμβριος σεπ",
            "october oct октября октябрь października październik οκτωβριου οκτωβριος οκτ",
            "november nov ноября ноябрь listopada listopad νοεμβριου νοεμβριος νοε",
            "december dec декабря декабрь grudnia grudzień δεκεμβριου δεκεμβριος δεκ",
        ),
        start=1,
    )
    for name in names.split()
}
_TIME = r"(?:[,\s]*(?:в|o|godz\.?|στις|at|um|à|-|\|)?\s*(\d{1,2})[:.](\d{2})(?![\d.]))?"
_DAY_MONTH_RE = re.compile(
    r"(?<![\d\w])(\d{1,2})\.?\s+([^\W\d_]{3,12})\.?,?\s+((?:19|20)\d{2})(?:\s*(?:г\.|r\.|года|roku))?"
    + _TIME
)
_MONTH_DAY_RE = re.compile(
    r"\b([A-Za-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+((?:19|20)\d{2})(?!\d)" + _TIME
)
# "9/17/2004 5:54:13 AM" (month first, as the CMS that prints it does); read only
# behind a publication label, since alone it cannot be told from day-first.
_SLASH_RE = re.compile(
    r"(?<!\d)(\d{1,2})/(\d{1,2})/((?:19|20)\d{2})(?!\d)"
    r"(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?(?:\s*([AaPp])\.?[Mm]\.?)?)?"
)
# Labels that say "this is when the story was published"; not "更新时间" (updated)
# nor "成文日期" (when a document was drafted), which are other dates.
_PUBLISHED_LABEL_RE = re.compile(
    r"(?:发布|发表|发稿|刊发|出版|上传)(?:时间|日期)|(?<![\u4e00-\u9fff])(?:时间|日期)"
    # A forum post's stamp: "ggjjzhzz 发表于 2005-09-12", "本贴由 大卫 于2005年8月12日".
    r"|发表于|(?:本贴|本帖|此贴|此帖)由\s*\S{1,20}?\s*于"
    r"|\b(?:published|posted|publication date|date)\b|опубликовано|дата публикации"
    r"|opublikowano|data publikacji|δημοσιεύθηκε|δημοσίευση",
    re.IGNORECASE,
)
PUBLISHED_LABEL = Anchored(_PUBLISHED_LABEL_RE, "发刊出上时日本此pdoоδд")


def _fold(word: str) -> str:
    # Greek dates come with and without accents and diaeresis ("Μαΐου", "ΜΑΙΟΥ").
    decomposed = unicodedata.normalize("NFD", word.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).replace("ς", "σ")


_FOLDED_MONTHS = {_fold(name): month for name, month in _MONTH_NAMES.items()}


def _at(year: str, month: int, day: str, hour: str | None, minute: str | None) -> datetime | None:
    try:
        return _sane(datetime(int(year), month, int(day), int(hour or 0), int(minute or 0)))
    except ValueError:
        return None


def _word_dates(text: str) -> list[tuple[int, datetime]]:
    found: list[tuple[int, datetime]] = []
    for match in _DAY_MONTH_RE.finditer(text):
        day, name, year, hour, minute = match.groups()
        month = _FOLDED_MONTHS.get(_fold(name))
        if month and (dt := _at(year, month, day, hour, minute)):
            found.append((match.start(), dt))
    for match in _MONTH_DAY_RE.finditer(text):
        name, day, year, hour, minute = match.groups()
        month = _FOLDED_MONTHS.get(_fold(name))
        if month and (dt := _at(year, month, day, hour, minute)):
            found.append((match.start(), dt))
    return found


def _numeric_dates(text: str) -> list[tuple[int, datetime]]:
    return [
        (match.start(), dt)
        for match in TEXT_DATE_RE.finditer(text)
        if (dt := _sane(_datetime_from_match(match))) is not None
    ]


def _first(found: list[tuple[int, datetime]]) -> datetime | None:
    return min(found, key=lambda pair: pair[0])[1] if found else None


def text_date(window: str) -> datetime | None:
    """The first numeric or CJK date printed in ``window`` (2023-05-12, 2023年5月12日)."""
    return _first(_numeric_dates(window))


# A magazine's story ends with the issue it ran in: "——《北京之春》1998年3月号".
_ISSUE_RE = re.compile(r"(?<!\d)((?:19|20)\d{2})\s*年\s*(\d{1,2})\s*月号")
_ISSUE_TAIL = 120


def issue_date(text: str) -> datetime | None:
    """The first day of the month of the periodical issue a story's last line names."""
    issues = _ISSUE_RE.findall(text[-_ISSUE_TAIL:])
    if not issues:
        return None
    year, month = issues[-1]  # the line closest to the end is the story's own
    return _at(year, int(month), "1", None, None)


def word_date(window: str) -> datetime | None:
    """The first date with a month name in ``window`` (5 марта 2017, March 5, 2017)."""
    return _first(_word_dates(window))


def _slash_date(text: str) -> datetime | None:
    match = _SLASH_RE.match(text)
    if match is None:
        return None
    first, second, year, hour, minute, _second, half = match.groups()
    month, day = (int(first), int(second)) if int(first) <= 12 else (int(second), int(first))
    if half and hour:
        hour = str(int(hour) % 12 + (12 if half.lower() == "p" else 0))
    return _at(year, month, str(day), hour, minute)


def labelled_date(page_text: str) -> datetime | None:
    """The date right after the first publication label on the page ("发布时间：…")."""
    for label in PUBLISHED_LABEL.finditer(page_text):
        rest = page_text[label.end() : label.end() + 60].lstrip(" :：\u3000\t|-")
        dt = _slash_date(rest)
        if dt is None:
            dt = _first([(p, v) for p, v in _numeric_dates(rest) + _word_dates(rest) if p <= 4])
        if dt is not None:
            return dt
    return None


# A URL names a day only when it holds year, month and day; htmldate would turn
# ".../2024/05/slug" into 2024-05-01, a date the page never stated.
_URL_DAY_RE = re.compile(
    r"(?<!\d)(19|20)\d\d([/_-]?)(0?[1-9]|1[0-2])\2(0?[1-9]|[12]\d|3[01])(?!\d)"
)


def fallback_date(tree: HtmlElement, url: str | None) -> datetime | None:
    if url and not _URL_DAY_RE.search(urlsplit(url).path):
        url = None
    try:
        found = htmldate.find_date(
            tree, url=url, extensive_search=False, original_date=True, deferred_url_extractor=True
        )
    except Exception:  # htmldate is a best-effort heuristic
        return None
    return _parse_datetime(found)


def url_date(url: str | None) -> datetime | None:
    """The day a URL's path names (``/2024/05/12/``, ``20240512``), or None."""
    match = _URL_DAY_RE.search(urlsplit(url).path) if url else None
    if match is None:
        return None
    digits = re.findall(r"\d+", match.group(0))
    if len(digits) == 1:  # 20240512
        digits = [digits[0][:4], digits[0][4:6], digits[0][6:]]
    try:
        return _sane(datetime(int(digits[0]), int(digits[1]), int(digits[2])))
    except (ValueError, IndexError):
        return None


class DateSource(StrEnum):
    """Where a publication date came from; stored as ``article_versions.published_at_source``."""

    JSON_LD = "json-ld"
    META = "meta"
    TIME_ELEMENT = "time-element"
    URL = "url"
    TEXT = "text"
    FEED = "feed"
    SITEMAP = "sitemap"
    FIRST_SEEN = "first-seen"
    """Nothing dated the story: ``published_at`` is NULL, ``first_seen_at`` is all there is."""


@dataclass(frozen=True)
class Dated:
    value: datetime
    source: DateSource


def stated_published(
    tree: HtmlElement, metas: dict[str, str], ld_objs: list[dict[str, Any]]
) -> Dated | None:
    """The publication date the page declares in markup, with where it was declared."""
    # Meta first, as before sources were recorded: on the pages measured the
    # two agree, and where they do not the meta tag was the one a site kept current.
    for source, values in (
        (DateSource.META, [metas.get(k) for k in PUBLISHED_META_KEYS]),
        (DateSource.JSON_LD, ld_values(ld_objs, "datePublished")),
        (DateSource.TIME_ELEMENT, time_elements(tree, "datePublished")),
    ):
        dt = first_date(values)
        if dt is not None:
            return Dated(dt, source)
    return None


def heuristic_published(
    tree: HtmlElement,
    metas: dict[str, str],
    window: str,
    page_text: str,
    url: str | None,
    above: str = "",
) -> Dated | None:
    """A publication date the page prints rather than declares, most telling first:
    a labelled date under the headline ("发布时间：", "Опубликовано"), a numeric date
    there, htmldate's reading of the page, a date with a month name under the
    headline, a labelled date anywhere, a numeric date just ``above`` the headline
    (an e-paper's page date)."""
    # A month-name date under the headline waits for htmldate: on English pages
    # it is as often a photo caption's or an archive banner's ("May 18, 2010").
    # A label further down may be a comment's ("发表时间"), so it comes last.
    dt = labelled_date(window) or text_date(window)
    if dt is not None:
        return Dated(dt, DateSource.TEXT)
    dt = fallback_date(tree, url)
    if dt is None:
        dt = word_date(window) or labelled_date(page_text) or text_date(above)
        return Dated(dt, DateSource.TEXT) if dt is not None else None
    # htmldate does not say where it looked; name the evidence it must have used.
    on_url = url_date(url)
    if on_url is not None and on_url.date() == dt.date():
        return Dated(dt, DateSource.URL)
    if any((m := _parse_datetime(v)) is not None and m.date() == dt.date() for v in metas.values()):
        return Dated(dt, DateSource.META)
    return Dated(dt, DateSource.TEXT)


def stated_modified(
    tree: HtmlElement, metas: dict[str, str], ld_objs: list[dict[str, Any]]
) -> datetime | None:
    """The last-modified date the page declares in markup (meta, JSON-LD, ``<time>``)."""
    return first_date(
        [metas.get(k) for k in MODIFIED_META_KEYS]
        + ld_values(ld_objs, "dateModified")
        + time_elements(tree, "dateModified")
    )
