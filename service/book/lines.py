"""Splitting a byte stream into numbered lines without holding it whole in memory."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator

MAX_LINE_BYTES = 1024 * 1024


class _Splitter:
    """Feeds chunks, yields (line number, line or None when longer than the limit)."""

    def __init__(self, max_len: int) -> None:
        self.max_len = max_len
        self.buffer = bytearray()
        self.number = 0
        self.overlong = False

    def feed(self, chunk: bytes) -> Iterator[tuple[int, bytes | None]]:
        start = 0
        while True:
            end = chunk.find(b"\n", start)
            if end < 0:
                self._append(chunk[start:])
                return
            self._append(chunk[start:end])
            yield self._emit()
            start = end + 1

    def _append(self, part: bytes) -> None:
        if self.overlong:
            return
        if len(self.buffer) + len(part) > self.max_len:
            self.overlong = True
            self.buffer.clear()
        else:
            self.buffer += part

    def _emit(self) -> tuple[int, bytes | None]:
        self.number += 1
        line = None if self.overlong else bytes(self.buffer).rstrip(b"\r")
        self.buffer.clear()
        self.overlong = False
        return self.number, line

    def finish(self) -> Iterator[tuple[int, bytes | None]]:
        if self.buffer or self.overlong:
            yield self._emit()


def split_lines(
    chunks: Iterable[bytes], max_len: int = MAX_LINE_BYTES
) -> Iterator[tuple[int, bytes | None]]:
    splitter = _Splitter(max_len)
    for chunk in chunks:
        yield from splitter.feed(chunk)
    yield from splitter.finish()


async def split_lines_async(
    chunks: AsyncIterable[bytes], max_len: int = MAX_LINE_BYTES
) -> AsyncIterator[tuple[int, bytes | None]]:
    splitter = _Splitter(max_len)
    async for chunk in chunks:
        for item in splitter.feed(chunk):
            yield item
    for item in splitter.finish():
        yield item
