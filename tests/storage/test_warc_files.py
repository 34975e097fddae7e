"""WARC files: valid for warcio, rotated by size, recovered after a crash, read back exactly."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

from newsarchive.storage.warc import (
    OPEN_SUFFIX,
    WarcWriter,
    complete_length,
    read_response_body,
    recover_open_files,
)

WARCIO = str(Path(sys.executable).with_name("warcio"))


def write(writer: WarcWriter, n: int):
    body = f"<html><body>page {n} ".encode() + random.Random(n).randbytes(6000) + b"</body></html>"
    location = writer.write_exchange(
        f"http://example.test/page/{n}.html",
        method="GET",
        request_headers=[("User-Agent", "newsarchive-test")],
        status=200,
        reason="OK",
        response_headers=[("Content-Type", "text/html"), ("Content-Encoding", "gzip")],
        body=body,
    )
    return location, body


def records(path: Path) -> list[tuple[str, str | None]]:
    with open(path, "rb") as f:
        return [
            (r.rec_type, r.rec_headers.get_header("WARC-Target-URI")) for r in ArchiveIterator(f)
        ]


def test_writer_rotates_files_that_warcio_accepts(tmp_path: Path) -> None:
    writer = WarcWriter(tmp_path, max_size=30_000, info={"isPartOf": "crawl run 7"})
    written = [write(writer, n) for n in range(12)]
    assert any(p.name.endswith(OPEN_SUFFIX) for p in tmp_path.iterdir())  # still writing
    writer.close()
    files = sorted(tmp_path.iterdir())
    assert len(files) > 2 and not any(p.name.endswith(OPEN_SUFFIX) for p in files)
    for path in files:
        kinds = records(path)
        assert kinds[0][0] == "warcinfo"
        assert [k for k, _ in kinds[1:]] == ["response", "request"] * ((len(kinds) - 1) // 2)
        check = subprocess.run([WARCIO, "check", "-v", str(path)], capture_output=True, text=True)
        assert check.returncode == 0, check.stdout + check.stderr
        index = subprocess.run([WARCIO, "index", str(path)], capture_output=True, text=True)
        assert index.returncode == 0 and '"warc-type": "response"' in index.stdout
    for location, body in written:
        assert read_response_body(tmp_path, location) == body
    with open(files[0], "rb") as f:
        info = next(iter(ArchiveIterator(f))).content_stream().read().decode()
    assert "software: newsarchive/" in info and "isPartOf: crawl run 7" in info


def test_a_crash_mid_record_leaves_a_recoverable_file(tmp_path: Path) -> None:
    writer = WarcWriter(tmp_path, max_size=10**9)
    written = [write(writer, n) for n in range(3)]
    (open_file,) = tmp_path.glob(f"*{OPEN_SUFFIX}")
    good = open_file.stat().st_size
    writer._file.write(open_file.read_bytes()[written[1][0].offset : written[2][0].offset][:300])
    writer._file.flush()
    writer._file.close()  # the process dies: no rename, the lock goes with it
    assert complete_length(open_file.read_bytes()) == good

    (recovered,) = recover_open_files(tmp_path)
    assert recovered.name == written[0][0].file and recovered.stat().st_size == good
    assert subprocess.run([WARCIO, "check", str(recovered)]).returncode == 0
    assert read_response_body(tmp_path, written[2][0]) == written[2][1]


def test_recovery_leaves_files_a_live_writer_holds(tmp_path: Path) -> None:
    live = WarcWriter(tmp_path, max_size=10**9)
    write(live, 1)
    WarcWriter(tmp_path, max_size=10**9)  # a second crawl starting beside it
    assert len(list(tmp_path.glob(f"*{OPEN_SUFFIX}"))) == 1
    live.close()
