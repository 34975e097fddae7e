"""One identity per story URL, however it is disguised."""

from __future__ import annotations

import pytest

from newsarchive.crawler.urls import UrlKeys, canonical_url, story_url, url_key


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


def test_url_keys_hold_what_was_added_and_nothing_else() -> None:
    urls = [f"https://news.example.com/2024/05/story-{n}.html" for n in range(6000)]
    keys = UrlKeys(url_key(url) for url in urls[:1000])
    # Enough added one at a time for several merges into the sorted arrays.
    for url in urls[1000:5000]:
        keys.add(url_key(url))
    keys.update(url_key(url) for url in urls[:10])  # already there: not counted twice
    assert len(keys) == 5000
    assert all(url_key(url) in keys for url in urls[:5000])
    assert not any(url_key(url) in keys for url in urls[5000:])
    assert "https://news.example.com/2024/05/story-1.html" not in keys


def test_url_keys_sharing_their_high_half_are_told_apart() -> None:
    first, second = (7 << 64) | 1, (7 << 64) | 2
    keys = UrlKeys([first, second, (1 << 128) - 1])
    assert first in keys and second in keys and (1 << 128) - 1 in keys
    assert (7 << 64) | 3 not in keys and 7 not in keys and -1 not in keys
