-- Shared piece: one audit entry, appended to the capped stream and indexed under its
-- customer (newest first). Shared by audit_many.lua and put_customers.lua, which audits
-- the identity links it makes in the same call as it makes them.
-- KEYS: none of its own; audit_append is given the stream and the customer's audit index.
-- ARGV: none of its own; audit_append is given the lengths kept (stream, index) and the
--   entry's field/value pairs as a table.
-- Reply: none; audit_append returns the new entry's id.

local function audit_append(stream, index, stream_max, index_max, fields)
  local id = redis.call('XADD', stream, 'MAXLEN', '~', stream_max, '*', unpack(fields))
  -- Trimmed only once over its length: most customers never get there.
  if redis.call('LPUSH', index, id) > index_max then
    redis.call('LTRIM', index, 0, index_max - 1)
  end
  return id
end
