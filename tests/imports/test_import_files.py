"""Per-file import progress and imported sources, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from newsarchive.crawler.imports.run import expand_locations
from newsarchive.storage import read_session
from newsarchive.storage.imports import (
    begin_file,
    ensure_imported_source,
    finish_file,
    import_files,
    record_progress,
)
from newsarchive.storage.models import Source
from newsarchive.storage.warc_sources import LocationError


def test_progress_is_kept_per_file_and_a_failed_file_is_retried(engine: Engine) -> None:
    first = begin_file(engine, "/data/a.warc.gz", 1000)
    assert (first.status, first.resume_offset) == ("running", 0)
    record_progress(engine, first.id, resume_offset=640, records=12, articles=9, errors=1)
    again = begin_file(engine, "/data/a.warc.gz", 1000)
    assert (again.id, again.resume_offset, again.records, again.articles) == (first.id, 640, 12, 9)
    finish_file(engine, first.id, "failed")
    assert begin_file(engine, "/data/a.warc.gz", 1000).status == "running"
    finish_file(engine, first.id, "done")
    other = begin_file(engine, "https://data.example/b.warc.gz", None)
    with read_session(engine) as session:
        rows = import_files(session)
    assert [(r.location, r.status) for r in rows] == [
        ("/data/a.warc.gz", "done"),
        ("https://data.example/b.warc.gz", "running"),
    ]
    assert rows[1].id == other.id and rows[0].finished_at is not None


def test_an_imported_source_is_marked_and_an_existing_one_left_alone(engine: Engine) -> None:
    ensure_imported_source(engine, "other-test")
    ensure_imported_source(engine, "other-test")
    with read_session(engine) as session:
        assert session.execute(select(Source.name, Source.imported)).all() == [("other-test", True)]


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(LocationError, match=r"nope\.warc\.gz: no such file"):
        expand_locations([str(tmp_path / "nope.warc.gz")])
