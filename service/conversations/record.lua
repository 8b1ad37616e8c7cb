-- The desk's part of recording a delivery's messages: their listings, the resolution
-- counts, each message's conversation and its log (and the message.received event), in
-- one step. The message itself, its customer's history and its candidates' listings are
-- other homes' steps, run before this one; the acknowledgement runs after.
-- A message already in its conversation's messages was recorded before (a delivery
-- claimed again after a crash): it changes nothing.
-- KEYS: per message 7: the listings all, by channel and by status, the resolution
--   counts, the conversation hash, its messages and its log.
-- ARGV: message count, the prelude's seven (2-8), then 11 per message: score (time sent,
--   ms), id, counts field, channel, time sent (ISO, ms), customer id or "", the team a
--   new conversation goes to, the conversation id, time received (ISO, ms), the least
--   priority the message's urgency asks for, and why ("" when it asks for nothing).
-- Reply: per message, 1 when recorded now, 0 when it was recorded before.

--#include _conversation.lua

local n = tonumber(ARGV[1])
prelude(2)

-- A new conversation starts in the team's queue; a message on a closed one reopens it,
-- back to its last owner if that rep is on shift, else to the team's queue; a message on
-- one waiting for the customer makes it open again. Either restarts the SLA clock.
local RANK = {low = 0, normal = 1, high = 2, urgent = 3}

-- A message's urgency only ever raises a conversation's priority (a rep may lower it):
-- the SLA clock restarts at the new priority, and the log says why.
local function raise(conv, logkey, id, team, status, priority, wanted, reason, at)
  if (RANK[wanted] or 1) <= (RANK[priority] or 1) then return end
  redis.call('HSET', conv, 'priority', wanted, 'priority_reason', reason)
  if status == 'new' or status == 'open' then queue(conv, id, team, wanted) end
  log(logkey, id, team, {type = 'priority', by = 'socialid', at = at, text = wanted,
      reason = reason})
end

local function inbound(conv, logkey, id, team, message_id, at, received, wanted, reason)
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
  -- The provider's time orders the thread; the time it arrived is what a live console
  -- shows as new.
  log(logkey, id, team,
      {type = 'inbound', message_id = message_id, at = at, received_at = received})
  raise(conv, logkey, id, team, redis.call('HGET', conv, 'status'), priority, wanted, reason,
        at)
end

local saved = {}
for m = 0, n - 1 do
  local k, a = 7 * m, 8 + 11 * m
  local counts, conv, conv_messages, logkey = KEYS[k + 4], KEYS[k + 5], KEYS[k + 6], KEYS[k + 7]
  local score, id, counts_field, channel = ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4]
  local at, cid, team, conversation_id = ARGV[a + 5], ARGV[a + 6], ARGV[a + 7], ARGV[a + 8]
  local received, wanted, reason = ARGV[a + 9], ARGV[a + 10], ARGV[a + 11]
  if redis.call('ZADD', conv_messages, score, id) == 1 then
    for i = 1, 3 do redis.call('ZADD', KEYS[k + i], score, id) end
    redis.call('HINCRBY', counts, counts_field, 1)
    redis.call('HSETNX', conv, 'channel', channel)
    redis.call('HSETNX', conv, 'created_at', at)
    local last = redis.call('HGET', conv, 'last_inbound_at')
    if not last or last < at then redis.call('HSET', conv, 'last_inbound_at', at) end
    if cid ~= '' then redis.call('HSETNX', conv, 'customer_id', cid) end
    inbound(conv, logkey, conversation_id, team, id, at, received, wanted, reason)
    saved[#saved + 1] = 1
  else
    saved[#saved + 1] = 0
  end
end
return saved
