-- A dead letter sent again: pending from now, with a fresh day of retries.
-- KEYS: the delivery, the subscription's due set, its dead letters
-- ARGV: event id, now (ms)
-- Reply: 1 when replayed, 0 when it is not a dead letter

local delivery, due, dead = KEYS[1], KEYS[2], KEYS[3]
local id, now = ARGV[1], ARGV[2]
if redis.call('HGET', delivery, 'status') ~= 'dead' then return 0 end
redis.call('HSET', delivery, 'status', 'pending', 'attempts', 0, 'next_attempt_ms', now)
redis.call('HDEL', delivery, 'first_attempt_ms', 'dead_ms')
redis.call('ZREM', dead, id)
redis.call('ZADD', due, now, id)
return 1
