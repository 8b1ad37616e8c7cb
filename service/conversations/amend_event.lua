-- A customer's history event replaced by its message's edit or withdrawal, in the
-- customer's home; only an event that is there: a customer erased since keeps none.
-- KEYS: the customer's events hash.
-- ARGV: the event's id, its new JSON.
-- Reply: 1 when replaced, 0 when there was no such event.

if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
