"""crawl_runs: statuses as RunStatus behind a CHECK constraint, counters as one record; and the
extractor version every stored version carries. On SQLite and PostgreSQL."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from newsarchive.storage import create_archive_engine, read_session
from newsarchive.storage.history import article_history
from newsarchive.storage.models import CrawlRun
from newsarchive.storage.raw import archived_responses
from newsarchive.storage.runs import (
    COUNTERS,
    RunCounters,
    RunRecord,
    RunStatus,
    abandon_run,
    finish_run,
    get_run,
    start_run,
)
from newsarchive.storage.schema import upgrade
from tests.storage.test_near_duplicates import STORY, fetched, store


def test_counters_record_drives_the_column_names() -> None:
    assert tuple(f.name for f in dataclasses.fields(RunCounters)) == COUNTERS
    assert set(COUNTERS) <= set(CrawlRun.__table__.columns.keys())
    assert COUNTERS[:3] == ("pages", "not_modified", "skipped")
    assert RunCounters(pages=2, new=1) + RunCounters(pages=1) == RunCounters(pages=3, new=1)
    assert RunCounters.from_mapping({"errors": 4}).as_dict()["errors"] == 4
    with pytest.raises(ValueError, match="pgaes"):
        RunCounters.from_mapping({"pgaes": 1})


def test_finish_run_stores_status_and_counters(engine) -> None:
    run_id = start_run(engine, "harbour")
    running = get_run(engine, run_id)
    assert running is not None and running.status is RunStatus.RUNNING
    counters = RunCounters(pages=7, not_modified=2, skipped=1, new=3, duplicates=1, errors=1)
    finish_run(engine, run_id, RunStatus.OK, counters, None)
    run = get_run(engine, run_id)
    assert isinstance(run, RunRecord) and run.status is RunStatus.OK
    assert run.counters == counters and run.pages == 7
    assert not abandon_run(engine, run_id, RunStatus.FAILED, "too late")
    with pytest.raises(ValueError):
        finish_run(engine, run_id, "finished", counters)


def test_check_constraint_refuses_unknown_statuses(engine) -> None:
    run_id = start_run(engine, "harbour")
    with pytest.raises(IntegrityError), engine.begin() as conn:
        conn.execute(text("UPDATE crawl_runs SET status = 'busy' WHERE id = :id"), {"id": run_id})
    assert get_run(engine, run_id).status is RunStatus.RUNNING


def test_extractor_version_is_stored_and_read_back(engine) -> None:
    store(engine, fetched("http://a.test/1", STORY, extractor_version="trafilatura-2.0/3"))
    store(engine, fetched("http://a.test/2", STORY[:3], raw_html=b"<p>old</p>"))
    store(
        engine,
        fetched("http://a.test/2", STORY[:4], raw_html=b"<p>new</p>", extractor_version="x/4"),
    )
    with read_session(engine) as session:
        assert [v.extractor_version for v in article_history(session, 1)] == ["trafilatura-2.0/3"]
        assert [v.extractor_version for v in article_history(session, 2)] == [None, "x/4"]
        responses = {r.article_id: r for r in archived_responses(session, None)}
    assert responses[2].extractor_version == "x/4" and responses[2].body == b"<p>new</p>"


def _seed_0004(url: str) -> None:
    """A 0004 archive: a run, a version linked to it, and a cluster rooted at an undated copy."""
    engine = create_archive_engine(url)
    upgrade(engine, "0004")
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO sources (id, name, created_at) VALUES (1, 's', :t)"), {"t": T}
        )
        conn.execute(
            text(
                "INSERT INTO crawl_runs (id, source_id, started_at, status, pages, new, updated,"
                " unchanged, duplicates, errors) VALUES (7, 1, :t, 'ok', 0, 0, 0, 0, 0, 0)"
            ),
            {"t": T},
        )
        for article_id, duplicate_of, published in ((1, None, None), (2, 1, T), (3, 1, None)):
            conn.execute(
                text(
                    "INSERT INTO articles (id, source_id, canonical_url, url, version,"
                    " duplicate_of, first_seen_at, last_fetched_at)"
                    " VALUES (:id, 1, :u, :u, 1, :dup, :t, :t)"
                ),
                {"id": article_id, "u": f"http://x.test/{article_id}", "dup": duplicate_of, "t": T},
            )
            conn.execute(
                text(
                    "INSERT INTO article_versions (article_id, version, url, authors, published_at,"
                    " text, content_hash, fetched_at, crawl_run_id)"
                    " VALUES (:id, 1, 'u', '[]', :p, 'same', 'h', :t, 7)"
                ),
                {"id": article_id, "p": published, "t": T},
            )
    engine.dispose()


T = "2024-05-01 09:00:00"


def test_migration_0005_keeps_run_links_and_re_roots_clusters(database_url: str) -> None:
    _seed_0004(database_url)
    engine = create_archive_engine(database_url)
    upgrade(engine)
    with engine.connect() as conn:
        links = conn.execute(text("SELECT crawl_run_id FROM article_versions")).scalars().all()
        roots = dict(conn.execute(text("SELECT id, duplicate_of FROM articles")).all())
    # SQLite rebuilds crawl_runs for the CHECK: the versions' links must survive the drop.
    assert links == [7, 7, 7]
    assert roots == {1: 2, 2: None, 3: 2}
    engine.dispose()


def test_migration_leaves_no_helper_tables_behind(tmp_path: Path) -> None:
    # The migration's temporary tables live in the connection, never in the database file.
    url = f"sqlite:///{tmp_path / 'a.db'}"
    _seed_0004(url)
    engine = create_archive_engine(url)
    upgrade(engine)
    with engine.connect() as conn:
        names = conn.execute(text("SELECT name FROM sqlite_master")).scalars().all()
    assert not [n for n in names if "saved_run_links" in n or "repoint" in n]
    engine.dispose()


def test_migration_0006_counts_store_errors_and_allows_degraded(database_url: str) -> None:
    from newsarchive.storage.schema import downgrade

    _seed_0004(database_url)
    engine = create_archive_engine(database_url)
    upgrade(engine, "0005")
    upgrade(engine)
    with engine.connect() as conn:
        links = conn.execute(text("SELECT crawl_run_id FROM article_versions")).scalars().all()
    # SQLite rebuilds crawl_runs again: the versions' links must survive it.
    assert links == [7, 7, 7]
    assert get_run(engine, 7).store_errors == 0

    run_id = start_run(engine, "s")  # the seeded source: its id was given, not drawn
    finish_run(engine, run_id, RunStatus.DEGRADED, RunCounters(new=3, errors=1, store_errors=2))
    assert get_run(engine, run_id).status is RunStatus.DEGRADED

    # 0005's code knows no degraded run: it lost stories, so it was not ok.
    downgrade(engine, "0005")
    with engine.connect() as conn:
        row = conn.execute(
            text("SELECT status, errors FROM crawl_runs WHERE id = :id"), {"id": run_id}
        ).one()
        links = conn.execute(text("SELECT crawl_run_id FROM article_versions")).scalars().all()
    assert tuple(row) == ("failed", 3) and links == [7, 7, 7]
    engine.dispose()
