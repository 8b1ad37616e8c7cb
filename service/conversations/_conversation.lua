-- Shared piece of the scripts that change a conversation: statuses, owners, queues, the
-- log and the live stream, kept consistent the same way by every one of them.
-- KEYS: none of its own. The helpers are given the conversation's hash and log; a team's
--   queue, a rep's set and a status listing are named from stored values (a team, an
--   owner), so they are built from the prefixes prelude() reads.
-- ARGV: prelude(at) reads seven from ARGV[at]: queue prefix, rep prefix, status prefix,
--   live channel, SLA JSON ({"team:priority" or "priority": ms}), then the outbox's two
--   (_outbox.lua); conversation_prelude in scriptcalls.py builds them.
-- Reply: none; the including script calls prelude(at) once, then the helpers.

--#include service.store:_outbox.lua

local QP, RP, SP, LIVE, SLA = '', '', '', '', {}
local function prelude(at)
  QP, RP, SP, LIVE = ARGV[at], ARGV[at + 1], ARGV[at + 2], ARGV[at + 3]
  SLA = cjson.decode(ARGV[at + 4])
  outbox(at + 5)
end
-- The log entries that subscribers hear of, as the events they become.
local EVENTS = {
  inbound = 'message.received',
  claimed = 'conversation.claimed',
  handed_off = 'conversation.handed_off',
  closed = 'conversation.closed',
}
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
  local event_type = EVENTS[fields.type]
  if event_type then
    fields.type = nil
    emit(event_type, fields)
  end
end
-- What a conversation is now; status is false when there is no such conversation.
local function head(conv)
  local c = redis.call('HMGET', conv, 'status', 'owner', 'version', 'team', 'priority')
  return c[1], c[2] or '', c[3] or '0', c[4] or '', c[5] or 'normal'
end
