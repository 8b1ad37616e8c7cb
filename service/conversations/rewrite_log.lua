-- Writes a conversation's log again with its entries' fields as given (an erasure
-- redacting what names someone), unless it changed since the caller read it. A stream
-- entry cannot be edited: the stream is deleted and every entry added again with its
-- own id, which an empty stream accepts, so the log reads exactly as before.
-- KEYS: the conversation's log
-- ARGV: its length and last entry id as the caller read them, then per entry: its id,
--   field_count, then field_count field/value pairs
-- Reply: "rewritten", or "changed" (read it again)

local log = KEYS[1]
if redis.call('XLEN', log) ~= tonumber(ARGV[1]) then return 'changed' end
local last = redis.call('XREVRANGE', log, '+', '-', 'COUNT', 1)[1]
if not last or last[1] ~= ARGV[2] then return 'changed' end
redis.call('DEL', log)
local a = 3
while a <= #ARGV do
  local id, n = ARGV[a], tonumber(ARGV[a + 1])
  redis.call('XADD', log, id, unpack(ARGV, a + 2, a + 1 + 2 * n))
  a = a + 2 + 2 * n
end
return 'rewritten'
