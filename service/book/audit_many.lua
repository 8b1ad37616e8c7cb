-- Appends audit entries and indexes each under its customer, in one call.
-- KEYS: audit_stream, then per entry: customer_audit_index
-- ARGV: stream_max, index_max, then per entry: field_count, then field_count
--   field/value pairs
-- Reply: the new entry ids, in order

--#include _audit.lua

local stream, stream_max, index_max = KEYS[1], ARGV[1], tonumber(ARGV[2])
local ids = {}
local a = 3
for k = 2, #KEYS do
  local n = tonumber(ARGV[a])
  ids[#ids + 1] = audit_append(stream, KEYS[k], stream_max, index_max,
                               {unpack(ARGV, a + 1, a + 2 * n)})
  a = a + 1 + 2 * n
end
return ids
