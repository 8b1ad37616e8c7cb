-- Shared piece: one audit entry, appended to the stream and indexed under its customer
-- (newest first), on one server (audit_many.lua). The entry names the customer's
-- pseudonym (its subject), never the customer id: erasure deletes the key
-- that ties the two, and what is left in the stream leads to nobody. Entries older than
-- the retention are trimmed as new ones are added.
-- KEYS: none of its own; audit_append is given the stream, the customer's audit index
--   and their audit subject key (audit_event: the stream only).
-- ARGV: none of its own; audit_append is given a fresh pseudonym (kept only when the
--   customer has none yet, so concurrent writers agree on the first), the retention
--   (ms), the index's length kept, and the entry's field/value pairs as a table.
-- Reply: none; both return the new entry's id.

-- Entries older than the retention go as each new one comes: checking the oldest entry
-- is all it costs when there is nothing to trim.
local function audit_event(stream, retention_ms, fields)
  local now = redis.call('TIME')
  local oldest = math.floor(tonumber(now[1]) * 1000 - tonumber(retention_ms))
  return redis.call('XADD', stream, 'MINID', string.format('%d-0', oldest), '*',
                    unpack(fields))
end

local function audit_append(stream, index, subject_key, fresh, retention_ms, index_max, fields)
  redis.call('SET', subject_key, fresh, 'NX')
  fields[#fields + 1] = 'subject'
  fields[#fields + 1] = redis.call('GET', subject_key)
  local id = audit_event(stream, retention_ms, fields)
  -- Trimmed only once over its length: most customers never get there.
  if redis.call('LPUSH', index, id) > index_max then
    redis.call('LTRIM', index, 0, index_max - 1)
  end
  return id
end
