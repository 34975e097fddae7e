"""Who may reach the UI, what it may do to the archive, and what a capture may do to a reader."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from newsarchive.config import ArchiveConfig, load_config
from newsarchive.web import create_app
from newsarchive.web.capture import safe_capture
from newsarchive.web.database import SchemaMismatch, open_read_only
from tests.cli_process import run_cli
from tests.web.conftest import LOOPBACK, WebArchive, write_config
from tests.web.corpus import TRADE_TITLE, capture_html

TOKEN = "s3cret-token-of-some-length"


@pytest.fixture(scope="module")
def guarded(sqlite_archive: WebArchive) -> Iterator[TestClient]:
    """The module's archive served with ``[serve] token`` set."""
    directory = sqlite_archive.config_path.parent / "guarded"
    directory.mkdir()
    config = load_config(write_config(directory, sqlite_archive.config.database_url, TOKEN))
    with TestClient(create_app(config), base_url=LOOPBACK) as client:
        yield client


@pytest.mark.parametrize("path", ["/", "/api/stats", "/api/openapi.json", "/static/style.css"])
def test_with_a_token_set_no_request_gets_through_without_it(
    guarded: TestClient, path: str
) -> None:
    assert guarded.get(path).status_code == 401
    assert guarded.get(path, headers={"X-Newsarchive-Token": TOKEN[:-1] + "x"}).status_code == 401
    assert guarded.get(path, headers={"X-Newsarchive-Token": TOKEN}).status_code == 200
    assert guarded.get(path, headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 200


def test_a_token_in_the_link_opens_the_ui_and_is_kept_in_a_cookie(guarded: TestClient) -> None:
    first = guarded.get("/", params={"token": TOKEN})
    assert first.status_code == 200
    assert "HttpOnly" in first.headers["set-cookie"]
    assert "SameSite=Strict" in first.headers["set-cookie"]
    assert guarded.get("/sources").status_code == 200  # the browser sends the cookie
    guarded.cookies.clear()
    assert guarded.get("/sources").status_code == 401


def test_without_a_token_only_loopback_names_are_answered(sqlite_archive: WebArchive) -> None:
    with TestClient(create_app(sqlite_archive.config), base_url=LOOPBACK) as client:
        assert client.get("/api/stats").status_code == 200
        for name in ("localhost:8080", "[::1]:8080"):
            assert client.get("/api/stats", headers={"Host": name}).status_code == 200
        # A page whose name was re-pointed at 127.0.0.1 (DNS rebinding) is not answered.
        assert client.get("/api/stats", headers={"Host": "evil.example"}).status_code == 400


def test_serve_refuses_an_address_off_loopback_without_a_token(tmp_path: Path) -> None:
    config = write_config(tmp_path, f"sqlite:///{tmp_path / 'archive.db'}")
    result = run_cli("serve", "--listen", "0.0.0.0:8080", config=config, timeout=60)
    assert result.returncode == 2
    assert "refusing to listen on 0.0.0.0" in result.stderr
    assert "[serve] token" in result.stderr
    # On loopback it gets as far as the database, which it will not create.
    result = run_cli("serve", "--listen", "127.0.0.1:1", config=config, timeout=60)
    assert result.returncode == 3
    assert "does not exist" in result.stderr
    assert not (tmp_path / "archive.db").exists()


def test_the_archive_is_opened_read_only(engine, database_url: str) -> None:  # type: ignore[no-untyped-def]
    read_only = open_read_only(database_url)
    try:
        with read_only.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM sources")).scalar() == 0
            with pytest.raises(DBAPIError, match=r"read-only|readonly"):
                connection.execute(
                    text("INSERT INTO sources (name, created_at) VALUES ('x', '2024-01-01')")
                )
    finally:
        read_only.dispose()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM sources")).scalar() == 0


def test_a_database_not_at_this_schema_is_refused_not_migrated(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as other:  # a database, but no newsarchive schema
        other.execute("CREATE TABLE notes (body TEXT)")
    with pytest.raises(SchemaMismatch, match="newsarchive db upgrade"):
        open_read_only(f"sqlite:///{path}")
    with sqlite3.connect(path) as other:
        tables = other.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    assert tables == [("notes",)]


def test_a_capture_keeps_its_text_and_loses_scripts_and_live_urls() -> None:
    live = "http://live.example"
    html = safe_capture(capture_html(live), "gb18030")
    assert "<h1" in html and TRADE_TITLE in html
    gone = ["<script", "onload", "onerror", "javascript:", "<iframe", "<form", "<base", "<link"]
    for markup in [*gone, "http-equiv", f"url({live}"]:
        assert markup not in html, markup
    assert not re.search(rf'\s(src|srcset|href|action)="{live}', html)
    assert f'data-archived-src="{live}/photo.jpg"' in html


def test_the_capture_is_served_sandboxed(sqlite_archive: WebArchive) -> None:
    with TestClient(create_app(sqlite_archive.config), base_url=LOOPBACK) as client:
        response = client.get(f"/captures/{sqlite_archive.corpus.trade}/1")
        assert response.status_code == 200
        policy = response.headers["content-security-policy"]
        assert policy.startswith("sandbox;") and "default-src 'none'" in policy
        assert "script-src" not in policy
        assert client.get(f"/captures/{sqlite_archive.corpus.hostile}/1").status_code == 404


def test_a_capture_whose_warc_file_is_gone_is_a_logged_404(
    sqlite_archive: WebArchive, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    moved = sqlite_archive.config.model_copy(
        update={"archive": ArchiveConfig(warc_dir=tmp_path / "empty")}
    )
    with TestClient(create_app(moved), base_url=LOOPBACK) as client:
        response = client.get(f"/captures/{sqlite_archive.corpus.trade}/1")
        assert response.status_code == 404
        assert "the capture cannot be read" in response.text
        assert client.get(f"/articles/{sqlite_archive.corpus.trade}").status_code == 200
    assert f"capture of article {sqlite_archive.corpus.trade} version 1 unreadable" in caplog.text
