"""The extraction process pool, shared by the crawl's clean pipeline and ``reprocess``.

Extraction is the CPU-heavy step (parsing, pruning, language and date
detection), so it runs in other processes, started only when a page needs
extracting: a crawl whose feeds answer 304 starts none.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from concurrent.futures import ProcessPoolExecutor

logger = logging.getLogger(__name__)


def _exit_with_parent(parent: int) -> None:
    """In an extraction process: exit when the process that started it is gone.

    A crawl killed with SIGKILL (the daemon's hard time limit) cannot shut its
    pool down, and idle workers would wait for work forever; a daemon running
    for months must not collect them.
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watch, daemon=True, name="exit-with-parent").start()


def extraction_pool(workers: int, *, fork: bool = False) -> ProcessPoolExecutor:
    """``workers`` extraction processes (started as work arrives), which exit with this one.

    Spawned, unless ``fork``: a crawl's fork would copy the running reactor and
    the store's threads, while a caller with neither saves each process its
    imports by forking it.
    """
    logger.info("starting %d extraction process(es)", workers)
    return ProcessPoolExecutor(
        workers,
        mp_context=multiprocessing.get_context("fork" if fork else "spawn"),
        initializer=_exit_with_parent,
        initargs=(os.getpid(),),
    )
