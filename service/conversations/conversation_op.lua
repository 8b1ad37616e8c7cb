-- One change a rep makes to a conversation, atomically: claim, release, close, reopen,
-- note, handoff or priority. (A reply is reply.lua: it writes the customer's history too.)
-- KEYS: conversation hash, conversation log.
-- ARGV: the prelude's seven (1-7), conversation id, acting rep, the version the caller
--   read ("" skips the check), time (ISO, ms), operation, text (a note, a hand-off's
--   note, a priority), target rep, target team, reference (a note's id).
-- Reply: {"ok", version} or why it did nothing: {"missing"}; {"conflict", owner,
--   version} (someone else owns it, or the version moved on); {"not_owner", owner,
--   version}; {"bad", status, version} (not allowed in this status); {"off_shift",
--   version} (a rep off shift cannot take a conversation on).

--#include _conversation.lua

prelude(1)
local conv, logkey = KEYS[1], KEYS[2]
local id, rep, expected, at, op = ARGV[8], ARGV[9], ARGV[10], ARGV[11], ARGV[12]
local text, to_rep, to_team, ref = ARGV[13], ARGV[14], ARGV[15], ARGV[16]
local status, owner, version, team, priority = head(conv)
if not status then return {'missing'} end
if expected ~= '' and expected ~= version then return {'conflict', owner, version} end

if op == 'claim' then
  if status == 'closed' then return {'bad', status, version} end
  if owner == rep then return {'ok', version} end
  if owner ~= '' then return {'conflict', owner, version} end
  -- Else it would sit with someone who has gone home.
  if not on_shift(rep) then return {'off_shift', version} end
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
  if not on_shift(rep) then return {'off_shift', version} end
  set_owner(conv, id, '', rep)
  set_status(conv, id, status, 'open')
  queue(conv, id, team, priority)
  log(logkey, id, team, {type = 'reopened', by = rep, at = at, owner = rep})
elseif op == 'note' then
  if owner ~= rep then return {'not_owner', owner, version} end
  log(logkey, id, team, {type = 'note', by = rep, at = at, text = text, id = ref})
  return {'ok', version}
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
