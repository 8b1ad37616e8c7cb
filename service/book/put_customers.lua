-- Upserts a batch of customers in one call (one round trip, one reply to parse). Each
-- customer's index entries and identity links move from the index list the last write
-- stored (the packed profile, the entries, a "~" line, the identities the record owns)
-- to the new one, so a caller need not read first; the links made and removed are
-- audited in the same call.
-- KEYS: customer_count, then per customer: doc, index_list
-- ARGV: identity_prefix, link_record_prefix, bucket_prefix, buckets, counted_kinds,
--   seldom_shared_kinds, with_etags ("1" or "0": a bulk import needs none),
--   audit_stream, audit_index_head, audit_index_tail (what a customer's audit index key
--   has before and after the id), audit_subject_head, audit_subject_tail (the same for
--   their audit pseudonym's key), audit_retention_ms, audit_index_max, actor, at,
--   then per customer: customer_id, doc_json, index_list, expected_etag ("" any, "-" must
--   not exist, "*" must exist, else the etag of the stored doc), a fresh audit pseudonym
--   (kept if the customer has none when a link of theirs is audited)
-- Reply: per customer, {"created"|"updated", etag} with_etags, else 1 created, 0 updated;
--   or {"precondition"}, or {"conflict", identity_key, owner}

--#include _index.lua
--#include _audit.lua

local gmatch, sha1hex = string.gmatch, redis.sha1hex
local NONE = {}  -- shared, never written: most records have nothing to move from
local function parse(list)
  local entries, owned, recorded, first = {}, {}, false, true
  for line in gmatch(list, '[^\n]+') do
    if first then
      first = false  -- the packed profile
    elseif line == '~' then
      recorded = true
    elseif recorded then
      owned[#owned + 1] = line
    else
      entries[#entries + 1] = line
    end
  end
  return entries, owned
end
local function set_of(list)
  if #list == 0 then return NONE end
  local set = {}
  for _, v in ipairs(list) do set[v] = true end
  return set
end

local identity_prefix, link_record_prefix = ARGV[1], ARGV[2]
index_setup(ARGV[3], ARGV[4], ARGV[5], ARGV[6])
local with_etags = ARGV[7] == '1'
local audit_stream, audit_index_head, audit_index_tail = ARGV[8], ARGV[9], ARGV[10]
local audit_subject_head, audit_subject_tail = ARGV[11], ARGV[12]
local audit_retention_ms, audit_index_max = ARGV[13], tonumber(ARGV[14])
local actor, at = ARGV[15], ARGV[16]
local FIRST_CUSTOMER_ARG, ARGS_PER_CUSTOMER = 17, 5
COUNTS = {}

-- The channels only: an audit entry must not itself lead to a person once they are
-- erased.
local function audit(id, fresh, action, suffixes)
  local channels = {}
  for i, suffix in ipairs(suffixes) do channels[i] = string.match(suffix, '^[^:]*') end
  table.sort(channels)
  audit_append(audit_stream, audit_index_head .. id .. audit_index_tail,
    audit_subject_head .. id .. audit_subject_tail, fresh, audit_retention_ms,
    audit_index_max, {'at', at, 'action', action, 'actor', actor,
                      'detail', cjson.encode({channels = channels})})
end

-- The records and lists of the whole batch, read in one call rather than one each. What
-- this call writes replaces what it read: a batch may name a customer twice.
local STORED = {}
for from = 2, #KEYS, 1000 do  -- unpack takes a bounded number of values
  local upto = math.min(from + 999, #KEYS)
  for i, value in ipairs(call('MGET', unpack(KEYS, from, upto))) do
    STORED[KEYS[from + i - 1]] = value  -- false: no such key
  end
end

local function put_one(kd, kx, id, doc, index, expected, fresh)
  local current = STORED[kd]
  if expected == '-' then
    if current then return {'precondition'} end
  elseif expected == '*' then
    if not current then return {'precondition'} end
  elseif expected ~= '' then
    if (not current) or sha1hex(current) ~= expected then return {'precondition'} end
  end
  local old_entries, old_owned = NONE, NONE
  if current then  -- written and erased with the record: no record, no list
    old_entries, old_owned = parse(STORED[kx] or '')
  end
  local new_entries, new_owned = parse(index)
  local owners = {}
  for i, suffix in ipairs(new_owned) do
    local owner = call('GET', identity_prefix .. suffix)
    if owner and owner ~= id then return {'conflict', identity_prefix .. suffix, owner} end
    owners[i] = owner
  end
  local was = set_of(old_owned)
  local now = #old_owned > 0 and set_of(new_owned) or NONE
  local linked, unlinked = {}, {}
  for i, suffix in ipairs(new_owned) do
    if not owners[i] then call('SET', identity_prefix .. suffix, id) end
    if not was[suffix] then linked[#linked + 1] = suffix end
  end
  -- A link a rep made through the API (it has a link record) outlives the record
  -- dropping the identity: only an explicit unlink removes it.
  for _, suffix in ipairs(old_owned) do
    if not now[suffix] then
      unlinked[#unlinked + 1] = suffix
      if call('GET', identity_prefix .. suffix) == id
          and call('EXISTS', link_record_prefix .. suffix) == 0 then
        call('DEL', identity_prefix .. suffix)
      end
    end
  end
  local had = set_of(old_entries)
  local has = #old_entries > 0 and set_of(new_entries) or NONE
  for _, entry in ipairs(old_entries) do
    if not has[entry] then index_remove(entry, id) end
  end
  for _, entry in ipairs(new_entries) do
    if not had[entry] then index_add(entry, id) end
  end
  call('MSET', kd, doc, kx, index)
  STORED[kd], STORED[kx] = doc, index
  if #linked > 0 then audit(id, fresh, 'identity_linked', linked) end
  if #unlinked > 0 then audit(id, fresh, 'identity_unlinked', unlinked) end
  if not with_etags then return current and 0 or 1 end
  return {current and 'updated' or 'created', sha1hex(doc)}
end

local replies, created = {}, 0
local a = FIRST_CUSTOMER_ARG
for k = 2, #KEYS, 2 do
  local reply = put_one(KEYS[k], KEYS[k + 1], ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3],
                        ARGV[a + 4])
  if reply == 1 or (reply ~= 0 and reply[1] == 'created') then created = created + 1 end
  replies[#replies + 1] = reply
  a = a + ARGS_PER_CUSTOMER
end
write_counts()
if created > 0 then call('INCRBY', KEYS[1], created) end
return replies
