"""`runs`, `status` and `sources`: what an operator reads, and the health-check exit code."""

from __future__ import annotations

import json
from pathlib import Path

from newsarchive.storage.runs import finish_run, start_run
from tests.cli_process import invoke_cli
from tests.scheduler.daemon_harness import write_config

SOURCES = [
    {"name": "harbour", "feeds": ["http://127.0.0.1:9/rss.xml"], "schedule": "*/30 * * * *"},
    {
        "name": "city",
        "sitemaps": ["http://127.0.0.1:9/sitemap.xml"],
        "schedule": "0 6 * * 1-5",
        "timezone": "Europe/Berlin",
    },
]


def record(engine, source: str, status: str, error: str | None = None, **counters: int) -> int:
    run_id = start_run(engine, source)
    if status != "running":
        finish_run(engine, run_id, status, counters, error)
    return run_id


def test_runs_lists_recent_runs_newest_first(database_url: str, engine, tmp_path: Path) -> None:
    config = write_config(tmp_path / "newsarchive.toml", database_url, SOURCES)
    first = record(engine, "harbour", "ok", pages=7, new=5)
    record(engine, "city", "failed", "no page could be fetched", errors=1)
    last = record(engine, "harbour", "running")

    jsonl = invoke_cli("runs", "--format", "jsonl", config=config)
    assert jsonl.returncode == 0, jsonl.stderr
    rows = [json.loads(line) for line in jsonl.stdout.splitlines()]
    assert [r["id"] for r in rows] == [last, last - 1, first]
    assert rows[-1]["status"] == "ok" and rows[-1]["pages"] == 7 and rows[-1]["new"] == 5
    assert rows[1]["error"] == "no page could be fetched"
    assert rows[0]["finished_at"] is None
    for key in (
        "id",
        "source",
        "started_at",
        "finished_at",
        "status",
        "pages",
        "new",
        "updated",
        "unchanged",
        "duplicates",
        "errors",
    ):
        assert key in rows[0]

    only = invoke_cli("runs", "--source", "harbour", "--limit", "1", config=config)
    assert only.returncode == 0, only.stderr
    header, _rule, *lines = only.stdout.splitlines()
    assert header.split()[:5] == ["id", "source", "started_at", "finished_at", "status"]
    assert len(lines) == 1 and " running " in lines[0]

    bad = invoke_cli("runs", "--limit", "0", config=config)
    assert bad.returncode == 2 and "must be at least 1" in bad.stderr


def test_status_reports_sources_and_fails_when_one_keeps_failing(
    database_url: str, engine, tmp_path: Path
) -> None:
    config = write_config(tmp_path / "newsarchive.toml", database_url, SOURCES)
    record(engine, "harbour", "ok", pages=3, new=2)

    healthy = invoke_cli("status", "--format", "json", config=config)
    assert healthy.returncode == 0, healthy.stderr
    report = {s["source"]: s for s in json.loads(healthy.stdout)}
    assert report["harbour"]["last_run"]["status"] == "ok"
    assert report["harbour"]["schedule"] == "*/30 * * * *"
    assert report["city"]["last_run"] is None and report["city"]["timezone"] == "Europe/Berlin"
    assert not report["harbour"]["failing"]

    for _ in range(3):
        record(engine, "city", "failed", "no page could be fetched (1 errors); is the site down?")
    failing = invoke_cli("status", config=config)
    assert failing.returncode == 1
    city_line = next(line for line in failing.stdout.splitlines() if line.startswith("city "))
    assert "failed" in city_line and "FAILING: 3 failed runs in a row" in city_line
    assert "city: last error: no page could be fetched" in failing.stdout

    record(engine, "city", "ok")
    assert invoke_cli("status", config=config).returncode == 0


def test_sources_list_and_show(tmp_path: Path) -> None:
    config = write_config(tmp_path / "newsarchive.toml", "sqlite:///unused.db", SOURCES)
    listed = invoke_cli("sources", "list", config=config)
    assert listed.returncode == 0, listed.stderr
    assert [line.split()[0] for line in listed.stdout.splitlines()[2:]] == ["harbour", "city"]

    shown = invoke_cli("sources", "show", "city", "--format", "json", config=config)
    assert shown.returncode == 0, shown.stderr
    city = json.loads(shown.stdout)
    assert city["sitemaps"] == ["http://127.0.0.1:9/sitemap.xml"]
    assert city["timezone"] == "Europe/Berlin"
    # 06:00 in Berlin, weekdays only, whatever the season's offset.
    from datetime import datetime
    from zoneinfo import ZoneInfo

    for when in city["upcoming_runs"]:
        local = datetime.fromisoformat(when).astimezone(ZoneInfo("Europe/Berlin"))
        assert (local.hour, local.minute) == (6, 0) and local.weekday() < 5

    text = invoke_cli("sources", "show", "harbour", config=config)
    assert "schedule" in text.stdout and "*/30 * * * *" in text.stdout

    unknown = invoke_cli("sources", "show", "nope", config=config)
    assert unknown.returncode == 2 and "unknown source(s) nope" in unknown.stderr

    broken = tmp_path / "broken.toml"
    broken.write_text(config.read_text().replace('"Europe/Berlin"', '"Europe/Atlantis"'))
    refused = invoke_cli("sources", "list", config=broken)
    assert refused.returncode == 2 and "unknown time zone 'Europe/Atlantis'" in refused.stderr
