"""The two Scrapy-only downloader middlewares: backoff before retries, one robots.txt for all.

Built with ``get_crawler``/``from_crawler``; coroutines are driven by
``asyncio.run`` (no reactor), with the backoff's ``deferLater`` replaced by a
recorder so nothing really waits.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest
import twisted.internet
from scrapy import Request
from scrapy.crawler import Crawler
from scrapy.exceptions import IgnoreRequest
from scrapy.http import HtmlResponse, Response, TextResponse
from scrapy.utils.test import get_crawler
from twisted.internet import defer

from newsarchive.crawler import middlewares
from newsarchive.crawler.middlewares import BackoffRetryMiddleware, SharedRobotsTxtMiddleware

T = TypeVar("T")

BASE = "http://127.0.0.1:8123"
SITE = Path(__file__).resolve().parents[1] / "fixtures" / "site"


def run(awaitable: Awaitable[T]) -> T:
    async def main() -> T:
        return await awaitable

    return asyncio.run(main())


def make_crawler(settings: dict[str, Any]) -> Crawler:
    crawler = get_crawler(settings_dict=settings)
    crawler.spider = crawler.spidercls.from_crawler(crawler)
    return crawler


# --- BackoffRetryMiddleware -----------------------------------------------------------


@pytest.fixture
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The delays the middleware waited for, in order (it does not really wait)."""
    delays: list[float] = []

    def fake_defer_later(
        clock: object, delay: float, callable: Callable[[], None]
    ) -> defer.Deferred[None]:
        delays.append(delay)
        return defer.succeed(callable())

    monkeypatch.setattr(middlewares, "deferLater", fake_defer_later)
    # The middleware imports the reactor late; don't let that install one in this process.
    monkeypatch.setattr(twisted.internet, "reactor", object(), raising=False)
    return delays


def backoff(**settings: Any) -> BackoffRetryMiddleware:
    defaults: dict[str, Any] = {
        "RETRY_TIMES": 3,
        "RETRY_HTTP_CODES": [429, 503],
        "RETRY_BACKOFF_BASE": 0.5,
        "RETRY_BACKOFF_MAX": 10.0,
    }
    return BackoffRetryMiddleware.from_crawler(make_crawler({**defaults, **settings}))


def answer(request: Request, status: int, **headers: str) -> Response:
    return HtmlResponse(
        url=request.url, status=status, headers=headers, body=b"<html></html>", request=request
    )


def test_each_retry_waits_twice_as_long_and_none_past_retry_times(waits: list[float]) -> None:
    mw = backoff()
    request = Request(f"{BASE}/flaky.html")
    retries: list[Request] = []
    for _ in range(3):
        result = run(mw.process_response(request, answer(request, 503)))
        assert isinstance(result, Request)
        retries.append(result)
        request = result
    assert [r.meta["retry_times"] for r in retries] == [1, 2, 3]
    assert all(r.url == f"{BASE}/flaky.html" for r in retries)
    assert waits == [0.5, 1.0, 2.0]

    # RETRY_TIMES used up: the 503 goes on as the answer, without a wait.
    final = answer(request, 503)
    assert run(mw.process_response(request, final)) is final
    assert waits == [0.5, 1.0, 2.0]


def test_backoff_is_capped(waits: list[float]) -> None:
    mw = backoff(RETRY_TIMES=6, RETRY_BACKOFF_BASE=4.0, RETRY_BACKOFF_MAX=10.0)
    request = Request(f"{BASE}/flaky.html")
    for _ in range(4):
        request = run(mw.process_response(request, answer(request, 503)))
    assert waits == [4.0, 8.0, 10.0, 10.0]


@pytest.mark.parametrize(
    ("retry_after", "expected"),
    [
        ("5", 5.0),  # longer than the backoff: honoured
        (" 7 ", 7.0),
        ("600", 10.0),  # capped at RETRY_BACKOFF_MAX
        ("0", 0.5),  # shorter than the backoff: the backoff wins
        ("Wed, 21 Oct 2015 07:28:00 GMT", 0.5),  # HTTP dates are not read
        ("soon", 0.5),
    ],
)
def test_retry_after_is_honoured_and_capped(
    retry_after: str, expected: float, waits: list[float], caplog: pytest.LogCaptureFixture
) -> None:
    mw = backoff()
    request = Request(f"{BASE}/busy.html")
    with caplog.at_level(logging.INFO, logger=middlewares.__name__):
        retry = run(
            mw.process_response(request, answer(request, 429, **{"Retry-After": retry_after}))
        )
    assert isinstance(retry, Request)
    assert waits == [expected]
    assert f"retrying {BASE}/busy.html in {expected:.1f}s after HTTP 429" in caplog.messages


@pytest.mark.parametrize("status", [200, 404])
def test_answers_not_retried_pass_through_without_a_wait(status: int, waits: list[float]) -> None:
    mw = backoff()
    request = Request(f"{BASE}/about.html")
    response = answer(request, status)
    assert run(mw.process_response(request, response)) is response
    assert waits == []


def test_dont_retry_is_respected(waits: list[float]) -> None:
    mw = backoff()
    request = Request(f"{BASE}/flaky.html", meta={"dont_retry": True})
    response = answer(request, 503)
    assert run(mw.process_response(request, response)) is response
    assert waits == []


def test_zero_base_retries_at_once(waits: list[float]) -> None:
    mw = backoff(RETRY_BACKOFF_BASE=0)
    request = Request(f"{BASE}/flaky.html")
    assert isinstance(run(mw.process_response(request, answer(request, 503))), Request)
    assert waits == []


# --- SharedRobotsTxtMiddleware --------------------------------------------------------


class SlowRobotsEngine:
    """Serves the fixture robots.txt once the test lets it, counting the downloads."""

    def __init__(self) -> None:
        self.downloads: list[str] = []
        self.slots: list[str | None] = []
        self.release = asyncio.Event()

    async def download_async(self, request: Request) -> Response:
        self.downloads.append(request.url)
        self.slots.append(request.meta.get("download_slot"))
        await self.release.wait()
        body = (SITE / "robots.txt").read_bytes().replace(b"{{BASE_URL}}", BASE.encode())
        return TextResponse(url=request.url, body=body, request=request)


async def verdicts(
    mw: SharedRobotsTxtMiddleware, engine: SlowRobotsEngine, paths: list[str]
) -> dict[str, str]:
    """Send every path through the middleware while robots.txt is still downloading."""

    async def one(path: str) -> str:
        try:
            await mw.process_request(Request(f"{BASE}{path}"))
        except IgnoreRequest as exc:
            return f"ignored: {exc}"
        return "allowed"

    tasks = [asyncio.ensure_future(one(p)) for p in paths]
    for _ in range(5):  # let every request reach the middleware and start waiting
        await asyncio.sleep(0)
    assert not any(t.done() for t in tasks)
    engine.release.set()
    return dict(zip(paths, await asyncio.gather(*tasks), strict=True))


def test_every_request_waiting_for_robots_txt_gets_its_verdict() -> None:
    crawler = make_crawler({"ROBOTSTXT_OBEY": True, "USER_AGENT": "newsarchive/test"})
    engine = SlowRobotsEngine()
    crawler.engine = engine  # type: ignore[assignment]
    mw = SharedRobotsTxtMiddleware.from_crawler(crawler)
    paths = ["/", "/private/secret.html", "/about.html", "/private/drafts.html", "/news/"]

    result = run(verdicts(mw, engine, paths))

    assert engine.downloads == [f"{BASE}/robots.txt"]
    forbidden = "ignored: Forbidden by robots.txt"
    assert result == {
        "/": "allowed",
        "/private/secret.html": forbidden,
        "/about.html": "allowed",
        "/private/drafts.html": forbidden,
        "/news/": "allowed",
    }
    assert crawler.stats.get_value("robotstxt/forbidden") == 2


def test_requests_after_robots_txt_arrived_use_the_parsed_file() -> None:
    crawler = make_crawler({"ROBOTSTXT_OBEY": True, "USER_AGENT": "newsarchive/test"})
    engine = SlowRobotsEngine()
    engine.release.set()
    crawler.engine = engine  # type: ignore[assignment]
    mw = SharedRobotsTxtMiddleware.from_crawler(crawler)

    async def later() -> None:
        await mw.process_request(Request(f"{BASE}/"))
        with pytest.raises(IgnoreRequest):
            await mw.process_request(Request(f"{BASE}/private/secret.html"))
        await mw.process_request(Request(f"{BASE}/about.html"))

    run(later())
    assert engine.downloads == [f"{BASE}/robots.txt"]
    # Not the host's own download slot (keyed by host name), whose start delay
    # would then hold back the first page by a second.
    assert engine.slots[0] not in (None, "127.0.0.1")
