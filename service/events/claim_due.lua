-- The deliveries of one subscription whose time has come, taken for a while: another
-- dispatcher does not send them meanwhile, and they come due again if this one dies.
-- KEYS: the subscription's due set
-- ARGV: now (ms), how long the claim holds (ms), at most how many
-- Reply: the claimed deliveries' event ids

local due = KEYS[1]
local now, hold = tonumber(ARGV[1]), tonumber(ARGV[2])
local ids = redis.call('ZRANGEBYSCORE', due, '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
for _, id in ipairs(ids) do redis.call('ZADD', due, now + hold, id) end
return ids
