"""``socialid import customers --jobs N``: customers prepared in N processes, written by
this one in file order.

Preparing a customer (validation, the matching profile, the index entries, the
serialised record) is the Python side of an import and its bottleneck: 62-65 us per
customer on one core at the fast moment of 2026-11-26, against the store's 44-47. This
process reads the file and cuts it into numbered chunks of lines; a pool of N processes
prepares the chunks; the results are taken back in the order the chunks were sent and
handed to the importer's one writer, as its own parse step would have made them. So
what is stored, rejected and reported is what one job gives: the last line for an id
wins, a claim on an identity another customer holds waits for the end of the file as
before, and ``committed_through_line`` keeps its meaning (every line up to it is
written).

Why not route each line to a process by a hash of its customer id: the id is inside the
record (beside nested ones, such as a household's), so this process would parse every
line to route it (``json.loads`` alone is 4.5-5.3 us a line); and the lines of different
customers would be written out of file order, which identity hand-overs between
customers depend on.

Why the writes stay here: the store is one server working on one core, whatever the
number of clients, and one writer in file order is what keeps the outcome and the resume
point those of one job. With two jobs this process spends 15-24 us per customer, against
128-260 us with one (docs/performance.md), so it is not the next bottleneck.
"""

from __future__ import annotations

import asyncio
import gc
import multiprocessing
import os
import signal
from collections import deque
from collections.abc import AsyncIterable, AsyncIterator, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any, NamedTuple

from service.book.customers import Prepared, prepare_many
from service.book.importer import (
    PARSE_CHUNK,
    ImportAborted,
    Importer,
    ImportSummary,
    Progress,
    Record,
    customer_of,
    is_blank,
    prepare_customers,
)
from service.ops.heap import YOUNG_THRESHOLD
from service.schemas.customer import REGION

# Lines sent to a process at a time: enough that the hand-over (a pickle each way, 3 us
# a customer in all) and the pool's own overhead per task are small beside the
# preparation, few enough that every process is soon busy.
LINES_PER_TASK = 250
# Tasks sent and not yet taken back, per process: with two, a process has its next chunk
# when it finishes one, while this process is busy writing.
_AHEAD_PER_JOB = 2


def job_count(jobs: int) -> int:
    """``--jobs``: 0 means one per CPU."""
    return jobs or os.cpu_count() or 1


class Refusal(NamedTuple):
    """A line that a job found bad, with the reason one job would have given."""

    reason: str


Outcome = Prepared | Refusal | Record


class _Refused:
    def __init__(self) -> None:
        self.lines: dict[int, str] = {}

    def reject(self, line: int, reason: str) -> None:
        self.lines[line] = reason


_region = ""  # set in each job's process by _start


def _start(region: str) -> None:
    global _region  # one per process, set before any task
    _region = region
    # Ctrl-C reaches the whole process group: only the importer decides what stops, and
    # it ends the pool itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_THRESHOLD, older, oldest)  # as bulk_allocation, for the import


def _prepare(chunk: list[tuple[int, Record]]) -> list[tuple[int, Outcome]]:
    """In a job's process: each line's Prepared or Refusal, in line order. Blank and
    overlong lines go back as they came, for the importer to skip or reject as it does
    with one job."""
    context = {REGION: _region}
    refused = _Refused()
    todo: list[tuple[int, Record]] = [
        (number, record)
        for number, record in chunk
        if record is not None and not (isinstance(record, bytes) and is_blank(record))
    ]
    done: dict[int, Outcome] = {}
    for start in range(0, len(todo), PARSE_CHUNK):  # the same steps as with one job
        part = todo[start : start + PARSE_CHUNK]
        done.update(
            prepare_customers(
                part,
                refused,
                lambda record: customer_of(record, context),
                lambda customers: prepare_many(customers, _region),
            )
        )
    done.update((number, Refusal(why)) for number, why in refused.lines.items())
    return [(number, done.get(number, record)) for number, record in chunk]


def _handed_over(
    chunk: list[tuple[int, Outcome]], summary: ImportSummary
) -> list[tuple[int, Prepared]]:
    """The importer's parse step for what the jobs prepared: their refusals are rejected
    here, in line order, as the one-job parse would reject them."""
    out = []
    for number, outcome in chunk:
        if isinstance(outcome, Refusal):
            summary.reject(number, outcome.reason)
        else:
            assert isinstance(outcome, Prepared)
            out.append((number, outcome))
    return out


async def _prepared(
    records: AsyncIterable[tuple[int, Record]],
    pool: ProcessPoolExecutor,
    ahead: int,
    from_line: int,
) -> AsyncIterator[tuple[int, Outcome]]:
    """The records' outcomes, in line order, prepared in the pool."""
    loop = asyncio.get_running_loop()
    sent: deque[asyncio.Future[list[tuple[int, Outcome]]]] = deque()
    chunk: list[tuple[int, Record]] = []
    aborted: ImportAborted | None = None
    try:
        async for number, record in records:
            if number < from_line:
                # Lines before the resume point come first, so nothing is in the pool yet:
                # the importer counts and skips them as it does with one job.
                yield number, record
                continue
            chunk.append((number, record))
            if len(chunk) < LINES_PER_TASK:
                continue
            sent.append(loop.run_in_executor(pool, _prepare, chunk))
            chunk = []
            if len(sent) >= ahead:
                for item in await sent.popleft():
                    yield item
    except ImportAborted as exc:
        # The input broke: the lines before the break are still written, then the
        # importer reports where it stopped.
        aborted = exc
    if chunk:
        sent.append(loop.run_in_executor(pool, _prepare, chunk))
    while sent:
        for item in await sent.popleft():
            yield item
    if aborted is not None:
        raise aborted


@contextmanager
def _pool(jobs: int, region: str) -> Iterator[ProcessPoolExecutor]:
    # Not fork: this process runs an event loop and the Redis client's threads, which a
    # forked child would inherit half-way. A fork server starts once with the import's
    # modules loaded, and each job is forked from it, clean and with no second start-up.
    if "forkserver" in multiprocessing.get_all_start_methods():
        context: Any = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])
    else:
        context = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=_start, initargs=(region,))
    try:
        yield pool
    finally:
        # On Ctrl-C or an error, chunks not started are dropped: nothing of them is written.
        pool.shutdown(wait=True, cancel_futures=True)


async def import_customers(
    importer: Importer,
    records: AsyncIterable[tuple[int, Record]],
    *,
    jobs: int,
    region: str,
    from_line: int = 1,
    progress: Progress | None = None,
) -> ImportSummary:
    """``Importer.customers`` with the preparation spread over ``jobs`` processes."""
    with _pool(jobs, region) as pool:
        outcomes = _prepared(records, pool, jobs * _AHEAD_PER_JOB, from_line)
        return await importer.customers_parsed(
            outcomes, _handed_over, from_line=from_line, progress=progress
        )
