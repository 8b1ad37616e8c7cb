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
where ``store.autopipeline.batch_source`` puts the wrapped script.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from redis.commands.core import AsyncScript
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


async def run_pipelined(
    redis: aioredis.Redis, calls: Sequence[tuple[AsyncScript, Sequence[str], Sequence[Arg]]]
) -> list[Any]:
    """Script calls on many homes in one pipeline: one round trip per node on a cluster,
    one in all on a single server. Calls that a server refused for not knowing the script
    (a restart, a new node) are sent again once it has been given the scripts; the first
    error any other call raised is raised."""
    replies: list[Any] = [None] * len(calls)
    todo = list(range(len(calls)))
    for attempt in (1, 2):
        pipe = redis.pipeline(transaction=False)
        for i in todo:
            script, keys, args = calls[i]
            pipe.evalsha(script.sha, len(keys), *keys, *args)
        answers = await pipe.execute(raise_on_error=False) if todo else []
        missing = []
        for i, answer in zip(todo, answers, strict=True):
            if isinstance(answer, NoScriptError) and attempt == 1:
                missing.append(i)
            elif isinstance(answer, Exception):
                raise answer
            else:
                replies[i] = answer
        if not missing:
            break
        # script_load goes to every primary on a cluster.
        for source in {calls[i][0].script for i in missing}:
            await redis.script_load(source)
        todo = missing
    return replies
