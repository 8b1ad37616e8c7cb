-- What processing one delivery produced, and its acknowledgement, in one step: a worker
-- that dies before it leaves nothing half-recorded, and a delivery processed again
-- (claimed after a crash) changes nothing.
-- KEYS: the ingest stream, then per message 13 and its candidates': the message, the
--   listings all, by channel and by status, the resolution counts, the conversation
--   hash and its messages, the customer's messages, document, events hash, history and
--   open items (these five the message key again when unresolved: not touched), the
--   conversation's log; then the candidacies set of each customer its resolution lists
--   as a candidate other than the one it is resolved to (candidate_count of them).
-- ARGV: consumer group, stream entry id, message count, the prelude's seven (4-10), then
--   15 per message: its JSON, score (time sent, ms), id, counts field, channel, time
--   sent (ISO, ms), customer id or "", the history event's id, JSON, score and open-item
--   role, the team a new conversation goes to, the conversation id, candidate_count,
--   time received (ISO, ms).
-- Reply: per message, 1 when stored now, 0 when it was stored before.

--#include _conversation.lua
--#include service.book:_history.lua

local group, entry, n = ARGV[1], ARGV[2], tonumber(ARGV[3])
prelude(4)

-- A new conversation starts in the team's queue; a message on a closed one reopens it,
-- back to its last owner if that rep is on shift, else to the team's queue; a message on
-- one waiting for the customer makes it open again. Either restarts the SLA clock.
local function inbound(conv, logkey, id, team, message_id, at, received)
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
end

local saved = {}
-- Each message's keys start after the one before's: their number depends on its
-- candidates. k and a point just before the message's first key and argument.
local k, a = 1, 10
for _ = 1, n do
  local candidates = tonumber(ARGV[a + 14])
  local message, counts, conv = KEYS[k + 1], KEYS[k + 5], KEYS[k + 6]
  local conv_messages, customer_messages = KEYS[k + 7], KEYS[k + 8]
  local doc, events, history, open = KEYS[k + 9], KEYS[k + 10], KEYS[k + 11], KEYS[k + 12]
  local logkey = KEYS[k + 13]
  local json, score, id, counts_field = ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4]
  local channel, at, cid = ARGV[a + 5], ARGV[a + 6], ARGV[a + 7]
  local event_id, event_json, event_score = ARGV[a + 8], ARGV[a + 9], ARGV[a + 10]
  local event_role, team, conversation_id = ARGV[a + 11], ARGV[a + 12], ARGV[a + 13]
  local received = ARGV[a + 15]
  if redis.call('SET', message, json, 'NX') then
    for i = 2, 4 do redis.call('ZADD', KEYS[k + i], score, id) end
    redis.call('HINCRBY', counts, counts_field, 1)
    redis.call('HSETNX', conv, 'channel', channel)
    redis.call('HSETNX', conv, 'created_at', at)
    local last = redis.call('HGET', conv, 'last_inbound_at')
    if not last or last < at then redis.call('HSET', conv, 'last_inbound_at', at) end
    redis.call('ZADD', conv_messages, score, id)
    if cid ~= '' then
      redis.call('HSETNX', conv, 'customer_id', cid)
      redis.call('ZADD', customer_messages, score, id)
      -- Only while the customer exists: an event racing an erasure leaves no history.
      if redis.call('EXISTS', doc) == 1 then
        add_event(events, history, open, event_id, event_json, event_score, event_role)
      end
    end
    -- So that an erasure of a candidate finds the messages that name them.
    for c = k + 14, k + 13 + candidates do redis.call('ZADD', KEYS[c], score, id) end
    inbound(conv, logkey, conversation_id, team, id, at, received)
    saved[#saved + 1] = 1
  else
    saved[#saved + 1] = 0
  end
  k, a = k + 13 + candidates, a + 15
end
redis.call('XACK', KEYS[1], group, entry)
redis.call('XDEL', KEYS[1], entry)
return saved
