"""Line splitting for streamed imports (pure)."""

from __future__ import annotations

from service.book.lines import split_lines


def test_lines_split_across_chunks_and_number_from_one() -> None:
    chunks = [b'{"a":', b'1}\n{"b"', b":2}\r\n\n", b"last"]
    assert list(split_lines(chunks)) == [(1, b'{"a":1}'), (2, b'{"b":2}'), (3, b""), (4, b"last")]


def test_an_overlong_line_becomes_none_and_the_next_line_is_intact() -> None:
    chunks = [b"short\n", b"x" * 10, b"y" * 10, b"\nafter\n"]
    assert list(split_lines(chunks, max_len=15)) == [(1, b"short"), (2, None), (3, b"after")]


def test_no_trailing_newline_and_empty_input() -> None:
    assert list(split_lines([b"only"])) == [(1, b"only")]
    assert list(split_lines([])) == []
