"""Dates, authors, where the date came from, and access, read from whole pages.

Fundus style: ``tests/fixtures/metadata/<case>.html`` is a page as a server
sends it (its own encoding), and ``<case>.json`` beside it holds the inputs and
the metadata a reader of that page would write down, by hand, not regenerated
from the extractor. The pages are in Chinese, Russian, Polish, Greek and English.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from newsarchive.crawler.extraction import Access, extract_article
from newsarchive.crawler.extraction.access import declared_access, teaser_behind_paywall
from newsarchive.crawler.extraction.authors import labelled_byline
from newsarchive.crawler.extraction.dates import labelled_date

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "metadata"
CASES = sorted(FIXTURES.glob("*.json"))


def test_cases_cover_five_languages() -> None:
    assert {path.name[:2] for path in CASES} == {"zh", "ru", "pl", "el", "en"}


@pytest.mark.parametrize("case_path", CASES, ids=lambda p: p.stem)
def test_page_metadata(case_path: Path) -> None:
    case = json.loads(case_path.read_text(encoding="utf-8"))
    html = case_path.with_suffix(".html").read_bytes()

    result = extract_article(html, case["url"], declared_encoding=case["declared_encoding"])

    assert result.text, "the story itself must be extracted"
    actual = {
        "authors": result.authors,
        "published_at": result.published_at.isoformat() if result.published_at else None,
        "published_at_source": result.published_at_source,
        "access": result.access,
    }
    assert actual == case["expected"]


@pytest.mark.parametrize(
    ("objects", "expected"),
    [
        ([{"@type": "NewsArticle", "isAccessibleForFree": False}], Access.PAYWALLED),
        ([{"@type": "NewsArticle", "isAccessibleForFree": "false"}], Access.PAYWALLED),
        (
            [{"@type": "NewsArticle", "isAccessibleForFree": "https://schema.org/False"}],
            Access.PAYWALLED,
        ),
        # The article calls itself free, but a part of it is hidden: that is a paywall.
        (
            [
                {
                    "@type": "NewsArticle",
                    "isAccessibleForFree": "True",
                    "hasPart": [{"@type": "WebPageElement", "isAccessibleForFree": False}],
                }
            ],
            Access.PAYWALLED,
        ),
        ([{"@type": "WebPage", "isAccessibleForFree": True}], Access.FREE),
        ([{"@type": "NewsArticle", "isAccessibleForFree": "maybe"}], None),
        ([{"@type": "NewsArticle"}], None),
    ],
)
def test_json_ld_access_declarations(objects: list[dict], expected: Access | None) -> None:
    assert declared_access(objects) == expected


@pytest.mark.parametrize(
    ("text", "paywalled"),
    [
        ("Первый абзац статьи о набережной.\nОформите подписку, чтобы читать дальше.", True),
        ("Pierwszy akapit artykułu.\nTreść dostępna dla subskrybentów. Wykup prenumeratę.", True),
        ("Η πρώτη παράγραφος.\nΓια να συνεχίσετε, γίνετε συνδρομητής.", True),
        ("第一段内容。\n订阅后阅读全文", True),
        ("A short brief with no call to action at its end.", False),
        ("A short post about a gadget.\nTo see new ones, subscribe to the RSS feed.", False),
        # Asking to subscribe at the start is a banner, not a teaser's end.
        ("Subscribe now!\n" + "A long and complete story paragraph. " * 10, False),
    ],
)
def test_paywall_teaser_rule(text: str, paywalled: bool) -> None:
    assert teaser_behind_paywall(text) is paywalled


@pytest.mark.parametrize(
    ("printed", "expected"),
    [
        ("Опубликовано: 5 марта 2017 года в 10:20", datetime(2017, 3, 5, 10, 20)),
        ("Opublikowano: 5 marca 2017 r., godz. 10:20", datetime(2017, 3, 5, 10, 20)),
        ("Δημοσιεύθηκε: 12 ΜΑΪΟΥ 2020 - 14:35", datetime(2020, 5, 12, 14, 35)),
        ("Published: March 5, 2017 at 10:20", datetime(2017, 3, 5, 10, 20)),
        ("发布日期： 9/17/2004 5:54:13 PM", datetime(2004, 9, 17, 17, 54)),
        ("日期：2017-03-05 来源：新华网", datetime(2017, 3, 5)),
        # Not the publication: when the story was updated, or a document drafted.
        ("更新时间：2017-03-05", None),
        ("成文日期：2022年01月27日", None),
        ("Posted by Jane Doe in Harbour news", None),
    ],
)
def test_labelled_dates(printed: str, expected: datetime | None) -> None:
    found = labelled_date(f"Harbour news {printed} The council met on Monday.")
    assert found == (expected.replace(tzinfo=UTC) if expected else None)


@pytest.mark.parametrize(
    ("printed", "expected"),
    [
        ("Автор: Иван Петров", ["Иван Петров"]),
        ("АВТОР: Иван Петров", ["Иван Петров"]),
        ("Autor: Jan Kowalski", ["Jan Kowalski"]),
        ("TEKST: Anna Nowak", ["Anna Nowak"]),
        ("Συντάκτης: Μαρία Παππά", ["Μαρία Παππά"]),
        ("ΣΥΝΤΆΚΤΗΣ: Μαρία Παππά", ["Μαρία Παππά"]),
        ("作者：宋怡", ["宋怡"]),
        # A page in Han with a Polish label still finds it.
        ("港口新闻 Autor: Jan Kowalski", ["Jan Kowalski"]),
        ("Posted in Harbour news", []),
    ],
)
def test_labelled_bylines(printed: str, expected: list[str]) -> None:
    assert labelled_byline(f"Harbour news {printed} Власти города обсудили бюджет.") == expected
