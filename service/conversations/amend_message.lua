-- A stored message edited or withdrawn by its sender, and its customer's history entry
-- with it, in one step; unless the message changed since the caller read it. The JSON is
-- built by the caller, never re-encoded here.
-- KEYS: the message, the customer's events hash (the message key again when it has no
--   customer: not touched)
-- ARGV: the SHA-1 of the message's JSON as read, its new JSON, the history event's id,
--   the event's new JSON ("" for no event), the outbox's two (5-6), the fields of the
--   event for subscribers as JSON ("" for none: an edit)
-- Reply: "amended", "changed" (read it again) or "missing"

--#include service.store:_outbox.lua

local current = redis.call('GET', KEYS[1])
if not current then return 'missing' end
if redis.sha1hex(current) ~= ARGV[1] then return 'changed' end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
-- Only an event that is there: a customer erased since keeps none.
if ARGV[4] ~= '' and redis.call('HEXISTS', KEYS[2], ARGV[3]) == 1 then
  redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
end
if ARGV[7] ~= '' then
  outbox(5)
  emit('message.withdrawn', cjson.decode(ARGV[7]))
end
return 'amended'
