"""Lua scripts that keep a customer document and its index entries consistent.

Index entries come in two kinds, both computed in Python from the document:
- owned keys (a string key whose value is the customer id, e.g. an identity link): a key
  owned by another customer is a conflict, never taken over;
- index entries (a blocking value shared by many customers, see INDEX_FUNCTIONS).

The caller reads the current document first and passes its etag (SHA-1 of the stored
JSON); if the document changed in between, the script answers ``precondition`` and the
caller retries with the new state. So the index always matches the document.
"""

from __future__ import annotations

from service.book.scripts import AUDIT_APPEND_LUA
from service.store.lua import lua_source

# Blocking index entries (see KeySchema.index_location): in a bucket hash, a field holds
# the space-separated ids of the customers with that value, or "*" once they spilled to
# the entry's own set; or, for counted kinds, how many customers have the value.
INDEX_FUNCTIONS = (
    lua_source("service.book", "_index_location.lua")
    + """
local MAX_INLINE = 64
local call = redis.call
local function has_id(list, id)
  return find(' ' .. list .. ' ', ' ' .. id .. ' ', 1, true) ~= nil
end
-- Counted entries' changes, when the script adds them up (see write_counts); else nil.
local COUNTS = nil
-- A counter is never kept at zero or below.
local function count_by(bucket, field, change)
  if call('HINCRBY', bucket, field, change) <= 0 then call('HDEL', bucket, field) end
end
local function index_add(entry, id)
  local bucket, field, kind = index_location(entry)
  if COUNTED[kind] then
    if COUNTS then
      COUNTS[entry] = (COUNTS[entry] or 0) + 1
    else
      call('HINCRBY', bucket, field, 1)
    end
    return
  end
  -- A value seldom shared (an identifier, a postcode) is usually new: one call then.
  if SELDOM_SHARED[kind] and call('HSETNX', bucket, field, id) == 1 then return end
  local list = call('HGET', bucket, field)
  if not list then
    call('HSET', bucket, field, id)
  elseif list == '*' then
    call('SADD', index_spill(bucket, field), id)
  elseif not has_id(list, id) then
    local longer = list .. ' ' .. id
    if #longer <= MAX_INLINE then
      call('HSET', bucket, field, longer)
    else
      local ids = {id}
      for member in string.gmatch(list, '%S+') do ids[#ids + 1] = member end
      call('SADD', index_spill(bucket, field), unpack(ids))
      call('HSET', bucket, field, '*')
    end
  end
end
local function index_remove(entry, id)
  local bucket, field, kind = index_location(entry)
  if COUNTED[kind] then
    if COUNTS then
      COUNTS[entry] = (COUNTS[entry] or 0) - 1
      return 1
    end
    if not call('HGET', bucket, field) then return 0 end
    count_by(bucket, field, -1)
    return 1
  end
  local list = call('HGET', bucket, field)
  if not list then return 0 end
  if list == '*' then
    local spill = index_spill(bucket, field)
    local removed = call('SREM', spill, id)
    if call('EXISTS', spill) == 0 then call('HDEL', bucket, field) end
    return removed
  end
  if not has_id(list, id) then return 0 end
  local rest = {}
  for member in string.gmatch(list, '%S+') do
    if member ~= id then rest[#rest + 1] = member end
  end
  if #rest == 0 then
    call('HDEL', bucket, field)
  else
    call('HSET', bucket, field, table.concat(rest, ' '))
  end
  return 1
end
-- A batch names the common surnames many times: their counters change by one sum each
-- (set COUNTS to {} first), whatever the order of the changes.
local function write_counts()
  for entry, change in pairs(COUNTS) do
    if change ~= 0 then
      local bucket, field = index_location(entry)
      count_by(bucket, field, change)
    end
  end
  COUNTS = nil
end
"""
)

# Upserts a batch of customers in one call (one round trip, one reply to parse). The
# script reads what the customer's last write recorded (their index list: the packed
# profile, the entries, a "~" line, then the identities the record owns) and moves
# entries and identity links from that to the new list; so a caller need not read first.
# KEYS[1]: the customer counter; then per customer: doc, index list. The identity links
# and index buckets it names itself, from the lists: undeclared keys, which a single
# primary allows (socialid needs one, see service/store/keynames.py).
# ARGV: identity key prefix, link record key prefix, index_location_args (4), "1" to
#   answer etags (a bulk import needs none: "0"), then for the audit entries of the
#   links it makes and removes: the audit stream, what a customer's audit index key has
#   before and after the id, the stream's and the index's lengths kept, the actor and
#   the time; then per customer: customer id, document JSON, new index list, expected
#   etag ("" any, "-" must not exist, "*" must exist), and the previous index list in
#   the same form ("" to read the stored one).
# Reply per customer: {"created"|"updated", etag}, or without etags 1 for created, 0
#   for updated | {"precondition"} | {"conflict", key, owner} | {"stale"}:
#   the stored list does not say which identities the record owns (written by an older
#   release); the caller reads the record and passes the previous list itself.
PUT_CUSTOMERS = (
    INDEX_FUNCTIONS
    + AUDIT_APPEND_LUA
    + """
local gmatch, sha1hex = string.gmatch, redis.sha1hex
local NONE = {}  -- shared, never written: most records have nothing to move from
local function parse(list)
  local entries, owned, recorded, first = {}, {}, false, true
  for line in gmatch(list, '[^\\n]+') do
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
  return entries, owned, recorded
end
local function set_of(list)
  if #list == 0 then return NONE end
  local set = {}
  for _, v in ipairs(list) do set[v] = true end
  return set
end

local idn, lnk = ARGV[1], ARGV[2]
index_setup(ARGV[3], ARGV[4], ARGV[5], ARGV[6])
COUNTS = {}
local with_etags = ARGV[7] == '1'
local audit_stream, audit_before, audit_after = ARGV[8], ARGV[9], ARGV[10]
local max_stream, max_index, actor, at = ARGV[11], tonumber(ARGV[12]), ARGV[13], ARGV[14]
-- The channels only: an audit entry must not itself lead to a person once they are
-- erased.
local function audit(id, action, suffixes)
  local channels = {}
  for i, suffix in ipairs(suffixes) do channels[i] = string.match(suffix, '^[^:]*') end
  table.sort(channels)
  audit_append(audit_stream, audit_before .. id .. audit_after, max_stream, max_index,
    {'at', at, 'action', action, 'customer_id', id, 'actor', actor,
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

local function put_one(kd, kx, id, doc, index, expected, previous)
  local current = STORED[kd]
  if expected == '-' then
    if current then return {'precondition'} end
  elseif expected == '*' then
    if not current then return {'precondition'} end
  elseif expected ~= '' then
    if (not current) or sha1hex(current) ~= expected then return {'precondition'} end
  end
  local old_entries, old_owned = NONE, NONE
  if previous ~= '' then
    old_entries, old_owned = parse(previous)
  elseif current then  -- written and erased with the record: no record, no list
    local recorded
    old_entries, old_owned, recorded = parse(STORED[kx] or '')
    if not recorded then return {'stale'} end
  end
  local new_entries, new_owned = parse(index)
  local owners = {}
  for i, suffix in ipairs(new_owned) do
    local owner = call('GET', idn .. suffix)
    if owner and owner ~= id then return {'conflict', idn .. suffix, owner} end
    owners[i] = owner
  end
  local was = set_of(old_owned)
  local now = #old_owned > 0 and set_of(new_owned) or NONE
  local linked, unlinked = {}, {}
  for i, suffix in ipairs(new_owned) do
    if not owners[i] then call('SET', idn .. suffix, id) end
    if not was[suffix] then linked[#linked + 1] = suffix end
  end
  -- A link a rep made through the API (it has a link record) outlives the record
  -- dropping the identity: only an explicit unlink removes it.
  for _, suffix in ipairs(old_owned) do
    if not now[suffix] then
      unlinked[#unlinked + 1] = suffix
      if call('GET', idn .. suffix) == id and call('EXISTS', lnk .. suffix) == 0 then
        call('DEL', idn .. suffix)
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
  if #linked > 0 then audit(id, 'identity_linked', linked) end
  if #unlinked > 0 then audit(id, 'identity_unlinked', unlinked) end
  if not with_etags then return current and 0 or 1 end
  return {current and 'updated' or 'created', sha1hex(doc)}
end

local replies, created = {}, 0
local a = 15
for k = 2, #KEYS, 2 do
  local reply = put_one(KEYS[k], KEYS[k + 1], ARGV[a], ARGV[a + 1], ARGV[a + 2],
                        ARGV[a + 3], ARGV[a + 4])
  if reply == 1 or (reply ~= 0 and reply[1] == 'created') then created = created + 1 end
  replies[#replies + 1] = reply
  a = a + 5
end
write_counts()
if created > 0 then call('INCRBY', KEYS[1], created) end
return replies
"""
)

# KEYS: doc, history, events, audit index, index list, API identities set, customer
#       counter, owned..., then link, link record, history and rejections of each
#       identity in the API identities set
# ARGV: customer id, expected etag, count of owned keys, count of API identities,
#       index_location_args (4), then the entries
ERASE_CUSTOMER = (
    INDEX_FUNCTIONS
    + """
local id, expected = ARGV[1], ARGV[2]
local n_owned, n_api = tonumber(ARGV[3]), tonumber(ARGV[4])
local current = redis.call('GET', KEYS[1])
if not current then return {'missing'} end
if redis.sha1hex(current) ~= expected then return {'precondition'} end
-- A link made since the caller read the set would survive: read again.
if redis.call('SCARD', KEYS[6]) ~= n_api then return {'precondition'} end
local identities, entries = 0, 0
for i = 8, 7 + n_owned do
  if redis.call('GET', KEYS[i]) == id then
    redis.call('DEL', KEYS[i])
    identities = identities + 1
  end
end
local base = 8 + n_owned
for g = 0, n_api - 1 do
  local link, record, history, rejections = KEYS[base + 4 * g], KEYS[base + 4 * g + 1],
    KEYS[base + 4 * g + 2], KEYS[base + 4 * g + 3]
  if redis.call('GET', link) == id then
    redis.call('DEL', link)
    identities = identities + 1
  end
  if redis.call('HGET', record, 'customer_id') == id then redis.call('DEL', record) end
  redis.call('SREM', rejections, id)
  local changes = redis.call('LRANGE', history, 0, -1)
  local kept = {}
  for _, change in ipairs(changes) do
    local ok, decoded = pcall(cjson.decode, change)
    if not (ok and type(decoded) == 'table' and decoded.customer_id == id) then
      kept[#kept + 1] = change
    end
  end
  if #kept ~= #changes then
    redis.call('DEL', history)
    if #kept > 0 then redis.call('RPUSH', history, unpack(kept)) end
  end
end
index_setup(ARGV[5], ARGV[6], ARGV[7], ARGV[8])
for a = 9, #ARGV do entries = entries + index_remove(ARGV[a], id) end
local events = redis.call('HLEN', KEYS[3])
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6])
redis.call('DECR', KEYS[7])
return {'erased', 1, events, identities, entries}
"""
)
