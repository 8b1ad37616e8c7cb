-- The last step of an erasure, in the customer's home: their own keys go, unless the
-- record or their API identities changed since the caller read them (the caller then
-- starts again: the identities and entries it cleared are cleared again, harmlessly).
-- KEYS: doc, history, events, open_items, audit_index, index_list, candidacies,
--   audit_subject, pending, api_identities
-- ARGV: expected_etag, api_count
-- Reply: {"erased", events, audit_subject ("" for none)} | {"missing"} | {"precondition"}

local current = redis.call('GET', KEYS[1])
if not current then return {'missing'} end
if redis.sha1hex(current) ~= ARGV[1] then return {'precondition'} end
-- A link made since the caller read the set would survive: read again.
if redis.call('SCARD', KEYS[10]) ~= tonumber(ARGV[2]) then return {'precondition'} end
local events = redis.call('HLEN', KEYS[3])
-- Read as it goes: the caller's erasure entry names the pseudonym the trail knew them by.
local subject = redis.call('GET', KEYS[8]) or ''
redis.call('DEL', unpack(KEYS))
return {'erased', events, subject}
