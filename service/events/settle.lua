-- What one attempt at a delivery came to: delivered, tried again later, or given up on
-- (a dead letter, to replay). A delivery gone meanwhile (its subscription deleted) or
-- no longer pending (replayed, settled by another) is left alone.
-- KEYS: the delivery, the subscription's due set, its dead letters
-- ARGV: event id, outcome ("delivered", "retry" or "dead"), now (ms), next attempt (ms,
--   for a retry), the answer's HTTP status ("" for none), the error ("" for none)
-- Reply: 1 when settled, 0 when left alone

local delivery, due, dead = KEYS[1], KEYS[2], KEYS[3]
local id, outcome, now = ARGV[1], ARGV[2], ARGV[3]
if redis.call('HGET', delivery, 'status') ~= 'pending' then return 0 end
redis.call('HINCRBY', delivery, 'attempts', 1)
redis.call('HSETNX', delivery, 'first_attempt_ms', now)
redis.call('HSET', delivery, 'last_attempt_ms', now, 'last_status', ARGV[5],
  'last_error', ARGV[6])
if outcome == 'delivered' then
  -- Delivered: the body (the customer's message and card) is not kept.
  redis.call('HSET', delivery, 'status', 'delivered', 'delivered_ms', now)
  redis.call('HDEL', delivery, 'body')
  redis.call('ZREM', due, id)
elseif outcome == 'retry' then
  redis.call('HSET', delivery, 'next_attempt_ms', ARGV[4])
  redis.call('ZADD', due, ARGV[4], id)
else
  redis.call('HSET', delivery, 'status', 'dead', 'dead_ms', now)
  redis.call('HDEL', delivery, 'next_attempt_ms')
  redis.call('ZREM', due, id)
  redis.call('ZADD', dead, now, id)
end
return 1
