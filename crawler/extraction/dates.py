"""Publication and modification dates: meta tags, JSON-LD, ``<time>``, bylines, htmldate.

Every date returned is timezone-aware (a naive one is taken as UTC) and sane
(not before 1990, not in the future).
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import htmldate
from dateutil import parser as date_parser
from lxml.html import HtmlElement

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


def first_date(values: Iterable[str | None]) -> datetime | None:
    for value in values:
        dt = _parse_datetime(value)
        if dt is not None:
            return dt
    return None


def time_elements(tree: HtmlElement, prop: str) -> list[str]:
    values: list[str] = []
    for el in tree.xpath(f"//*[@itemprop='{prop}']"):
        values.append(el.get("content") or el.get("datetime") or el.text_content())
    if prop == "datePublished":
        scopes = tree.xpath("//article") or [tree]
        for scope in scopes[:1]:
            for el in scope.iter("time"):
                if el.get("datetime"):
                    values.append(el.get("datetime"))
                    break
    return values


def text_date(window: str) -> datetime | None:
    for match in TEXT_DATE_RE.finditer(window):
        dt = _sane(_datetime_from_match(match))
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


def stated_published(
    tree: HtmlElement, metas: dict[str, str], ld_objs: list[dict[str, Any]]
) -> datetime | None:
    """The publication date the page declares in markup (meta, JSON-LD, ``<time>``)."""
    return first_date(
        [metas.get(k) for k in PUBLISHED_META_KEYS]
        + ld_values(ld_objs, "datePublished")
        + time_elements(tree, "datePublished")
    )


def stated_modified(
    tree: HtmlElement, metas: dict[str, str], ld_objs: list[dict[str, Any]]
) -> datetime | None:
    """The last-modified date the page declares in markup (meta, JSON-LD, ``<time>``)."""
    return first_date(
        [metas.get(k) for k in MODIFIED_META_KEYS]
        + ld_values(ld_objs, "dateModified")
        + time_elements(tree, "dateModified")
    )
