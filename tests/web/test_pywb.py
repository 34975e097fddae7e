"""pywb (the optional ``pywb`` extra) indexes newsarchive's WARC files and replays a capture:
the README's recipe, run as written."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.web.conftest import WebArchive
from tests.web.corpus import BASE, TRADE_TITLE

BIN = Path(sys.executable).parent


def _pywb_missing() -> str | None:
    try:
        import pywb  # noqa: F401
    except ImportError as exc:
        return f"pywb is not installed (pip install 'newsarchive[pywb]'): {exc}"
    if not (BIN / "wb-manager").exists():
        return f"pywb's wb-manager is not in {BIN}"
    return None


@pytest.mark.skipif(_pywb_missing() is not None, reason=str(_pywb_missing()))
def test_pywb_indexes_the_warc_files_and_serves_a_captured_page(
    sqlite_archive: WebArchive, tmp_path: Path
) -> None:
    env = {**os.environ, "PYTHONWARNINGS": "ignore"}
    warcs = sorted(str(p) for p in sqlite_archive.config.warc_dir.glob("*.warc.gz"))
    assert warcs
    for command in (["init", "news"], ["add", "news", *warcs]):
        subprocess.run(
            [str(BIN / "wb-manager"), *command], cwd=tmp_path, env=env, check=True,
            capture_output=True, timeout=60,
        )  # fmt: skip
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    wayback = subprocess.Popen(
        [str(BIN / "wayback"), "--bind", "127.0.0.1", "--port", str(port)],
        cwd=tmp_path, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        # id_: the archived response as it was recorded, without pywb's rewriting.
        url = f"http://127.0.0.1:{port}/news/2030id_/{BASE}/trade"
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(url, timeout=2) as response:
                    body = response.read()
                break
            except OSError:
                if wayback.poll() is not None or time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        assert TRADE_TITLE.encode("gb18030") in body
    finally:
        wayback.terminate()
        wayback.wait(timeout=10)
