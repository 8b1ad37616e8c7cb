-- Shared piece: one audit entry, appended to the capped stream and indexed under its
-- customer (newest first). Shared by audit_many.lua and put_customers.lua, which audits
-- the identity links it makes in the same call as it makes them. The entry names the
-- customer's pseudonym (its subject), never the customer id: erasure deletes the key
-- that ties the two, and what is left in the stream leads to nobody.
-- KEYS: none of its own; audit_append is given the stream, the customer's audit index
--   and their audit subject key.
-- ARGV: none of its own; audit_append is given a fresh pseudonym (kept only when the
--   customer has none yet, so concurrent writers agree on the first), the lengths kept
--   (stream, index) and the entry's at, action, actor and detail.
-- Reply: none; audit_append returns the new entry's id.

local function audit_append(stream, index, subject_key, fresh, stream_max, index_max,
                            at, action, actor, detail)
  redis.call('SET', subject_key, fresh, 'NX')
  local subject = redis.call('GET', subject_key)
  local id = redis.call('XADD', stream, 'MAXLEN', '~', stream_max, '*', 'at', at,
                        'action', action, 'subject', subject, 'actor', actor,
                        'detail', detail)
  -- Trimmed only once over its length: most customers never get there.
  if redis.call('LPUSH', index, id) > index_max then
    redis.call('LTRIM', index, 0, index_max - 1)
  end
  return id
end
