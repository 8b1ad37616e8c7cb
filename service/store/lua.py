"""Lua scripts, kept as ``.lua`` files (package data) beside the Python that runs them.

Every script file starts with a header naming its KEYS, its ARGV and its reply. The
module that runs a script has one typed function that builds its arguments and one that
reads its reply, so no other code depends on positions.

Shared Lua is included in one way only, a line of its own:

    --#include _helpers.lua                 (a file of the script's own package)
    --#include service.book:_history.lua    (a file of another package)

which is replaced by that file's text. Files whose names start with ``_`` are such
pieces, never run on their own; every other ``.lua`` file under ``service/`` is a
script, and a test loads each one into a real server.

One piece takes a whole script rather than being included by one: ``_batch.lua``, the
wrapper that runs a script once per call of a batch, has a line ``--#wrapped script``
where ``batch_source`` puts the wrapped script.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from redis.asyncio.cluster import RedisCluster
from redis.commands.core import AsyncScript
from redis.crc import key_slot
from redis.exceptions import NoScriptError

Arg = str | int | float

_INCLUDE = re.compile(r"^--#include (?:([\w.]+):)?(_[\w-]+\.lua)[ \t]*$", re.MULTILINE)
_ROOT = "service"


@cache
def lua_source(package: str, name: str) -> str:
    """The script ``name`` of ``package``, its includes expanded (once, then cached)."""
    text = resources.files(package).joinpath(name).read_text(encoding="utf-8")

    def include(match: re.Match[str]) -> str:
        piece = lua_source(match.group(1) or package, match.group(2))
        return piece.rstrip("\n")

    return _INCLUDE.sub(include, text)


def load_script(redis: aioredis.Redis, package: str, name: str) -> AsyncScript:
    """A script object for ``redis``: EVALSHA, sent again as EVAL when the server lost it."""
    return redis.register_script(lua_source(package, name))


def every_script() -> list[tuple[str, str]]:
    """(package, file name) of every script under ``service/``, for the test that loads
    them all into a real server."""
    root = Path(str(resources.files(_ROOT)))
    found = []
    for path in sorted(root.rglob("*.lua")):
        if not path.name.startswith("_"):
            package = ".".join((_ROOT, *path.parent.relative_to(root).parts))
            found.append((package, path.name))
    return found


# The line of _batch.lua the wrapped script's text replaces.
_PLACEHOLDER = "\n--#wrapped script\n"


@cache
def batch_source(source: str) -> str:
    """The wrapper script (``store/_batch.lua``) with ``source`` as its function ``one``:
    one call of it runs ``source`` once per call it is given."""
    head, found, tail = lua_source("service.store", "_batch.lua").partition(_PLACEHOLDER)
    if not found:
        raise ValueError("_batch.lua has lost its placeholder line")
    return f"{head}\n{source}\n{tail}"


def _source_of(script: AsyncScript) -> str:
    source = script.script
    if not isinstance(source, str):  # load_script registers text; never bytes
        raise TypeError("a script registered from bytes")
    return source


@cache
def _sha(source: str) -> str:
    return hashlib.sha1(source.encode(), usedforsecurity=False).hexdigest()


async def run_pipelined(
    redis: aioredis.Redis, calls: Sequence[tuple[AsyncScript, Sequence[str], Sequence[Arg]]]
) -> list[Any]:
    """Script calls on many homes, each call's reply in order (an error in its place).

    The calls of one script go as one call of the batch wrapper (``_batch.lua``): on one
    server, one command for all of them; on a cluster, one per slot, all in one pipeline
    (a round trip per node). Most of a pipeline's cost in the client is per reply, so a
    batch of puts answers in a handful of replies rather than one per bucket."""
    cluster = isinstance(redis, RedisCluster)
    groups: dict[tuple[str, int], list[int]] = {}
    for i, (script, call_keys, _) in enumerate(calls):
        slot = key_slot(call_keys[0].encode()) if cluster and call_keys else 0
        groups.setdefault((_source_of(script), slot), []).append(i)
    sources = [batch_source(source) for source, _ in groups]
    wrapped: list[tuple[list[str], list[Arg]]] = []
    for members in groups.values():
        keys: list[str] = []
        counts: list[Arg] = [len(members)]
        args: list[Arg] = []
        for i in members:
            keys.extend(calls[i][1])
            args += calls[i][2]
            counts += (len(calls[i][1]), len(calls[i][2]))
        wrapped.append((keys, [*counts, *args]))
    answers = await _evalsha_all(redis, sources, wrapped)
    replies: list[Any] = [None] * len(calls)
    for members, answer in zip(groups.values(), answers, strict=True):
        if isinstance(answer, Exception):
            raise answer
        for i, reply in zip(members, answer, strict=True):
            replies[i] = reply
    return replies


async def _evalsha_all(
    redis: aioredis.Redis, sources: list[str], calls: list[tuple[list[str], list[Arg]]]
) -> list[Any]:
    """EVALSHA of each source with its KEYS and ARGV, in one pipeline. Calls that a server
    refused for not knowing the script (a restart, a new node) are sent again once it has
    been given the scripts."""
    replies: list[Any] = [None] * len(calls)
    todo = list(range(len(calls)))
    for attempt in (1, 2):
        if not todo:
            break
        pipe = redis.pipeline(transaction=False)
        for i in todo:
            keys, args = calls[i]
            pipe.evalsha(_sha(sources[i]), len(keys), *keys, *args)
        answers = await pipe.execute(raise_on_error=False)
        missing = []
        for i, answer in zip(todo, answers, strict=True):
            if isinstance(answer, NoScriptError) and attempt == 1:
                missing.append(i)
            else:
                replies[i] = answer
        # script_load goes to every primary on a cluster.
        for source in {sources[i] for i in missing}:
            await redis.script_load(source)
        todo = missing
    return replies
