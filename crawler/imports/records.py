"""Reading WARC records one at a time from a stream, from a given offset, past bad ones.

:func:`read_records` streams a WARC file (``.warc`` or ``.warc.gz``, WARC/1.0
or 1.1) opened from a local path, a URL or a WACZ member (see
``newsarchive.storage.warc_sources``) and yields each record with its offset
and the offset of the record after it, so an import can say exactly how far
it got. Only the payloads an import uses are read into memory: HTML responses.

A truncated or corrupt record is yielded as a :class:`BadRecord` (with its
offset and what is wrong); reading goes on at the next record that parses.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO

from warcio.archiveiterator import ArchiveIterator
from warcio.exceptions import ArchiveLoadFailed
from warcio.recordloader import ArcWarcRecord

from newsarchive.storage.warc_sources import LocationError

logger = logging.getLogger(__name__)

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
MAX_BODY_BYTES = 10 * 1024 * 1024
"""Like a crawl's ``DOWNLOAD_MAXSIZE``: larger payloads are skipped, not parsed."""
_SCAN_CHUNK = 1 << 16
# Where a record may begin: a gzip member (one per record in .warc.gz) or a WARC header.
_RECORD_STARTS = (b"\x1f\x8b\x08", b"WARC/1.")


@dataclass(frozen=True)
class WarcRecord:
    """One well-formed record, with the parts an import reads."""

    offset: int
    end: int
    """Offset of the record after this one (or of the file's end)."""
    kind: str
    """``response``, ``revisit``, ``request``, ``warcinfo``, …"""
    url: str | None
    date: datetime | None
    status: int | None = None
    mime: str | None = None
    charset: str | None = None
    payload_digest: str | None = None
    body: bytes | None = field(default=None, repr=False)
    """The HTTP payload, for HTML responses only."""
    skip_reason: str | None = None
    """Why the payload was not read (``not HTML``, ``too large``), when it was not."""


@dataclass(frozen=True)
class BadRecord:
    """Bytes from ``offset`` to ``end`` that hold no usable record."""

    offset: int
    end: int
    reason: str


def _content_type(record: ArcWarcRecord) -> tuple[str | None, str | None]:
    header = record.http_headers.get_header("Content-Type") if record.http_headers else None
    if not header:
        return None, None
    mime, _, params = header.partition(";")
    charset = None
    for param in params.split(";"):
        name, _, value = param.strip().partition("=")
        if name.lower() == "charset" and value:
            charset = value.strip().strip("\"'")
    return mime.strip().lower() or None, charset


def _warc_date(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    # WARC-Date is UTC by the standard; some writers leave the Z off.
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _looks_like_html(start: bytes) -> bool:
    head = start[:1024].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head


def _parts(record: ArcWarcRecord) -> dict[str, object]:
    """The record's fields; reads the payload when it is an HTML response."""
    headers = record.rec_headers
    url = headers.get_header("WARC-Target-URI")
    parts: dict[str, object] = {
        "kind": record.rec_type,
        "url": url.strip("<>") if url else None,
        "date": _warc_date(headers.get_header("WARC-Date")),
        "payload_digest": headers.get_header("WARC-Payload-Digest"),
    }
    if record.rec_type not in ("response", "revisit") or record.http_headers is None:
        return parts
    status = record.http_headers.get_statuscode()
    mime, charset = _content_type(record)
    parts.update(status=int(status) if status and status.isdigit() else None, mime=mime)
    parts["charset"] = charset
    if record.rec_type != "response":
        return parts
    if mime is not None and mime not in HTML_TYPES:
        parts["skip_reason"] = "not HTML"
        return parts
    body = _read_up_to(record.content_stream(), MAX_BODY_BYTES + 1)
    if len(body) > MAX_BODY_BYTES:
        parts["skip_reason"] = "too large"
    elif mime is None and not _looks_like_html(body):
        parts["skip_reason"] = "not HTML"
    else:
        parts["body"] = body
    return parts


def _read_up_to(stream: IO[bytes], limit: int) -> bytes:
    # warcio's readers return what one buffer holds, not all that was asked for.
    chunks: list[bytes] = []
    size = 0
    while size < limit:
        chunk = stream.read(min(_SCAN_CHUNK, limit - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _next_start(stream: IO[bytes], after: int) -> int | None:
    """The offset of the first record at or after ``after`` that parses, or None."""
    position = after
    while True:
        stream.seek(position)
        chunk = stream.read(_SCAN_CHUNK + 8)
        if not chunk:
            return None
        candidates = sorted(
            i for marker in _RECORD_STARTS for i in _find_all(chunk[:_SCAN_CHUNK], marker)
        )
        for index in candidates:
            if _parses_at(stream, position + index):
                return position + index
        position += _SCAN_CHUNK


def _find_all(data: bytes, marker: bytes) -> Iterator[int]:
    index = data.find(marker)
    while index != -1:
        yield index
        index = data.find(marker, index + 1)


def _parses_at(stream: IO[bytes], offset: int) -> bool:
    stream.seek(offset)
    try:
        record = next(iter(ArchiveIterator(stream)), None)
    except (ArchiveLoadFailed, EOFError, OSError, ValueError):
        return False
    return record is not None and record.rec_headers.get_header("WARC-Type") is not None


def _iterate(stream: IO[bytes], start: int) -> Iterator[dict[str, object] | BadRecord]:
    """Records' parts from ``start``, each with its end; bad stretches as BadRecords."""
    position = start
    while True:
        stream.seek(position)
        iterator = ArchiveIterator(stream)
        pending: dict[str, object] | None = None
        try:
            for record in iterator:
                # Payload first: asking warcio for the offset reads the record to its end.
                parts = _parts(record)
                iterator.read_to_end(record)
                offset = parts["offset"] = iterator.get_record_offset()
                if pending is not None:
                    pending["end"] = offset
                    yield pending
                remaining = getattr(record.raw_stream, "limit", 0)
                if remaining:
                    yield BadRecord(offset, offset + iterator.get_record_length(), "truncated")
                    pending = None
                    position = offset + iterator.get_record_length()
                    continue
                pending = parts
                position = max(offset + iterator.get_record_length(), offset + 1)
        except LocationError:
            raise  # the file itself is unreadable (HTTP error, gone): not one bad record
        except (ArchiveLoadFailed, EOFError, OSError, ValueError) as exc:
            if isinstance(exc, ArchiveLoadFailed) and "non-chunked gzip" in str(exc):
                # One gzip stream for the whole file: no record can be read at its offset,
                # so nothing could point at it or resume inside it.
                raise LocationError(
                    "a single gzip stream, not one gzip member per record: "
                    "recompress it first (warcio recompress IN OUT)"
                ) from None
            if pending is not None:
                # Its own bytes read fine; what follows it did not.
                pending["end"] = position
                yield pending
            resume = _next_start(stream, position + 1)
            end = resume if resume is not None else _stream_end(stream)
            yield BadRecord(position, end, f"corrupt ({type(exc).__name__}: {exc})")
            if resume is None:
                return
            position = resume
            continue
        if pending is not None:
            pending["end"] = _stream_end(stream)
            yield pending
        return


def _stream_end(stream: IO[bytes]) -> int:
    return stream.seek(0, io.SEEK_END)


def read_records(stream: IO[bytes], start: int = 0) -> Iterator[WarcRecord | BadRecord]:
    """The records of a WARC ``stream`` (see ``storage.warc_sources.open_sized``) from offset
    ``start``, in file order."""
    for item in _iterate(stream, start):
        yield item if isinstance(item, BadRecord) else WarcRecord(**item)  # type: ignore[arg-type]
