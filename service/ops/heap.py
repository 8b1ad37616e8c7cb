"""Tuning of the garbage collector: for the life of ``serve`` and ``worker``, and for the
length of a bulk command (import, reindex)."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

# Objects allocated between two young collections. A request allocates a few hundred
# containers and frees nearly all of them by reference counting before it ends, so a
# collection only walks what is still alive (the requests in flight): collecting every
# 700 allocations (the default) walks those survivors again and again for nothing.
YOUNG_THRESHOLD = 20_000


def freeze_startup_heap() -> None:
    """Keep what start-up allocated (modules, libphonenumber's metadata, name data) out
    of every later garbage collection: a full pass over it stalls the event loop for
    tens of milliseconds, long enough to show in webhook latencies."""
    gc.collect()
    gc.freeze()
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)


@contextmanager
def bulk_allocation() -> Iterator[None]:
    """Young collections at ``YOUNG_THRESHOLD`` while a bulk command runs, then as they
    were (commands also run in-process, in tests). An import keeps a batch or two of
    records, their profiles and the caches of normal forms alive; collecting every 700
    allocations walked them again and again, a quarter of an import's CPU."""
    young, older, oldest = gc.get_threshold()
    gc.set_threshold(max(young, YOUNG_THRESHOLD), older, oldest)
    try:
        yield
    finally:
        gc.set_threshold(young, older, oldest)
