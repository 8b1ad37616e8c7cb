-- A delivery a webhook received, stored unless every message in it was seen before: the
-- dedup keys are claimed in the same step that appends it, so a provider's retry finds
-- them held and stores nothing.
-- KEYS: the ingest stream, then each message's dedup key.
-- ARGV: dedup ttl (seconds), "force" or "", each message's id (in the order of its dedup
--   key), then the stream entry's field/value pairs. "force" (a replay) takes every
--   message: its keys were claimed when it first came, and the worker skips a message it
--   already stored.
-- Reply: the ids of the messages taken; the delivery was appended, its entry's "ids"
--   naming them, when there is any.

local ttl = tonumber(ARGV[1])
local force = ARGV[2] == 'force'
local n = #KEYS - 1
local fresh = {}
for i = 1, n do
  local id = ARGV[i + 2]
  if redis.call('SET', KEYS[i + 1], id, 'NX', 'EX', ttl) or force then
    fresh[#fresh + 1] = id
  end
end
if #fresh > 0 then
  local entry = {}
  for i = n + 3, #ARGV do entry[#entry + 1] = ARGV[i] end
  entry[#entry + 1] = 'ids'
  entry[#entry + 1] = table.concat(fresh, ' ')
  redis.call('XADD', KEYS[1], '*', unpack(entry))
end
return fresh
