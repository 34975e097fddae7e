"""The web UI in a real browser (Debian's chromium driven by Playwright), served by the
installed ``newsarchive serve``: search a two-character Chinese word, read the article,
open a changed story's diff and a capture; nothing archived runs as script, and the
capture asks nothing of the live site.
"""

from __future__ import annotations

import io
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.cli_process import NEWSARCHIVE
from tests.conftest import IN_CI
from tests.web.conftest import WebArchive
from tests.web.corpus import KOREAN, TRADE_TEXT, TRADE_TITLE

CHROMIUM = "/usr/bin/chromium"


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: the browser tests must run)", pytrace=False)
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def server(sqlite_archive: WebArchive) -> Iterator[str]:
    """``newsarchive serve`` on the module's archive, as a user starts it."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSARCHIVE_")}
    process = subprocess.Popen(
        [NEWSARCHIVE, "--config", str(sqlite_archive.config_path), "serve", "--listen",
         f"127.0.0.1:{port}"],
        env=env, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/api/stats", timeout=1).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                pytest.fail(f"newsarchive serve did not start: {process.stderr.read()}")
            time.sleep(0.1)
    yield url
    process.terminate()
    assert process.wait(timeout=15) == 0, process.stderr.read()


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not shutil.which(CHROMIUM):
        _unavailable(f"{CHROMIUM} is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        _unavailable(f"playwright is not installed ({exc})")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM)
        yield browser
        browser.close()


@pytest.fixture
def requested() -> list[str]:
    """Every URL the page or its frames asked for."""
    return []


@pytest.fixture
def page(browser: Any, server: str, requested: list[str]) -> Iterator[Any]:
    context = browser.new_context(base_url=server, viewport={"width": 1100, "height": 800})
    page = context.new_page()
    page.on("request", lambda request: requested.append(request.url))
    yield page
    context.close()


def assert_not_blank(png: bytes) -> None:
    """A screenshot that shows something: many shades, not one flat colour."""
    from PIL import Image, ImageStat

    image = Image.open(io.BytesIO(png)).convert("L")
    assert image.size[0] > 500
    assert ImageStat.Stat(image).stddev[0] > 10, "the screenshot is (nearly) one colour"
    shades = image.getcolors(maxcolors=256)  # None: more than 256 shades
    assert shades is None or len(shades) > 20, f"only {len(shades)} shades: no text drawn"


def assert_no_script_ran(page: Any) -> None:
    assert page.evaluate("() => window.__pwned === undefined"), page.evaluate("window.__pwned")
    assert page.title() != "pwned"


def search_chinese_read_article_and_its_capture(
    page: Any, server: str, requested: list[str], sqlite_archive: WebArchive, live_site: Any
) -> None:
    c = sqlite_archive.corpus
    page.goto("/")
    page.fill("input[name=q]", "谈判")
    page.click("button[type=submit]")
    results = page.locator("ol.hits li a.title")
    assert results.all_inner_texts() == [TRADE_TITLE]  # the wire copy is hidden by default
    assert "谈判" in page.locator("ol.hits .snippet").inner_text()
    assert_not_blank(page.screenshot(full_page=True))

    results.first.click()
    assert page.url.endswith(f"/articles/{c.trade}")
    assert page.locator("h1").inner_text() == TRADE_TITLE
    assert page.locator("section.text").inner_text().split("\n")[0] == TRADE_TEXT.split("\n")[0]
    fields = page.locator("table.fields").inner_text()
    assert "json-ld" in fields and "paywalled" in fields  # where the date came from; access
    cluster = page.locator("table.cluster a").all_inner_texts()
    assert cluster == [str(c.trade), str(c.trade_copy)]
    assert_not_blank(page.screenshot())

    page.click("a.capture")
    frame_element = page.locator("iframe.capture")
    assert frame_element.get_attribute("sandbox") == ""
    frame = frame_element.element_handle().content_frame()
    frame.wait_for_load_state()
    assert frame.locator("h1").inner_text() == TRADE_TITLE  # decoded from GB18030
    assert frame.locator("a", has_text="another story").get_attribute("href") is None
    assert_not_blank(page.screenshot())
    assert_no_script_ran(page)
    assert frame.evaluate("() => window.__pwned === undefined")
    own = [u for u in requested if not u.startswith(server)]
    assert own == [], "the capture asked for something off the archive"
    assert live_site.requests == []


def diff_of_a_changed_story(page: Any, sqlite_archive: WebArchive) -> None:
    page.goto(f"/articles/{sqlite_archive.corpus.edited}")
    page.click("a.diff")
    assert page.locator(".headline-change del").inner_text() == "Visitor over the bay"
    assert page.locator(".headline-change ins").inner_text() == "Airship over the bay"
    assert page.locator("ol.diff del").all_inner_texts() == ["A zeppelin"]
    assert page.locator("ol.diff ins").all_inner_texts() == ["An airship", ", the coastguard said"]
    assert_not_blank(page.screenshot())


def script_in_a_stored_title_or_text_does_not_run(page: Any, sqlite_archive: WebArchive) -> None:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto("/?q=tide")
    assert_no_script_ran(page)
    assert page.locator("ol.hits a.title").inner_text().startswith("<script>")
    page.goto(f"/articles/{sqlite_archive.corpus.hostile}")
    assert page.locator("h1").inner_text().startswith("<script>window.__pwned")
    assert "onerror=" in page.locator("section.text").inner_text()
    assert page.locator("section.text img, section.text script").count() == 0
    assert_no_script_ran(page)
    assert dialogs == []


def korean_article_dashboard_and_runs(page: Any, sqlite_archive: WebArchive) -> None:
    page.goto(f"/articles/{sqlite_archive.corpus.korean}")
    assert page.locator("h1").inner_text() == KOREAN[0]
    page.goto("/sources")
    xinhua = page.locator("#source-xinhua")
    bars = xinhua.locator("svg.per-day rect")
    assert bars.count() == 30
    heights = [float(h) for h in bars.evaluate_all("rs => rs.map(r => r.getAttribute('height'))")]
    assert sum(1 for h in heights if h > 0) == 1  # one day with a story
    assert xinhua.locator("table.runs td").nth(2).inner_text() == "ok"
    assert_not_blank(page.screenshot(full_page=True))
    page.goto("/runs")
    assert page.locator("table.runs tr").count() == 2  # the header and the one run


# One journey, one test: under pytest-xdist each test of a module may run in another
# worker, and each worker would start its own browser, server and archive.
def test_a_reader_searches_reads_compares_and_views_captures(
    page: Any, server: str, requested: list[str], sqlite_archive: WebArchive, live_site: Any
) -> None:
    search_chinese_read_article_and_its_capture(page, server, requested, sqlite_archive, live_site)
    diff_of_a_changed_story(page, sqlite_archive)
    script_in_a_stored_title_or_text_does_not_run(page, sqlite_archive)
    korean_article_dashboard_and_runs(page, sqlite_archive)
