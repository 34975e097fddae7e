"""The command line itself: lazy loading, help texts, exit codes, database errors."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

from newsarchive import __version__
from newsarchive.cli import COMMANDS
from newsarchive.cli.context import CommandContext, scrub
from newsarchive.exit_codes import ExitCode
from tests.cli_process import invoke_cli, run_cli

PASSWORD = "s3cret"


def imported_after(script: str) -> dict[str, bool]:
    """Which heavy packages a fresh interpreter has imported after running ``script``."""
    probe = (
        "import contextlib, io, json, sys\n"
        "from newsarchive.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        + "".join(f"    {line}\n" for line in script.splitlines())
        + "print(json.dumps({m: m in sys.modules for m in ('sqlalchemy', 'scrapy')}))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


@pytest.mark.parametrize("option", ["--version", "--help"])
def test_help_and_version_import_neither_sqlalchemy_nor_scrapy(option: str) -> None:
    script = f"try:\n    main([{option!r}])\nexcept SystemExit:\n    pass"
    assert imported_after(script) == {"sqlalchemy": False, "scrapy": False}


def test_no_command_help_imports_scrapy() -> None:
    script = (
        f"for name in {list(COMMANDS)!r}:\n"
        "    try:\n"
        "        main([name, '--help'])\n"
        "    except SystemExit:\n"
        "        pass"
    )
    assert imported_after(script)["scrapy"] is False


def test_top_level_help_lists_every_command_with_its_line() -> None:
    result = run_cli("--help")
    assert result.returncode == 0, result.stderr
    text = " ".join(result.stdout.split())  # argparse wraps the help column
    for command in COMMANDS.values():
        assert f" {command.name} {command.help}" in text


@pytest.mark.parametrize("name", list(COMMANDS))
def test_each_command_explains_itself(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    from newsarchive.cli import main

    with pytest.raises(SystemExit) as exited:
        main([name, "--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: newsarchive {name} ")
    module = COMMANDS[name].module()
    parser = __import__("argparse").ArgumentParser()
    module.add_arguments(parser)
    if parser.description:  # db has none: its arguments' help says it all
        assert " ".join(parser.description.split()) in " ".join(out.split())


def test_python_dash_m_runs_the_cli() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "newsarchive", "--version"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (result.returncode, result.stdout.strip()) == (0, f"newsarchive {__version__}")


def test_bad_usage_exits_2() -> None:
    assert invoke_cli("runs", "--limit", "0").returncode == ExitCode.USAGE
    assert run_cli("no-such-command").returncode == ExitCode.USAGE


def test_exit_codes_are_the_documented_ones() -> None:
    from newsarchive.scheduler import child

    assert [(c.name, int(c)) for c in ExitCode if c < 100] == [
        ("OK", 0),
        ("FAILED", 1),
        ("USAGE", 2),
        ("DATABASE", 3),
        ("BUSY", 4),
    ]
    assert (child.EXIT_CRAWLED, child.EXIT_FAILED, child.EXIT_BAD_SPEC, child.EXIT_BUSY) == (
        ExitCode.OK,
        ExitCode.FAILED,
        ExitCode.USAGE,
        ExitCode.BUSY,
    )


def _missing(module: str) -> bool:
    return importlib.util.find_spec(module) is None


UNUSABLE_DATABASES = [
    pytest.param(f"postgresql://u:{PASSWORD}@127.0.0.1:1/x", "unreachable", id="refused"),
    pytest.param(
        f"postgresql+pg8000://u:{PASSWORD}@127.0.0.1/x",
        "unusable: its driver is not installed",
        id="pg8000-missing",
        marks=pytest.mark.skipif(not _missing("pg8000"), reason="pg8000 is installed"),
    ),
    pytest.param(
        f"mysql://u:{PASSWORD}@127.0.0.1/x",
        "unusable: its driver is not installed",
        id="mysqldb-missing",
        marks=pytest.mark.skipif(not _missing("MySQLdb"), reason="MySQLdb is installed"),
    ),
    pytest.param(f"nosuchdb://u:{PASSWORD}@127.0.0.1/x", "unusable", id="unknown-dialect"),
]


def assert_one_masked_line(result: subprocess.CompletedProcess[str], problem: str) -> None:
    assert result.returncode == ExitCode.DATABASE, result.stderr
    assert PASSWORD not in result.stdout + result.stderr
    (line,) = result.stderr.splitlines()
    assert line.startswith("newsarchive: database ") and "u:***@127.0.0.1" in line
    assert problem in line


@pytest.mark.parametrize(("url", "problem"), UNUSABLE_DATABASES)
def test_an_unusable_database_is_one_line_without_its_password(url: str, problem: str) -> None:
    result = run_cli("runs", env={"NEWSARCHIVE_DATABASE_URL": url})
    assert_one_masked_line(result, problem)


@pytest.mark.parametrize("command", ["crawl", "reprocess", "status", "db"])
@pytest.mark.parametrize(("url", "problem"), UNUSABLE_DATABASES[:2])
def test_commands_whose_package_opens_the_database_fail_the_same_way(
    command: str, url: str, problem: str, tmp_path: Path
) -> None:
    config = tmp_path / "newsarchive.toml"
    config.write_text('[[sources]]\nname = "harbour"\nfeeds = ["http://127.0.0.1:9/rss.xml"]\n')
    args = [command, "current"] if command == "db" else [command]
    result = run_cli(*args, config=config, env={"NEWSARCHIVE_DATABASE_URL": url})
    assert_one_masked_line(result, problem)


def test_an_unparsable_url_is_not_echoed() -> None:
    result = run_cli("runs", env={"NEWSARCHIVE_DATABASE_URL": f"u:{PASSWORD} not a url"})
    assert result.returncode == ExitCode.DATABASE
    assert PASSWORD not in result.stderr and len(result.stderr.splitlines()) == 1


def test_scrub_masks_passwords_in_free_text() -> None:
    url = f"postgresql://u:{PASSWORD}@h/x"
    assert (
        scrub(f"failed for {PASSWORD} at {url}", url) == "failed for *** at postgresql://u:***@h/x"
    )
    assert scrub("see mysql://root:hunter2@db/x") == "see mysql://root:***@db/x"


def test_the_context_loads_the_config_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from newsarchive import config as config_module

    path = tmp_path / "newsarchive.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "a.db"}"\n')
    monkeypatch.delenv("NEWSARCHIVE_DATABASE_URL", raising=False)
    loads = []
    real = config_module.load_config

    def counting(*args, **kwargs):
        loads.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(config_module, "load_config", counting)
    ctx = CommandContext(path)
    try:
        assert ctx.engine() is ctx.engine()
        ctx.config(required=True)
        ctx.database_label()
    finally:
        ctx.close()
    assert len(loads) == 1


def test_a_required_config_is_not_satisfied_by_a_missing_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from newsarchive.config import ConfigError

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("NEWSARCHIVE_CONFIG", raising=False)
    ctx = CommandContext(None)
    assert ctx.config().sources == []
    with pytest.raises(ConfigError, match="config file not found"):
        ctx.config(required=True)
