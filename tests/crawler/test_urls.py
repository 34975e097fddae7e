"""One identity per story URL, however it is disguised."""

from __future__ import annotations

import pytest

from newsarchive.crawler.urls import canonical_url, story_url


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("http://Example.COM/a.html", "http://example.com/a.html"),
        ("http://example.com:80/a.html#comments", "http://example.com/a.html"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("http://example.com:8080/a", "http://example.com:8080/a"),
        ("http://example.com/a?utm_source=rss&utm_medium=feed&id=7", "http://example.com/a?id=7"),
        ("http://example.com/a?fbclid=XYZ&gclid=1&b=2&a=1", "http://example.com/a?a=1&b=2"),
        ("http://example.com", "http://example.com/"),
        (
            "http://example.com/新闻/港口.html",
            "http://example.com/%E6%96%B0%E9%97%BB/%E6%B8%AF%E5%8F%A3.html",
        ),
    ],
)
def test_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


def test_disguises_of_one_story_compare_equal() -> None:
    forms = [
        "http://news.test/2024/05/ferry.html",
        "HTTP://NEWS.test:80/2024/05/ferry.html#top",
        "http://news.test/2024/05/ferry.html?utm_campaign=x&fbclid=abc",
    ]
    assert len({canonical_url(u) for u in forms}) == 1


def test_story_url_prefers_declared_canonical() -> None:
    assert story_url("http://m.news.test/amp/1?utm_source=x", "https://news.test/story/1") == (
        "https://news.test/story/1"
    )


@pytest.mark.parametrize(
    "declared", [None, "", "javascript:void(0)", "/relative", "http://news.test/"]
)
def test_story_url_ignores_missing_or_broken_canonical(declared: str | None) -> None:
    assert story_url("http://news.test/story/1#c", declared) == "http://news.test/story/1"
