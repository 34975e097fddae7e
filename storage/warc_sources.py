"""Opening WARC data wherever it lies: a local file, an HTTP(S) URL, a WARC inside a WACZ.

A *location* is a string: an absolute path, an ``http(s)://`` URL, or either of
them followed by ``#MEMBER`` naming a WARC file inside a WACZ package (a zip).
Every location opens as a seekable binary stream, so an import can start at
its resume offset and ``raw`` can read one record at its offset.

A URL is read with :class:`RangeReader`: streamed, never held in memory, and a
connection that drops (or a seek) is continued with a ``Range`` request from
the byte where it stopped.
"""

from __future__ import annotations

import http.client
import io
import logging
import os
import re
import time
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import IO

from warcio.archiveiterator import ArchiveIterator

from newsarchive import __version__

logger = logging.getLogger(__name__)

MEMBER_SEPARATOR = "#"
WARC_SUFFIXES = (".warc", ".warc.gz")
RESUME_ATTEMPTS = 5
"""Reconnections in a row, without a byte read between them, before a URL is given up."""
TIMEOUT_SECONDS = 60.0
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+|\*)")


class LocationError(OSError):
    """A location that cannot be opened or read: missing file, HTTP error, not a zip."""


def is_url(location: str) -> bool:
    return location.startswith(("http://", "https://"))


def split_member(location: str) -> tuple[str, str | None]:
    """``(container, member)``: a WACZ's WARC member after ``#``, or ``(location, None)``."""
    container, sep, member = location.partition(MEMBER_SEPARATOR)
    return (container, member) if sep and container.lower().endswith(".wacz") else (location, None)


def is_wacz(location: str) -> bool:
    return split_member(location)[1] is None and location.lower().split("?")[0].endswith(".wacz")


class RangeReader(io.RawIOBase):
    """An HTTP(S) resource as a seekable stream, fetched with ``Range`` requests.

    Reading streams one response; when it ends early (connection dropped, reset,
    timed out) the rest is asked for with ``Range: bytes=POS-`` and reading goes
    on. A seek elsewhere closes the response and the next read starts one there.
    """

    def __init__(self, url: str, *, timeout: float = TIMEOUT_SECONDS) -> None:
        super().__init__()
        self.url = url
        self.timeout = timeout
        self.size: int | None = None
        self.resumes = 0
        """Range requests made to continue after a dropped connection."""
        self._pos = 0
        self._response: http.client.HTTPResponse | None = None
        """Opened by the first read, where it starts: ``raw`` reads one record by Range."""

    def head(self) -> int | None:
        """The resource's size from a HEAD request (None if the server will not say)."""
        if self.size is None:
            request = urllib.request.Request(self.url, headers=self._headers(), method="HEAD")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    length = response.headers.get("Content-Length")
            except urllib.error.HTTPError as exc:
                if exc.code in (405, 501):  # no HEAD here: the GET will tell
                    return None
                raise LocationError(f"{self.url}: HTTP {exc.code} {exc.reason}") from None
            except (urllib.error.URLError, OSError) as exc:
                raise LocationError(f"{self.url}: {getattr(exc, 'reason', exc)}") from None
            self.size = int(length) if length is not None else None
        return self.size

    @staticmethod
    def _headers() -> dict[str, str]:
        return {"User-Agent": f"newsarchive/{__version__} (import)"}

    def _open_at(self, pos: int) -> None:
        self._close_response()
        headers = self._headers()
        if pos:
            headers["Range"] = f"bytes={pos}-"
        request = urllib.request.Request(self.url, headers=headers)
        try:
            response = urllib.request.urlopen(request, timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            if exc.code == 416 and self.size is not None and pos >= self.size:
                self._pos = pos
                return  # at the end: nothing more to read
            raise LocationError(f"{self.url}: HTTP {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise LocationError(f"{self.url}: {getattr(exc, 'reason', exc)}") from None
        if pos and response.status != 206:
            response.close()
            raise LocationError(f"{self.url}: the server ignores Range requests, cannot resume")
        length = response.headers.get("Content-Length")
        if response.status == 206:
            match = _CONTENT_RANGE.match(response.headers.get("Content-Range", ""))
            if match and match.group(3) != "*":
                self.size = int(match.group(3))
        elif length is not None:
            self.size = int(length)
        self._response = response
        self._pos = pos

    def _close_response(self) -> None:
        if self._response is not None:
            self._response.close()
            self._response = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            offset += self._pos
        elif whence == io.SEEK_END:
            if self.head() is None:
                raise LocationError(f"{self.url}: size unknown, cannot seek from the end")
            offset += self.size
        if offset != self._pos:
            self._close_response()  # reopened lazily where the next read starts
            self._pos = offset
        return self._pos

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self.size is not None and self._pos >= self.size:
            return 0
        failures = 0
        while True:
            try:
                if self._response is None:
                    self._open_at(self._pos)
                    if self._response is None:
                        return 0
                read = self._response.readinto(buffer)
            except LocationError:
                raise
            except (http.client.HTTPException, OSError) as exc:
                read, why = -1, type(exc).__name__
            else:
                # A clean close before the end is a drop too.
                why = "closed early"
            if read > 0:
                self._pos += read
                return read
            if read == 0 and (self.size is None or self._pos >= self.size):
                return 0
            self._close_response()
            failures += 1
            if failures > RESUME_ATTEMPTS:
                raise LocationError(
                    f"{self.url}: connection lost at byte {self._pos} {failures} times, given up"
                )
            self.resumes += 1
            logger.warning(
                "%s: connection lost at byte %d (%s), resuming with a Range request",
                self.url,
                self._pos,
                why,
            )
            time.sleep(min(0.1 * 2**failures, 5.0))

    def close(self) -> None:
        self._close_response()
        super().close()


def _open_container(container: str) -> IO[bytes]:
    if is_url(container):
        return io.BufferedReader(RangeReader(container), buffer_size=1 << 16)
    try:
        return open(container, "rb")
    except OSError as exc:
        raise LocationError(f"{container}: {exc.strerror or exc}") from None


@contextmanager
def open_sized(location: str, *, sized: bool = True) -> Iterator[tuple[IO[bytes], int | None]]:
    """``location`` as a seekable binary stream (a WACZ member unpacked on the fly), with its
    size in bytes when known: from the one request or the zip's directory, without reading."""
    container, member = split_member(location)
    stream = _open_container(container)
    try:
        if member is None:
            yield stream, _container_size(stream) if sized else None
            return
        try:
            package = zipfile.ZipFile(stream)
            info = package.getinfo(member)
            inner = package.open(info)
        except (zipfile.BadZipFile, KeyError) as exc:
            raise LocationError(f"{location}: {exc}") from None
        with package, inner:
            yield inner, info.file_size
    finally:
        stream.close()


def _container_size(stream: IO[bytes]) -> int | None:
    if isinstance(stream, io.BufferedReader) and isinstance(stream.raw, RangeReader):
        return stream.raw.head()
    return os.fstat(stream.fileno()).st_size


@contextmanager
def open_location(location: str) -> Iterator[IO[bytes]]:
    """``location`` as a seekable binary stream (a WACZ member unpacked on the fly)."""
    with open_sized(location, sized=False) as (stream, _size):
        yield stream


def wacz_members(location: str) -> list[str]:
    """The locations of the WARC files a WACZ package holds (``archive/*.warc[.gz]``)."""
    with open_location(location) as stream:
        try:
            names = zipfile.ZipFile(stream).namelist()
        except zipfile.BadZipFile as exc:
            raise LocationError(f"{location}: not a WACZ (zip) package: {exc}") from None
    return [
        f"{location}{MEMBER_SEPARATOR}{name}"
        for name in sorted(names)
        if name.startswith("archive/") and name.lower().endswith(WARC_SUFFIXES)
    ]


def read_payload(stream: IO[bytes], offset: int, label: str) -> bytes:
    """The HTTP payload of the ``response`` record at ``offset`` in ``stream``."""
    stream.seek(offset)
    record = next(iter(ArchiveIterator(stream)), None)
    if record is None or record.rec_type != "response":
        raise LookupError(f"no response record at {label}:{offset}")
    return record.content_stream().read()


def read_payload_at(location: str, offset: int) -> bytes:
    """The HTTP payload of the ``response`` record at ``offset`` in ``location``."""
    try:
        with open_location(location) as stream:
            return read_payload(stream, offset, location)
    except LocationError as exc:
        raise FileNotFoundError(str(exc)) from None
