"""Learned templates are stored per source and survive the process that learned them."""

from __future__ import annotations

import subprocess
import sys

from newsarchive.storage import create_archive_engine, ensure_schema
from newsarchive.storage.templates import load_template, record_blocks


def test_counts_add_up_per_source_and_load_filters(engine) -> None:
    assert load_template(engine, "harbour") == {}
    assert record_blocks(engine, "harbour", {1: 1, -(2**63): 2, 2**63 - 1: 1}) == 3
    record_blocks(engine, "harbour", {1: 3, 2**63 - 1: 1})
    record_blocks(engine, "other", {1: 9})
    assert load_template(engine, "harbour") == {1: 4, -(2**63): 2, 2**63 - 1: 2}
    assert load_template(engine, "harbour", min_pages=3) == {1: 4}
    assert load_template(engine, "other") == {1: 9}
    assert record_blocks(engine, "harbour", {}) == 0


def test_template_persists_across_processes(database_url: str) -> None:
    engine = create_archive_engine(database_url)
    ensure_schema(engine)
    engine.dispose()
    code = (
        "import sys\n"
        "from newsarchive.storage import create_archive_engine\n"
        "from newsarchive.storage.templates import record_blocks\n"
        "e = create_archive_engine(sys.argv[1])\n"
        "record_blocks(e, 'harbour', {42: 3, 7: 5})\n"
    )
    for _ in range(2):  # two crawls, each its own process
        subprocess.run([sys.executable, "-c", code, database_url], check=True, timeout=120)
    engine = create_archive_engine(database_url)
    assert load_template(engine, "harbour") == {42: 6, 7: 10}
    engine.dispose()
