"""Process start-up tuning of the garbage collector, shared by ``serve`` and ``worker``."""

from __future__ import annotations

import gc


def freeze_startup_heap() -> None:
    """Keep what start-up allocated (modules, libphonenumber's metadata, name data) out
    of every later garbage collection: a full pass over it stalls the event loop for
    tens of milliseconds, long enough to show in webhook latencies."""
    gc.collect()
    gc.freeze()
