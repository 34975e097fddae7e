"""Quick checks that the fixture server serves the fixture site the way the e2e tests expect."""

from __future__ import annotations

import http.client
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from email.message import Message

import pytest

from tests.fixture_server import DEFAULT_ROOT, FixtureServer, Headers, Response


@pytest.fixture
def server() -> Iterator[FixtureServer]:
    with FixtureServer(slow_seconds=5.0, big_size=256 * 1024) as srv:
        yield srv


def fetch(
    srv: FixtureServer, path: str, headers: dict[str, str] | None = None, method: str = "GET"
) -> tuple[int, Message, bytes]:
    """One request without following redirects; returns (status, headers, body)."""
    conn = http.client.HTTPConnection(srv.host, srv.port, timeout=5)
    try:
        conn.request(method, path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.headers, resp.read()
    finally:
        conn.close()


def test_home_page_and_directory_index(server: FixtureServer) -> None:
    status, headers, body = fetch(server, "/")
    assert status == 200
    assert headers["Content-Type"] == "text/html"  # guessed from the extension, no charset
    assert b"Harbour Gazette" in body
    assert b"utm_source=rss" in body
    status, headers, _ = fetch(server, "/news")
    assert (status, headers["Location"]) == (301, "/news/")
    assert fetch(server, "/news/")[0] == 200


def test_charset_headers_follow_the_manifest(server: FixtureServer) -> None:
    _, headers, body = fetch(server, "/intl/zh-gbk-header.html")
    assert headers["Content-Type"] == "text/html; charset=gbk"
    assert b"charset" not in body.lower()
    assert "滨海新城地铁三号线" in body.decode("gbk")
    _, headers, body = fetch(server, "/intl/zh-gbk-meta.html")
    assert headers["Content-Type"] == "text/html"
    assert b'content="text/html; charset=gbk"' in body
    _, headers, body = fetch(server, "/intl/de-utf8-header-wrong.html")
    assert headers["Content-Type"] == "text/html; charset=iso-8859-1"
    assert "Möwenstadt" in body.decode("utf-8")
    _, headers, body = fetch(server, "/intl/fr-cp1252-header-latin1.html")
    assert "’" in body.decode("cp1252")  # a byte (0x92) that latin-1 maps to a C1 control
    _, headers, _ = fetch(server, "/photos/crane-at-dusk")
    assert headers["Content-Type"] == "image/png"


def test_placeholders_are_replaced_in_feeds_sitemaps_and_robots(server: FixtureServer) -> None:
    for path in [
        "/robots.txt",
        "/sitemap_index.xml",
        "/sitemaps/news.xml",
        "/feeds/rss.xml",
        "/feeds/atom.xml",
        "/feeds/rss1.rdf",
    ]:
        status, _, body = fetch(server, path)
        assert status == 200, path
        assert b"{{BASE_URL}}" not in body, path
        assert server.url.encode() in body, path
    assert f"Sitemap: {server.url}/sitemap_index.xml".encode() in fetch(server, "/robots.txt")[2]


def test_hidden_and_missing_files_are_404(server: FixtureServer) -> None:
    for path in [
        "/_headers.json",
        "/MANIFEST.md",
        "/old/2019/regatta-results.html",
        "/news/2024/05/withdrawn-story.html",
        "/../fixture_server.py",
    ]:
        assert fetch(server, path)[0] == 404, path


def test_redirect_chain_and_loop(server: FixtureServer) -> None:
    status, headers, _ = fetch(server, "/go/1")
    assert (status, headers["Location"]) == (302, "/go/2")
    status, headers, _ = fetch(server, "/go/2")
    assert (status, headers["Location"]) == (301, server.url + "/go/3")
    with urllib.request.urlopen(server.url + "/go/1", timeout=5) as resp:
        assert resp.url == server.url + "/news/2024/05/old-customs-house-museum.html"
        assert b"Old Customs House" in resp.read()
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(server.url + "/loop/a", timeout=5)
    assert err.value.code == 302  # urllib gives up on the loop


def test_conditional_requests(server: FixtureServer) -> None:
    path = "/news/2024/05/harbour-bridge-reopens.html"
    status, headers, _ = fetch(server, path)
    etag, modified = headers["ETag"], headers["Last-Modified"]
    assert status == 200 and etag and modified
    status, headers, body = fetch(server, path, {"If-None-Match": etag})
    assert (status, body, headers["ETag"]) == (304, b"", etag)
    assert fetch(server, path, {"If-None-Match": '"other"'})[0] == 200
    assert fetch(server, path, {"If-Modified-Since": modified})[0] == 304
    assert fetch(server, path, {"If-Modified-Since": "Mon, 01 Jan 2001 00:00:00 GMT"})[0] == 200


def test_flaky_and_busy_pages(server: FixtureServer) -> None:
    assert [fetch(server, "/flaky.html")[0] for _ in range(3)] == [503, 503, 200]
    status, headers, _ = fetch(server, "/busy.html")
    assert (status, headers["Retry-After"]) == (429, "1")
    status, _, body = fetch(server, "/busy.html")
    assert status == 200 and b"tide gauge" in body
    server.reset()
    assert fetch(server, "/flaky.html")[0] == 503


def test_override_between_two_crawls(server: FixtureServer) -> None:
    path = "/news/2024/05/fish-market-prices.html"
    _, headers, original = fetch(server, path)
    server.set_file(path, original.replace(b"38 pounds", b"41 pounds"))
    status, new_headers, body = fetch(server, path, {"If-None-Match": headers["ETag"]})
    assert status == 200 and b"41 pounds" in body
    assert new_headers["Content-Type"] == "text/html"
    assert fetch(server, path, {"If-None-Match": new_headers["ETag"]})[0] == 304
    server.set_response("/gone.html", 410, {"Content-Type": "text/plain"}, "gone")
    assert fetch(server, "/gone.html")[:1] == (410,)
    server.add_route("/echo", lambda r: (200, {}, r.headers.get("User-Agent", "").encode()))
    assert fetch(server, "/echo?x=1", {"User-Agent": "probe/1.0"})[2] == b"probe/1.0"
    server.clear_overrides()
    assert b"38 pounds" in fetch(server, path)[2]


def test_request_log(server: FixtureServer) -> None:
    fetch(server, "/robots.txt", {"User-Agent": "newsarchive-test/1.0"})
    fetch(server, "/news/2024/05/ferry-timetable-changes.html?utm_source=rss", method="HEAD")
    assert server.paths() == [
        "/robots.txt",
        "/news/2024/05/ferry-timetable-changes.html?utm_source=rss",
    ]
    first, second = server.requests
    assert first.headers["user-agent"] == first.headers["USER-AGENT"] == "newsarchive-test/1.0"
    assert (first.method, first.status) == ("GET", 200)
    assert (second.method, second.url_path) == (
        "HEAD",
        "/news/2024/05/ferry-timetable-changes.html",
    )
    assert server.count("/news/2024/05/ferry-timetable-changes.html") == 1
    assert first.time <= second.time


def test_big_response_is_streamed_with_length(server: FixtureServer) -> None:
    status, headers, body = fetch(server, "/big.html")
    assert status == 200 and int(headers["Content-Length"]) == len(body) == 256 * 1024
    assert body.endswith(b"</body></html>\n")
    status, headers, body = fetch(server, "/big-nolength.html")
    assert status == 200 and "Content-Length" not in headers and len(body) == 256 * 1024


def test_default_big_page_is_twelve_megabytes() -> None:
    with FixtureServer() as srv:
        status, headers, _ = fetch(srv, "/big.html", method="HEAD")
    assert status == 200 and int(headers["Content-Length"]) == 12 * 1024 * 1024


def test_slow_page_times_out_and_does_not_block_shutdown() -> None:
    srv = FixtureServer(slow_seconds=30).start()
    sock = socket.create_connection((srv.host, srv.port), timeout=5)
    sock.sendall(b"GET /slow.html HTTP/1.1\r\nHost: x\r\n\r\n")
    assert sock.recv(12) == b"HTTP/1.1 200"  # headers arrive at once, the body trickles
    quitter = socket.create_connection((srv.host, srv.port), timeout=5)
    quitter.sendall(b"GET /slow.html HTTP/1.1\r\nHost: x\r\n\r\n")
    quitter.recv(100)
    quitter.close()  # a client that gives up: the server notices on its next write
    assert fetch(srv, "/about.html")[0] == 200
    started = time.monotonic()
    srv.stop()
    assert time.monotonic() - started < 1.5
    sock.settimeout(2)
    rest = b""
    try:
        while chunk := sock.recv(65536):
            rest += chunk
    except OSError:
        pass
    sock.close()
    assert b"</body></html>" not in rest  # cut short by the shutdown
    assert not any(t.name.startswith(f"FixtureServer:{srv._port}") for t in threading.enumerate())


def test_loopback_only_and_other_loopback_address() -> None:
    with pytest.raises(ValueError):
        FixtureServer(host="0.0.0.0")
    with FixtureServer(host="127.0.0.2") as srv:
        assert srv.url.startswith("http://127.0.0.2:")
        assert fetch(srv, "/about.html")[0] == 200


def test_headers_mapping_and_response_tuple() -> None:
    h = Headers([("If-None-Match", '"a"'), ("Accept", "text/html"), ("accept", "*/*")])
    assert h["if-none-match"] == '"a"' and h["ACCEPT"] == "text/html, */*" and len(h) == 2
    assert "accept" in h and dict(h) == {"If-None-Match": '"a"', "Accept": "text/html, */*"}
    assert Response().status == 200
    assert DEFAULT_ROOT.joinpath("_headers.json").is_file()
