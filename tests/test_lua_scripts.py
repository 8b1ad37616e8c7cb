"""Every Lua script under service/ compiles on the real server, with its includes."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from service.store.lua import every_script, lua_source

pytestmark = pytest.mark.cluster


async def test_every_script_loads_into_the_server(redis: aioredis.Redis) -> None:
    scripts = every_script()
    assert len(scripts) >= 10, scripts
    for package, name in scripts:
        source = lua_source(package, name)
        assert "--#include" not in source, (package, name)
        # SCRIPT LOAD compiles without running: a syntax error fails here, not in a request.
        sha = await redis.script_load(source)
        assert (await redis.script_exists(sha)) == [True], (package, name)


def test_every_script_states_its_keys_argv_and_reply() -> None:
    for package, name in every_script():
        header = lua_source(package, name).split("\n\n", 1)[0]
        for part in ("KEYS", "ARGV", "Reply"):
            assert part in header, f"{package}:{name} header does not state its {part}"
