"""What the fuzz tests share: calls bounded in time, and strategies for hostile input.

A call must finish within ``BOUND`` seconds, generous enough for a loaded CI machine;
the hostile inputs are sized so that quadratic work would take minutes. A call still
running after ``HANG`` seconds is stopped, so that a hang fails the test rather than the
run. For a long local run: ``SOCIALID_FUZZ_EXAMPLES=5000 pytest tests/test_fuzz_*.py``.
"""

from __future__ import annotations

import copy
import gc
import os
import signal
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from adapters.message import InboundMessage, PayloadError

T = TypeVar("T")
BOUND = 2.0
HANG = 30.0
EXAMPLES = int(os.environ.get("SOCIALID_FUZZ_EXAMPLES", "60"))
FUZZ = settings(
    max_examples=EXAMPLES,
    # The suite's own run draws the same cases every time: a submission must not pass or
    # fail by luck. A long run asked for by SOCIALID_FUZZ_EXAMPLES explores at random.
    derandomize="SOCIALID_FUZZ_EXAMPLES" not in os.environ,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


class Hang(BaseException):
    """Not an Exception: no handler in the code under test may swallow it."""


@contextmanager
def stopped_after(seconds: float) -> Iterator[None]:
    def stop(signum: int, frame: FrameType | None) -> None:
        raise Hang(f"still running after {seconds} s")

    previous = signal.signal(signal.SIGALRM, stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def bounded(call: Callable[[], T]) -> T:
    """``call()``, which must return within ``BOUND`` seconds."""
    # A collection of what earlier examples left behind would be timed as this call.
    gc.disable()
    start = time.perf_counter()
    try:
        with stopped_after(HANG):
            result = call()
    finally:
        elapsed = time.perf_counter() - start
        gc.enable()
    assert elapsed < BOUND, f"took {elapsed:.2f} s"
    return result


def read(call: Callable[[], list[InboundMessage]]) -> list[InboundMessage] | PayloadError:
    """What a parser makes of an input, in bounded time: messages that can be stored, or
    the ``PayloadError`` the delivery is dead-lettered with. Any other exception is the
    500 a webhook would answer, and fails the test."""

    def attempt() -> list[InboundMessage] | PayloadError:
        try:
            return call()
        except PayloadError as exc:
            return exc

    outcome = bounded(attempt)
    if isinstance(outcome, PayloadError):
        assert str(outcome), "a dead letter needs a reason"
        return outcome
    for message in outcome:
        assert_storable(message)
    return outcome


def read_message(call: Callable[[], InboundMessage]) -> InboundMessage:
    """``read`` of a parser that must give a message for this input."""
    outcome = read(lambda: [call()])
    assert not isinstance(outcome, PayloadError), f"refused: {outcome}"
    [message] = outcome
    return message


def assert_storable(message: InboundMessage) -> None:
    """Its keys go to the store as UTF-8, and the message itself as JSON."""
    for key in (message.dedup_key, message.message_id, *message.thread_keys):
        key.encode()
    assert message.sender.external_id
    assert InboundMessage.model_validate_json(message.model_dump_json()) == message


# Text as decoded input can hold it: any code point, lone surrogates included.
any_text = st.text(st.characters(exclude_categories=()), max_size=40)
scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=2**64, max_value=10**40)  # past orjson, not past JSON
    | st.floats()
    | any_text
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4),
    max_leaves=10,
)


def nested(depth: int, leaf: Any = "x") -> Any:
    value = leaf
    for _ in range(depth):
        value = [value]
    return value


# Values a field of the wrong kind tends to be: empty, huge, deep, not text at all. Made
# afresh for each draw: a later mutation may change what an earlier one put in.
_ODD: list[Callable[[], Any]] = [
    lambda: "",
    lambda: [],
    lambda: {},
    lambda: 0,
    lambda: -1,
    lambda: True,
    lambda: 2**70,
    lambda: 1e308,
    lambda: "x" * 100_000,
    lambda: "\x00",
    lambda: "\ud800",
    lambda: "9" * 5_000,
    lambda: nested(200),
    lambda: nested(300),
    lambda: {"": nested(50)},
]
odd_values = st.sampled_from(_ODD).map(lambda make: make())


def _paths(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _paths(child, (*path, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _paths(child, (*path, index))


@st.composite
def mutated(draw: st.DrawFn, sample: Any) -> Any:
    """The sample with one to three of its parts replaced by another value or removed:
    every field, at every depth, of every type."""
    doc = copy.deepcopy(sample)
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(list(_paths(doc))))
        value = draw(odd_values | json_values)
        if not path:
            doc = value
            continue
        parent = doc
        for step in path[:-1]:
            parent = parent[step]
        if draw(st.booleans()):
            parent[path[-1]] = value
        elif isinstance(parent, dict):
            del parent[path[-1]]
        else:
            parent.pop(path[-1])
    return doc


@st.composite
def damaged(draw: st.DrawFn, body: bytes) -> bytes:
    """The body cut short, or with bytes that are not UTF-8 put in."""
    cut = draw(st.integers(0, len(body)))
    if draw(st.booleans()):
        return body[:cut]
    junk = draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00", b"\xfe\xff"]))
    return body[:cut] + junk + body[cut:]
