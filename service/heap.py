"""Process start-up tuning of the garbage collector, shared by ``serve`` and ``worker``."""

from __future__ import annotations

import gc

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
