"""Run the installed ``newsarchive`` command in a subprocess, as a user would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

TESTS = Path(__file__).parent
REPOSITORY = TESTS.parent

NEWSARCHIVE = str(Path(sys.executable).with_name("newsarchive"))


def run_cli(
    *args: str,
    config: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 180,
    cwd: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run the installed ``newsarchive`` command as a user would."""
    argv = [NEWSARCHIVE]
    if config is not None:
        argv += ["--config", str(config)]
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSARCHIVE_")}
    full_env.update(env or {})
    return subprocess.run(
        [*argv, *args], capture_output=True, text=True, timeout=timeout, env=full_env, cwd=cwd
    )
