"""Input a user gets wrong, a site that is down, a made-up file: one line, never a traceback."""

from __future__ import annotations

import asyncio
import gzip
import json
import logging
import os
import resource
import subprocess
from pathlib import Path

import pytest
from scrapy import Request
from scrapy.utils.test import get_crawler
from twisted.internet.error import ConnectionRefusedError

from newsarchive.crawler.middlewares import SharedRobotsTxtMiddleware
from tests.cli_process import NEWSARCHIVE, TESTS, run_cli

PAGE = TESTS / "fixtures" / "pages" / "en_news_article.html"
# The extract process needs about 250 MB of address space; the bomb inflates to 1 GiB,
# so reading it whole dies of MemoryError instead of passing.
ADDRESS_SPACE = 512 << 20


def _small_address_space() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def test_extract_stops_a_gzip_bomb_at_the_crawl_size_limit(tmp_path: Path) -> None:
    member = gzip.compress(bytes(16 << 20), compresslevel=9)  # ~16 KB
    bomb = tmp_path / "bomb.html.gz"
    bomb.write_bytes(member * 64)  # gzip members concatenated: one 1 GiB stream
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSARCHIVE_")}
    result = subprocess.run(
        [NEWSARCHIVE, "extract", str(bomb), str(PAGE)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        preexec_fn=_small_address_space,
    )
    assert result.returncode == 1, result.stderr
    (line,) = result.stderr.splitlines()
    assert line.endswith(
        f"ERROR newsarchive: {bomb}: larger than {10 << 20} bytes once decompressed "
        "(DOWNLOAD_MAXSIZE, the crawl's limit): not extracted"
    )
    (record,) = (json.loads(out) for out in result.stdout.splitlines())
    assert record["file"] == str(PAGE) and record["text"]


class DownEngine:
    """A Scrapy engine whose every download fails as a closed port's does."""

    def __init__(self) -> None:
        self.downloads: list[str] = []

    async def download_async(self, request: Request) -> None:
        self.downloads.append(request.url)
        raise ConnectionRefusedError()


def test_robots_txt_of_a_site_that_is_down_is_one_counted_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    crawler = get_crawler(settings_dict={"ROBOTSTXT_OBEY": True, "USER_AGENT": "test"})
    crawler.spider = crawler.spidercls.from_crawler(crawler)
    crawler.engine = engine = DownEngine()  # type: ignore[assignment]
    mw = SharedRobotsTxtMiddleware.from_crawler(crawler)

    async def two_pages() -> None:
        await mw.process_request(Request("http://127.0.0.1:9/"))
        await mw.process_request(Request("http://127.0.0.1:9/news/"))

    with caplog.at_level(logging.DEBUG):
        asyncio.run(two_pages())  # a robots.txt that cannot be had forbids nothing
    assert engine.downloads == ["http://127.0.0.1:9/robots.txt"]
    problems = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [(r.levelname, r.getMessage(), r.exc_info) for r in problems] == [
        (
            "WARNING",
            "robots.txt fetch failed (Connection was refused by other side.): "
            "http://127.0.0.1:9/robots.txt",
            None,
        )
    ]
    assert crawler.stats.get_value("newsarchive/errors") == 1


@pytest.mark.parametrize(
    "url",
    ["postgresql://u:s3cret-pw@127.0.0.1:1/x", "postgresql+nodriver://u:s3cret-pw@127.0.0.1:1/x"],
    ids=["closed-port", "no-such-driver"],
)
def test_daemon_with_an_unusable_database_is_one_line_and_exit_3(url: str, tmp_path: Path) -> None:
    config = tmp_path / "newsarchive.toml"
    config.write_text(
        f'[database]\nurl = "{url}"\n'
        '[[sources]]\nname = "down"\nstart_urls = ["http://127.0.0.1:9/"]\n'
    )
    result = run_cli("daemon", config=config, timeout=60)
    assert result.returncode == 3, result.stderr
    assert "s3cret-pw" not in result.stdout + result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith("newsarchive: database ") and "u:***@127.0.0.1:1/x" in line


def test_read_only_commands_do_not_create_a_database(tmp_path: Path) -> None:
    elsewhere, here = tmp_path / "elsewhere", tmp_path / "here"
    elsewhere.mkdir()
    here.mkdir()
    (elsewhere / "newsarchive.toml").write_text('[database]\nurl = "sqlite:///news.db"\n')
    config = Path("../elsewhere/newsarchive.toml")  # as typed in `here`
    database = elsewhere / "news.db"
    for command in (["stats"], ["db", "current"]):
        result = run_cli(*command, config=config, cwd=here)
        assert (result.returncode, result.stderr.splitlines()) == (
            3,
            [
                f"newsarchive: database sqlite:///{database} does not exist "
                "(run a crawl or newsarchive db upgrade first)"
            ],
        ), command
    assert not database.exists()
    # The path is the config file's, not the current folder's.
    assert run_cli("db", "upgrade", config=config, cwd=here).returncode == 0
    assert database.exists() and list(here.iterdir()) == []
