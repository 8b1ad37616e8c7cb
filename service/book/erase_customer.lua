-- Erases a customer: their own keys, the identity links that lead to them (from their
-- record and through the API, with the links' records, histories and rejections) and
-- every blocking entry that lists or counts them; unless the doc changed since it was read.
-- KEYS: doc, history, events, open_items, audit_index, index_list, candidacies,
--   audit_subject, api_identities, customer_count,
--   then owned_count identity links, then per API identity (api_count of them): link,
--   link_record, link_history, rejections
-- ARGV: customer_id, expected_etag, owned_count, api_count, bucket_prefix, buckets,
--   counted_kinds, seldom_shared_kinds, then the index entries to remove
-- Reply: {"erased", customers, events, identity_links, index_entries, audit_subject
--   ("" for none)} | {"missing"} | {"precondition"}

--#include _index.lua

local doc, history, events, open_items, audit_index, index_list, candidacies,
  audit_subject = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7], KEYS[8]
local api_identities, customer_count = KEYS[9], KEYS[10]
local id, expected = ARGV[1], ARGV[2]
local owned_count, api_count = tonumber(ARGV[3]), tonumber(ARGV[4])
index_setup(ARGV[5], ARGV[6], ARGV[7], ARGV[8])
local FIRST_OWNED_KEY, FIRST_ENTRY_ARG = 11, 9

local current = call('GET', doc)
if not current then return {'missing'} end
if redis.sha1hex(current) ~= expected then return {'precondition'} end
-- A link made since the caller read the set would survive: read again.
if call('SCARD', api_identities) ~= api_count then return {'precondition'} end
local identities, entries = 0, 0
for k = FIRST_OWNED_KEY, FIRST_OWNED_KEY + owned_count - 1 do
  if call('GET', KEYS[k]) == id then
    call('DEL', KEYS[k])
    identities = identities + 1
  end
end
for k = FIRST_OWNED_KEY + owned_count, #KEYS, 4 do
  local link, record, link_history, rejections = KEYS[k], KEYS[k + 1], KEYS[k + 2], KEYS[k + 3]
  if call('GET', link) == id then
    call('DEL', link)
    identities = identities + 1
  end
  if call('HGET', record, 'customer_id') == id then call('DEL', record) end
  call('SREM', rejections, id)
  local changes = call('LRANGE', link_history, 0, -1)
  local kept = {}
  for _, change in ipairs(changes) do
    local ok, decoded = pcall(cjson.decode, change)
    if not (ok and type(decoded) == 'table' and decoded.customer_id == id) then
      kept[#kept + 1] = change
    end
  end
  if #kept ~= #changes then
    call('DEL', link_history)
    if #kept > 0 then call('RPUSH', link_history, unpack(kept)) end
  end
end
for a = FIRST_ENTRY_ARG, #ARGV do entries = entries + index_remove(ARGV[a], id) end
local event_count = call('HLEN', events)
-- Read as it goes: the caller's erasure entry names the pseudonym the trail knew them by.
local subject = call('GET', audit_subject) or ''
call('DEL', doc, history, events, open_items, audit_index, index_list, candidacies,
  audit_subject, api_identities)
call('DECR', customer_count)
return {'erased', 1, event_count, identities, entries, subject}
