-- The first step of a put that changes the customer's own home: the record and its
-- index list are written, and what the index list was is kept as pending work until the
-- blocking buckets and identity links have moved (put_done.lua clears it). A put that
-- finds pending work left by one that stopped half-way returns it to be done again.
-- KEYS: doc, index_list, pending
-- ARGV: expected ("" any, "-" must not exist, "*" must exist, else the etag of the
--   stored doc), doc_json, index_list
-- Reply: {"precondition"} | {"created"|"updated", etag, the index list replaced ("" for
--   none), the pending work as this call left it ("" for none: nothing to move)}

local doc_key, index_key, pending_key = KEYS[1], KEYS[2], KEYS[3]
local expected, doc, index = ARGV[1], ARGV[2], ARGV[3]
local current = redis.call('GET', doc_key)
if expected == '-' then
  if current then return {'precondition'} end
elseif expected == '*' then
  if not current then return {'precondition'} end
elseif expected ~= '' then
  if (not current) or redis.sha1hex(current) ~= expected then return {'precondition'} end
end
-- Written and erased with the record: no record, no list.
local old = current and (redis.call('GET', index_key) or '') or ''
local pending = redis.call('GET', pending_key) or ''
redis.call('MSET', doc_key, doc, index_key, index)
if old ~= index then
  -- Each list replaced follows a line "=" of its own and keeps its layout (indexing.py);
  -- a new customer's is empty, and still marks their entries as still to add.
  pending = pending .. '=\n' .. old .. '\n'
  redis.call('SET', pending_key, pending)
end
return {current and 'updated' or 'created', redis.sha1hex(doc), old, pending}
