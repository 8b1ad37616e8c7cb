"""Bulk import of customers and events: streamed, batched, pipelined, idempotent.

Records arrive as numbered NDJSON lines (bytes) or CSV rows (dicts). Each is validated
with the same models as the API; a bad record is counted and reported with its line
number, never fatal. Valid records are written in batches: customers are upserted by id
(running a file twice leaves the same state), events are stored once per id.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterable, Awaitable, Callable
from typing import Any, Literal, Protocol, TypeVar

from pydantic import BaseModel, Field, ValidationError

from service.book.csvmap import customer_from_row, event_from_row
from service.book.customers import CustomerStore, IdentityConflict, Prepared, PutResult
from service.book.history import HistoryStore
from service.schemas import Customer, EventIn, ImportEvent, describe
from service.schemas.customer import REGION

Record = bytes | dict[str | None, Any] | None  # None: a line over the length limit
T = TypeVar("T")
U = TypeVar("U")
_BOM = b"\xef\xbb\xbf"


class ImportAborted(Exception):
    """The input itself broke (undecodable bytes, broken CSV quoting): nothing after this
    point can be read reliably. What came before is written."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}")
        self.line = line
        self.reason = reason


SERVER_STOPPING = "the server is stopping"


class ImportStopped(ImportAborted):
    """The server is stopping: what was read is written, and the rest can be resent."""

    def __init__(self) -> None:
        Exception.__init__(self, SERVER_STOPPING)
        self.line = 0
        self.reason = SERVER_STOPPING


MAX_REPORTED = 20
MAX_DEFERRED = 10_000  # identity claims retried at the end of a file; more are rejected
# Records parsed together, a step at a time (see CustomerStore.prepare_many); between two
# chunks the write in flight may go on.
PARSE_CHUNK = 20
# Batches handed to the store and not yet written. With two, the next one is ready when
# the store finishes one, while this process parses a third: with one, each side now
# and then waited for the other (imports 2-7% slower, in runs alternated with two).
_IN_FLIGHT = 2


class Rejected(BaseModel):
    line: int
    reason: str


class ImportSummary(BaseModel):
    kind: Literal["customers", "events"]
    lines: int = 0
    accepted: int = 0
    rejected: int = 0
    created: int | None = Field(default=None, description="Customers that were new.")
    first_rejected: list[Rejected] = Field(default_factory=list)
    committed_through_line: int = Field(
        default=0, description="Every line up to this one is written; resume after it."
    )
    aborted: str | None = Field(
        default=None, description="Why the import stopped early, if it did."
    )
    seconds: float = 0.0

    def reject(self, line: int, reason: str) -> None:
        self.rejected += 1
        if len(self.first_rejected) < MAX_REPORTED:
            self.first_rejected.append(Rejected(line=line, reason=reason))


def reason(exc: Exception) -> str:
    """A short reason without the offending value (it may be personal data)."""
    if isinstance(exc, ValidationError):
        return describe(exc)
    return str(exc) or type(exc).__name__


class Rejects(Protocol):
    def reject(self, line: int, reason: str) -> None: ...


Progress = Callable[[ImportSummary], None]
# Numbered records to what the store takes, each bad one rejected in the summary. The
# records are Record, or what other processes made of them (``import_jobs``).
Parse = Callable[[list[tuple[int, Any]], ImportSummary], list[tuple[int, Any]]]


# What a bad record raises (pydantic's ValidationError is a ValueError); anything else is
# a fault of the import, not of the line.
_BAD_RECORD = (ValueError, OverflowError)


def _each(
    items: list[tuple[int, T]], step: Callable[[T], U], summary: Rejects
) -> list[tuple[int, U]]:
    """``step`` applied to each numbered item; an item it fails on is rejected by line."""
    out = []
    for number, item in items:
        try:
            out.append((number, step(item)))
        except _BAD_RECORD as exc:
            summary.reject(number, reason(exc))
    return out


def is_blank(line: bytes) -> bool:
    # Not line.strip(), which copies every line of the file to find the few blank ones.
    return not line or line.isspace()


def customer_of(record: Record, context: dict[str, str]) -> Customer:
    if isinstance(record, bytes):
        return Customer.model_validate_json(record.removeprefix(_BOM), context=context)
    assert record is not None
    return Customer.model_validate(customer_from_row(record), context=context)


def prepare_customers(
    chunk: list[tuple[int, Record]],
    summary: Rejects,
    step: Callable[[Record], Customer],
    prepare_many: Callable[[list[Customer]], list[Prepared]],
) -> list[tuple[int, Prepared]]:
    """A chunk of records validated, then prepared; in this process or an import job's."""
    valid = _each(chunk, step, summary)
    try:
        prepared = prepare_many([customer for _, customer in valid])
    except _BAD_RECORD:
        # A record that validated cannot be prepared: find which, one at a time.
        return _each(valid, lambda customer: prepare_many([customer])[0], summary)
    return [(number, put) for (number, _), put in zip(valid, prepared, strict=True)]


class Importer:
    def __init__(
        self,
        customers: CustomerStore,
        history: HistoryStore,
        *,
        default_region: str,
        batch_size: int = 250,
    ) -> None:
        self._customers = customers
        self._history = history
        self._context = {REGION: default_region}
        self._batch_size = batch_size

    def _customer(self, record: Record) -> Customer:
        return customer_of(record, self._context)

    def _customers_of(
        self, chunk: list[tuple[int, Record]], summary: ImportSummary
    ) -> list[tuple[int, Prepared]]:
        # Prepared as they are read: the profiles and index entries of this batch are
        # built while the previous batch is in the store's hands.
        return prepare_customers(chunk, summary, self._customer, self._customers.prepare_many)

    @staticmethod
    def _event(record: Record) -> ImportEvent:
        if isinstance(record, bytes):
            return ImportEvent.model_validate_json(record.removeprefix(_BOM))
        assert record is not None
        return ImportEvent.model_validate(event_from_row(record))

    def _events_of(
        self, chunk: list[tuple[int, Record]], summary: ImportSummary
    ) -> list[tuple[int, ImportEvent]]:
        return _each(chunk, self._event, summary)

    async def _run(
        self,
        kind: Literal["customers", "events"],
        records: AsyncIterable[tuple[int, Any]],
        parse: Parse,
        flush: Callable[[list[tuple[int, Any]], ImportSummary], Awaitable[None]],
        from_line: int,
        progress: Progress | None,
        finish: Callable[[ImportSummary], Awaitable[None]] | None = None,
    ) -> ImportSummary:
        summary = ImportSummary(kind=kind)
        started = time.perf_counter()
        batch: list[tuple[int, Any]] = []
        chunk: list[tuple[int, Record]] = []  # read, not parsed yet
        lines = 0
        # Batches are written while the next are parsed; they still land in file order
        # (each write starts after the one before it finished), so the last line wins.
        writes: list[asyncio.Task[None]] = []  # in flight, oldest first

        async def write(
            done: list[tuple[int, Any]], through: int, after: asyncio.Task[None] | None
        ) -> None:
            if after is not None:
                await after
            await flush(done, summary)
            summary.committed_through_line = through

        def hand_over(done: list[tuple[int, Any]], through: int) -> None:
            writes.append(asyncio.create_task(write(done, through, writes[-1] if writes else None)))

        try:
            try:
                async for number, record in records:
                    lines = number
                    if number < from_line or (isinstance(record, bytes) and is_blank(record)):
                        continue
                    if record is None:
                        summary.reject(number, "line longer than 1 MiB")
                        continue
                    chunk.append((number, record))
                    if len(chunk) < PARSE_CHUNK:
                        continue
                    batch += parse(chunk, summary)
                    chunk = []
                    if writes:
                        # A source that never waits (a file read ahead, a list) would otherwise
                        # keep the writes from taking their next step until this batch is
                        # full: yielding now and then lets the store work while this parses.
                        await asyncio.sleep(0)
                    if len(batch) >= self._batch_size:
                        size = self._batch_size
                        while len(batch) >= size:
                            if len(writes) >= _IN_FLIGHT:
                                await writes.pop(0)
                            # Its last line is not always this one: the rest of the chunk
                            # goes with the next batch.
                            hand_over(
                                batch[:size], batch[size - 1][0] if len(batch) > size else number
                            )
                            batch = batch[size:]
                        if progress is not None:
                            summary.lines = lines
                            progress(summary)
            except ImportAborted as exc:
                # The input itself broke: what came before is written; the summary says why.
                summary.aborted = str(exc)
            batch += parse(chunk, summary)
            hand_over(batch, lines)
            while writes:
                await writes.pop(0)
            if finish is not None:
                await finish(summary)
        finally:
            for task in writes:
                task.cancel()
        summary.lines = lines
        summary.committed_through_line = lines
        summary.first_rejected.sort(key=lambda r: r.line)
        summary.seconds = round(time.perf_counter() - started, 3)
        if progress is not None:
            progress(summary)
        return summary

    async def customers(
        self,
        records: AsyncIterable[tuple[int, Record]],
        *,
        from_line: int = 1,
        progress: Progress | None = None,
    ) -> ImportSummary:
        return await self.customers_parsed(
            records, self._customers_of, from_line=from_line, progress=progress
        )

    async def customers_parsed(
        self,
        records: AsyncIterable[tuple[int, Any]],
        parse: Parse,
        *,
        from_line: int = 1,
        progress: Progress | None = None,
    ) -> ImportSummary:
        """The import of records that ``parse`` turns into Prepared: ``customers``' own
        parse, or the hand-over of what other processes prepared (``import_jobs``)."""
        # A line that claims an identity another customer still holds waits for the end of
        # the file: if a later line releases it, the claim succeeds; if a later line for the
        # same customer is written first, it supersedes the waiting one (the last line
        # wins). So the outcome does not depend on line order or batch boundaries, and a
        # second run of the same file changes nothing.
        deferred: dict[str, tuple[int, Prepared]] = {}

        async def flush(batch: list[tuple[int, Prepared]], summary: ImportSummary) -> None:
            await self._write_customers(batch, summary, deferred)

        async def finish(summary: ImportSummary) -> None:
            waiting = sorted(deferred.values(), key=lambda item: item[0])
            for start in range(0, len(waiting), self._batch_size):
                await self._write_customers(waiting[start : start + self._batch_size], summary)

        return await self._run("customers", records, parse, flush, from_line, progress, finish)

    async def _write_customers(
        self,
        batch: list[tuple[int, Prepared]],
        summary: ImportSummary,
        deferred: dict[str, tuple[int, Prepared]] | None = None,
    ) -> None:
        if not batch:
            return
        results = await self._customers.put_many([c for _, c in batch], actor="import")
        # Counted here and added once: the summary is a pydantic model, whose every
        # assignment is a Python-level call.
        superseded = written = created = 0
        for line, result in zip(batch, results, strict=True):
            customer_id = line[1].customer_id
            if deferred and deferred.pop(customer_id, None) is not None:
                superseded += 1  # accepted: a later line of this customer decides
            if isinstance(result, PutResult):
                written += 1
                created += result.created
            elif (
                isinstance(result, IdentityConflict)
                and deferred is not None
                and len(deferred) < MAX_DEFERRED
            ):
                deferred[customer_id] = line
            else:
                summary.reject(line[0], reason(result))
        summary.accepted += superseded + written
        if written:
            summary.created = (summary.created or 0) + created

    async def events(
        self,
        records: AsyncIterable[tuple[int, Record]],
        *,
        from_line: int = 1,
        progress: Progress | None = None,
    ) -> ImportSummary:
        return await self._run(
            "events", records, self._events_of, self._flush_events, from_line, progress
        )

    async def _flush_events(
        self, batch: list[tuple[int, ImportEvent]], summary: ImportSummary
    ) -> None:
        if not batch:
            return
        by_customer: dict[str, list[EventIn]] = {}
        for _, event in batch:
            by_customer.setdefault(event.customer_id, []).append(event.event())
        added = await self._history.add_many(by_customer)
        for number, event in batch:
            if added[event.customer_id] is None:
                summary.reject(number, "unknown customer_id; import the customer first")
            else:
                summary.accepted += 1
