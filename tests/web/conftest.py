"""The web tests' archive, built once per module, and a "live site" that counts requests."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from newsarchive.config import Config, load_config
from newsarchive.storage import create_archive_engine, ensure_schema
from tests.conftest import fresh_pg_database
from tests.web.corpus import WebCorpus, build_web_corpus

LOOPBACK = "http://127.0.0.1"
"""The base URL of test clients: a tokenless UI answers only to loopback names."""


class LiveSite:
    """A loopback server standing in for the archived site: a capture must never reach it."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        site = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                site.requests.append(self.path)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@dataclass
class WebArchive:
    config_path: Path
    config: Config
    corpus: WebCorpus
    live_site: LiveSite


def write_config(directory: Path, database_url: str, token: str | None = None) -> Path:
    path = directory / "newsarchive.toml"
    serve = f'\n[serve]\ntoken = "{token}"\n' if token else ""
    path.write_text(
        f"""
[database]
url = "{database_url}"
[archive]
warc_dir = "warc"
{serve}
[[sources]]
name = "xinhua"
feeds = ["http://news.test/feed.xml"]
[[sources]]
name = "harbour"
feeds = ["http://news.test/harbour.xml"]
""",
        encoding="utf-8",
    )
    return path


def build_web_archive(directory: Path, database_url: str, live_site: LiveSite) -> WebArchive:
    config_path = write_config(directory, database_url)
    config = load_config(config_path)
    engine = create_archive_engine(database_url)
    try:
        ensure_schema(engine)
        corpus = build_web_corpus(engine, config.warc_dir, live_site.url)
    finally:
        engine.dispose()
    return WebArchive(config_path, config, corpus, live_site)


@pytest.fixture(scope="module")
def live_site() -> Iterator[LiveSite]:
    site = LiveSite()
    yield site
    site.close()


@pytest.fixture(scope="module")
def sqlite_archive(tmp_path_factory: pytest.TempPathFactory, live_site: LiveSite) -> WebArchive:
    directory = tmp_path_factory.mktemp("web")
    return build_web_archive(directory, f"sqlite:///{directory / 'archive.db'}", live_site)


@pytest.fixture(scope="module")
def module_pg_url() -> Iterator[str]:
    """A PostgreSQL database for the whole module (the archive is built once)."""
    with fresh_pg_database() as url:
        yield url


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def web_archive(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, live_site: LiveSite
) -> WebArchive:
    """The archive on SQLite, then on PostgreSQL: for tests where the dialect matters."""
    if request.param == "sqlite":
        return request.getfixturevalue("sqlite_archive")
    directory = tmp_path_factory.mktemp("web-pg")
    return build_web_archive(directory, request.getfixturevalue("module_pg_url"), live_site)
