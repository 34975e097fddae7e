"""WARC file names come from database rows: none may lead a reader or `prune` outside the folder."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import update

from newsarchive.storage import read_session, write_session
from newsarchive.storage.models import ArticleVersion
from newsarchive.storage.prune import prune_articles
from newsarchive.storage.raw import archived_responses, raw_response
from newsarchive.storage.warc import WarcPathError, WarcWriter, warc_path
from tests.archive_corpus import build_corpus
from tests.cli_process import invoke_cli

OUTSIDE = "../outside.warc.gz"
SECRET = b"<html><body>a page that lies outside the WARC folder</body></html>"


def test_warc_path_keeps_names_inside_the_folder(tmp_path: Path) -> None:
    folder = tmp_path / "warc"
    folder.mkdir()
    (tmp_path / "elsewhere").mkdir()
    (folder / "link.warc.gz").symlink_to(tmp_path / "elsewhere" / "x.warc.gz")
    assert warc_path(folder, "a.warc.gz") == folder.resolve() / "a.warc.gz"
    assert warc_path(folder, "sub/../a.warc.gz") == folder.resolve() / "a.warc.gz"
    for name in (OUTSIDE, "/etc/passwd", "sub/../../x.warc.gz", "", ".", "link.warc.gz", "a\0b"):
        with pytest.raises(WarcPathError):
            warc_path(folder, name)


@pytest.fixture
def outside(engine, tmp_path: Path) -> tuple[dict[str, int], Path, Path]:
    """The corpus with the bridge story's only version pointing at ``../outside.warc.gz``,
    a real WARC file (holding a response at that offset) beside the WARC folder."""
    corpus = build_corpus(engine)
    writer = WarcWriter(tmp_path / "made", max_size=10_000_000)
    location = writer.write_exchange(
        "http://corpus.test/bridge",
        method="GET",
        request_headers=[],
        status=200,
        reason="OK",
        response_headers=[("Content-Type", "text/html")],
        body=SECRET,
    )
    writer.close()
    target = tmp_path / "outside.warc.gz"
    (tmp_path / "made" / location.file).rename(target)
    folder = tmp_path / "warc"
    folder.mkdir()
    with write_session(engine) as session:
        session.execute(
            update(ArticleVersion)
            .where(ArticleVersion.article_id == corpus["bridge"])
            .values(warc_file=OUTSIDE, warc_offset=location.offset, raw_html=None)
        )
    return corpus, folder, target


def test_raw_and_reprocess_do_not_read_outside_the_folder(engine, outside) -> None:
    corpus, folder, _ = outside
    with read_session(engine) as session:
        with pytest.raises(WarcPathError, match="outside the WARC folder"):
            raw_response(session, corpus["bridge"], folder)
        # Reprocessing skips the row and goes on with the others.
        ids = [r.article_id for r in archived_responses(session, folder)]
    assert corpus["bridge"] not in ids and corpus["seawall"] in ids


def test_prune_does_not_delete_outside_the_folder(engine, outside) -> None:
    corpus, folder, target = outside
    report = prune_articles(
        engine, datetime(2024, 6, 4, tzinfo=UTC), warc_dir=folder, delete_warc=True
    )
    assert report.article_ids == [corpus["bridge"]]
    assert report.unreferenced_warc == [OUTSIDE] and report.deleted_warc == []
    assert target.read_bytes()[:2] == b"\x1f\x8b"


def test_raw_command_refuses_in_one_line(database_url, outside, tmp_path: Path) -> None:
    corpus, _, _ = outside
    config = tmp_path / "newsarchive.toml"
    config.write_text(f'[database]\nurl = "{database_url}"\n[archive]\nwarc_dir = "warc"\n')
    result = invoke_cli("raw", str(corpus["bridge"]), config=config)
    assert result.returncode == 1 and result.stdout == ""
    assert result.stderr.splitlines() == [
        f"newsarchive: WARC file {OUTSIDE!r} is outside the WARC folder {tmp_path / 'warc'}"
    ]
