"""The shipped systemd unit and crontab: valid, and wired to the commands that exist."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

DEPLOY = Path(__file__).parents[2] / "deploy"
UNIT = DEPLOY / "newsarchive.service"
NEWSARCHIVE = str(Path(sys.executable).with_name("newsarchive"))


def read_unit(text: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # systemd keys are case-sensitive
    parser.read_string(text)
    return parser


def test_unit_runs_the_daemon_and_restarts_it() -> None:
    unit = read_unit(UNIT.read_text())
    service = unit["Service"]
    assert service["ExecStart"].split()[1:] == ["daemon"]
    assert service["ExecReload"] == "/bin/kill -HUP $MAINPID"
    assert service["Restart"] == "always"
    assert service["RestartPreventExitStatus"] == "2"  # a bad config is not retried
    assert service["KillMode"] == "mixed" and service["KillSignal"] == "SIGTERM"
    # systemd must wait longer than the daemon's default shutdown_grace (30 s).
    assert int(service["TimeoutStopSec"]) > 30
    assert unit["Install"]["WantedBy"] == "multi-user.target"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze not found")
def test_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    # Point the unit at this installation: verify checks that ExecStart exists.
    installed = UNIT.read_text().replace("/opt/newsarchive/bin/newsarchive", NEWSARCHIVE)
    unit = tmp_path / "newsarchive.service"
    unit.write_text(installed)
    result = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, timeout=60
    )
    problems = [line for line in result.stderr.splitlines() if "newsarchive.service" in line]
    assert result.returncode == 0 and not problems, result.stderr


def test_crontab_lines_are_valid_crawl_commands() -> None:
    from newsarchive.cli import build_parser

    parser = build_parser()
    for line in (DEPLOY / "newsarchive.cron").read_text().splitlines():
        if not line.strip() or line.startswith("#") or "=" in line.split()[0]:
            continue
        fields = line.split(None, 5)
        command = fields[5].split(">")[0].split("||")[0].split()
        assert command[0].endswith("/newsarchive")
        parser.parse_args(command[1:])  # exits (fails the test) on a bad command line
