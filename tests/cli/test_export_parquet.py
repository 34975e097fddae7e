"""`newsarchive export --format parquet`: the same records as JSON lines, in a Parquet file."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from newsarchive.storage import (
    FetchedArticle,
    create_archive_engine,
    ensure_schema,
    save_article,
    write_session,
)
from tests.cli_process import invoke_cli, run_cli

pq = pytest.importorskip("pyarrow.parquet", reason="the optional 'parquet' extra is not installed")


def store(url: str, text: str, **kw: Any) -> None:
    engine = create_archive_engine(kw.pop("database_url"))
    ensure_schema(engine)
    with write_session(engine) as session:
        save_article(
            session,
            FetchedArticle(
                source="harbour",
                url=url,
                canonical_url=url,
                text=text,
                content_hash=hashlib.sha256(text.encode()).hexdigest(),
                **kw,
            ),
        )
    engine.dispose()


def test_parquet_export_holds_the_same_records_as_jsonl(tmp_path: Path, sqlite_url: str) -> None:
    published = datetime(2024, 5, 3, 9, 30, tzinfo=UTC)
    store(
        "http://a.test/1",
        "渡轮恢复运营。第一段。",
        database_url=sqlite_url,
        title="渡轮",
        authors=["李明", "Jane Doe"],
        published_at=published,
        language="zh",
    )
    store("http://a.test/2", "A second story.", database_url=sqlite_url)
    env = {"NEWSARCHIVE_DATABASE_URL": sqlite_url}
    out = tmp_path / "articles.parquet"

    result = run_cli("export", "--format", "parquet", "--output", str(out), env=env)
    assert result.returncode == 0, result.stderr
    table = pq.read_table(out)
    expected = [json.loads(line) for line in invoke_cli("export", env=env).stdout.splitlines()]
    assert table.column_names == list(expected[0])
    rows = table.to_pylist()
    assert [r["url"] for r in rows] == [e["url"] for e in expected]
    assert rows[0]["authors"] == ["李明", "Jane Doe"] and rows[0]["text"] == expected[0]["text"]
    assert rows[0]["published_at"] == published and rows[1]["published_at"] is None
    assert not list(tmp_path.glob("*.partial"))


def test_parquet_export_needs_an_output_file(sqlite_url: str) -> None:
    env = {"NEWSARCHIVE_DATABASE_URL": sqlite_url}
    result = invoke_cli("export", "--format", "parquet", env=env)
    assert result.returncode == 2
    assert "--output" in result.stderr
