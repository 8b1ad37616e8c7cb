-- The owner's reply to the customer and the customer's history event for it, in one
-- step, so the conversation and the history never disagree about what was said.
-- KEYS: conversation hash, conversation log, the customer's document, events hash,
--   history sorted set and open items (when the conversation has no customer, the
--   conversation hash four times: not touched).
-- ARGV: the prelude's seven (1-7), conversation id, replying rep, the version the caller
--   read ("" skips the check), time (ISO, ms), text, reply id, the conversation's
--   customer id as the caller read it ("" for none), then the history event built for
--   that customer: JSON, score (ms) and open-item role; its id is the reply id.
-- Reply: {"ok", version} or why nothing was written: {"missing"}; {"conflict", owner,
--   version} (the version moved on); {"not_owner", owner, version}; {"customer_changed"}
--   (the conversation's customer is no longer the one the event was built for).

--#include _conversation.lua
--#include service.book:_history.lua

prelude(1)
local conv, logkey, doc, events, history, open =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local id, rep, expected, at, text = ARGV[8], ARGV[9], ARGV[10], ARGV[11], ARGV[12]
local reply_id, customer, event_json, event_score = ARGV[13], ARGV[14], ARGV[15], ARGV[16]
local event_role = ARGV[17]
local status, owner, version, team = head(conv)
if not status then return {'missing'} end
if expected ~= '' and expected ~= version then return {'conflict', owner, version} end
if owner ~= rep then return {'not_owner', owner, version} end
if (redis.call('HGET', conv, 'customer_id') or '') ~= customer then
  return {'customer_changed'}
end
-- The history first: a history that cannot be written (a key of the wrong type) fails
-- the script before the reply is logged. A customer erased since keeps no history.
if customer ~= '' and redis.call('EXISTS', doc) == 1 then
  add_event(events, history, open, reply_id, event_json, event_score, event_role)
end
log(logkey, id, team, {type = 'reply', by = rep, at = at, text = text, id = reply_id})
redis.call('HSET', conv, 'last_outbound_at', at)
if status ~= 'waiting_on_customer' then set_status(conv, id, status, 'waiting_on_customer') end
-- Waiting for the customer: out of the queue until they write again.
redis.call('ZREM', QP .. team, id)
return {'ok', tostring(redis.call('HINCRBY', conv, 'version', 1))}
