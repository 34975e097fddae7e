"""`newsarchive demo` and `newsarchive extract`, run as a user runs them."""

from __future__ import annotations

import gzip
import json
import sqlite3
from pathlib import Path

from tests.cli_process import REPOSITORY, TESTS, invoke_cli, run_cli

PAGES = TESTS / "fixtures" / "pages"


def test_demo_crawls_the_bundled_site_into_a_fresh_sqlite_file(tmp_path: Path) -> None:
    # From the repository root, where a checkout could shadow the installed package.
    result = run_cli("demo", "--dir", str(tmp_path), cwd=REPOSITORY)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Crawl summary" in out
    row = summary_row(out)
    assert row["status"] == "ok" and int(row["pages"]) > 0
    counts = [int(row[k]) for k in ("new", "updated", "unchanged", "duplicates", "errors")]
    assert counts == [10, 0, 0, 1, 0]
    assert out.count("\n## ") == 3
    assert "Advertisement" not in out

    db = tmp_path / "newsarchive-demo.db"
    with sqlite3.connect(db) as connection:
        assert connection.execute("SELECT count(*) FROM articles").fetchone() == (11,)
        assert connection.execute(
            "SELECT count(*) FROM articles WHERE duplicate_of IS NOT NULL"
        ).fetchone() == (1,)

    # The config the demo leaves behind opens its archive, WARC files included.
    config = tmp_path / "newsarchive-demo.toml"
    assert f"--config {config} raw 1" in out
    raw = invoke_cli("raw", "1", config=config)
    assert raw.returncode == 0, raw.stderr
    assert "<html" in raw.stdout.lower()
    found = invoke_cli("search", "夜市", "--format", "jsonl", config=config)
    assert found.returncode == 0 and "night-market" in found.stdout

    # A second demo starts from a fresh file, not on top of the first.
    again = run_cli("demo", "--dir", str(tmp_path))
    assert again.returncode == 0, again.stderr
    assert (summary_row(again.stdout)["new"], summary_row(again.stdout)["duplicates"]) == (
        "10",
        "1",
    )


def summary_row(out: str) -> dict[str, str]:
    """The demo source's row of the summary table, by column name."""
    lines = out.splitlines()
    header = next(line.split() for line in lines if line.startswith("source"))
    cells = next(line.split() for line in lines if line.startswith("riverside"))
    return dict(zip(header, cells, strict=True))


def test_extract_prints_one_json_object_per_file_and_reads_gzip(tmp_path: Path) -> None:
    page = PAGES / "zh_gbk_portal_article.html"
    expected = json.loads((PAGES / "zh_gbk_portal_article.expected.json").read_text("utf-8"))
    gz = tmp_path / "saved.html.gz"
    gz.write_bytes(gzip.compress(page.read_bytes()))

    result = run_cli("extract", str(page), str(gz), "--url", expected["url"])
    assert result.returncode == 0, result.stderr
    plain, zipped = (json.loads(line) for line in result.stdout.splitlines())
    assert plain["file"] == str(page) and zipped["file"] == str(gz)
    assert set(plain) == {
        "file", "title", "text", "authors", "published_at", "language", "top_image", "section",
        "tags",
    }  # fmt: skip
    assert {k: v for k, v in plain.items() if k != "file"} == {
        k: v for k, v in zipped.items() if k != "file"
    }
    # The CLI prints what a crawl extracts: the fixture pins that, paragraph by paragraph.
    pinned = expected["expected"]
    assert plain["text"].split("\n") == pinned["text"]
    for key in ("title", "authors", "published_at", "language"):
        assert plain[key] == pinned[key], key
    for junk in expected["absent"]:
        assert junk not in plain["text"]


def test_extract_of_a_missing_file_fails_but_does_the_others(tmp_path: Path) -> None:
    page = PAGES / "en_news_article.html"
    result = run_cli("extract", str(tmp_path / "missing.html"), str(page))
    assert result.returncode == 1
    assert "missing.html: cannot read" in result.stderr
    (record,) = (json.loads(line) for line in result.stdout.splitlines())
    assert record["file"] == str(page) and record["text"]


def test_help_explains_every_command() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("db", "crawl", "export", "extract", "demo"):
        assert command in result.stdout
    export_help = invoke_cli("export", "--help").stdout
    assert "canonical_url" in export_help and "--all-versions" in export_help
