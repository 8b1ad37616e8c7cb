"""Lua shared by every script that changes a conversation (and the ingestion worker's).

Each script starts with ``prelude(first_argv)``: it reads the key prefixes, the live
channel and the SLA table from ARGV, then defines the helpers. Keys derived from stored
values (a team's queue, an owner's set) are built from prefixes the key schema gives.
"""

from __future__ import annotations

import json

from service.store.keynames import KeySchema

# ARGV[i .. i+4]: queue prefix, rep prefix, status prefix, live channel, SLA JSON.
PRELUDE_ARGS = 5

_HELPERS = """
local function now_ms()
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function sla_ms(team, priority)
  return SLA[team .. ':' .. priority] or SLA[priority] or SLA['normal'] or 14400000
end
local function set_status(conv, id, old, new)
  if old and old ~= '' then redis.call('ZREM', SP .. old, id) end
  redis.call('ZADD', SP .. new, now_ms(), id)
  redis.call('HSET', conv, 'status', new)
end
local function set_owner(conv, id, old, new)
  if old and old ~= '' then redis.call('SREM', RP .. old .. ':convs', id) end
  if new ~= '' then
    redis.call('SADD', RP .. new .. ':convs', id)
    redis.call('HSET', conv, 'last_owner', new)
  end
  redis.call('HSET', conv, 'owner', new)
end
local function queue(conv, id, team, priority)
  local due = now_ms() + sla_ms(team, priority)
  redis.call('HSET', conv, 'sla_due', due)
  redis.call('ZADD', QP .. team, due, id)
end
local function on_shift(rep)
  return rep and rep ~= '' and redis.call('HGET', RP .. rep, 'on_shift') == '1'
end
local function log(logkey, id, team, fields)
  local args = {}
  for k, v in pairs(fields) do
    args[#args + 1] = k
    args[#args + 1] = tostring(v)
  end
  redis.call('XADD', logkey, '*', unpack(args))
  fields.conversation_id = id
  fields.team = team
  redis.call('PUBLISH', LIVE, cjson.encode(fields))
end
"""


def prelude(first: int) -> str:
    """The Lua that reads the shared ARGV starting at index ``first`` and defines the
    helpers."""
    return (
        f"local QP, RP, SP, LIVE = ARGV[{first}], ARGV[{first + 1}], ARGV[{first + 2}], "
        f"ARGV[{first + 3}]\nlocal SLA = cjson.decode(ARGV[{first + 4}])\n" + _HELPERS
    )


def prelude_args(keys: KeySchema, sla: dict[str, int]) -> list[str]:
    """The ARGV values ``prelude`` reads, in order."""
    p = keys.key_prefixes()
    return [p["queue"], p["rep"], p["status"], keys.live_channel(), json.dumps(sla)]
