"""Whole crawls of the fixture news site, run as a user would: `newsarchive crawl`, then `export`.

What the site holds and what a crawl must make of it is listed in
tests/fixtures/site/MANIFEST.md.
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

import pytest

from newsarchive.storage import create_archive_engine
from newsarchive.storage.runs import recent_runs
from tests.cli_process import invoke_cli, run_cli
from tests.fixture_server import FixtureServer, Response

# Distinctive sentences of every article that must be stored (path → sentence).
ARTICLES = {
    "/news/2024/05/harbour-bridge-reopens.html":
        "The original turning gear, cast in Sheffield in 1911, has been donated to the town",
    "/news/2024/05/ferry-timetable-changes.html":
        "Islanders have started a petition asking for the 10.30pm sailing to be kept on Fridays "
        "and Saturdays.",
    "/news/2024/05/fish-market-prices.html":
        "At the Tuesday auction a box of mackerel sold for 38 pounds, compared with 24 pounds at "
        "the same sale last May.",
    "/news/2024/05/council-approves-seawall.html":
        "Work is due to start in September and will be carried out in four stages",
    "/news/2024/05/rowing-club-centenary.html":
        "The oldest competitor was 84-year-old Margaret Ellis",
    "/news/2024/05/old-customs-house-museum.html":
        "Volunteers have already catalogued more than four thousand objects",
    "/news/2024/05/storm-cleanup-volunteers.html":
        "By lunchtime the volunteers had filled 214 sacks",
    "/flaky.html": "Coxswain Ruth Jago said the kayakers had done exactly the right thing",
    "/busy.html": "The old float gauge, installed in a stone well in 1962",
    "/wire/2024/05/fish-market-prices.html": "At the Tuesday auction a box of mackerel sold for 38",
    "/intl/zh-gbk-header.html": "首班列车于早上六点整从海港站驶出，车厢内坐满了前来体验的市民。",
    "/intl/zh-gbk-meta.html": "改造后的市场一共有一百二十个摊位",
    "/intl/zh-gb18030-undeclared.html": "渔船靠岸后两个小时之内，新鲜的海鱼就会被打包装箱",
    "/intl/zh-tw-big5-meta.html": "主辦單位特別邀請老街上的百年餅舖現場示範傳統糕餅製作",
    "/intl/ja-shiftjis-header.html": "最後の日には、開店前から千人を超える客が岸壁に列を作り",
    "/intl/ko-euckr-meta.html": "축제 첫날 저녁에는 해변 무대에서 불꽃놀이가 열려",
    "/intl/ru-cp1251-undeclared.html":
        "Первыми пассажирами нового терминала стали туристы с теплохода «Северная звезда»",
    "/intl/fr-cp1252-header-latin1.html": "Le kilo de noix s’est vendu 42 € sur les étals du quai",
    "/intl/de-utf8-header-wrong.html": "Für das Fischbrötchen mussten Besucher am Samstag",
}  # fmt: skip
LANGUAGES = {
    "zh-gbk-header": "zh",
    "zh-tw-big5-meta": "zh",
    "ja-shiftjis-header": "ja",
    "ko-euckr-meta": "ko",
    "ru-cp1251-undeclared": "ru",
    "fr-cp1252": "fr",
    "de-utf8": "de",
}
BOILERPLATE = ["Advertisement", "Sign up for our newsletter", "Share this", "comments"]

TEST_SCRAPY = """
[scrapy]
AUTOTHROTTLE_ENABLED = false
DOWNLOAD_DELAY = 0
DOWNLOAD_TIMEOUT = 1.5
RETRY_BACKOFF_BASE = 0.2
"""
# For the small crawls: extraction in the crawl's own process (the full crawl and
# test_extraction_processes run it in worker processes, the default).
SMALL_SCRAPY = TEST_SCRAPY + "NEWSARCHIVE_EXTRACT_PROCESSES = 0\n"


# A user journey runs once, on PostgreSQL, the production database (the demo tests crawl into
# SQLite). Each dialect's own code (locks, upserts, search, clusters) is unit-tested on both
# databases in tests/storage and tests/crawler; running every journey twice only doubled the
# suite's time.
@pytest.fixture
def database_url(pg_url: str) -> str:
    return pg_url


def write_config(tmp_path: Path, site: FixtureServer, database_url: str, extra: str = "") -> Path:
    base = site.url
    path = tmp_path / "newsarchive.toml"
    path.write_text(
        f"""
[database]
url = "{database_url}"

[crawl]
contact_url = "https://archive.example.org/crawler"
allow_private_networks = ["127.0.0.1/32"]
{TEST_SCRAPY}
[[sources]]
name = "harbour"
# The private page as a start URL too: it is queued while robots.txt is still
# being fetched, and must obey it all the same.
start_urls = ["{base}/", "{base}/private/secret.html"]
feeds = ["{base}/feeds/rss.xml", "{base}/feeds/rss1.rdf", "{base}/feeds/atom.xml"]
sitemaps = ["{base}/robots.txt"]
{extra}
""",
        encoding="utf-8",
    )
    return path


def export(config: Path, *args: str) -> list[dict]:
    result = invoke_cli("export", *args, config=config)
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]


def path_of(url: str, site: FixtureServer) -> str:
    assert url.startswith(site.url), url
    return url[len(site.url) :]


def test_full_crawl_stores_each_story_once_clean_and_decoded(
    tmp_path: Path, fresh_site: FixtureServer, database_url: str
) -> None:
    config = write_config(tmp_path, fresh_site, database_url)
    result = run_cli("crawl", "--format", "json", config=config)
    assert result.returncode == 0, result.stderr
    (summary,) = json.loads(result.stdout)
    assert summary["status"] == "ok"
    assert (summary["new"], summary["duplicates"], summary["updated"]) == (18, 1, 0)
    # loop, two 404s, oversized, too slow, the PDF the sitemap lists, and an image
    # without an extension; the home page's link to a .png is not followed at all
    assert summary["errors"] == 7, result.stderr

    records = export(config)
    by_path = {path_of(r["url"], fresh_site): r for r in records}
    assert set(by_path) == set(ARTICLES)
    for path, sentence in ARTICLES.items():
        record = by_path[path]
        assert sentence in record["text"], f"{path}: text lacks its sentence"
        assert record["version"] == 1
        assert record["canonical_url"] == fresh_site.url + path
        for junk in BOILERPLATE:
            assert junk not in record["text"], f"{path}: {junk!r} left in the text"
        assert "\n\n" not in record["text"]
        assert record["published_at"] and record["published_at"][-6] in "+-"
        assert set(record) == {
            "id", "source", "url", "canonical_url", "title", "authors", "published_at",
            "language", "text", "content_hash", "duplicate_of", "version", "fetched_at",
            "removed_at", "published_at_source", "access",
        }  # fmt: skip
    for stem, language in LANGUAGES.items():
        (record,) = [r for p, r in by_path.items() if stem in p]
        assert record["language"] == language, record["url"]

    english = by_path["/news/2024/05/harbour-bridge-reopens.html"]
    assert english["title"].startswith("Swing bridge over Kestrel Harbour reopens")
    assert english["authors"] == ["Jane Doe"] and english["language"] == "en"
    assert by_path["/intl/zh-gbk-header.html"]["title"] == "滨海新城地铁三号线今日开通试运营"

    # The wire copy and the original: one links to the other (whichever was stored first).
    original = by_path["/news/2024/05/fish-market-prices.html"]
    copy = by_path["/wire/2024/05/fish-market-prices.html"]
    first, second = sorted([original, copy], key=lambda r: r["duplicate_of"] is not None)
    assert first["duplicate_of"] is None and second["duplicate_of"] == first["id"]
    assert original["content_hash"] == copy["content_hash"]
    assert sum(r["duplicate_of"] is not None for r in records) == 1

    # What the server saw: polite, and each disguised URL fetched once.
    paths = fresh_site.paths()
    assert not any(p.startswith("/private/") for p in paths)
    assert "/media/harbour-crane.png" not in paths
    assert paths.count("/files/report.pdf") == 1  # listed by the sitemap, not followed
    assert not any("utm_" in p or "fbclid" in p for p in paths)
    assert paths.count("/news/2024/05/ferry-timetable-changes.html") == 1
    agents = {r.headers.get("User-Agent") for r in fresh_site.requests}
    assert agents == {"newsarchive/0.1.0 (+https://archive.example.org/crawler)"}
    assert fresh_site.count("/flaky.html") == 3  # 503, 503, 200
    assert "forbidden by robots.txt" in result.stderr
    # Retries wait RETRY_BACKOFF_BASE × 2^n; a Retry-After header longer than that wins.
    assert f"retrying {fresh_site.url}/flaky.html in 0.2s after HTTP 503" in result.stderr
    assert f"retrying {fresh_site.url}/flaky.html in 0.4s after HTTP 503" in result.stderr
    assert f"retrying {fresh_site.url}/busy.html in 1.0s after HTTP 429" in result.stderr

    engine = create_archive_engine(database_url)
    (run,) = recent_runs(engine)
    engine.dispose()
    assert (run.status, run.new, run.duplicates, run.errors) == ("ok", 18, 1, 7)
    assert run.finished_at is not None and run.pages == summary["pages"] > 0

    # A second crawl of the unchanged site stores nothing new: the start page, the
    # feeds and robots.txt (for its sitemaps) answer 304, so nothing is parsed.
    result = run_cli("crawl", "--format", "json", config=config)
    assert result.returncode == 0, result.stderr
    (again,) = json.loads(result.stdout)
    assert (again["new"], again["updated"], again["unchanged"]) == (0, 0, 0)
    assert again["not_modified"] == 5
    assert len(export(config, "--all-versions")) == 19


def test_changed_story_becomes_version_two_and_keeps_version_one(
    tmp_path: Path, fresh_site: FixtureServer, sqlite_url: str
) -> None:
    config = tmp_path / "newsarchive.toml"
    config.write_text(
        f'[database]\nurl = "{sqlite_url}"\n{SMALL_SCRAPY}\n'
        '[crawl]\nallow_private_networks = ["127.0.0.1/32"]\n'
        # Known stories are re-fetched on every crawl (the default waits an hour).
        '[[recrawl]]\nyounger_than = "7d"\nevery = "0s"\n'
        f'[[sources]]\nname = "harbour"\nfeeds = ["{fresh_site.url}/feeds/rss1.rdf"]\n',
        encoding="utf-8",
    )
    assert run_cli("crawl", config=config).returncode == 0
    page = "/news/2024/05/rowing-club-centenary.html"
    html = fresh_site.read_file(page).decode("utf-8")
    added = "Late on Sunday the club announced a second regatta for the autumn."
    marker = "The oldest competitor was"
    assert marker in html
    fresh_site.set_file(page, html.replace(marker, f"{added} {marker}", 1).encode("utf-8"))

    result = run_cli("crawl", "--format", "json", config=config)
    assert result.returncode == 0, result.stderr
    (summary,) = json.loads(result.stdout)
    # The feed and the four unchanged stories answer 304.
    assert (summary["new"], summary["updated"], summary["not_modified"]) == (0, 1, 5)

    versions = [r for r in export(config, "--all-versions") if r["url"].endswith(page)]
    assert [v["version"] for v in versions] == [1, 2]
    assert added not in versions[0]["text"] and added in versions[1]["text"]
    assert len({v["id"] for v in versions}) == 1
    (latest,) = [r for r in export(config) if r["url"].endswith(page)]
    assert latest["version"] == 2


def test_the_site_on_a_private_address_is_not_fetched_unless_allowed(
    tmp_path: Path, fresh_site: FixtureServer
) -> None:
    """The site on 127.0.0.1 is refused by its address, by a name that resolves to it, and at
    the end of a redirect from an allowed address; each refusal is logged and counted."""
    database = tmp_path / "archive.db"
    site = fresh_site.url
    with FixtureServer(host="127.0.0.2") as relay:
        relay.add_route("/moved", lambda r: Response(302, {"Location": f"{site}/feeds/atom.xml"}))
        config = tmp_path / "newsarchive.toml"
        config.write_text(
            f'[database]\nurl = "sqlite:///{database}"\n{SMALL_SCRAPY}\n'
            # The relay only: 127.0.0.1 stays refused, as every private address is by default.
            '[crawl]\nallow_private_networks = ["127.0.0.2/32"]\n'
            f'[[sources]]\nname = "harbour"\nfeeds = ["{site}/feeds/rss.xml", '
            f'"http://localhost:{fresh_site.port}/feeds/rss1.rdf"]\n'
            f'[[sources]]\nname = "relay"\nfeeds = ["{relay.url}/moved"]\n'
            'allowed_domains = ["127.0.0.2", "127.0.0.1"]\n',
            encoding="utf-8",
        )
        result = run_cli("crawl", "--format", "json", config=config)
        assert relay.paths() == ["/robots.txt", "/moved"]
        moved = f"{relay.url}/moved"

    assert fresh_site.requests == []
    harbour, relayed = json.loads(result.stdout)
    assert (harbour["status"], harbour["errors"]) == ("failed", 2)
    assert "private addresses refused" in harbour["error"]
    assert (relayed["status"], relayed["errors"]) == ("ok", 1)
    with sqlite3.connect(database) as db:
        assert db.execute("SELECT count(*) FROM articles").fetchone() == (0,)
    refused = "private address refused: {}, not in [crawl] allow_private_networks"
    for line in (
        f"[harbour] fetch failed ({refused.format('127.0.0.1 (loopback)')}): {site}/feeds/rss.xml",
        f"[harbour] fetch failed ({refused.format('localhost -> 127.0.0.1 (loopback)')}): "
        f"http://localhost:{fresh_site.port}/feeds/rss1.rdf",
        f"[relay] fetch failed ({refused.format('127.0.0.1 (loopback)')}; redirected from "
        f"{moved}): {site}/feeds/atom.xml",
    ):
        assert line in result.stderr


@dataclass(frozen=True)
class AsiaCrawl:
    config: Path
    stdout: str


@pytest.fixture(scope="module")
def asia_crawl(site_server: FixtureServer, tmp_path_factory: pytest.TempPathFactory) -> AsiaCrawl:
    """One crawl of the "asia" source (RSS 1.0 feed, five stories) shared by the tests below.

    They only read the archive it makes.
    """
    base = site_server.url
    tmp_path = tmp_path_factory.mktemp("asia")
    config = tmp_path / "newsarchive.toml"
    config.write_text(
        f'[database]\nurl = "sqlite:///{tmp_path / "archive.db"}"\n{SMALL_SCRAPY}\n'
        '[crawl]\nallow_private_networks = ["127.0.0.1/32"]\n'
        f'[[sources]]\nname = "asia"\nfeeds = ["{base}/feeds/rss1.rdf"]\n'
        f'[[sources]]\nname = "elsewhere"\nfeeds = ["http://127.0.0.1:9/feed.xml"]\n',
        encoding="utf-8",
    )
    result = run_cli("crawl", "--source", "asia", config=config)
    assert result.returncode == 0, result.stderr
    return AsiaCrawl(config, result.stdout)


def test_only_the_named_source_is_crawled_and_csv_export(asia_crawl: AsiaCrawl) -> None:
    config = asia_crawl.config
    assert "asia" in asia_crawl.stdout and "elsewhere" not in asia_crawl.stdout

    out = invoke_cli("export", "--format", "csv", "--source", "asia", config=config)
    rows = list(csv.DictReader(io.StringIO(out.stdout)))
    assert len(rows) == 5 and {r["source"] for r in rows} == {"asia"}
    assert list(rows[0]) == [
        "id",
        "source",
        "url",
        "canonical_url",
        "title",
        "authors",
        "published_at",
        "language",
        "text",
        "content_hash",
        "duplicate_of",
        "version",
        "fetched_at",
        "removed_at",
        "published_at_source",
        "access",
    ]
    assert all(isinstance(json.loads(r["authors"]), list) for r in rows)
    assert invoke_cli("export", "--source", "elsewhere", config=config).stdout == ""


@pytest.mark.parametrize("since, expected", [("2000-01-01", 5), ("2999-01-01T00:00+02:00", 0)])
def test_export_since(asia_crawl: AsiaCrawl, since: str, expected: int) -> None:
    assert len(export(asia_crawl.config, "--since", since)) == expected


def test_crawl_with_unreachable_database_fails_with_exit_3(
    tmp_path: Path, site_server: FixtureServer
) -> None:
    config = write_config(tmp_path, site_server, "postgresql+psycopg://nobody@127.0.0.1:1/none")
    result = run_cli("crawl", config=config)
    assert result.returncode == 3
    assert result.stderr.startswith(
        "newsarchive: database postgresql+psycopg://nobody@127.0.0.1:1/"
    )
    assert "unreachable" in result.stderr and "Traceback" not in result.stderr
