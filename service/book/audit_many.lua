-- Appends audit entries and indexes each under its customer, in one call.
-- KEYS: audit_stream, then per entry: customer_audit_index, customer_audit_subject
-- ARGV: stream_max, index_max, then per entry: fresh_subject (used when the customer
--   has none yet), at, action, actor, detail JSON
-- Reply: the new entry ids, in order

--#include _audit.lua

local stream, stream_max, index_max = KEYS[1], ARGV[1], tonumber(ARGV[2])
local ids = {}
local a = 3
for k = 2, #KEYS, 2 do
  ids[#ids + 1] = audit_append(stream, KEYS[k], KEYS[k + 1], ARGV[a], stream_max, index_max,
                               ARGV[a + 1], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4])
  a = a + 5
end
return ids
