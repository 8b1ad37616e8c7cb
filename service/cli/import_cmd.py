"""``socialid import customers|events FILE``: NDJSON or CSV from disk or stdin."""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import IO, Any

from tqdm import tqdm

from service.book import import_jobs
from service.book.csvmap import CUSTOMER_COLUMNS, EVENT_COLUMNS, BadHeader, check_header
from service.book.importer import ImportAborted, ImportSummary, Record
from service.book.lines import MAX_LINE_BYTES, split_lines
from service.settings import Settings
from service.store.client import cli_redis
from service.wiring import build_stores

_CHUNK = 256 * 1024
csv.field_size_limit(MAX_LINE_BYTES)


class _Counting(io.RawIOBase):
    """Counts bytes read, for the progress bar's position and ETA."""

    def __init__(self, raw: IO[bytes]) -> None:
        self.raw = raw
        self.position = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.raw.read(len(buffer))
        buffer[: len(data)] = data
        self.position += len(data)
        return len(data)


def _ndjson(source: _Counting) -> Iterator[tuple[int, Record]]:
    yield from split_lines(iter(lambda: source.read(_CHUNK) or b"", b""))


def _text_lines(source: _Counting) -> Iterator[str]:
    """Decoded line by line, so that a bad byte stops the import at its own line and
    everything before it is still imported."""
    buffered = io.BufferedReader(source)
    for number, line in enumerate(iter(buffered.readline, b""), start=1):
        try:
            yield (line.removeprefix(b"\xef\xbb\xbf") if number == 1 else line).decode()
        except UnicodeDecodeError:
            raise ImportAborted(number, "not UTF-8") from None


def _csv(source: _Counting, kind: str) -> Iterator[tuple[int, Record]]:
    reader = csv.DictReader(_text_lines(source))
    known = CUSTOMER_COLUMNS if kind == "customers" else EVENT_COLUMNS
    check_header(list(reader.fieldnames or []), known, attributes=kind == "customers")
    rows = iter(reader)
    while True:
        try:
            row = next(rows)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportAborted(reader.line_num + 1, str(exc)) from None
        # Line numbers count the header, as a spreadsheet shows them.
        yield reader.line_num, row


async def _aiter(items: Iterator[tuple[int, Record]]) -> AsyncIterator[tuple[int, Record]]:
    task = asyncio.current_task()
    for item in items:
        # Ctrl-C cancels the import's task. When it lands while that task waits on a write
        # that is running at that instant, the write takes the cancellation and something
        # below it (the Redis client's teardown) can swallow it: the task still counts the
        # request, so the next line read stops the import as the Ctrl-C asked.
        if task is not None and task.cancelling():
            raise asyncio.CancelledError
        yield item


def jobs_argument(text: str) -> int:
    """``--jobs``: processes that prepare customers; 0 for one per CPU."""
    try:
        jobs = int(text)
    except ValueError:
        jobs = -1
    if jobs < 0:
        raise argparse.ArgumentTypeError(f"not a number of processes: {text!r}")
    return import_jobs.job_count(jobs)


def detect_format(path: str, given: str | None) -> str:
    if given:
        return given
    return "csv" if path.lower().endswith(".csv") else "ndjson"


def open_source(path: str) -> tuple[IO[bytes], int | None]:
    if path == "-":
        return sys.stdin.buffer, None
    return Path(path).open("rb"), Path(path).stat().st_size


async def run_import(
    settings: Settings,
    kind: str,
    raw: IO[bytes],
    size: int | None,
    fmt: str,
    from_line: int,
    latest: list[ImportSummary],
    jobs: int = 1,
) -> ImportSummary:
    """Import one stream; ``latest`` holds the newest summary, for a resume hint on Ctrl-C.
    ``jobs``: processes that prepare customers (events are light to prepare: one)."""
    if kind == "events" and jobs > 1:
        print(
            "socialid: --jobs applies to customers; events are imported in one process",
            file=sys.stderr,
        )
    source = _Counting(raw)
    records = _csv(source, kind) if fmt == "csv" else _ndjson(source)
    bar = tqdm(
        total=size,
        unit="B",
        unit_scale=True,
        disable=not sys.stderr.isatty(),
        desc=f"importing {kind}",
        dynamic_ncols=True,
    )

    def progress(summary: ImportSummary) -> None:
        latest[:] = [summary]
        bar.update(source.position - bar.n)
        rate = summary.accepted / max(bar.format_dict["elapsed"], 1e-6)
        bar.set_postfix(accepted=summary.accepted, rejected=summary.rejected, per_s=f"{rate:,.0f}")

    try:
        async with cli_redis(settings) as client:
            importer = build_stores(client, settings).importer
            if kind == "customers" and jobs > 1:
                return await import_jobs.import_customers(
                    importer,
                    _aiter(records),
                    jobs=jobs,
                    region=settings.default_region,
                    from_line=from_line,
                    progress=progress,
                )
            run = importer.customers if kind == "customers" else importer.events
            return await run(_aiter(records), from_line=from_line, progress=progress)
    finally:
        bar.close()


def print_summary(summary: ImportSummary) -> None:
    rate = summary.accepted / summary.seconds if summary.seconds else 0.0
    print(
        f"{summary.kind}: {summary.lines} lines, {summary.accepted} accepted, "
        f"{summary.rejected} rejected in {summary.seconds:.1f}s ({rate:,.0f}/s)"
    )
    for rejected in summary.first_rejected:
        print(f"  line {rejected.line}: {rejected.reason}")
    if summary.rejected > len(summary.first_rejected):
        print(f"  ... and {summary.rejected - len(summary.first_rejected)} more")
    if summary.aborted:
        print(f"stopped early at {summary.aborted}; lines before it are written")


__all__ = [
    "BadHeader",
    "detect_format",
    "jobs_argument",
    "open_source",
    "print_summary",
    "run_import",
]
