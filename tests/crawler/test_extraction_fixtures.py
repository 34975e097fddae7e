"""Fundus-style regression fixtures: whole pages and the whole extraction expected of each.

Each ``tests/fixtures/pages/<case>.html`` holds a realistic news page as raw
bytes in its own encoding (portal furniture included: navigation, share bars,
related links, comments, cookie banners); ``<case>.expected.json`` holds the
inputs (``url``, ``declared_encoding``), boilerplate snippets that must never
reach the text (``absent``) and, under ``expected``, the complete output:
title, every line of the text, authors, dates, language, lead image, section,
tags, canonical URL and page type.  Every field is compared exactly, so any
change to extraction shows up here.

When a change is intended, rewrite the expectations from the current extractor
with ``python -m tests.fixtures.pages.regenerate`` (from the repository root,
after reinstalling the package).  The regenerated diff is the change in what the
archive stores, and a human must review it line by line before it is committed:
regenerating makes the tests pass whatever the extractor now does.  A change to
the output also needs a new ``EXTRACTOR_VERSION``.
"""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest

from tests.fixtures.pages.regenerate import case_paths, extract_case

CASES = case_paths()
LANGUAGES = {"el", "en", "ja", "pl", "ru", "zh"}


def test_fixtures_cover_every_language() -> None:
    expected = [json.loads(p.read_text(encoding="utf-8"))["expected"] for p in CASES]
    assert {e["language"] for e in expected if e["is_article"]} == LANGUAGES
    assert any(not e["is_article"] for e in expected)


@pytest.mark.parametrize("expected_path", CASES, ids=lambda p: p.name.split(".")[0])
def test_fixture_page(expected_path: Path) -> None:
    case, actual = extract_case(expected_path)
    expected = case["expected"]

    assert actual.keys() == expected.keys()
    for key in expected:
        assert actual[key] == expected[key], key
    text = "\n".join(actual["text"])
    for boilerplate in case["absent"]:
        assert boilerplate not in text, boilerplate
    assert text == unicodedata.normalize("NFC", text)
    for line in actual["text"]:
        assert line and line == line.strip()
        assert "  " not in line
