"""Importing WARC files and a WACZ from disk: stored stories, raw bytes, idempotence, resume."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import Engine, select, text

from newsarchive.config import Config, parse_config
from newsarchive.crawler.imports.run import ImportOptions, ImportSummary, import_archives
from newsarchive.storage import create_archive_engine, read_session
from newsarchive.storage.imports import import_files
from newsarchive.storage.models import Article, ArticleVersion, ImportFile, Source
from newsarchive.storage.raw import raw_response
from tests.imports.conftest import NEWS, OTHER, REVISIT_DAY, Corpus, archive_config


@dataclass
class Imported:
    config: Config
    engine: Engine
    summary: ImportSummary
    files: list[str]


def _articles(engine: Engine) -> dict[str, tuple[Article, list[ArticleVersion]]]:
    with read_session(engine) as session:
        rows = session.scalars(select(Article)).all()
        return {a.url: (a, list(a.versions)) for a in rows}


@pytest.fixture(scope="module")
def imported(corpus: Corpus, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Imported]:
    folder = tmp_path_factory.mktemp("archive")
    config = parse_config(archive_config(folder), folder / "newsarchive.toml")
    files = [str(corpus.mixed), str(corpus.plain), str(corpus.wacz)]
    summary = import_archives(config, files)
    engine = create_archive_engine(config.database_url)
    yield Imported(config, engine, summary, files)
    engine.dispose()


def test_every_html_story_is_stored_with_its_capture_date(
    imported: Imported, corpus: Corpus
) -> None:
    articles = _articles(imported.engine)
    assert set(articles) == corpus.stories
    for url, (article, versions) in articles.items():
        assert [v.fetched_at for v in versions] == [corpus.dates[url]]
        assert article.first_seen_at == corpus.dates[url]
    # The declared windows-1252 and the Shift_JIS named only in <meta> are both read right.
    assert "Déjà vu at the café" in articles[f"{NEWS}/2024/story-2"][1][0].text
    assert articles[f"{OTHER}/story-3"][1][0].title == "港町の朝市"
    assert "五十年の歴史" in articles[f"{OTHER}/story-3"][1][0].text


def test_summary_counts_skips_errors_and_the_revisit(imported: Imported) -> None:
    mixed, plain, wacz = imported.summary.files
    assert (mixed.new, mixed.skipped, mixed.revisits, mixed.unchanged, mixed.errors) == (
        3,
        2,  # the PNG and the 404
        1,
        1,  # the revisit: an unchanged fetch
        1,  # the truncated last record
    )
    assert (plain.new, plain.errors) == (2, 1)
    assert wacz.location.endswith("pack.wacz#archive/packed.warc.gz") and wacz.new == 2
    with read_session(imported.engine) as session:
        rows = {f.location: f for f in import_files(session)}
    assert {r.status for r in rows.values()} == {"done"}
    assert (
        rows[str(Path(imported.files[0]))].resume_offset == Path(imported.files[0]).stat().st_size
    )


def test_a_revisit_is_an_unchanged_fetch_at_its_own_date(imported: Imported) -> None:
    article, versions = _articles(imported.engine)[f"{NEWS}/2024/story-1"]
    assert len(versions) == 1
    assert article.last_fetched_at == REVISIT_DAY


def test_attribution_configured_source_else_host_source_marked_imported(
    imported: Imported,
) -> None:
    with read_session(imported.engine) as session:
        owners = dict(session.execute(select(Article.url, Source.name).join(Source)).all())
        flags = dict(session.execute(select(Source.name, Source.imported)).all())
    assert owners[f"{NEWS}/2024/story-1"] == "harbour"
    assert owners[f"{OTHER}/story-3"] == "other-test"
    assert flags == {"harbour": False, "other-test": True}


def test_raw_returns_the_imported_body_byte_for_byte(imported: Imported, corpus: Corpus) -> None:
    articles = _articles(imported.engine)
    with read_session(imported.engine) as session:
        for url, body in corpus.bodies.items():
            article, versions = articles[url]
            assert versions[0].raw_html is None  # pointed at, not copied
            assert raw_response(session, article.id, imported.config.warc_dir) == body
    wacz_version = articles[f"{NEWS}/2024/story-7"][1][0]
    assert wacz_version.warc_file == f"{corpus.wacz}#archive/packed.warc.gz"


def test_raw_refuses_a_pointer_no_import_recorded(imported: Imported, tmp_path: Path) -> None:
    stray = tmp_path / "stray.warc.gz"
    shutil.copy(imported.files[0], stray)
    with read_session(imported.engine) as session:
        article = session.scalars(select(Article).order_by(Article.id)).first()
        assert article is not None
        version = article.versions[-1]
        version.warc_file = str(stray)
        session.flush()
        with pytest.raises(LookupError, match="no file an import recorded"):
            raw_response(session, article.id, imported.config.warc_dir)
        session.rollback()


def test_importing_the_same_files_again_stores_nothing_new(
    imported: Imported, corpus: Corpus, tmp_path: Path
) -> None:
    before = _articles(imported.engine)
    again = import_archives(imported.config, imported.files)
    assert [f.status for f in again.files] == ["already imported"] * 3
    # The same bytes under another name are read, and every story is found unchanged.
    renamed = tmp_path / "renamed.warc.gz"
    shutil.copy(corpus.mixed, renamed)
    copy = import_archives(imported.config, [str(renamed)]).files[0]
    assert (copy.new, copy.updated, copy.duplicates, copy.unchanged) == (0, 0, 0, 4)
    after = _articles(imported.engine)
    assert {u: len(v) for u, (_, v) in after.items()} == {u: len(v) for u, (_, v) in before.items()}


# Run as its own process, killed with SIGKILL inside the third story's transaction.
KILLED_IMPORT = """
import json, os, signal, sys
from newsarchive.config import parse_config
from newsarchive.crawler.imports import run
from newsarchive.storage import crawl_store

run.CHECKPOINT_RECORDS = 1  # progress after every record: the kill finds it up to date
real, calls = crawl_store.save_article, []

def save_then_die(session, fetched, **kwargs):
    outcome = real(session, fetched, **kwargs)
    calls.append(fetched.url)
    if len(calls) == 3:
        session.flush()  # the third story's rows are written, not committed
        os.kill(os.getpid(), signal.SIGKILL)
    return outcome

crawl_store.save_article = save_then_die
config = parse_config(json.loads(sys.argv[1]), sys.argv[2])
run.import_archives(config, [sys.argv[3]])
"""


def test_an_import_killed_mid_transaction_resumes_where_its_progress_says(
    corpus: Corpus, tmp_path: Path
) -> None:
    settings = archive_config(tmp_path)
    killed = subprocess.run(
        [sys.executable, "-c", KILLED_IMPORT, json.dumps(settings), str(tmp_path / "x.toml"),
         str(corpus.mixed)],
        capture_output=True,
        timeout=120,
    )  # fmt: skip
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()[-2000:]

    config = parse_config(settings, tmp_path / "x.toml")
    engine = create_archive_engine(config.database_url)
    with read_session(engine) as session:
        row = session.scalars(select(ImportFile)).one()
        assert session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    assert row.status == "running"
    # Behind what was stored, never ahead: the third story's record starts there.
    assert row.resume_offset == corpus.offsets[f"{OTHER}/story-3"]
    assert set(_articles(engine)) == {f"{NEWS}/2024/story-1", f"{NEWS}/2024/story-2"}

    resumed = import_archives(config, [str(corpus.mixed)]).files[0]
    assert resumed.resumed_from == row.resume_offset
    assert (resumed.new, resumed.unchanged, resumed.errors) == (1, 1, 1)
    articles = _articles(engine)
    assert set(articles) == {f"{NEWS}/2024/story-1", f"{NEWS}/2024/story-2", f"{OTHER}/story-3"}
    # The revisit after the resume point found story 1's response through the archive.
    assert articles[f"{NEWS}/2024/story-1"][0].last_fetched_at == REVISIT_DAY
    assert all(len(versions) == 1 for _, versions in articles.values())
    engine.dispose()


def test_filters_and_copy(corpus: Corpus, tmp_path: Path) -> None:
    config = parse_config(archive_config(tmp_path), tmp_path / "newsarchive.toml")
    options = ImportOptions(domains=["other.test"], copy=True, source="wire")
    summary = import_archives(config, [str(corpus.mixed)], options).files[0]
    assert summary.new == 1
    engine = create_archive_engine(config.database_url)
    with read_session(engine) as session:
        article = session.scalars(select(Article)).one()
        assert article.url == f"{OTHER}/story-3"
        # --source takes what no configured source covers; the copy is what is pointed at.
        assert article.source.name == "wire" and article.source.imported
        pointer = article.versions[0].warc_file
        assert pointer is not None and pointer.startswith("imports/")
        assert pointer.endswith("-mixed.warc.gz")
        assert (config.warc_dir / pointer).read_bytes() == corpus.mixed.read_bytes()
        assert raw_response(session, article.id, config.warc_dir) == corpus.bodies[article.url]
    engine.dispose()
    (tmp_path / "dated").mkdir()
    dated = parse_config(archive_config(tmp_path / "dated"), tmp_path / "dated" / "x.toml")
    options = ImportOptions(since=corpus.dates[f"{NEWS}/2024/story-2"], languages=["en"])
    summary = import_archives(dated, [str(corpus.mixed)], options).files[0]
    # Only story 2 is dated 13:00 or later: stories 1 and 3, the PNG and the 404 are skipped,
    # and the revisit refers to a response that was filtered out.
    assert (summary.new, summary.skipped, summary.unchanged) == (1, 4, 0)
