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
