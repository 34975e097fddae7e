"""When a source is due: cron meaning, overdue runs after downtime, backoff of failing sources."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from newsarchive.config import ConfigError, DaemonConfig, SourceConfig, parse_config
from newsarchive.scheduler.cron import cron_weekdays, crontab_trigger
from newsarchive.scheduler.timing import backoff_seconds, next_due, source_trigger, upcoming_runs
from newsarchive.storage.runs import RunRecord

NOW = datetime(2024, 6, 5, 12, 0, 30, tzinfo=UTC)  # a Wednesday


def source(**kwargs: object) -> SourceConfig:
    return SourceConfig.model_validate({"name": "s", "feeds": ["http://x.test/f"], **kwargs})


def run(status: str, minutes_ago: float, run_id: int = 1) -> RunRecord:
    started = NOW - timedelta(minutes=minutes_ago)
    finished = None if status == "running" else started + timedelta(seconds=20)
    counters = dict.fromkeys(("pages", "new", "updated", "unchanged", "duplicates", "errors"), 0)
    return RunRecord(
        id=run_id,
        source="s",
        started_at=started,
        finished_at=finished,
        status=status,
        error=None,
        **counters,
    )


@pytest.mark.parametrize(
    ("field", "days"),
    [
        ("1", "mon"),
        ("0", "sun"),
        ("7", "sun"),
        ("1-5", "mon,tue,wed,thu,fri"),
        ("5-7", "sun,fri,sat"),
        ("*/2", "sun,tue,thu,sat"),
        ("mon-fri", "mon,tue,wed,thu,fri"),
        ("*", "*"),
    ],
)
def test_cron_weekdays_keep_crontab_meaning(field: str, days: str) -> None:
    assert cron_weekdays(field) == days


def test_monday_cron_fires_on_monday() -> None:
    # APScheduler 3's own from_crontab would read "1" as Tuesday.
    fire = crontab_trigger("0 6 * * 1").get_next_fire_time(None, NOW)
    assert fire == datetime(2024, 6, 10, 6, 0, tzinfo=UTC)
    assert fire.weekday() == 0


def test_cron_schedule_in_the_source_time_zone() -> None:
    trigger = source_trigger(source(schedule="0 6 * * *", timezone="Europe/Berlin"))
    fire = trigger.get_next_fire_time(None, NOW)
    assert fire.astimezone(UTC) == datetime(2024, 6, 6, 4, 0, tzinfo=UTC)  # CEST = UTC+2


def test_never_crawled_source_is_due_now() -> None:
    assert next_due(source(schedule="@every 2h"), [], DaemonConfig(), NOW) == NOW


def test_overdue_source_runs_once_now_after_downtime() -> None:
    # Six hourly runs were missed: one run now, not six.
    runs = [run("ok", minutes_ago=6 * 60)]
    assert next_due(source(schedule="0 * * * *"), runs, DaemonConfig(), NOW) == NOW


def test_next_run_follows_the_last_run() -> None:
    every = source(schedule="@every 2h")
    assert next_due(every, [run("ok", 30)], DaemonConfig(), NOW) == NOW + timedelta(minutes=90)
    hourly = source(schedule="0 * * * *")
    expected = datetime(2024, 6, 5, 13, 0, tzinfo=UTC)
    assert next_due(hourly, [run("ok", 0.25)], DaemonConfig(), NOW) == expected


def test_interrupted_and_running_rows_do_not_count_as_done() -> None:
    runs = [run("interrupted", 1, 3), run("running", 2, 2), run("ok", 200, 1)]
    assert next_due(source(schedule="@every 2h"), runs, DaemonConfig(), NOW) == NOW


def test_failing_source_backs_off_doubling_up_to_the_cap() -> None:
    daemon = DaemonConfig(failure_backoff_after=3, failure_backoff_max=3600)
    every = source(schedule="@every 10m")
    assert backoff_seconds(every, 2, daemon, NOW) == 0
    assert backoff_seconds(every, 3, daemon, NOW) == 1200
    assert backoff_seconds(every, 4, daemon, NOW) == 2400
    assert backoff_seconds(every, 9, daemon, NOW) == 3600
    runs = [run("failed", 1, 3), run("timeout", 11, 2), run("failed", 21, 1), run("ok", 31, 0)]
    due = next_due(every, runs, daemon, NOW)
    assert due == runs[0].finished_at + timedelta(seconds=1200)
    # One success ends the backoff.
    ok = run("ok", 1, 4)
    assert next_due(every, [ok, *runs], daemon, NOW) == ok.started_at + timedelta(minutes=10)


def test_upcoming_runs_of_a_cron_schedule() -> None:
    times = upcoming_runs(source(schedule="30 8 * * mon-fri"), NOW, 3)
    assert [t.strftime("%a %H:%M") for t in times] == ["Thu 08:30", "Fri 08:30", "Mon 08:30"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"daemon": {"max_parallel_crawls": 0}}, "daemon.max_parallel_crawls"),
        ({"daemon": {"crawl_time_limit": "soon"}}, "daemon.crawl_time_limit: bad duration"),
        ({"daemon": {"shutdown_grace": -5}}, "must not be negative"),
        ({"daemon": {"log_format": "xml"}}, "daemon.log_format"),
        ({"daemon": {"restart": True}}, "daemon.restart: unknown key"),
        (
            {"sources": [{"name": "a", "feeds": ["http://x.test/"], "timezone": "Mars/Olympus"}]},
            "unknown time zone 'Mars/Olympus'",
        ),
        (
            {"sources": [{"name": "a", "feeds": ["http://x.test/"], "jitter": "lots"}]},
            "sources[0].jitter (source 'a')",
        ),
        (
            {"sources": [{"name": "a", "feeds": ["http://x.test/"], "schedule": "0 6 * * 8"}]},
            "bad weekday '8'",
        ),
    ],
)
def test_bad_daemon_settings_are_refused_clearly(data: dict, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(data, "newsarchive.toml")
    assert message in str(err.value)
    assert str(err.value).startswith("newsarchive.toml: ")


def test_daemon_settings_accept_durations() -> None:
    config = parse_config(
        {
            "daemon": {"crawl_time_limit": "2h", "shutdown_grace": 45, "failure_backoff_max": "1d"},
            "sources": [{"name": "a", "feeds": ["http://x.test/"], "jitter": "30s"}],
        }
    )
    assert config.daemon.crawl_time_limit == 7200
    assert config.daemon.shutdown_grace == 45
    assert config.daemon.failure_backoff_max == 86400
    assert config.sources[0].jitter == 30
