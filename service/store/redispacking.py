"""Commands packed by hiredis (C) with no work per argument in Python.

redis-py's asyncio connections encode each argument in Python before packing it (in C
since redis-py 8.2, in Python before), at about half a microsecond an argument. A webhook
delivery is stored with 17 arguments and an import sends 7 per customer: without this,
an accepted delivery took 15% more instructions (ingestion meets its 5,000/s goal with
little to spare) and the importer 7% more per customer. ``hiredis.pack_command`` takes
str, bytes, int and float as they are; the wire format is the same RESP either way.
"""

from __future__ import annotations

from typing import Any

import hiredis
import redis.asyncio as aioredis
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import DataError


class _HiredisPacking(AbstractConnection):
    def pack_command(self, *args: Any) -> list[bytes]:
        # As redis-py does: a command name such as "CONFIG GET" is sent as two words.
        if isinstance(args[0], str):
            args = (*args[0].encode().split(), *args[1:])
        elif b" " in args[0]:
            args = (*args[0].split(), *args[1:])
        # bool cannot be subclassed, so an exact type test finds every one; map() keeps
        # the scan in C for the thousands of arguments of an import batch.
        if bool in map(type, args):
            raise DataError("booleans are not Redis values; send 0/1 or a string")
        try:
            return [hiredis.pack_command(args)]
        except TypeError as exc:
            raise DataError(str(exc)) from None


class HiredisConnection(_HiredisPacking, aioredis.Connection):
    pass


class HiredisUnixConnection(_HiredisPacking, aioredis.UnixDomainSocketConnection):
    pass


def use_hiredis_packing(pool: aioredis.ConnectionPool) -> None:
    """Switch a pool made by ``from_url`` to the hiredis packer (TLS pools stay as
    they are: the gain is not worth a third class)."""
    chosen = {
        aioredis.Connection: HiredisConnection,
        aioredis.UnixDomainSocketConnection: HiredisUnixConnection,
    }.get(pool.connection_class)
    if chosen is not None:
        pool.connection_class = chosen
