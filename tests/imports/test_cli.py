"""The ``import`` command as a user runs it: JSON summary, exit codes, --enqueue refused."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from sqlalchemy import select

from newsarchive.exit_codes import ExitCode
from newsarchive.storage import create_archive_engine, read_session
from newsarchive.storage.models import Article
from tests.cli_process import NEWSARCHIVE, run_cli
from tests.imports.conftest import NEWS, Corpus


def write_config(folder: Path) -> Path:
    config = folder / "newsarchive.toml"
    config.write_text(
        '[database]\nurl = "sqlite:///archive.db"\n\n'
        "[[sources]]\n"
        'name = "harbour"\n'
        f'feeds = ["{NEWS}/feed.xml"]\n'
        'allowed_domains = ["example.org"]\n'
    )
    return config


def test_import_prints_a_json_summary_and_raw_gives_the_bytes(
    corpus: Corpus, tmp_path: Path
) -> None:
    config = write_config(tmp_path)
    result = run_cli(
        "import", str(corpus.mixed), str(corpus.wacz), "--format", "json", config=config
    )
    assert result.returncode == ExitCode.OK, result.stderr
    summary = json.loads(result.stdout)
    assert [f["status"] for f in summary["files"]] == ["done", "done"]
    assert summary["totals"]["new"] == 5 and summary["totals"]["errors"] == 1
    # The truncated record is logged with its file and offset.
    assert f"{corpus.mixed}: offset " in result.stderr and "truncated record" in result.stderr

    engine = create_archive_engine(f"sqlite:///{tmp_path / 'archive.db'}")
    with read_session(engine) as session:
        article_id = session.scalars(
            select(Article.id).where(Article.url == f"{NEWS}/2024/story-2")
        ).one()
    engine.dispose()
    raw = subprocess.run(
        [NEWSARCHIVE, "--config", str(config), "raw", str(article_id)],
        capture_output=True,
        timeout=60,
    )
    assert raw.returncode == 0 and raw.stdout == corpus.bodies[f"{NEWS}/2024/story-2"]


def test_usage_errors_exit_2(corpus: Corpus, tmp_path: Path) -> None:
    config = write_config(tmp_path)
    enqueue = run_cli("import", "--enqueue", str(corpus.mixed), config=config)
    assert enqueue.returncode == ExitCode.USAGE
    assert "import --enqueue needs a [cluster] section" in enqueue.stderr
    bad_source = run_cli("import", "--source", "Bad Name", str(corpus.mixed), config=config)
    assert bad_source.returncode == ExitCode.USAGE and "[a-z0-9_-]+" in bad_source.stderr
