-- What the outreach check needs of one customer, in their home: whether their record
-- exists, their open items, and their recent events: every event since the contact
-- window's start, and the contract changes since the renewal window's (newest first, at
-- most a limit). Events are stored as pydantic writes them, so the type's exact text
-- picks the changes out without decoding them.
-- KEYS: doc, history, events, open_items
-- ARGV: renewal window start (ms), contact window start (ms), event_limit
-- Reply: {0} for no customer; else {1, {event_json...}, the open-items hash as HGETALL
--   gives it}

if redis.call('EXISTS', KEYS[1]) == 0 then
  return {0}
end
local contact_since = tonumber(ARGV[2])
local found = redis.call('ZRANGE', KEYS[2], '+inf', ARGV[1], 'BYSCORE', 'REV', 'LIMIT', 0,
  tonumber(ARGV[3]), 'WITHSCORES')
local ids, scores = {}, {}
for i = 1, #found, 2 do
  ids[#ids + 1] = found[i]
  scores[#scores + 1] = tonumber(found[i + 1])
end
local events = {}
if #ids > 0 then
  for i, event in ipairs(redis.call('HMGET', KEYS[3], unpack(ids))) do
    if event and (scores[i] >= contact_since
        or string.find(event, '"type":"contract_change"', 1, true)) then
      events[#events + 1] = event
    end
  end
end
return {1, events, redis.call('HGETALL', KEYS[4])}
