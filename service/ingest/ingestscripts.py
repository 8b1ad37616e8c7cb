"""Lua scripts of ingestion: each is one atomic step, so a crash never leaves half of it."""

from __future__ import annotations

from service.conversations.lua import prelude

# KEYS: stream, dedup key per message. ARGV: ttl seconds, "force" or "", message id per
# message, then the stream entry's field/value pairs. Claims every dedup key not yet held
# and, when any message is new, appends the delivery naming the new messages. Returns
# the new ids. "force" (a replay) takes every message: its keys were claimed when it
# first came, and the worker skips a message it already stored.
ACCEPT = """
local ttl = tonumber(ARGV[1])
local force = ARGV[2] == 'force'
local n = #KEYS - 1
local fresh = {}
for i = 1, n do
  local id = ARGV[i + 2]
  if redis.call('SET', KEYS[i + 1], id, 'NX', 'EX', ttl) or force then
    fresh[#fresh + 1] = id
  end
end
if #fresh > 0 then
  local entry = {}
  for i = n + 3, #ARGV do entry[#entry + 1] = ARGV[i] end
  entry[#entry + 1] = 'ids'
  entry[#entry + 1] = table.concat(fresh, ' ')
  redis.call('XADD', KEYS[1], '*', unpack(entry))
end
return fresh
"""

# KEYS: the message's thread keys. ARGV: ttl seconds, the conversation id to use when no
# thread key names one yet. The first conversation found wins; every key then names it,
# so the next message sharing any of them joins it. Returns the conversation id.
THREAD = """
local found = nil
for i = 1, #KEYS do
  found = redis.call('GET', KEYS[i])
  if found then break end
end
local conv = found or ARGV[2]
for i = 1, #KEYS do
  redis.call('SET', KEYS[i], conv, 'EX', tonumber(ARGV[1]))
end
return conv
"""

# Records what processing one delivery produced, and acknowledges it, in one step: a
# worker that dies before it leaves nothing half-recorded, and a delivery processed again
# (claimed after a crash) changes nothing. KEYS: the stream, then 12 per message:
# message, listings all / channel / status, resolution counts, conversation hash and its
# messages, the customer's messages, document, events and history (the last four unused
# placeholders when unresolved), the conversation's log. ARGV: group, entry id, message
# count, the conversation prelude's arguments, then 12 per message: JSON, score (ms), id,
# counts field, channel, time sent (ISO, ms precision), customer id or "", the history
# event's id, JSON and score, the team a new conversation goes to, the conversation id.
# The event is added the way ADD_EVENTS adds one: once by id, and only while the customer
# exists.
#
# The conversation: a new one starts in the team's queue; a message on a closed one
# reopens it, back to its last owner if that rep is on shift, else to the team's queue;
# a message on one waiting for the customer makes it open again. Either restarts the
# SLA clock.
RECORD = (
    """
local group, entry, n = ARGV[1], ARGV[2], tonumber(ARGV[3])
"""
    + prelude(4)
    + """
local function inbound(conv, logkey, id, team, message_id, at)
  local c = redis.call('HMGET', conv, 'status', 'owner', 'last_owner', 'team', 'priority')
  local status, owner, last, priority = c[1], c[2] or '', c[3] or '', c[5] or 'normal'
  if not status then
    redis.call('HSET', conv, 'team', team, 'priority', 'normal', 'owner', '', 'version', 0)
    set_status(conv, id, nil, 'new')
    queue(conv, id, team, 'normal')
  else
    team = c[4] or team
    if status == 'closed' then
      if on_shift(last) then
        set_owner(conv, id, owner, last)
        set_status(conv, id, status, 'open')
      else
        set_owner(conv, id, owner, '')
        set_status(conv, id, status, 'new')
      end
      queue(conv, id, team, priority)
      log(logkey, id, team, {type = 'reopened', by = 'customer', at = at,
          owner = redis.call('HGET', conv, 'owner')})
    elseif status == 'waiting_on_customer' then
      set_status(conv, id, status, 'open')
      queue(conv, id, team, priority)
    end
  end
  redis.call('HINCRBY', conv, 'version', 1)
  log(logkey, id, team, {type = 'inbound', message_id = message_id, at = at})
end

local saved = {}
for m = 0, n - 1 do
  local k, a = 1 + 12 * m, 8 + 12 * m
  local score, id, at, cid = ARGV[a + 2], ARGV[a + 3], ARGV[a + 6], ARGV[a + 7]
  if redis.call('SET', KEYS[k + 1], ARGV[a + 1], 'NX') then
    for i = 2, 4 do redis.call('ZADD', KEYS[k + i], score, id) end
    redis.call('HINCRBY', KEYS[k + 5], ARGV[a + 4], 1)
    redis.call('HSETNX', KEYS[k + 6], 'channel', ARGV[a + 5])
    redis.call('HSETNX', KEYS[k + 6], 'created_at', at)
    local last = redis.call('HGET', KEYS[k + 6], 'last_inbound_at')
    if not last or last < at then redis.call('HSET', KEYS[k + 6], 'last_inbound_at', at) end
    redis.call('ZADD', KEYS[k + 7], score, id)
    if cid ~= '' then
      redis.call('HSETNX', KEYS[k + 6], 'customer_id', cid)
      redis.call('ZADD', KEYS[k + 8], score, id)
      local ev = ARGV[a + 8]
      if redis.call('EXISTS', KEYS[k + 9]) == 1
          and redis.call('HSETNX', KEYS[k + 10], ev, ARGV[a + 9]) == 1 then
        redis.call('ZADD', KEYS[k + 11], ARGV[a + 10], ev)
      end
    end
    inbound(KEYS[k + 6], KEYS[k + 12], ARGV[a + 12], ARGV[a + 11], id, at)
    saved[#saved + 1] = 1
  else
    saved[#saved + 1] = 0
  end
end
redis.call('XACK', KEYS[1], group, entry)
redis.call('XDEL', KEYS[1], entry)
return saved
"""
)
