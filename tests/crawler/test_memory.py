"""The crawl process's heap settings (crawler/memory.py)."""

from __future__ import annotations

import platform

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.utils.test import get_crawler

from newsarchive.crawler.memory import MallocTuning, tune_malloc
from newsarchive.crawler.settings import DEFAULTS, NEWSARCHIVE_DEFAULTS


def test_a_crawl_tunes_its_heap_by_default() -> None:
    assert "newsarchive.crawler.memory.MallocTuning" in DEFAULTS["EXTENSIONS"]  # type: ignore[operator]
    crawler = get_crawler(settings_dict=dict(NEWSARCHIVE_DEFAULTS))
    assert isinstance(MallocTuning.from_crawler(crawler), MallocTuning)


def test_zero_settings_switch_it_off() -> None:
    crawler = get_crawler(
        settings_dict={"NEWSARCHIVE_MALLOC_MMAP_THRESHOLD": 0, "NEWSARCHIVE_MALLOC_ARENA_MAX": 0}
    )
    with pytest.raises(NotConfigured):
        MallocTuning.from_crawler(crawler)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's mallopt")
def test_glibc_takes_the_settings() -> None:
    # The values glibc itself would pick at start: a test process keeps its behaviour.
    assert tune_malloc(128 * 1024, 0)
    assert tune_malloc(0, 8 * 2)
