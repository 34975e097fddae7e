"""A loopback HTTP server for WARC files that honours Range requests and can drop
connections halfway (test helper). Every request's path and Range header is logged."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_RANGE = re.compile(r"bytes=(\d+)-$")


@dataclass
class RangeServer:
    files: dict[str, bytes]
    drop_first_at: dict[str, int] = field(default_factory=dict)
    """Path → byte after which the first response for it is cut off (connection closed)."""
    log: list[tuple[str, str, str | None]] = field(default_factory=list)
    """(method, path, Range header or None) per request, in order."""
    url: str = ""


def _handler(server: RangeServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: object) -> None:
            pass

        def do_HEAD(self) -> None:
            server.log.append(("HEAD", self.path, self.headers.get("Range")))
            data = server.files.get(self.path)
            if data is None:
                self.send_error(404)
                return
            self.send_response(200)
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()

        def do_GET(self) -> None:
            path = self.path
            header = self.headers.get("Range")
            server.log.append(("GET", path, header))
            data = server.files.get(path)
            if data is None:
                self.send_error(404)
                return
            start = 0
            if header:
                match = _RANGE.match(header)
                if not match or int(match.group(1)) >= len(data):
                    self.send_error(416)
                    return
                start = int(match.group(1))
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            else:
                self.send_response(200)
            self.send_header("Accept-Ranges", "bytes")
            self.send_header("Content-Length", str(len(data) - start))
            self.end_headers()
            cut = server.drop_first_at.pop(path, None)
            self.wfile.write(data[start:cut] if cut is not None else data[start:])
            if cut is not None:
                self.wfile.flush()
                self.close_connection = True

    return Handler


@contextmanager
def range_server(files: dict[str, bytes], drop_first_at: dict[str, int]) -> Iterator[RangeServer]:
    state = RangeServer(files, dict(drop_first_at))
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
