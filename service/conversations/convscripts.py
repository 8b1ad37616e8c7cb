"""The one script that changes a conversation on a rep's behalf, atomically.

KEYS: the conversation's hash and its log. ARGV: the prelude's (1-5), conversation id,
the acting rep, the version the caller read ("" to skip the check), the time (ISO), the
operation, then its text (reply, note, hand-off note), target rep, target team and
reference (a reply's id). Answers {"ok", version} or the reason it did nothing:
{"missing"}, {"conflict", owner, version} (someone else owns it, or the version moved
on), {"not_owner", owner, version}, {"bad", status, version} (not allowed in this
status).
"""

from __future__ import annotations

from service.conversations.lua import prelude

CONVERSATION_OP = (
    prelude(1)
    + """
local conv, logkey = KEYS[1], KEYS[2]
local id, rep, expected, at, op = ARGV[6], ARGV[7], ARGV[8], ARGV[9], ARGV[10]
local text, to_rep, to_team, ref = ARGV[11], ARGV[12], ARGV[13], ARGV[14]
local c = redis.call('HMGET', conv, 'status', 'owner', 'version', 'team', 'priority')
local status, owner, version = c[1], c[2] or '', c[3] or '0'
local team, priority = c[4] or '', c[5] or 'normal'
if not status then return {'missing'} end
if expected ~= '' and expected ~= version then return {'conflict', owner, version} end

if op == 'claim' then
  if status == 'closed' then return {'bad', status, version} end
  if owner == rep then return {'ok', version} end
  if owner ~= '' then return {'conflict', owner, version} end
  set_owner(conv, id, owner, rep)
  if status == 'new' then set_status(conv, id, status, 'open') end
  log(logkey, id, team, {type = 'claimed', by = rep, at = at})
elseif op == 'release' then
  if owner ~= rep then return {'not_owner', owner, version} end
  set_owner(conv, id, owner, '')
  log(logkey, id, team, {type = 'released', by = rep, at = at})
elseif op == 'close' then
  if status == 'closed' then return {'bad', status, version} end
  if owner ~= '' and owner ~= rep then return {'conflict', owner, version} end
  set_owner(conv, id, owner, '')
  redis.call('HSET', conv, 'last_owner', rep)
  set_status(conv, id, status, 'closed')
  redis.call('ZREM', QP .. team, id)
  log(logkey, id, team, {type = 'closed', by = rep, at = at})
elseif op == 'reopen' then
  if status ~= 'closed' then return {'bad', status, version} end
  set_owner(conv, id, '', rep)
  set_status(conv, id, status, 'open')
  queue(conv, id, team, priority)
  log(logkey, id, team, {type = 'reopened', by = rep, at = at, owner = rep})
elseif op == 'reply' or op == 'note' then
  if owner ~= rep then return {'not_owner', owner, version} end
  log(logkey, id, team, {type = op, by = rep, at = at, text = text, id = ref})
  if op == 'note' then return {'ok', version} end
  redis.call('HSET', conv, 'last_outbound_at', at)
  if status ~= 'waiting_on_customer' then set_status(conv, id, status, 'waiting_on_customer') end
  -- Waiting for the customer: out of the queue until they write again.
  redis.call('ZREM', QP .. team, id)
elseif op == 'handoff' then
  if owner ~= rep then return {'not_owner', owner, version} end
  set_owner(conv, id, owner, to_rep)
  if to_team ~= '' and to_team ~= team then
    redis.call('ZREM', QP .. team, id)
    redis.call('HSET', conv, 'team', to_team)
    if status == 'new' or status == 'open' then
      redis.call('ZADD', QP .. to_team, redis.call('HGET', conv, 'sla_due') or 0, id)
    end
    team = to_team
  end
  local to = to_rep ~= '' and to_rep or ('team:' .. team)
  log(logkey, id, team, {type = 'handed_off', by = rep, at = at, to = to, text = text})
elseif op == 'priority' then
  -- Anyone may raise or lower it; the SLA clock restarts from now at the new priority.
  redis.call('HSET', conv, 'priority', text)
  if status == 'new' or status == 'open' then queue(conv, id, team, text) end
  log(logkey, id, team, {type = 'priority', by = rep, at = at, text = text})
else
  return redis.error_reply('unknown operation ' .. op)
end
return {'ok', tostring(redis.call('HINCRBY', conv, 'version', 1))}
"""
)

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
