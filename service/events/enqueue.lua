-- One event's delivery to one subscription, made once however often the event is read
-- (a dispatcher that died before acknowledging it leaves it to be read again).
-- KEYS: the delivery, the subscription's due set, its log
-- ARGV: the event id, its time (ms), now (ms), how long the log keeps deliveries (ms),
--   then the delivery's field/value pairs
-- Reply: 1 when made now, 0 when it was there

local delivery, due, logkey = KEYS[1], KEYS[2], KEYS[3]
local id, at, now, keep = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
if redis.call('EXISTS', delivery) == 1 then return 0 end
redis.call('HSET', delivery, unpack(ARGV, 5))
redis.call('ZADD', due, now, id)
redis.call('ZADD', logkey, at, id)
-- The log keeps what is recent; what ages out of it goes with its record. A few at a
-- time, so that no single call does the work of a long quiet spell.
local prefix = string.sub(delivery, 1, #delivery - #id)
local old = redis.call('ZRANGEBYSCORE', logkey, '-inf', now - keep, 'LIMIT', 0, 100)
for _, gone in ipairs(old) do
  if redis.call('ZSCORE', due, gone) == false then
    redis.call('DEL', prefix .. gone)
    redis.call('ZREM', logkey, gone)
  end
end
return 1
