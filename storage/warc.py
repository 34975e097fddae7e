"""WARC/1.1 files of fetched HTTP exchanges, and reading a response back from them.

Files are written as ``NAME.warc.gz.open`` (one gzip member per record, so any
record can be read from its offset) and renamed to ``NAME.warc.gz`` when they
reach ``max_size`` or the writer closes: a file with the final name is always
complete. A writer holds an exclusive ``flock`` on its open file; a new writer
finds ``.open`` files nobody holds (left by a crashed crawl), cuts them back to
their last complete record and renames them, so tools never see a torn file.

This module knows files, not Scrapy: the crawler hands it plain values.
"""

from __future__ import annotations

import fcntl
import io
import os
import uuid
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from newsarchive import __version__

from .warc_sources import read_payload

OPEN_SUFFIX = ".open"
# Headers describing an encoding of the body that the body no longer has:
# Scrapy hands over the payload de-chunked and decompressed.
_TRANSPORT_HEADERS = {"transfer-encoding", "content-encoding", "content-length"}
# warcio compresses at level 9; zlib's default level makes files 1 % larger
# (measured on 160 news pages) in two thirds of the CPU time, and compressing
# is most of what archiving a page costs the crawl.
_GZIP_LEVEL = 6


def _gzip_member(record: memoryview) -> bytes:
    """One record as a gzip member of its own, so it can be read from its offset."""
    compressor = zlib.compressobj(_GZIP_LEVEL, zlib.DEFLATED, zlib.MAX_WBITS + 16)
    return compressor.compress(record) + compressor.flush()


def _members(records: io.BytesIO, ends: list[int]) -> bytes:
    """The uncompressed records in ``records``, cut at ``ends``, each compressed alone."""
    data, start, out = records.getbuffer(), 0, []
    for end in ends:
        out.append(_gzip_member(data[start:end]))
        start = end
    data.release()
    return b"".join(out)


@dataclass(frozen=True)
class WarcLocation:
    """Where a response record lies: file name within the WARC folder, and byte offset."""

    file: str
    offset: int


class WarcWriter:
    """Appends request/response record pairs to rotating WARC files in ``directory``."""

    def __init__(
        self,
        directory: Path,
        *,
        max_size: int,
        prefix: str = "newsarchive",
        info: dict[str, str] | None = None,
    ) -> None:
        self.directory = directory
        self.max_size = max_size
        self.prefix = prefix
        self.info = {"software": f"newsarchive/{__version__}", "format": "WARC File Format 1.1"}
        self.info.update(info or {})
        self._file: BinaryIO | None = None
        self._name = ""
        self._size = 0
        """Bytes of the open file up to the end of its last complete record."""
        self._serial = 0
        self.bytes_written = 0
        """Bytes appended to all of this writer's files (warcinfo records included)."""
        directory.mkdir(parents=True, exist_ok=True)
        recover_open_files(directory)

    def write_exchange(
        self,
        url: str,
        *,
        method: str,
        request_headers: list[tuple[str, str]],
        status: int,
        reason: str,
        response_headers: list[tuple[str, str]],
        body: bytes,
        date: datetime | None = None,
        protocol: str = "HTTP/1.1",
    ) -> WarcLocation:
        """Write a ``response`` and its ``request`` record; returns the response's location.

        An OSError (a full disk) leaves the file as it was before this exchange,
        so it still ends on a complete record.
        """
        if self._file is None or self._size >= self.max_size:
            self._rotate()
        assert self._file is not None
        stamp = (date or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        buffer = io.BytesIO()
        writer = WARCWriter(buffer, gzip=False, warc_version="1.1")
        headers = [(k, v) for k, v in response_headers if k.lower() not in _TRANSPORT_HEADERS]
        headers.append(("Content-Length", str(len(body))))
        response = writer.create_warc_record(
            url,
            "response",
            payload=io.BytesIO(body),
            length=len(body),
            warc_headers_dict={"WARC-Date": stamp},
            http_headers=StatusAndHeaders(f"{status} {reason}".strip(), headers, protocol),
        )
        split = url.split("/", 3)
        path = "/" + (split[3] if len(split) > 3 else "")
        request = writer.create_warc_record(
            url,
            "request",
            payload=io.BytesIO(b""),
            length=0,
            warc_headers_dict={
                "WARC-Date": stamp,
                "WARC-Concurrent-To": response.rec_headers.get_header("WARC-Record-ID"),
            },
            http_headers=StatusAndHeaders(
                f"{method} {path} {protocol}", request_headers, is_http_request=True
            ),
        )
        offset = self._size
        writer.write_record(response)
        response_end = buffer.tell()
        writer.write_record(request)
        self._append(memoryview(_members(buffer, [response_end, buffer.tell()])))
        return WarcLocation(self._name, offset)

    @property
    def path(self) -> Path | None:
        """The file being written (its ``.open`` name), None between files."""
        return None if self._file is None else self.directory / (self._name + OPEN_SUFFIX)

    def _append(self, data: memoryview) -> None:
        # Records are built in memory and appended with unbuffered writes, so a
        # failed write leaves no buffered remnant that a later flush or close
        # could add after the cut.
        assert self._file is not None
        written = 0
        try:
            while written < len(data):
                written += self._file.write(data[written:]) or 0
        except OSError:
            os.ftruncate(self._file.fileno(), self._size)
            self._file.seek(self._size)
            raise
        self._size += written
        self.bytes_written += written

    def _rotate(self) -> None:
        self.close()
        self._serial += 1
        now = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
        self._name = f"{self.prefix}-{now}-{self._serial:05d}-{uuid.uuid4().hex[:8]}.warc.gz"
        self._file = open(self.directory / (self._name + OPEN_SUFFIX), "xb", buffering=0)  # noqa: SIM115
        self._size = 0
        fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        buffer = io.BytesIO()
        writer = WARCWriter(buffer, gzip=False, warc_version="1.1")
        writer.write_record(writer.create_warcinfo_record(self._name, self.info))
        try:
            self._append(memoryview(_members(buffer, [buffer.tell()])))
        except OSError:
            self.close()  # holds nothing: removed, not renamed
            raise

    def close(self) -> None:
        """Finish the current file: sync it and give it its final name.

        Also after a failed write (the file then ends at its last complete
        record); a file without even its warcinfo record is removed. The file
        is renamed even when syncing fails, and that error then raised: no
        ``.open`` file is left for the next crawl to find.
        """
        if self._file is None:
            return
        file, self._file = self._file, None
        open_path = Path(file.name)
        try:
            try:
                os.fsync(file.fileno())
            finally:
                # While still locked, so no recovering writer takes it for a crashed one.
                if self._size:
                    os.replace(open_path, open_path.with_suffix(""))
                else:
                    open_path.unlink()
        finally:
            file.close()


def complete_length(data: bytes, chunk: int = 1 << 16) -> int:
    """Bytes of ``data`` up to the end of its last complete gzip member (WARC record)."""
    view = memoryview(data)
    end = 0
    while end < len(data):
        inflater = zlib.decompressobj(wbits=31)
        head = b""
        fed = end
        try:
            # Fed in chunks: unused_data then holds at most one chunk, not the file's rest.
            while not inflater.eof and fed < len(data):
                head += inflater.decompress(view[fed : fed + chunk], 8)[: 8 - len(head)]
                while inflater.unconsumed_tail and not inflater.eof:
                    inflater.decompress(inflater.unconsumed_tail, chunk)
                fed = min(fed + chunk, len(data))
        except zlib.error:
            break
        if not inflater.eof or not head.startswith(b"WARC/"):
            break
        end = fed - len(inflater.unused_data)
    return end


def recover_open_files(directory: Path) -> list[Path]:
    """Close ``.open`` WARC files no live writer holds: truncate each to its last complete
    record and give it its final name. Returns the files recovered."""
    recovered = []
    for path in sorted(directory.glob(f"*.warc.gz{OPEN_SUFFIX}")):
        with open(path, "r+b") as f:
            try:
                fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                continue  # a running crawl is writing it
            if not path.exists():  # its writer closed it between glob and lock
                continue
            good = complete_length(f.read())
            f.truncate(good)
            f.flush()
            os.fsync(f.fileno())
            final = path.with_suffix("")
            os.replace(path, final)
            recovered.append(final)
    return recovered


class WarcPathError(LookupError):
    """A WARC file name (from the database) that leads outside the WARC folder."""


def warc_path(directory: Path, name: str) -> Path:
    """The file ``name`` inside ``directory``; WarcPathError if it would lie anywhere else.

    Names come from database rows, which anyone with write access to the database
    controls: ``../x``, an absolute path or a symlink out of the folder must never
    make a reader read, or ``prune --delete-warc`` delete, a file elsewhere.
    """
    base = directory.resolve()
    try:
        path = (base / name).resolve()
    except (ValueError, OSError) as exc:  # a NUL byte, a symlink loop
        raise WarcPathError(f"WARC file {name!r}: unusable name ({exc})") from None
    if path == base or not path.is_relative_to(base):
        raise WarcPathError(f"WARC file {name!r} is outside the WARC folder {directory}")
    return path


def read_response_body(directory: Path, location: WarcLocation) -> bytes:
    """The HTTP payload of the response record at ``location`` (also in a still-open file).

    WarcPathError when the location's file name leads outside ``directory``.
    """
    path = warc_path(directory, location.file)
    still_open = warc_path(directory, location.file + OPEN_SUFFIX)
    if not path.exists() and still_open.exists():
        path = still_open
    with open(path, "rb") as f:
        return read_payload(f, location.offset, location.file)
