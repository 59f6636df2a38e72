"""Rebuilds on every core: worker processes turn batches of rows into index segments.

A rebuild reads the database in one process (the one holding the writer lock) and hands
each batch of ``REBUILD_SEGMENT`` rows to a worker, which writes it as one finished
segment of the fresh index (``BulkGramWriter.finish_segment``: files only, no table of
contents). The segments come back in batch order and are committed together, so the index
is the one a single process would have written. At most ``workers + 1`` batches are in
memory at a time. Workers are forked (Linux; the index already needs ``fcntl``) before
the rows are read, and never touch the database.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path


def built_in_order(
    build: Callable[[Path, list], tuple[object, int]],
    *,
    directory: Path,
    batches: Iterable[list],
    workers: int,
) -> Iterator[tuple[object, int]]:
    """``build(directory, batch)`` for every batch, on ``workers`` processes (in this one
    for fewer than two), yielded in batch order."""
    if workers < 2:
        for batch in batches:
            yield build(directory, batch)
        return
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        pool.submit(int).result()  # fork the workers now, before a database cursor opens
        running: deque = deque()
        try:
            for batch in batches:
                running.append(pool.submit(build, directory, batch))
                del batch
                if len(running) > workers:
                    yield running.popleft().result()
            while running:
                yield running.popleft().result()
        finally:
            for future in running:
                future.cancel()
