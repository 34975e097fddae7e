"""Source health judged from each source's own runs: silent, coverage_drop, blocked, failing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from newsarchive.config import Config, SourceConfig
from newsarchive.storage import read_session
from newsarchive.storage.health import SourceHealth, source_health
from newsarchive.storage.models import RunStatus
from tests.cli_process import run_cli
from tests.health.runs import add_runs, hourly

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
DATED = {"stories": 10, "text": 1.0, "title": 1.0, "published_at": 0.9, "authors": 0.3}


def config(*names: str) -> Config:
    return Config(
        sources=[SourceConfig(name=n, feeds=[f"https://{n}.example/feed"]) for n in names]
    )


def health(engine: Engine, *names: str) -> dict[str, SourceHealth]:
    with read_session(engine) as session:
        return {h.source: h for h in source_health(session, config(*names), NOW)}


def checks(report: SourceHealth) -> list[str]:
    return [f.check for f in report.flags]


def test_a_source_that_stops_publishing_is_silent(archive: Engine) -> None:
    # Both found a new story every hour; "quiet" has found none for the last 10 hours.
    add_runs(archive, "quiet", hourly(NOW - timedelta(hours=20), 10, new=2))
    add_runs(archive, "quiet", hourly(NOW - timedelta(hours=10), 10, unchanged=5))
    add_runs(archive, "busy", hourly(NOW - timedelta(hours=10), 10, new=1))
    # A source once a day is not silent after a quiet afternoon: its own interval counts.
    add_runs(
        archive, "daily", [{"started_at": NOW - timedelta(days=d), "new": 1} for d in (1, 2, 3)]
    )
    add_runs(archive, "daily", hourly(NOW - timedelta(hours=8), 8, unchanged=3))

    report = health(archive, "quiet", "busy", "daily", "never-crawled")

    assert checks(report["quiet"]) == ["silent"]
    assert (
        report["quiet"].flags[0].reason.startswith("no new story for 11.0h (usually one every 1.0h")
    )
    assert checks(report["busy"]) == checks(report["daily"]) == []
    assert report["never-crawled"] == SourceHealth("never-crawled")


def test_a_redesign_that_loses_the_dates_is_a_coverage_drop(archive: Engine) -> None:
    start = NOW - timedelta(hours=5)
    redesigned = {**DATED, "published_at": 0.0, "authors": 0.0}
    add_runs(archive, "gazette", hourly(start, 4, new=10, field_coverage=DATED))
    add_runs(
        archive,
        "gazette",
        [
            {"started_at": NOW - timedelta(minutes=30), "new": 10, "field_coverage": redesigned},
            {"started_at": NOW - timedelta(minutes=10), "not_modified": 10},
        ],
    )
    # Two stories are too few to judge; runs without stories neither count nor hide the drop.
    add_runs(archive, "herald", hourly(start, 4, new=10, field_coverage=DATED))
    add_runs(
        archive,
        "herald",
        [{"started_at": NOW, "new": 2, "field_coverage": {**redesigned, "stories": 2}}],
    )

    report = health(archive, "gazette", "herald")

    assert checks(report["gazette"]) == ["coverage_drop"]
    # authors were on only 30% of its stories before: not a field the source reliably has.
    assert report["gazette"].flags[0].reason == (
        "published_at on 0% of the last run's stories (usually 90%): did the site change?"
    )
    assert report["gazette"].coverage == redesigned
    assert checks(report["herald"]) == []


def test_a_jump_in_403_and_429_answers_is_blocked(archive: Engine) -> None:
    start = NOW - timedelta(hours=5)
    add_runs(archive, "walled", hourly(start, 4, new=1, http_statuses={"200": 20}))
    add_runs(
        archive, "walled", [{"started_at": NOW, "http_statuses": {"200": 2, "403": 6, "429": 2}}]
    )
    # A paywall answering 403 to a third of the requests every run is its normal.
    usual = {"200": 20, "403": 10}
    add_runs(archive, "paywall", hourly(start, 5, new=1, http_statuses=usual))

    report = health(archive, "walled", "paywall")

    assert checks(report["walled"]) == ["blocked"]
    assert report["walled"].flags[0].reason == (
        "8 of 10 responses in the last run were 403/429 (80%; usually 0%)"
    )
    assert checks(report["paywall"]) == []


def test_failing_is_the_daemons_rule_and_status_exits_1_with_the_reasons(
    archive: Engine, sqlite_url: str, tmp_path: Path
) -> None:
    failed = {"status": RunStatus.FAILED, "error": "no page could be fetched (3 errors)"}
    add_runs(archive, "down", hourly(NOW - timedelta(hours=4), 1, new=3))
    add_runs(archive, "down", hourly(NOW - timedelta(hours=3), 3, **failed))
    add_runs(archive, "flaky", hourly(NOW - timedelta(hours=3), 2, **failed))
    add_runs(archive, "flaky", hourly(NOW - timedelta(hours=1), 1, new=1))

    report = health(archive, "down", "flaky")
    assert checks(report["down"]) == ["failing"]
    assert report["down"].flags[0].reason == (
        "3 failed runs in a row (last: no page could be fetched (3 errors))"
    )
    assert checks(report["flaky"]) == []

    path = tmp_path / "newsarchive.toml"
    path.write_text(
        f'[database]\nurl = "{sqlite_url}"\n'
        + "".join(
            f'[[sources]]\nname = "{n}"\nfeeds = ["https://{n}.example/feed"]\n'
            for n in ("down", "flaky")
        ),
        encoding="utf-8",
    )
    table = run_cli("status", config=path)
    assert table.returncode == 1, table.stderr
    assert "down: failing: 3 failed runs in a row" in table.stdout
    assert "flaky:" not in table.stdout
