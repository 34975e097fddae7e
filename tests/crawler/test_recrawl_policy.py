"""The recrawl policy: first rule the article is younger than decides; older ones never."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from newsarchive.config import DEFAULT_RECRAWL, ConfigError, RecrawlRule, parse_config
from newsarchive.crawler.recrawl import RecrawlPolicy

NOW = datetime(2024, 6, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.mark.parametrize(
    ("age", "since_fetch", "due"),
    [
        (2 * HOUR, 30 * timedelta(minutes=1), False),  # young: every hour
        (2 * HOUR, HOUR, True),
        (23 * HOUR, 59 * timedelta(minutes=1), False),
        (3 * 24 * HOUR, 2 * HOUR, False),  # this week: every 12 hours
        (3 * 24 * HOUR, 12 * HOUR, True),
        (8 * 24 * HOUR, 30 * 24 * HOUR, False),  # older than every rule: never again
    ],
)
def test_default_policy(age: timedelta, since_fetch: timedelta, due: bool) -> None:
    policy = RecrawlPolicy(DEFAULT_RECRAWL)
    assert policy.is_due(NOW - age, NOW - since_fetch, NOW) is due


def test_first_matching_rule_wins() -> None:
    policy = RecrawlPolicy(
        [
            RecrawlRule(younger_than="7d", every="1d"),
            RecrawlRule(younger_than="1h", every="0s"),  # never reached
        ]
    )
    assert not policy.is_due(NOW - timedelta(minutes=5), NOW - timedelta(minutes=1), NOW)


def test_no_rules_means_never_refetched() -> None:
    assert not RecrawlPolicy([]).is_due(NOW, NOW - 1000 * HOUR, NOW)


def test_config_global_rules_and_per_source_override() -> None:
    config = parse_config(
        {
            "dedupe": {"near_duplicate_threshold": 0.9},
            "recrawl": [{"younger_than": "2d", "every": "30m"}],
            "sources": [
                {"name": "a", "feeds": ["https://a.example/rss"]},
                {
                    "name": "b",
                    "feeds": ["https://b.example/rss"],
                    "recrawl": [{"younger_than": "1w", "every": "6h"}],
                },
                {"name": "c", "feeds": ["https://c.example/rss"], "recrawl": []},
            ],
        }
    )
    a, b, c = config.sources
    assert config.dedupe.near_duplicate_threshold == 0.9
    assert [(r.max_age_seconds, r.interval_seconds) for r in config.recrawl_rules(a)] == [
        (2 * 86400, 1800)
    ]
    assert [(r.max_age_seconds, r.interval_seconds) for r in config.recrawl_rules(b)] == [
        (7 * 86400, 6 * 3600)
    ]
    assert config.recrawl_rules(c) == []


def test_defaults_when_nothing_is_configured() -> None:
    config = parse_config({})
    assert config.dedupe.near_duplicate_threshold == 0.75
    assert config.recrawl == list(DEFAULT_RECRAWL)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"recrawl": [{"younger_than": "soon", "every": "1h"}]}, "recrawl[0].younger_than"),
        ({"recrawl": [{"younger_than": "1d"}]}, "recrawl[0].every"),
        ({"dedupe": {"near_duplicate_threshold": 0.3}}, "dedupe.near_duplicate_threshold"),
        ({"dedupe": {"threshold": 0.8}}, "dedupe.threshold: unknown key"),
    ],
)
def test_bad_policy_is_refused_naming_the_key(data: dict, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_config(data, "news.toml")
