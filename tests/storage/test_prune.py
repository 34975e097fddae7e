"""Retention (`newsarchive prune`): removes exactly what its dry run reports, in one transaction."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text, update

from newsarchive.storage import read_session, write_session
from newsarchive.storage.models import ArticleVersion
from newsarchive.storage.prune import prune_articles
from newsarchive.storage.search import search_articles
from tests.archive_corpus import build_corpus
from tests.cli_process import run_cli

BEFORE = datetime(2024, 6, 5, tzinfo=UTC)  # bridge (3rd), mackerel and its copy (4th)


def counts(engine) -> dict[str, int]:
    with read_session(engine) as session:
        return {
            table: session.scalar(text(f"SELECT count(*) FROM {table}"))
            for table in ("articles", "article_versions", "article_search")
        }


@pytest.fixture
def archive(engine, tmp_path):
    corpus = build_corpus(engine)
    warc = tmp_path / "warc"
    warc.mkdir()
    placed = {"bridge": "a.warc.gz", "mackerel": "a.warc.gz", "mackerel_copy": "b.warc.gz"}
    placed |= {"metro": "b.warc.gz", "seawall": "c.warc.gz"}
    with write_session(engine) as session:
        for key, name in placed.items():
            session.execute(
                update(ArticleVersion)
                .where(ArticleVersion.article_id == corpus[key])
                .values(warc_file=name, warc_offset=0)
            )
    for name in set(placed.values()):
        (warc / name).write_bytes(b"WARC")
    return corpus, warc


def test_dry_run_reports_exactly_what_a_run_removes(engine, archive) -> None:
    corpus, warc = archive
    before = counts(engine)
    dry = prune_articles(engine, BEFORE, dry_run=True, warc_dir=warc, delete_warc=True)
    assert counts(engine) == before
    assert sorted(dry.article_ids) == sorted(
        [corpus["bridge"], corpus["mackerel"], corpus["mackerel_copy"]]
    )
    assert dry.versions == 3 and dry.unreferenced_warc == ["a.warc.gz"] and not dry.deleted_warc
    assert (warc / "a.warc.gz").exists()

    real = prune_articles(engine, BEFORE, warc_dir=warc)
    assert (real.article_ids, real.versions, real.unreferenced_warc) == (
        dry.article_ids,
        dry.versions,
        dry.unreferenced_warc,
    )
    after = counts(engine)
    assert {k: before[k] - after[k] for k in before} == {
        "articles": 3,
        "article_versions": 3,
        "article_search": 3,
    }
    assert (warc / "a.warc.gz").exists()  # only --delete-warc deletes
    with read_session(engine) as session:
        assert search_articles(session, "mackerel", include_duplicates=True) == []
        assert session.scalar(select(func.count()).select_from(ArticleVersion)) == 7


def test_source_filter_and_nothing_to_do(engine, archive) -> None:
    corpus, warc = archive
    report = prune_articles(engine, BEFORE, source="wire", warc_dir=warc)
    assert report.article_ids == [corpus["mackerel_copy"]]
    assert report.unreferenced_warc == []  # metro still points into b.warc.gz
    assert prune_articles(engine, datetime(2000, 1, 1, tzinfo=UTC)).article_ids == []


def test_prune_command(database_url, engine, archive, tmp_path) -> None:
    _, warc = archive
    config = tmp_path / "newsarchive.toml"
    config.write_text(f'[database]\nurl = "{database_url}"\n[archive]\nwarc_dir = "warc"\n')
    args = ("prune", "--before", "2024-06-05", "--format", "json")
    dry = run_cli(*args, "--dry-run", "--delete-warc", config=config)
    assert dry.returncode == 0, dry.stderr
    real = run_cli(*args, "--delete-warc", config=config)
    assert real.returncode == 0, real.stderr
    dry_report, real_report = json.loads(dry.stdout), json.loads(real.stdout)
    assert dry_report["dry_run"] and not real_report["dry_run"]
    for key in ("article_ids", "versions", "unreferenced_warc", "articles"):
        assert dry_report[key] == real_report[key]
    assert real_report["deleted_warc"] == ["a.warc.gz"] and not (warc / "a.warc.gz").exists()
    assert (warc / "b.warc.gz").exists()
    table = run_cli("prune", "--before", "2024-06-09", "--dry-run", config=config)
    assert table.returncode == 0, table.stderr
    assert "would remove 4 articles and 4 versions" in table.stdout
