-- Appends audit entries, each indexed under its customer when it has one, in one call,
-- on one server: what audit_subjects.lua, audit_append.lua and audit_index.lua do in three
-- steps on a cluster (the stream and the customers are homes of their own there).
-- KEYS: audit_stream, then per entry: customer_audit_index, customer_audit_subject (the
--   stream twice for an entry about no customer: a key change)
-- ARGV: retention_ms, index_max, then per entry: fresh_subject ("" for an entry about no
--   customer; else used when the customer has none yet), field_count, then field_count
--   field/value pairs (at, action, actor, ...)
-- Reply: the new entry ids, in order

--#include _audit.lua

local stream, retention_ms, index_max = KEYS[1], ARGV[1], tonumber(ARGV[2])
local ids = {}
local a = 3
for k = 2, #KEYS, 2 do
  local fresh, n = ARGV[a], tonumber(ARGV[a + 1])
  local fields = {unpack(ARGV, a + 2, a + 1 + 2 * n)}
  if fresh == '' then
    ids[#ids + 1] = audit_event(stream, retention_ms, fields)
  else
    ids[#ids + 1] = audit_append(stream, KEYS[k], KEYS[k + 1], fresh, retention_ms,
                                 index_max, fields)
  end
  a = a + 2 + 2 * n
end
return ids
