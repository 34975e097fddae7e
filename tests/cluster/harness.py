"""A cluster on this machine for the tests: RabbitMQ, small news sites, a broker proxy."""

from __future__ import annotations

import contextlib
import socket
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import IN_CI
from tests.scheduler.daemon_harness import write_config

BROKER_HOST, BROKER_PORT = "127.0.0.1", 5672
BROKER_URL = f"amqp://guest:guest@{BROKER_HOST}:{BROKER_PORT}//"


def require_rabbitmq() -> None:
    """Skip (fail under CI=true) unless RabbitMQ answers on 127.0.0.1:5672."""
    try:
        socket.create_connection((BROKER_HOST, BROKER_PORT), timeout=2).close()
    except OSError as exc:
        message = f"RabbitMQ not reachable at {BROKER_HOST}:{BROKER_PORT}: {exc}"
        if IN_CI:
            pytest.fail(f"{message} (CI=true: RabbitMQ is required)", pytrace=False)
        pytest.skip(message)


@contextlib.contextmanager
def private_queue() -> Iterator[str]:
    """A queue name no other test run uses; the queue is deleted afterwards."""
    name = f"newsarchive-test-{uuid.uuid4().hex[:10]}"
    try:
        yield name
    finally:
        from kombu import Connection

        with contextlib.suppress(Exception), Connection(BROKER_URL, connect_timeout=3) as conn:
            conn.default_channel.queue_delete(name)


def write_cluster_config(
    path: Path,
    database_url: str,
    sources: list[dict[str, Any]],
    *,
    queue: str,
    broker_url: str = BROKER_URL,
    daemon: dict[str, Any] | None = None,
    scrapy: dict[str, Any] | None = None,
) -> Path:
    """The daemon tests' config plus a ``[cluster]`` section, WARC files beside it."""
    write_config(path, database_url, sources, daemon=daemon, scrapy=scrapy)
    with path.open("a", encoding="utf-8") as out:
        out.write(f'\n[archive]\nwarc_dir = "{path.parent / "warc"}"\n')
        out.write(f'\n[cluster]\nbroker_url = "{broker_url}"\nqueue = "{queue}"\n')
        out.write("heartbeat_interval = 1\n")
    return path


def story_page(title: str, paragraphs: list[str]) -> str:
    body = "\n".join(f"<p>{p}</p>" for p in paragraphs)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<title>{title}</title><meta property="og:type" content="article">'
        '<meta property="article:published_time" content="2026-11-30T09:00:00+00:00">'
        f"</head><body><nav><a href='/'>Home</a></nav><main><article><h1>{title}</h1>"
        f'<p class="byline">By Ada Reporter</p>{body}</article></main></body></html>'
    )


def write_site(root: Path, stories: dict[str, str]) -> Path:
    """A news site: ``/feed.xml`` (RSS) listing each ``path → page`` in ``stories``."""
    root.mkdir(parents=True, exist_ok=True)
    items = ""
    for path, page in stories.items():
        target = root / path.lstrip("/")
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(page, encoding="utf-8")
        items += f"<item><title>{path}</title><link>{{{{BASE_URL}}}}{path}</link></item>"
    (root / "feed.xml").write_text(
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{root.name}</title><link>{{{{BASE_URL}}}}/</link>{items}</channel></rss>",
        encoding="utf-8",
    )
    (root / "robots.txt").write_text("User-agent: *\nAllow: /\n", encoding="utf-8")
    return root


class TcpProxy:
    """A TCP relay from a loopback port to ``target``; ``stop()`` drops every connection.

    Stands between the dispatcher and RabbitMQ, so a test can take the broker
    away from the dispatcher alone and bring it back on the same port.
    """

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}//"

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(16)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # stopped
            try:
                upstream = socket.create_connection(self.target, timeout=3)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets.update((client, upstream))
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(src, dst), daemon=True).start()

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        for sock in (src, dst):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def stop(self) -> None:
        """The broker is gone for the dispatcher: refused connections, open ones cut."""
        if self._listener is not None:
            # shutdown() first: close() alone leaves a socket blocked in accept() listening.
            with contextlib.suppress(OSError):
                self._listener.shutdown(socket.SHUT_RDWR)
            self._listener.close()
            self._listener = None
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()


class FeedGate:
    """The ``/feed.xml`` of ``sites`` held back: crawls of them are surely running.

    With several sites, each feed is answered once every site's feed was asked
    for (their crawls overlap); with one, it is answered at :meth:`open`. Only
    the first crawls are held: later requests are answered at once.
    """

    def __init__(self, *sites: Any, timeout: float = 60) -> None:
        self.requested = threading.Event()
        self._open = threading.Event()
        self._barrier = threading.Barrier(len(sites), timeout=timeout)
        self._timeout = timeout
        for site in sites:
            body = site.read_file("/feed.xml")
            site.add_route("/feed.xml", lambda _record, body=body: self._answer(body))

    def _answer(self, body: bytes) -> tuple[int, dict[str, str], bytes]:
        self.requested.set()
        if self._barrier.parties > 1 and not self._open.is_set():
            self._barrier.wait()
            self._open.set()
        else:
            self._open.wait(self._timeout)
        return 200, {"Content-Type": "application/rss+xml"}, body

    def open(self) -> None:
        self._open.set()

    def __enter__(self) -> FeedGate:
        return self

    def __exit__(self, *exc: object) -> None:
        self.open()  # never leave a server thread blocked
