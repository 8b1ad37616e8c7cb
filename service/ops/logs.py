"""structlog set-up: configured once per process, JSON lines unless on a terminal.

The standard library's loggers (aiohttp, redis) are routed through the same
processors, so every line on stderr has one format and is masked the same way.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from collections.abc import Callable
from typing import Any, Literal, TextIO

import orjson
import structlog
from aiohttp.http_exceptions import HttpProcessingError
from structlog.typing import EventDict

from service.ops.redaction import redact_processor

LogFormat = Literal["json", "console"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]


class _UtcStamper:
    """structlog's ISO UTC time stamp ("2026-11-26T01:02:03.456789Z"), with the part up
    to the second formatted once a second: formatting a datetime for every line showed
    in the profile of the webhook path."""

    def __init__(self) -> None:
        # One tuple, replaced whole: a thread that logs meanwhile sees old or new, never
        # half of each.
        self._cached = (-1, "")

    def __call__(self, _logger: Any, _method: str, event_dict: EventDict) -> EventDict:
        now = time.time()
        second, prefix = self._cached
        if int(now) != second:
            second = int(now)
            prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            self._cached = (second, prefix)
        event_dict["timestamp"] = f"{prefix}.{int((now - second) * 1_000_000):06d}Z"
        return event_dict


_SHARED: list[structlog.types.Processor] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    _UtcStamper(),
]
# Tracebacks become text first so that the masking also covers exception messages.
_FINAL: list[structlog.types.Processor] = [
    structlog.processors.StackInfoRenderer(),
    structlog.processors.format_exc_info,
    redact_processor,
]


def configure_logging(
    level: str, fmt: LogFormat, stream: TextIO | None = None, *, cache: bool = False
) -> None:
    """``cache``: each module's logger is built on its first line and kept for the life
    of the process (structlog's performance advice; rebuilding it per line shows on the
    webhook path). Only for a process that configures logging once and for good."""
    out = stream if stream is not None else sys.stderr
    renderer: structlog.types.Processor
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer(serializer=_dumps)
    else:
        renderer = structlog.dev.ConsoleRenderer(colors=out.isatty())

    # Our own lines take structlog's native path (structlog's performance advice): a
    # filtering logger drops lines below the level before any processor runs, and no
    # stdlib LogRecord is built per line. The webhook path logs one line per request.
    structlog.configure(
        processors=[_logger_name, *_SHARED, *_FINAL, renderer],
        logger_factory=_writer(stream),
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping()[level]),
        cache_logger_on_first_use=cache,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[*_SHARED, structlog.stdlib.add_logger_name],
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            *_FINAL,
            renderer,
        ],
    )
    handler = logging.StreamHandler(out)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    handler.addFilter(_drop_echoed_requests)
    root.addHandler(handler)
    root.setLevel(level)
    # aiohttp's own access log is replaced by our canonical request line.
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


def _dumps(event: dict[str, Any], **kw: Any) -> str:
    # orjson (structlog's performance advice): the request line is on the busiest path.
    # What orjson refuses (an integer past 64 bits) still gets a line, from json.
    try:
        option = orjson.OPT_NON_STR_KEYS
        return orjson.dumps(event, default=kw.get("default"), option=option).decode()
    except TypeError:
        return json.dumps(event, **kw)


def _drop_echoed_requests(record: logging.LogRecord) -> bool:
    """aiohttp logs a malformed request with the raw bytes it could not parse, headers
    included: keep the fact and the error class, drop the echo and its traceback."""
    if record.name.startswith("aiohttp") and record.exc_info and record.exc_info[1]:
        exc = record.exc_info[1]
        if isinstance(exc, HttpProcessingError):
            record.msg = "malformed request refused: %s (status %s)"
            record.args = (type(exc).__name__, exc.code)
            record.exc_info = None
            record.exc_text = None
    return True


def _writer(stream: TextIO | None) -> Callable[..., structlog.WriteLogger]:
    """Writes to ``stream``, or to whatever ``sys.stderr`` is when a line is written
    (a test harness swaps it per test; a fixed reference would outlive it)."""
    if stream is not None:
        return structlog.WriteLoggerFactory(file=stream)
    return lambda *_args: structlog.WriteLogger(sys.stderr)


def _logger_name(_logger: Any, _method: str, event_dict: EventDict) -> EventDict:
    # "logger" cannot be bound at creation (it names get_logger's own argument).
    name = event_dict.pop("logger_name", None)
    if name is not None:
        event_dict["logger"] = name
    return event_dict


def get_logger(name: str, **initial: Any) -> structlog.typing.FilteringBoundLogger:
    logger: structlog.typing.FilteringBoundLogger = structlog.get_logger(
        logger_name=name, **initial
    )
    return logger
