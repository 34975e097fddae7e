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


# Commands that never start Twisted's reactor (which cannot restart in one
# process) or a child process: safe to run inside the test process.
IN_PROCESS_COMMANDS = frozenset(
    {"db", "duplicates", "export", "history", "raw", "runs", "search", "sources", "stats", "status"}
)


def invoke_cli(
    *args: str, config: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a read-side command's ``main()`` in this process, as the console script would.

    The installed package's own entry point, argument parsing, output and exit
    code, without a new interpreter: a subprocess costs ~0.7 CPU-s of imports per
    call, which over the suite's many ``export``/``runs``/``search`` calls is most
    of its budget. The subprocess form (:func:`run_cli`) stays for crawls, the
    daemon and the tests of the console script itself. ``env`` is set for the
    call, over an environment without ``NEWSARCHIVE_*`` variables, as run_cli's.
    """
    import io
    import logging
    from contextlib import redirect_stderr, redirect_stdout

    from newsarchive.cli import main

    argv = ["--config", str(config)] if config is not None else []
    argv += args
    command = next((a for a in args if not a.startswith("-")), None)
    if command not in IN_PROCESS_COMMANDS:
        raise ValueError(f"{command!r} is not a read-side command: use run_cli")
    out_bytes = io.BytesIO()
    stdout = io.TextIOWrapper(out_bytes, encoding="utf-8", newline="", write_through=True)
    stderr = io.StringIO()
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    saved_env = {k: os.environ.pop(k) for k in list(os.environ) if k.startswith("NEWSARCHIVE_")}
    replaced = {k: os.environ.get(k) for k in env or {}}
    os.environ.update(env or {})
    try:
        # basicConfig only configures a root logger without handlers, as in a new process.
        root.handlers = []
        with redirect_stdout(stdout), redirect_stderr(stderr):
            try:
                code = main(argv)
            except SystemExit as exc:  # argparse errors and --help
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    finally:
        root.handlers, root.level = handlers, level
        for key, value in replaced.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        os.environ.update(saved_env)
    stdout.flush()
    return subprocess.CompletedProcess(
        ["newsarchive", *argv], code, out_bytes.getvalue().decode("utf-8"), stderr.getvalue()
    )
