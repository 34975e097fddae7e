"""Fundus-style regression fixtures: real-portal-shaped pages with expectations.

Each ``tests/fixtures/pages/<case>.html`` holds the raw bytes in the page's own
encoding; ``<case>.expected.json`` says what extraction must (and must not)
produce.  Optional fields set to null are not checked.
"""

from __future__ import annotations

import json
import unicodedata
from datetime import datetime
from pathlib import Path

import pytest

from newsarchive.crawler.extraction import extract_article

PAGES = Path(__file__).resolve().parent.parent / "fixtures" / "pages"
CASES = sorted(PAGES.glob("*.expected.json"))


def test_fixtures_exist() -> None:
    assert len(CASES) >= 6


@pytest.mark.parametrize("expected_path", CASES, ids=lambda p: p.name.split(".")[0])
def test_fixture_page(expected_path: Path) -> None:
    expected = json.loads(expected_path.read_text(encoding="utf-8"))
    html = expected_path.with_name(expected_path.name.replace(".expected.json", ".html"))
    result = extract_article(
        html.read_bytes(), expected["url"], declared_encoding=expected.get("declared_encoding")
    )

    assert result.is_article is expected["is_article"]
    if expected.get("title") is not None:
        assert result.title == expected["title"]
    if expected.get("language") is not None:
        assert result.language == expected["language"]
    if expected.get("published_at") is not None:
        assert result.published_at == datetime.fromisoformat(expected["published_at"])
    if expected.get("authors"):
        assert result.authors == expected["authors"]
    for key in ("top_image", "section"):
        if expected.get(key) is not None:
            assert getattr(result, key) == expected[key], key
    if expected.get("tags"):
        assert result.tags == expected["tags"]
    for sentence in expected.get("contains", []):
        assert sentence in result.text, sentence
    for boilerplate in expected.get("absent", []):
        assert boilerplate not in result.text, boilerplate

    text = result.text
    assert text == unicodedata.normalize("NFC", text)
    for line in text.split("\n") if text else []:
        assert line and line == line.strip()
        assert "  " not in line
