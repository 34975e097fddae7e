"""One page per failure pattern seen on unseen news sites, each beside its full expected text.

``tests/fixtures/extraction/<case>.html`` is a page written for this test in
its own language and encoding; ``<case>.txt`` is the whole text the archive
must store for it, one paragraph per line; ``<case>.json`` names the pattern,
the URL and HTTP charset it is served with, its title, and boilerplate that
must never reach the text.  A change that alters an expected text is a change
of what the archive stores: review the diff line by line.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from newsarchive.crawler.extraction import extract_article

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "extraction"
CASES = sorted(FIXTURES.glob("*.json"))


def test_every_language_has_a_pattern_page() -> None:
    assert {case.name.split("_")[0] for case in CASES} == {"zh", "ru", "pl", "el", "en"}


@pytest.mark.parametrize("case_path", CASES, ids=lambda p: p.stem)
def test_story_extracted_whole_and_boilerplate_left_out(case_path: Path) -> None:
    case = json.loads(case_path.read_text(encoding="utf-8"))
    expected = case_path.with_suffix(".txt").read_text(encoding="utf-8").rstrip("\n")

    result = extract_article(
        case_path.with_suffix(".html").read_bytes(),
        case["url"],
        declared_encoding=case["declared_encoding"],
    )

    assert result.title == case["title"]
    assert result.text.split("\n") == expected.split("\n")
    for boilerplate in case["absent"]:
        assert boilerplate not in result.text, boilerplate
    assert result.is_article
