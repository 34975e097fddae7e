"""A crawl archives responses as WARC; `raw` reads them back exactly; `reprocess` re-extracts."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from warcio.archiveiterator import ArchiveIterator

from newsarchive.config import load_config
from newsarchive.storage import create_archive_engine, read_session
from newsarchive.storage.models import Article, ArticleVersion
from tests.cli_process import invoke_cli, run_cli
from tests.fixture_server import FixtureServer

SITE = Path(__file__).parents[1] / "fixtures" / "site"
WARCIO = str(Path(sys.executable).with_name("warcio"))


# A user journey runs once, on PostgreSQL, the production database. Each dialect's own code
# (locks, upserts, search, clusters) is unit-tested on both databases in tests/storage and
# tests/crawler; running every journey twice only doubled the suite's time.
@pytest.fixture
def database_url(pg_url: str) -> str:
    return pg_url


def crawl(tmp_path: Path, site: FixtureServer, database_url: str) -> Path:
    config = tmp_path / "newsarchive.toml"
    config.write_text(
        f"""
[database]
url = "{database_url}"
[crawl]
allow_private_networks = ["127.0.0.1/32"]
[archive]
warc_dir = "archive-warc"
[scrapy]
AUTOTHROTTLE_ENABLED = false
DOWNLOAD_TIMEOUT = 1.5
RETRY_BACKOFF_BASE = 0.2
NEWSARCHIVE_EXTRACT_PROCESSES = 0
[[sources]]
name = "harbour"
feeds = ["{site.url}/feeds/atom.xml"]
""",
        encoding="utf-8",
    )
    result = run_cli("crawl", "--format", "json", config=config)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)[0]["new"] >= 5
    return config


def versions(database_url: str) -> dict[str, tuple[int, int, str | None]]:
    engine = create_archive_engine(database_url)
    with read_session(engine) as session:
        rows = session.execute(
            select(ArticleVersion.url, Article.id, ArticleVersion.version, ArticleVersion.warc_file)
            .join(Article, Article.id == ArticleVersion.article_id)
            .order_by(ArticleVersion.version)
        ).all()
    engine.dispose()
    return {url: (article_id, version, warc) for url, article_id, version, warc in rows}


def test_crawl_writes_valid_warc_that_raw_reads_back(
    tmp_path: Path, site_server: FixtureServer, database_url: str
) -> None:
    config = crawl(tmp_path, site_server, database_url)
    warc_dir = tmp_path / "archive-warc"
    files = sorted(warc_dir.iterdir())
    assert files and all(p.name.endswith(".warc.gz") for p in files)  # closed, renamed
    uris: dict[str, str] = {}
    for path in files:
        with open(path, "rb") as f:
            for record in ArchiveIterator(f):
                record.content_stream().read()
                assert record.rec_headers.get_header("WARC-Date")
                if record.rec_type == "response":
                    assert record.rec_headers.get_header("WARC-Payload-Digest").startswith("sha1:")
                uris[record.rec_headers.get_header("WARC-Target-URI") or ""] = record.rec_type
        assert subprocess.run([WARCIO, "check", str(path)], capture_output=True).returncode == 0
        assert subprocess.run([WARCIO, "index", str(path)], capture_output=True).returncode == 0
    assert f"{site_server.url}/feeds/atom.xml" in uris  # feeds are archived too

    stored = versions(database_url)
    page = "/news/2024/05/council-approves-seawall.html"
    article_id, _, warc_file = stored[site_server.url + page]
    assert warc_file in {p.name for p in files}
    assert all(warc for _, _, warc in stored.values())
    raw = subprocess.run(
        [str(Path(sys.executable).with_name("newsarchive")), "--config", str(config), "raw",
         str(article_id)],
        capture_output=True,
    )  # fmt: skip
    assert raw.returncode == 0, raw.stderr
    assert raw.stdout == (SITE / page.lstrip("/")).read_bytes()
    missing = invoke_cli("raw", "999999", config=config)
    assert missing.returncode == 1 and "no article" in missing.stderr


def test_reprocess_stores_new_versions_only_where_the_text_changed(
    tmp_path: Path, site_server: FixtureServer, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from newsarchive.crawler import pages
    from newsarchive.crawler import reprocess as module

    config_path = crawl(tmp_path, site_server, database_url)
    before = versions(database_url)
    current = module.reprocess(load_config(config_path))  # all made by today's extractor
    assert (current.examined, current.current) == (len(before), len(before))
    unchanged = module.reprocess(load_config(config_path), everything=True)
    assert unchanged.examined == len(before)
    assert unchanged.outcomes["updated"] == 0 and unchanged.outcomes["unchanged"] == len(before)

    # "A new extractor" that reads one page differently.
    changed_page = site_server.url + "/news/2024/05/council-approves-seawall.html"
    extract = pages.extract_article

    def new_extractor(html, url=None, **kw):
        result = extract(html, url, **kw)
        if url == changed_page:
            return type(result)(**{**result.__dict__, "text": result.text + "\nCorrection."})
        return result

    monkeypatch.setattr(pages, "extract_article", new_extractor)
    summary = module.reprocess(load_config(config_path), source="harbour", everything=True)
    assert summary.outcomes["updated"] == 1
    after = versions(database_url)
    assert after[changed_page][1] == before[changed_page][1] + 1
    assert after[changed_page][2] == before[changed_page][2]  # same archived response
    assert {u: v for u, v in after.items() if u != changed_page} == {
        u: v for u, v in before.items() if u != changed_page
    }
    # The unpatched extractor: the text changes back.
    again = run_cli("reprocess", "--all", config=config_path)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout)["updated"] == 1
