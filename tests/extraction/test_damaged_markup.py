"""Damaged markup never empties the text or pours the page into the title."""

from __future__ import annotations

import pytest

from newsarchive.crawler.extraction import extract_article
from newsarchive.crawler.extraction.document import repair_markup

URL = "https://news.example.org/2024/06/02/harbour-wall.html"
STORY = {
    "en": [
        "The harbour wall that collapsed in the January storm will be rebuilt in stone, the "
        "council decided on Tuesday after a long debate about the cost of the work.",
        "Engineers said a concrete wall would be cheaper but would not last as long, and the "
        "harbour's fishermen asked for the old design to be kept.",
    ],
    "ru": [
        "Обрушившуюся в январский шторм стену гавани восстановят из камня, решил во вторник "
        "городской совет после долгого спора о стоимости работ.",
        "Инженеры говорили, что бетонная стена обойдётся дешевле, но прослужит меньше, а "
        "рыбаки попросили сохранить старый проект.",
    ],
    "el": [
        "Το λιμενικό τείχος που κατέρρευσε στην καταιγίδα του Ιανουαρίου θα ξαναχτιστεί από "
        "πέτρα, αποφάσισε την Τρίτη το δημοτικό συμβούλιο μετά από μακρά συζήτηση.",
        "Οι μηχανικοί είπαν ότι ένα τσιμεντένιο τείχος θα ήταν φθηνότερο αλλά δεν θα κρατούσε "
        "τόσο πολύ, και οι ψαράδες ζήτησαν να μείνει το παλιό σχέδιο.",
    ],
}
TITLE = "Harbour wall to be rebuilt"
PARAS = {lang: "".join(f"<p>{p}</p>" for p in paras) for lang, paras in STORY.items()}


def page(lang: str, head: str, tail: str = "</article></body></html>") -> str:
    return (
        f"{head}<body><nav><a href='/'>Home</a></nav><article><h1>{TITLE}</h1>{PARAS[lang]}{tail}"
    )


DAMAGED = {
    "unterminated title": lambda lang: page(
        lang, f"<html><head><title>{TITLE}\n<meta charset='utf-8'></head>"
    ),
    "unterminated comment in head": lambda lang: page(
        lang, f"<html><head><title>{TITLE}</title><!-- tracking</head>"
    ),
    "unterminated script": lambda lang: page(
        lang, f"<html><head><title>{TITLE}</title><script>var s = 1;</head>"
    ),
    "editor tags before the doctype": lambda lang: page(
        lang,
        f"<x-editor v='2'></x-editor><?xml version='1.0'?>\n<!DOCTYPE html><html><head>"
        f"<title>{TITLE}</title></head>",
    ),
    "bytes cut mid-tag": lambda lang: page(
        lang, f"<html><head><title>{TITLE}</title></head>", tail="<div class='share'><a hr"
    ),
}


@pytest.mark.parametrize("lang", sorted(STORY))
@pytest.mark.parametrize("damage", sorted(DAMAGED))
def test_damaged_page_keeps_story_and_title(damage: str, lang: str) -> None:
    html = DAMAGED[damage](lang)

    result = extract_article(html.encode("utf-8"), URL)

    assert result.title == TITLE
    for paragraph in STORY[lang]:
        assert paragraph in result.text
    assert "<" not in result.text


def test_well_formed_markup_is_left_as_it_is() -> None:
    html = (
        "<!DOCTYPE html><html><head><title>A &lt; B</title><!-- a -- comment -->"
        "<script>document.write('<div><!-- x -->');</script><style>p{}</style></head>"
        "<body><!-- <div>commented out</div> --><p>text</p></body></html>"
    )
    assert repair_markup(html) == html


def test_unclosed_title_is_closed_where_the_markup_resumes() -> None:
    assert repair_markup("<title>Pier<meta charset=utf-8><body>x") == (
        "<title>Pier</title><meta charset=utf-8><body>x"
    )
