-- Appends audit entries to the stream. Entries older than the retention go as new ones
-- come: checking the oldest entry is all it costs when there is nothing to trim.
-- KEYS: the audit stream
-- ARGV: retention (ms), then per entry: field_count, then field_count field/value pairs
-- Reply: the new entries' ids, in order

local now = redis.call('TIME')
local oldest = string.format('%d-0', math.floor(tonumber(now[1]) * 1000 - tonumber(ARGV[1])))
local ids, a = {}, 2
while a <= #ARGV do
  local n = tonumber(ARGV[a])
  ids[#ids + 1] = redis.call('XADD', KEYS[1], 'MINID', oldest, '*',
                             unpack(ARGV, a + 1, a + 2 * n))
  a = a + 1 + 2 * n
end
return ids
