"""A syndicated copy on another host, with an edited lead, is linked to the original story.

Two sources, crawled by separate `newsarchive crawl` processes: the second process
finds the first one's articles through the LSH bands stored in the database, and
a third process lists the clusters.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_process import invoke_cli, run_cli
from tests.fixture_server import FixtureServer

SCRAPY = """
[scrapy]
AUTOTHROTTLE_ENABLED = false
DOWNLOAD_DELAY = 0
DOWNLOAD_TIMEOUT = 3
RETRY_BACKOFF_BASE = 0.1
# In-process extraction: worker processes cost each of these small crawls seconds.
NEWSARCHIVE_EXTRACT_PROCESSES = 0
"""
BRIDGE = "/news/2024/05/harbour-bridge-reopens.html"
METRO = "/intl/zh-gbk-header.html"
BRIDGE_LEAD = (
    "The Victoria Swing Bridge across Kestrel Harbour reopened to traffic on Monday morning,"
)
WIRE_LEAD = "KESTREL BAY (Coastal Wire) - Traffic is moving again over the Victoria Swing Bridge,"
METRO_LEAD = "经过四年多的建设，滨海新城地铁三号线今天正式开通试运营。"
WIRE_METRO_LEAD = "本报讯（海湾通讯社）滨海新城地铁三号线于今天上午开通试运营。"


# A user journey runs once, on PostgreSQL, where two sources' writers really run at once. Each
# dialect's own code (locks, upserts, search, clusters) is unit-tested on both databases in
# tests/storage and tests/crawler; running every journey twice only doubled the suite's time.
@pytest.fixture
def database_url(pg_url: str) -> str:
    return pg_url


def wire_feed(base: str, paths: list[str]) -> str:
    items = "".join(f"<item><title>{p}</title><link>{base}{p}</link></item>" for p in paths)
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>Coastal Wire</title><link>{base}/</link>{items}</channel></rss>"
    )


def syndicate(wire: FixtureServer) -> None:
    """The wire host republishes two Gazette stories with its own lead and page title."""
    bridge = wire.read_file(BRIDGE).decode("utf-8")
    assert BRIDGE_LEAD in bridge
    bridge = bridge.replace(BRIDGE_LEAD, WIRE_LEAD).replace("| Harbour Gazette", "- Coastal Wire")
    wire.set_file(BRIDGE, bridge.encode("utf-8"))
    metro = wire.read_file(METRO).decode("gbk")
    assert METRO_LEAD in metro
    wire.set_file(METRO, metro.replace(METRO_LEAD, WIRE_METRO_LEAD).encode("gbk"))
    wire.set_file("/wire.xml", wire_feed(wire.url, [BRIDGE, METRO]))


def test_edited_copies_on_another_host_link_to_the_originals(
    tmp_path: Path, fresh_site: FixtureServer, database_url: str
) -> None:

    with FixtureServer(host="127.0.0.2") as wire:
        syndicate(wire)
        wire_url = wire.url
        config = tmp_path / "newsarchive.toml"
        config.write_text(
            f'[database]\nurl = "{database_url}"\n{SCRAPY}\n'
            '[crawl]\nallow_private_networks = ["127.0.0.1/32", "127.0.0.2/32"]\n'
            f'[[sources]]\nname = "harbour"\nfeeds = ["{fresh_site.url}/feeds/rss.xml"]\n\n'
            f'[[sources]]\nname = "wire"\nfeeds = ["{wire.url}/wire.xml"]\n',
            encoding="utf-8",
        )
        first = run_cli("crawl", "--source", "harbour", "--format", "json", config=config)
        assert first.returncode == 0, first.stderr
        second = run_cli("crawl", "--source", "wire", "--format", "json", config=config)
        assert second.returncode == 0, second.stderr

    (harbour,) = json.loads(first.stdout)
    (copies,) = json.loads(second.stdout)
    assert harbour["duplicates"] == 0 and harbour["new"] >= 5
    assert (copies["new"], copies["duplicates"], copies["errors"]) == (0, 2, 0)

    result = invoke_cli("export", config=config)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    by_url = {r["url"]: r for r in records}
    for path, lead in ((BRIDGE, WIRE_LEAD), (METRO, WIRE_METRO_LEAD)):
        original, copy = by_url[fresh_site.url + path], by_url[wire_url + path]
        assert lead in copy["text"] and lead not in original["text"]
        assert copy["source"] == "wire" and copy["duplicate_of"] == original["id"]
        assert original["duplicate_of"] is None
    assert sum(r["duplicate_of"] is not None for r in records) == 2

    # A third process lists the clusters, the copies' similarity estimated from signatures.
    result = invoke_cli("duplicates", "--format", "jsonl", config=config)
    assert result.returncode == 0, result.stderr
    members = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(members) == 4 and len({m["cluster"] for m in members}) == 2
    for member in members:
        if member["original"]:
            assert member["source"] == "harbour" and member["similarity"] == 1.0
        else:
            assert member["source"] == "wire" and 0.8 <= member["similarity"] < 1.0
            assert not member["exact"]

    bridge_copy = by_url[wire_url + BRIDGE]["id"]
    table = invoke_cli("duplicates", str(bridge_copy), config=config)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0].split()[:3] == ["cluster", "id", "similarity"]
    assert lines[2].split()[2] == "original"
    assert fresh_site.url + BRIDGE in lines[2] and wire_url + BRIDGE in lines[3]
