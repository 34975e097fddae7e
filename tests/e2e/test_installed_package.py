"""What a user installs is what runs: the wheel, started from the repository's root.

The suite runs against a plain (non-editable) install, so these tests see the
product as ``pip install .`` leaves it. (The demo's test, in tests/cli, also runs
from the repository root.) The checkout's root is where users
most often stand, and where its folders could shadow the installed package.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import newsarchive
from tests.cli_process import REPOSITORY, run_cli
from tests.scheduler.daemon_harness import DaemonProcess, wait_for, write_config

INSTALLED = Path(newsarchive.__file__).parent
# Checkout folder → where its modules live in the installed package.
FOLDERS = {
    REPOSITORY / "src" / "newsarchive": INSTALLED,
    REPOSITORY / "crawler": INSTALLED / "crawler",
    REPOSITORY / "storage": INSTALLED / "storage",
    REPOSITORY / "migrations": INSTALLED / "migrations",
    REPOSITORY / "scheduler": INSTALLED / "scheduler",
}


def _python(code: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPOSITORY, capture_output=True, text=True, timeout=60
    )


def test_the_suite_runs_against_an_installed_package_not_the_checkout() -> None:
    # CI's venv may live inside the checkout (.venv/): what matters is site-packages.
    assert "site-packages" in INSTALLED.parts, INSTALLED
    assert not INSTALLED.is_relative_to(REPOSITORY / "src"), INSTALLED


def test_every_module_of_the_checkout_is_in_the_installed_package() -> None:
    missing = [
        str(source.relative_to(REPOSITORY))
        for folder, installed in FOLDERS.items()
        for source in folder.rglob("*")
        if source.is_file()
        and "__pycache__" not in source.parts
        and not (installed / source.relative_to(folder)).is_file()
    ]
    assert missing == []


def test_from_the_repository_root_imports_find_the_installed_modules() -> None:
    result = _python(
        "import newsarchive.crawler.urls, newsarchive.scheduler.child;"
        "print(newsarchive.crawler.urls.__file__); print(newsarchive.scheduler.child.__file__)"
    )
    assert result.returncode == 0, result.stderr
    for line in result.stdout.splitlines():
        assert Path(line).is_relative_to(INSTALLED), line


def test_a_checkout_folder_cannot_be_imported_under_a_second_name() -> None:
    result = _python("import crawler.urls")
    assert result.returncode == 1
    assert "ImportError: import newsarchive.crawler, not crawler" in result.stderr


def test_daemon_crawls_from_the_repository_root(site_server, tmp_path: Path) -> None:
    database = tmp_path / "archive.db"
    config = write_config(
        tmp_path / "newsarchive.toml",
        f"sqlite:///{database}",
        [
            {
                "name": "harbour",
                "feeds": [f"{site_server.url}/feeds/rss1.rdf"],
                "schedule": "@every 1h",
            }
        ],
    )
    with DaemonProcess(config, tmp_path / "daemon.log", cwd=REPOSITORY) as daemon:
        # The daemon creates the schema; a `runs` asked first would, and the daemon
        # would then find nothing to upgrade.
        daemon.wait_for_log("Running upgrade  -> 0001")

        def finished_runs() -> list[dict]:
            result = run_cli("runs", "--format", "jsonl", config=config, cwd=REPOSITORY)
            runs = [json.loads(line) for line in result.stdout.splitlines()]
            return [r for r in runs if r["status"] != "running"]

        runs = wait_for(finished_runs, 60, "the daemon's first crawl to finish")
        daemon.signal(signal.SIGTERM)
        assert daemon.wait(30) == 0
    assert "No module named" not in daemon.log
    # The migrations' own lines (awaited above), without Alembic's plugin set-up chatter.
    assert "setup plugin" not in daemon.log
    assert [r["status"] for r in runs] == ["ok"]
    assert runs[0]["new"] == 5
