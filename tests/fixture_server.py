"""A loopback HTTP server for the end-to-end fixture news site ("Harbour Gazette").

``FixtureServer`` serves the static files under ``tests/fixtures/site`` on
127.0.0.1 (or another 127.x.y.z address) on an ephemeral port, from a daemon
thread, and adds the dynamic routes the crawl tests need: redirect chains and
loops, an oversized and a very slow response, a flaky page that fails with 503
before it works, and a page rate-limited with 429 + Retry-After.  Every request
is recorded, static files carry ``ETag`` / ``Last-Modified`` and answer ``304``
to matching conditional requests, and a test can replace any page in memory
(``set_file`` / ``set_response``) or add a route (``add_route``) between two
crawls without touching the files on disk.

Static files whose name ends in ``.xml``, ``.rdf`` or ``.txt`` (feeds,
sitemaps, robots.txt) may contain the placeholder ``{{BASE_URL}}``; it is
replaced by the server's own origin (e.g. ``http://127.0.0.1:40123``) because
those formats require absolute URLs.  HTML pages use root-relative links only.

``tests/fixtures/site/_headers.json`` maps URL paths to the ``Content-Type``
to send (a string) or to a dict of extra headers.  Files not listed there get a
type guessed from their extension *without* a charset.  Files and folders whose
name starts with ``_``, and ``MANIFEST.md``, are never served.

Run ``python tests/fixture_server.py [ROOT]`` to poke at the site by hand.
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import ipaddress
import json
import mimetypes
import socket
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

DEFAULT_ROOT = Path(__file__).resolve().parent / "fixtures" / "site"
BASE_URL_PLACEHOLDER = b"{{BASE_URL}}"
SUBSTITUTED_SUFFIXES = frozenset({".xml", ".rdf", ".txt"})
HEADERS_FILE = "_headers.json"

# Deterministic types (the system mime.types differs between machines); no charset.
_TYPES = {
    ".html": "text/html",
    ".htm": "text/html",
    ".xml": "application/xml",
    ".rdf": "application/rdf+xml",
    ".txt": "text/plain",
    ".css": "text/css",
    ".js": "application/javascript",
    ".json": "application/json",
    ".pdf": "application/pdf",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".gif": "image/gif",
    ".svg": "image/svg+xml",
}

REDIRECT_TARGET = "/news/2024/05/old-customs-house-museum.html"


def free_port() -> int:
    """A loopback TCP port nothing listens on now (for a server the test starts)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Headers(Mapping[str, str]):
    """A read-only, case-insensitive header mapping (repeated headers joined by ", ")."""

    def __init__(self, items: Iterable[tuple[str, str]] = ()) -> None:
        self._data: dict[str, tuple[str, str]] = {}
        for name, value in items:
            key = name.lower()
            if key in self._data:
                value = f"{self._data[key][1]}, {value}"
                name = self._data[key][0]
            self._data[key] = (name, value)

    def __getitem__(self, name: str) -> str:
        return self._data[name.lower()][1]

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and name.lower() in self._data

    def __iter__(self) -> Iterator[str]:
        return (name for name, _ in self._data.values())

    def __len__(self) -> int:
        return len(self._data)

    def __repr__(self) -> str:
        return f"Headers({dict(self.items())!r})"


@dataclass
class RequestRecord:
    """One request the server received."""

    method: str
    path: str  # as requested, query included (never a fragment: clients do not send it)
    headers: Headers
    time: float  # time.time() when the request line was read
    client: str = ""
    status: int | None = None  # filled in once the response status is known

    @property
    def url_path(self) -> str:
        """The path without the query string."""
        return urlsplit(self.path).path

    @property
    def query(self) -> str:
        return urlsplit(self.path).query


@dataclass
class Response:
    """What a route returns.  ``body`` may be an iterable of chunks to stream it.

    A streamed body without a ``Content-Length`` header is delimited by closing
    the connection.
    """

    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes | Iterable[bytes] = b""


RouteResult = Response | tuple[int, Mapping[str, str], bytes]
Route = Callable[[RequestRecord], RouteResult]


def _http_date(timestamp: float) -> str:
    return email.utils.formatdate(timestamp, usegmt=True)


def _etag(body: bytes) -> str:
    return '"' + hashlib.sha1(body).hexdigest()[:20] + '"'


def _guess_type(path: str) -> str:
    suffix = Path(path).suffix.lower()
    if suffix in _TYPES:
        return _TYPES[suffix]
    guessed, _ = mimetypes.guess_type(path, strict=False)
    return guessed or "application/octet-stream"


def _etag_matches(header: str, etag: str) -> bool:
    if header.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in header.split(","))


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    fixture: FixtureServer


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    protocol_version = "HTTP/1.1"  # keep-alive, like real sites; bodies carry Content-Length
    timeout = 15  # socket timeout: a stuck client never pins a thread for long

    def setup(self) -> None:
        super().setup()
        self.server.fixture._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.fixture._track(self.connection, add=False)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the per-request log on stderr."""

    def do_GET(self) -> None:
        self._serve(head=False)

    def do_HEAD(self) -> None:
        self._serve(head=True)

    def _serve(self, *, head: bool) -> None:
        fixture = self.server.fixture
        record = RequestRecord(
            method=self.command,
            path=self.path,
            headers=Headers(self.headers.items()),
            time=time.time(),
            client=self.client_address[0],
        )
        fixture._record(record)
        try:
            response = fixture._respond(record)
        except Exception as exc:  # a broken test route must not hang the crawl
            body = f"fixture route failed: {exc!r}\n".encode()
            response = Response(500, {"Content-Type": "text/plain; charset=utf-8"}, body)
        record.status = response.status
        self._send(response, head=head)

    def _send(self, response: Response, *, head: bool) -> None:
        fixture = self.server.fixture
        headers = dict(response.headers)
        body = response.body
        names = {k.lower() for k in headers}
        if isinstance(body, bytes | bytearray):
            if "content-length" not in names:
                headers["Content-Length"] = str(len(body))
        elif "content-length" not in names:
            headers["Connection"] = "close"
        self.send_response(response.status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        if head or response.status in (204, 304) or 100 <= response.status < 200:
            if not isinstance(body, bytes | bytearray) and hasattr(body, "close"):
                body.close()  # type: ignore[union-attr]
            return
        try:
            if isinstance(body, bytes | bytearray):
                self.wfile.write(body)
                return
            for chunk in body:
                if fixture._stopping.is_set():
                    self.close_connection = True
                    break
                self.wfile.write(chunk)
        except OSError:  # client went away (BrokenPipe, ConnectionReset, timeout)
            self.close_connection = True
        finally:
            if not isinstance(body, bytes | bytearray) and hasattr(body, "close"):
                body.close()  # type: ignore[union-attr]


class FixtureServer:
    """The fixture site on a loopback address and an ephemeral port.

    Use it as a context manager, or call :meth:`start` and :meth:`stop`::

        with FixtureServer() as site:
            crawl(site.url + "/")
            assert "/robots.txt" in site.paths()
    """

    def __init__(
        self,
        root: str | Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        flaky_failures: int = 2,
        busy_failures: int = 1,
        retry_after: int = 1,
        slow_seconds: float = 5.0,
        big_size: int = 12 * 1024 * 1024,
    ) -> None:
        if not ipaddress.ip_address(host).is_loopback:
            raise ValueError(f"FixtureServer only binds loopback addresses, not {host!r}")
        self.root = Path(root or DEFAULT_ROOT).resolve()
        if not self.root.is_dir():
            raise FileNotFoundError(f"fixture site root not found: {self.root}")
        self.host = host
        self._port = port
        self.flaky_failures = flaky_failures
        self.busy_failures = busy_failures
        self.retry_after = retry_after
        self.slow_seconds = slow_seconds
        self.big_size = big_size

        self._lock = threading.Lock()
        self._requests: list[RequestRecord] = []
        self._counters: dict[str, int] = {}
        self._overrides: dict[str, Response] = {}
        self._connections: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._content_types = self._load_headers_file()
        self._routes: dict[str, Route] = {
            "/go/1": lambda r: self._redirect(302, "/go/2"),
            "/go/2": lambda r: self._redirect(301, self.url + "/go/3"),  # one absolute Location
            "/go/3": lambda r: self._redirect(302, REDIRECT_TARGET),
            "/loop/a": lambda r: self._redirect(302, "/loop/b"),
            "/loop/b": lambda r: self._redirect(302, "/loop/a"),
            "/big.html": lambda r: self._big(with_length=True),
            "/big-nolength.html": lambda r: self._big(with_length=False),
            "/slow.html": self._slow,
            "/flaky.html": self._flaky,
            "/busy.html": self._busy,
        }

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FixtureServer:
        """Bind and serve from a daemon thread; idempotent.  Returns self."""
        if self._httpd is not None:
            return self
        self._stopping.clear()
        httpd = _HTTPServer((self.host, self._port), _Handler)
        httpd.fixture = self
        self._httpd = httpd
        self._port = httpd.server_address[1]
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"FixtureServer:{self._port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and drop open connections (a streaming route ends within ~0.2 s)."""
        httpd = self._httpd
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=2)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> FixtureServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self._httpd is not None

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("FixtureServer is not started")
        return self._port

    @property
    def url(self) -> str:
        """The origin, without a trailing slash: ``http://127.0.0.1:PORT``."""
        return f"http://{self.host}:{self.port}"

    def url_for(self, path: str) -> str:
        """Absolute URL for a root-relative path: ``url_for("/feeds/rss.xml")``."""
        return self.url + ("" if path.startswith("/") else "/") + path

    # ------------------------------------------------------------------ request log

    @property
    def requests(self) -> list[RequestRecord]:
        """A snapshot (copy) of every request received so far, in arrival order."""
        with self._lock:
            return list(self._requests)

    def paths(self) -> list[str]:
        """The requested paths (query included), in arrival order."""
        return [r.path for r in self.requests]

    def requests_for(self, path: str) -> list[RequestRecord]:
        """Requests for ``path``: exact match if it has a query, else any query."""
        if "?" in path:
            return [r for r in self.requests if r.path == path]
        return [r for r in self.requests if r.url_path == path]

    def count(self, path: str) -> int:
        """How many requests were made for ``path`` (see :meth:`requests_for`)."""
        return len(self.requests_for(path))

    def reset(self) -> None:
        """Forget the request log and the flaky/busy counters (overrides are kept)."""
        with self._lock:
            self._requests.clear()
            self._counters.clear()

    # ------------------------------------------------------------------ overrides and routes

    def set_response(
        self,
        path: str,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
        body: bytes | str = b"",
    ) -> None:
        """Serve exactly this response at ``path`` (matched with its query first, then without).

        A 200 answer gets an ``ETag`` (from the body) and a ``Last-Modified`` (now)
        unless given, so conditional requests work on overrides too.  ``str`` bodies
        are encoded as UTF-8.  No ``{{BASE_URL}}`` substitution is done.
        """
        data = body.encode("utf-8") if isinstance(body, str) else bytes(body)
        hdrs = dict(headers or {})
        names = {k.lower() for k in hdrs}
        if status == 200:
            if "etag" not in names:
                hdrs["ETag"] = _etag(data)
            if "last-modified" not in names:
                hdrs["Last-Modified"] = _http_date(time.time())
        with self._lock:
            self._overrides[path] = Response(status, hdrs, data)

    def set_file(
        self, path: str, body: bytes | str, headers: Mapping[str, str] | None = None
    ) -> None:
        """Replace the page at ``path`` in memory (200).  Content-Type is guessed if not given."""
        hdrs = dict(headers or {})
        if not any(k.lower() == "content-type" for k in hdrs):
            hdrs["Content-Type"] = self._content_types.get(path, {}).get(
                "Content-Type", _guess_type(path)
            )
        self.set_response(path, 200, hdrs, body)

    def remove_override(self, path: str) -> None:
        with self._lock:
            self._overrides.pop(path, None)

    def clear_overrides(self) -> None:
        with self._lock:
            self._overrides.clear()

    def add_route(self, path: str, handler: Route) -> None:
        """Answer ``path`` (query ignored) with ``handler(record)``; replaces a built-in route.

        The handler returns a :class:`Response` or a ``(status, headers, body)`` tuple.
        """
        with self._lock:
            self._routes[path] = handler

    def remove_route(self, path: str) -> None:
        with self._lock:
            self._routes.pop(path, None)

    def read_file(self, path: str) -> bytes:
        """The bytes of the static file behind ``path`` as served (placeholders substituted)."""
        response = self._static(path)
        if response.status != 200 or not isinstance(response.body, bytes):
            raise FileNotFoundError(path)
        return response.body

    # ------------------------------------------------------------------ internals

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    def _record(self, record: RequestRecord) -> None:
        with self._lock:
            self._requests.append(record)

    def _bump(self, key: str) -> int:
        with self._lock:
            self._counters[key] = self._counters.get(key, 0) + 1
            return self._counters[key]

    def _load_headers_file(self) -> dict[str, dict[str, str]]:
        path = self.root / HEADERS_FILE
        if not path.is_file():
            return {}
        raw = json.loads(path.read_text(encoding="utf-8"))
        out: dict[str, dict[str, str]] = {}
        for url_path, value in raw.items():
            if url_path.startswith("#"):
                continue
            out[url_path] = {"Content-Type": value} if isinstance(value, str) else dict(value)
        return out

    def _respond(self, record: RequestRecord) -> Response:
        path = record.url_path
        with self._lock:
            override = self._overrides.get(record.path) or self._overrides.get(path)
            route = self._routes.get(path)
        if override is not None:
            response = Response(override.status, dict(override.headers), override.body)
        elif route is not None:
            result = route(record)
            response = result if isinstance(result, Response) else Response(*result)
            response.headers = dict(response.headers)
        else:
            response = self._static(path, query=record.query)
        return self._conditional(record, response)

    @staticmethod
    def _conditional(record: RequestRecord, response: Response) -> Response:
        if response.status != 200 or record.method not in ("GET", "HEAD"):
            return response
        headers = Headers(response.headers.items())
        etag = headers.get("ETag")
        last_modified = headers.get("Last-Modified")
        if_none_match = record.headers.get("If-None-Match")
        if_modified_since = record.headers.get("If-Modified-Since")
        not_modified = False
        if if_none_match is not None:
            not_modified = etag is not None and _etag_matches(if_none_match, etag)
        elif if_modified_since is not None and last_modified is not None:
            try:
                since = email.utils.parsedate_to_datetime(if_modified_since)
                modified = email.utils.parsedate_to_datetime(last_modified)
                not_modified = modified <= since
            except (TypeError, ValueError):
                not_modified = False
        if not not_modified:
            return response
        keep = {"etag", "last-modified", "cache-control", "expires", "vary", "content-location"}
        kept = {k: v for k, v in response.headers.items() if k.lower() in keep}
        if hasattr(response.body, "close"):
            response.body.close()  # type: ignore[union-attr]
        return Response(304, kept, b"")

    def _static(self, url_path: str, query: str = "") -> Response:
        rel = unquote(url_path).lstrip("/")
        target = (self.root / rel).resolve()
        if target != self.root and self.root not in target.parents:
            return self._not_found()
        parts = target.relative_to(self.root).parts
        if any(p.startswith("_") for p in parts) or parts == ("MANIFEST.md",):
            return self._not_found()
        if target.is_dir():
            if not url_path.endswith("/"):
                location = url_path + "/" + (f"?{query}" if query else "")
                return self._redirect(301, location)
            target = target / "index.html"
        if not target.is_file():
            return self._not_found()
        body = target.read_bytes()
        if target.suffix.lower() in SUBSTITUTED_SUFFIXES:
            body = body.replace(BASE_URL_PLACEHOLDER, self.url.encode("ascii"))
        serve_path = url_path if not url_path.endswith("/") else url_path + "index.html"
        headers = {"Content-Type": _guess_type(target.name)}
        for key in (url_path, serve_path):
            headers.update(self._content_types.get(key, {}))
        headers["ETag"] = _etag(body)
        headers["Last-Modified"] = _http_date(target.stat().st_mtime)
        return Response(200, headers, body)

    @staticmethod
    def _not_found() -> Response:
        body = (
            b"<!DOCTYPE html><html><head><title>404 Not Found</title></head>"
            b"<body><h1>Page not found</h1><p>The page you asked for does not exist.</p>"
            b"</body></html>\n"
        )
        return Response(404, {"Content-Type": "text/html; charset=utf-8"}, body)

    @staticmethod
    def _redirect(status: int, location: str) -> Response:
        body = f'<html><body>Moved to <a href="{location}">{location}</a></body></html>\n'
        return Response(
            status,
            {"Location": location, "Content-Type": "text/html; charset=utf-8"},
            body.encode(),
        )

    def _flaky(self, record: RequestRecord) -> Response:
        """503 for the first ``flaky_failures`` requests of this server instance, then the file."""
        if self._bump("/flaky.html") <= self.flaky_failures:
            body = b"<html><body><h1>503 Service Unavailable</h1><p>Try again.</p></body></html>\n"
            return Response(503, {"Content-Type": "text/html; charset=utf-8"}, body)
        return self._static("/flaky.html")

    def _busy(self, record: RequestRecord) -> Response:
        """429 + Retry-After for the first ``busy_failures`` requests, then the file."""
        if self._bump("/busy.html") <= self.busy_failures:
            body = b"<html><body><h1>429 Too Many Requests</h1><p>Slow down.</p></body></html>\n"
            headers = {
                "Content-Type": "text/html; charset=utf-8",
                "Retry-After": str(self.retry_after),
            }
            return Response(429, headers, body)
        return self._static("/busy.html")

    def _big(self, *, with_length: bool) -> Response:
        """About ``big_size`` bytes of valid HTML, streamed in 64 KiB chunks."""
        size = self.big_size
        head = (
            b'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            b"<title>Planning documents archive | Harbour Gazette</title></head>"
            b"<body><h1>Planning documents archive</h1>\n"
        )
        tail = b"</body></html>\n"
        unit = (
            b"<p>Appendix line: schedule of works for the Esplanade seawall, drawing "
            b"reference HG-PLN-0000, revision C, approved for publication.</p>\n"
        )
        filler = max(0, size - len(head) - len(tail))

        def chunks() -> Iterator[bytes]:
            yield head
            block = unit * (65536 // len(unit))
            remaining = filler
            while remaining >= len(block):
                yield block
                remaining -= len(block)
            whole, rest = divmod(remaining, len(unit))
            yield unit * whole + b"\n" * rest
            yield tail

        headers = {"Content-Type": "text/html; charset=utf-8"}
        if with_length:
            headers["Content-Length"] = str(len(head) + filler + len(tail))
        return Response(200, headers, chunks())

    def _slow(self, record: RequestRecord) -> Response:
        """Headers at once, then a trickle of HTML for ``slow_seconds`` (no Content-Length)."""
        stopping = self._stopping
        duration = self.slow_seconds

        def chunks() -> Iterator[bytes]:
            yield (
                b'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
                b"<title>Live tide data | Harbour Gazette</title></head><body>\n"
                b"<h1>Live tide data</h1>\n"
            )
            deadline = time.monotonic() + duration
            n = 0
            while time.monotonic() < deadline:
                if stopping.wait(0.1):
                    return
                n += 1
                yield f"<p>Reading {n}: tide gauge still loading...</p>\n".encode()
            yield b"</body></html>\n"

        return Response(200, {"Content-Type": "text/html; charset=utf-8"}, chunks())


def main(argv: list[str] | None = None) -> int:
    """``python tests/fixture_server.py [ROOT] [PORT]``: serve until Ctrl-C."""
    args = sys.argv[1:] if argv is None else argv
    root = Path(args[0]) if args else None
    port = int(args[1]) if len(args) > 1 else 0
    with FixtureServer(root, port=port) as server:
        print(f"Serving {server.root} at {server.url}/ (Ctrl-C to stop)", flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
