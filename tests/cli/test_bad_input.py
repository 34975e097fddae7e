"""Input a user gets wrong, or an attacker makes up, ends in one line and an exit code."""

from __future__ import annotations

import gzip
import json
import os
import resource
import subprocess
from pathlib import Path

from tests.cli_process import NEWSARCHIVE, TESTS

PAGE = TESTS / "fixtures" / "pages" / "en_news_article.html"
# The extract process needs about 250 MB of address space; the bomb inflates to 1 GiB,
# so reading it whole dies of MemoryError instead of passing.
ADDRESS_SPACE = 512 << 20


def _small_address_space() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


def test_extract_stops_a_gzip_bomb_at_the_crawl_size_limit(tmp_path: Path) -> None:
    member = gzip.compress(bytes(16 << 20), compresslevel=9)  # ~16 KB
    bomb = tmp_path / "bomb.html.gz"
    bomb.write_bytes(member * 64)  # gzip members concatenated: one 1 GiB stream
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSARCHIVE_")}
    result = subprocess.run(
        [NEWSARCHIVE, "extract", str(bomb), str(PAGE)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        preexec_fn=_small_address_space,
    )
    assert result.returncode == 1, result.stderr
    (line,) = result.stderr.splitlines()
    assert line.endswith(
        f"ERROR newsarchive: {bomb}: larger than {10 << 20} bytes once decompressed "
        "(DOWNLOAD_MAXSIZE, the crawl's limit): not extracted"
    )
    (record,) = (json.loads(out) for out in result.stdout.splitlines())
    assert record["file"] == str(PAGE) and record["text"]
