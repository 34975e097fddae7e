"""The admin scripts the README shows (docs/scripts/) run against a real archive."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from newsarchive.storage import create_archive_engine, ensure_schema
from tests.archive_corpus import build_corpus

SCRIPTS = Path(__file__).parents[2] / "docs" / "scripts"


def script(name: str, *args: str) -> str:
    result = subprocess.run(
        [sys.executable, str(SCRIPTS / name), *args], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_admin_scripts(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'archive.db'}"
    engine = create_archive_engine(url)
    ensure_schema(engine)
    corpus = build_corpus(engine)
    engine.dispose()

    daily = script("daily_counts.py", url, "--days", "3", "--until", "2024-06-06").splitlines()
    assert daily[0].split() == ["day", "harbour", "wire", "xinhua"]
    assert daily[1].split() == ["2024-06-04", "1", "1", "0"]
    assert daily[3].split() == ["2024-06-06", "0", "0", "1"]

    lines = script("export_day.py", url, "2024-06-04").splitlines()
    records = [json.loads(line) for line in lines]
    assert [r["id"] for r in records] == sorted([corpus["mackerel"], corpus["mackerel_copy"]])
    assert records[0]["text"].startswith("At the Tuesday auction")

    config = tmp_path / "newsarchive.toml"
    config.write_text(f'[database]\nurl = "{url}"\n')
    topic = script("find_topic.py", str(config), "mackerel").splitlines()
    assert "Fish market traders warn of rising prices  (also: wire)" in topic[0]
    assert "[mackerel]" in topic[2]
    assert "中美贸易谈判取得新进展" in script("find_topic.py", url, "谈判", "--limit", "1")
