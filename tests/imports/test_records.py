"""Reading WARC records: offsets, payloads, and going on past truncated and corrupt records."""

from __future__ import annotations

import gzip
import itertools
from pathlib import Path

import pytest

from newsarchive.crawler.imports.records import BadRecord, WarcRecord, read_records
from newsarchive.storage.warc_sources import LocationError, open_location
from tests.imports.conftest import NEWS, Corpus
from tests.imports.warcs import Capture, story_html, write_warc


def _read(path: Path, start: int = 0) -> list[WarcRecord | BadRecord]:
    with open_location(str(path)) as stream:
        return list(read_records(stream, start))


def _responses(items: list[WarcRecord | BadRecord]) -> dict[str, WarcRecord]:
    return {r.url: r for r in items if isinstance(r, WarcRecord) and r.kind == "response"}


def test_gzip_records_with_offsets_payloads_and_a_truncated_last_record(corpus: Corpus) -> None:
    items = _read(corpus.mixed)
    responses = _responses(items)
    for url in (f"{NEWS}/2024/story-1", f"{NEWS}/2024/story-2"):
        assert responses[url].offset == corpus.offsets[url]
        assert responses[url].body == corpus.bodies[url]
        assert responses[url].date == corpus.dates[url]
    assert responses[f"{NEWS}/2024/story-2"].charset == "windows-1252"
    assert responses[f"{NEWS}/logo.png"].body is None
    assert responses[f"{NEWS}/logo.png"].skip_reason == "not HTML"
    assert [r.kind for r in items if isinstance(r, WarcRecord)].count("revisit") == 1
    # Each record ends where the next begins: a resume offset is always a record's start.
    assert all(a.end == b.offset for a, b in itertools.pairwise(items))
    last = items[-1]
    assert isinstance(last, BadRecord) and last.reason == "truncated"
    assert last.end == corpus.mixed.stat().st_size


def test_a_mangled_record_is_skipped_and_the_rest_read(corpus: Corpus) -> None:
    items = _read(corpus.plain)
    bad = [r for r in items if isinstance(r, BadRecord)]
    assert len(bad) == 1 and bad[0].reason.startswith("corrupt")
    assert set(_responses(items)) == {f"{NEWS}/2024/story-5", f"{NEWS}/2024/story-6"}
    assert bad[0].end == corpus.offsets[f"{NEWS}/2024/story-6"]


def test_corrupt_gzip_member_then_reading_from_an_offset(tmp_path: Path) -> None:
    path = tmp_path / "flipped.warc.gz"
    captures = [Capture(f"{NEWS}/s/{n}", story_html(n).encode()) for n in range(3)]
    offsets = write_warc(path, captures)
    data = bytearray(path.read_bytes())
    middle = (offsets[1] + offsets[2]) // 2
    data[middle : middle + 16] = bytes(16)  # inside the second record's deflate stream
    path.write_bytes(bytes(data))

    items = _read(path)
    assert set(_responses(items)) == {f"{NEWS}/s/0", f"{NEWS}/s/2"}
    assert [(r.offset, r.end) for r in items if isinstance(r, BadRecord)] == [
        (offsets[1], offsets[2])
    ]
    resumed = _read(path, offsets[2])
    assert [r.url for r in resumed] == [f"{NEWS}/s/2"]


def test_a_single_gzip_stream_is_refused_with_the_fix(tmp_path: Path) -> None:
    plain = tmp_path / "whole.warc"
    write_warc(
        plain, [Capture(f"{NEWS}/s/{n}", story_html(n).encode()) for n in range(2)], gzipped=False
    )
    whole = tmp_path / "whole.warc.gz"
    whole.write_bytes(gzip.compress(plain.read_bytes()))
    with pytest.raises(LocationError, match="warcio recompress"):
        _read(whole)
