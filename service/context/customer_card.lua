-- What a card needs of one customer, in their home, in one round trip: their record,
-- their newest events, their open items and how many events they have.
-- KEYS: doc, history, events, open_items
-- ARGV: event_limit
-- Reply: {doc or false, {event_json...} newest first, the open-items hash as HGETALL
--   gives it, the history's length}

local doc = redis.call('GET', KEYS[1])
local ids = redis.call('ZRANGE', KEYS[2], 0, tonumber(ARGV[1]) - 1, 'REV')
local events = {}
if #ids > 0 then
  for _, event in ipairs(redis.call('HMGET', KEYS[3], unpack(ids))) do
    if event then events[#events + 1] = event end
  end
end
return {doc, events, redis.call('HGETALL', KEYS[4]), redis.call('ZCARD', KEYS[2])}
