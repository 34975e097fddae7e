"""The import's progress bar: drawn on a terminal only."""

from __future__ import annotations

import io
import re

from newsarchive.cli.output.imports import ProgressBar
from newsarchive.crawler.imports.run import FileSummary


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_bar_on_a_terminal_and_nothing_on_a_pipe() -> None:
    pipe = io.StringIO()
    with ProgressBar.on_terminal(pipe) as bar:
        assert bar is None
    assert pipe.getvalue() == ""

    terminal = Terminal()
    with ProgressBar.on_terminal(terminal) as bar:
        assert bar is not None
        bar.planned(3)
        bar.file_started("/data/CC-NEWS-1.warc.gz", 1000, 0)
        bar.advanced("/data/CC-NEWS-1.warc.gz", 500, FileSummary("x", records=40, new=12))
        bar.file_finished(FileSummary("/data/CC-NEWS-1.warc.gz", records=80, new=30))
    shown = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", terminal.getvalue())  # colours and cursor
    assert "file 1/3 CC-NEWS-1.warc.gz" in shown
    assert "80 records, 30 articles" in shown
