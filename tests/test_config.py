"""Config validation: a bad file fails at start naming the file, the key and the problem."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsarchive.config import ConfigError, load_config
from tests.cli_process import run_cli

GOOD = """
[database]
url = "sqlite:///news.db"

[scrapy]
DOWNLOAD_DELAY = 0.5

[[sources]]
name = "harbour"
start_urls = ["https://example.com/"]
feeds = ["https://example.com/rss.xml"]
sitemaps = ["https://example.com/sitemap.xml"]
allowed_domains = ["example.com"]
schedule = "*/30 * * * *"

[[sources]]
name = "wire-2"
feeds = ["https://wire.example.org/atom.xml"]
schedule = "@every 90s"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "newsarchive.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_config_loads(tmp_path: Path) -> None:
    config = load_config(write(tmp_path, GOOD))
    assert [s.name for s in config.sources] == ["harbour", "wire-2"]
    assert config.scrapy == {"DOWNLOAD_DELAY": 0.5}
    assert config.sources[1].domains == ["wire.example.org"]
    assert config.database_url == f"sqlite:///{tmp_path / 'news.db'}"


def test_environment_overrides_database_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSARCHIVE_DATABASE_URL", "postgresql+psycopg://db/news")
    assert load_config(write(tmp_path, GOOD)).database_url == "postgresql+psycopg://db/news"


@pytest.mark.parametrize(
    ("replace", "by", "expected"),
    [
        ('schedule = "*/30 * * * *"', 'schedule = "*/30 * * *"', "sources[0].schedule"),
        ('schedule = "*/30 * * * *"', 'schedule = "61 * * * *"', "bad cron schedule"),
        ('schedule = "@every 90s"', 'schedule = "@every soon"', "bad @every schedule"),
        ('name = "wire-2"', 'name = "harbour"', "duplicate source name 'harbour'"),
        ('name = "wire-2"', 'name = "Wire 2"', "sources[1].name"),
        (
            'start_urls = ["https://example.com/"]',
            'start_urls = ["ftp://example.com/"]',
            "sources[0].start_urls[0] (source 'harbour'): not an http(s) URL",
        ),
        (
            "DOWNLOAD_DELAY = 0.5",
            "DOWNLOAD_DELAY = 0.5\n[surprise]\nx = 1",
            "surprise: unknown key",
        ),
        (
            'allowed_domains = ["example.com"]',
            'allowed_domains = ["example.com"]\nfrequency = 3',
            "sources[0].frequency (source 'harbour'): unknown key",
        ),
    ],
)
def test_bad_config_names_file_key_and_problem(
    tmp_path: Path, replace: str, by: str, expected: str
) -> None:
    assert replace in GOOD
    path = write(tmp_path, GOOD.replace(replace, by))
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(path) in str(err.value)
    assert expected in str(err.value)


def test_bad_config_on_the_command_line_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    path = write(tmp_path, GOOD.replace('name = "wire-2"', 'name = "harbour"'))
    result = run_cli("crawl", config=path)
    assert result.returncode == 2
    assert f"{path}: sources: duplicate source name 'harbour'" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_and_invalid_toml(tmp_path: Path) -> None:
    result = run_cli("crawl", config=tmp_path / "nope.toml")
    assert result.returncode == 2 and "config file not found" in result.stderr
    result = run_cli("crawl", config=write(tmp_path, "[[sources]\nname="))
    assert result.returncode == 2 and "not valid TOML" in result.stderr


def test_unknown_source_on_the_command_line(tmp_path: Path) -> None:
    result = run_cli("crawl", "--source", "nowhere", config=write(tmp_path, GOOD))
    assert result.returncode == 2
    assert "unknown source(s) nowhere; defined: harbour, wire-2" in result.stderr


def with_scrapy(tmp_path: Path, table: str) -> Path:
    return write(tmp_path, GOOD.replace("DOWNLOAD_DELAY = 0.5", table))


@pytest.mark.parametrize(
    "table",
    [
        "DOWNLOAD_DELAY = 0.5\nCLOSESPIDER_PAGECOUNT = 100\nHTTPCACHE_ENABLED = true",
        # newsarchive's own settings, and the project-level ones its middlewares read
        "NEWSARCHIVE_TEMPLATE_LEARNING = false\nNEWSARCHIVE_EXTRACT_PROCESSES = 0",
        "RETRY_BACKOFF_BASE = 2.0\nRETRY_BACKOFF_MAX = 30",
    ],
    ids=["scrapy", "newsarchive", "project"],
)
def test_real_settings_in_the_scrapy_table_are_accepted(tmp_path: Path, table: str) -> None:
    config = load_config(with_scrapy(tmp_path, table))
    assert config.scrapy.keys() == {line.split(" = ")[0] for line in table.splitlines()}


@pytest.mark.parametrize(
    ("table", "message"),
    [
        (
            "CONCURENT_REQUESTS = 4",
            "[scrapy] CONCURENT_REQUESTS: not a Scrapy setting (did you mean CONCURRENT_REQUESTS?)",
        ),
        (
            "download_delay = 1",
            "[scrapy] download_delay: not a Scrapy setting (did you mean DOWNLOAD_DELAY?)",
        ),
        (
            "NEWSARCHIVE_TEMPLATE_LEARN = false",
            "[scrapy] NEWSARCHIVE_TEMPLATE_LEARN: not a Scrapy setting "
            "(did you mean NEWSARCHIVE_TEMPLATE_LEARNING?)",
        ),
        ("XYZZY = 1", "[scrapy] XYZZY: not a Scrapy setting"),
    ],
    ids=["typo", "lowercase", "newsarchive-typo", "no-close-match"],
)
def test_unknown_scrapy_setting_is_an_error_with_a_suggestion(
    tmp_path: Path, table: str, message: str
) -> None:
    path = with_scrapy(tmp_path, table)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value) == f"{path}: {message}"


def test_every_unknown_scrapy_setting_is_named(tmp_path: Path) -> None:
    path = with_scrapy(tmp_path, "DOWNLOAD_DELAY = 1\nDOWNLOAD_DELAYS = 2\nXYZZY = 3")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value).splitlines() == [
        f"{path}: [scrapy] DOWNLOAD_DELAYS: not a Scrapy setting (did you mean DOWNLOAD_DELAY?)",
        f"{path}: [scrapy] XYZZY: not a Scrapy setting",
    ]


def test_unknown_scrapy_setting_on_the_command_line_exits_2(tmp_path: Path) -> None:
    path = with_scrapy(tmp_path, "CONCURENT_REQUESTS = 4")
    result = run_cli("crawl", config=path)
    assert result.returncode == 2
    assert (
        f"{path}: [scrapy] CONCURENT_REQUESTS: not a Scrapy setting "
        "(did you mean CONCURRENT_REQUESTS?)"
    ) in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    "table",
    [
        # as Scrapy's getfloat/getint/getbool/getlist/getdict read them
        'DOWNLOAD_DELAY = "2"\nCONCURRENT_REQUESTS = "4"\nAUTOTHROTTLE_START_DELAY = 3',
        'HTTPCACHE_ENABLED = "true"\nCOOKIES_ENABLED = 0\nTELNETCONSOLE_ENABLED = "1"',
        'RETRY_HTTP_CODES = "500,503"\nDEFAULT_REQUEST_HEADERS = \'{"Accept": "text/html"}\'',
        # a None default: any type
        'JOBDIR = "crawls/state"\nDOWNLOAD_BIND_ADDRESS = ["127.0.0.1", 0]',
    ],
    ids=["numbers", "bools", "list-and-dict-strings", "none-default"],
)
def test_scrapy_values_scrapy_would_accept_are_accepted(tmp_path: Path, table: str) -> None:
    load_config(with_scrapy(tmp_path, table))


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('DOWNLOAD_DELAY = "fast"', "[scrapy] DOWNLOAD_DELAY: expected a number, got 'fast'"),
        ("DOWNLOAD_DELAY = true", "[scrapy] DOWNLOAD_DELAY: expected a number, got True"),
        (
            'HTTPCACHE_ENABLED = "yes"',
            "[scrapy] HTTPCACHE_ENABLED: expected true or false, got 'yes'",
        ),
        ("RETRY_HTTP_CODES = 500", "[scrapy] RETRY_HTTP_CODES: expected a list, got 500"),
        ('ITEM_PIPELINES = "x"', "[scrapy] ITEM_PIPELINES: expected a table, got 'x'"),
        ("USER_AGENT = 5", "[scrapy] USER_AGENT: expected a string, got 5"),
        (
            'NEWSARCHIVE_TEMPLATE_MIN_PAGES = "five"',
            "[scrapy] NEWSARCHIVE_TEMPLATE_MIN_PAGES: expected a number, got 'five'",
        ),
    ],
    ids=["number", "bool-for-number", "bool", "list", "dict", "str", "newsarchive"],
)
def test_scrapy_value_of_the_wrong_type_is_an_error(
    tmp_path: Path, table: str, message: str
) -> None:
    path = with_scrapy(tmp_path, table)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value) == f"{path}: {message}"


def test_scrapy_value_of_the_wrong_type_on_the_command_line_exits_2(tmp_path: Path) -> None:
    path = with_scrapy(tmp_path, 'DOWNLOAD_DELAY = "fast"')
    result = run_cli("crawl", config=path)
    message = f"{path}: [scrapy] DOWNLOAD_DELAY: expected a number, got 'fast'"
    assert (result.returncode, result.stderr.splitlines()) == (
        2,
        [f"newsarchive: config error: {message}"],
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///news.db", "sqlite:///{base}/news.db"),
        (
            "sqlite+pysqlite:///../shared/news.db?timeout=5",
            "sqlite+pysqlite:///{up}/shared/news.db?timeout=5",
        ),
        ("sqlite:////srv/news.db", "sqlite:////srv/news.db"),
        ("sqlite:///:memory:", "sqlite:///:memory:"),
        ("sqlite://", "sqlite://"),
        ("postgresql+psycopg://db/news", "postgresql+psycopg://db/news"),
    ],
    ids=["relative", "driver-and-query", "absolute", "memory", "empty", "postgresql"],
)
def test_a_relative_sqlite_path_is_relative_to_the_config_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, url: str, expected: str
) -> None:
    folder = tmp_path / "conf"
    folder.mkdir()
    monkeypatch.chdir(tmp_path)
    config = load_config(write(folder, GOOD.replace("sqlite:///news.db", url)))
    assert config.database_url == expected.format(base=folder, up=tmp_path)


def test_a_relative_sqlite_path_from_the_environment_is_relative_to_the_current_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("NEWSARCHIVE_DATABASE_URL", "sqlite:///here.db")
    assert load_config(write(tmp_path, GOOD)).database_url == "sqlite:///here.db"
