"""Lua scripts that keep a customer document and its index entries consistent.

Index entries come in two kinds, both computed in Python from the document:
- owned keys (a string key whose value is the customer id, e.g. an identity link): a key
  owned by another customer is a conflict, never taken over;
- set entries (a set that holds the customer id among others, e.g. a blocking key).

The caller reads the current document first and passes its etag (SHA-1 of the stored
JSON); if the document changed in between, the script answers ``precondition`` and the
caller retries with the new state. So the index always matches the document.
"""

from __future__ import annotations

# Upserts a batch of customers in one call (one round trip, one reply to parse).
# KEYS[1]: the customer counter. Then per customer, in order:
#   KEYS: doc, index list, new owned..., old owned..., added sets..., removed sets...
#   ARGV: customer id, document JSON, index list (the sets it is in, one per line),
#         expected etag ("" any, "-" must not exist),
#         count of new owned, count of old owned, count of added sets, count of removed sets
# Reply per customer: {"created"|"updated", etag} | {"precondition"} | {"conflict", key, owner}
PUT_CUSTOMERS = """
local function put_one(k, id, doc, index, expected, n_new, n_old, n_add, n_rem)
  local current = redis.call('GET', KEYS[k])
  if expected ~= '' then
    if expected == '-' then
      if current then return {'precondition'} end
    elseif (not current) or redis.sha1hex(current) ~= expected then
      return {'precondition'}
    end
  end
  local first_new = k + 2
  local first_old = first_new + n_new
  local first_add = first_old + n_old
  local first_rem = first_add + n_add
  for i = first_new, first_old - 1 do
    local owner = redis.call('GET', KEYS[i])
    if owner and owner ~= id then return {'conflict', KEYS[i], owner} end
  end
  for i = first_old, first_add - 1 do
    if redis.call('GET', KEYS[i]) == id then redis.call('DEL', KEYS[i]) end
  end
  for i = first_new, first_old - 1 do redis.call('SET', KEYS[i], id) end
  for i = first_rem, first_rem + n_rem - 1 do redis.call('SREM', KEYS[i], id) end
  for i = first_add, first_rem - 1 do redis.call('SADD', KEYS[i], id) end
  redis.call('SET', KEYS[k], doc)
  redis.call('SET', KEYS[k + 1], index)
  if current then return {'updated', redis.sha1hex(doc)} end
  redis.call('INCR', KEYS[1])
  return {'created', redis.sha1hex(doc)}
end

local replies = {}
local k, a = 2, 1
while a <= #ARGV do
  local n_new, n_old = tonumber(ARGV[a + 4]), tonumber(ARGV[a + 5])
  local n_add, n_rem = tonumber(ARGV[a + 6]), tonumber(ARGV[a + 7])
  replies[#replies + 1] = put_one(k, ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3],
                                  n_new, n_old, n_add, n_rem)
  k = k + 2 + n_new + n_old + n_add + n_rem
  a = a + 8
end
return replies
"""

# KEYS: doc, history, events, audit index, blocking list, customer counter, owned...,
#       sets...
# ARGV: customer id, expected etag, count of owned keys
ERASE_CUSTOMER = """
local id, expected, n_owned = ARGV[1], ARGV[2], tonumber(ARGV[3])
local current = redis.call('GET', KEYS[1])
if not current then return {'missing'} end
if redis.sha1hex(current) ~= expected then return {'precondition'} end
local identities, entries = 0, 0
for i = 7, 6 + n_owned do
  if redis.call('GET', KEYS[i]) == id then
    redis.call('DEL', KEYS[i])
    identities = identities + 1
  end
end
for i = 7 + n_owned, #KEYS do
  entries = entries + redis.call('SREM', KEYS[i], id)
end
local events = redis.call('HLEN', KEYS[3])
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])
redis.call('DECR', KEYS[6])
return {'erased', 1, events, identities, entries}
"""

# Adds events to the histories of several customers, each only if the customer exists
# (so an event racing an erasure cannot leave history behind). Per customer, in order:
#   KEYS: doc, events hash, history sorted set
#   ARGV: number of events n, then n times: event id, event JSON, score (ms)
# Reply per customer: events newly added, or -1 when the customer does not exist.
ADD_EVENTS = """
local replies = {}
local a = 1
for k = 1, #KEYS, 3 do
  local n = tonumber(ARGV[a])
  a = a + 1
  if redis.call('EXISTS', KEYS[k]) == 0 then
    replies[#replies + 1] = -1
  else
    local added = 0
    for i = 0, n - 1 do
      local id, json, score = ARGV[a + 3 * i], ARGV[a + 3 * i + 1], ARGV[a + 3 * i + 2]
      if redis.call('HSETNX', KEYS[k + 1], id, json) == 1 then
        redis.call('ZADD', KEYS[k + 2], score, id)
        added = added + 1
      end
    end
    replies[#replies + 1] = added
  end
  a = a + 3 * n
end
return replies
"""

# Candidates for one query in one round trip. KEYS: blocking sets, then (optionally) the
# exact-surname set whose size gives the surname's term frequency, then the counter.
# ARGV: doc key prefix, doc key suffix, cap per key, cap in total, 1 if a surname set is
# given. A set larger than the cap is skipped: one common value ("Smith") must not make a
# query score thousands of records.
# Reply: {surname set size, customer count, 1 if the total cap cut candidates off,
#         skipped keys..., "", id, doc, id, doc, ...}
CANDIDATES = """
local prefix, suffix = ARGV[1], ARGV[2]
local cap, total_cap = tonumber(ARGV[3]), tonumber(ARGV[4])
local has_tf = ARGV[5] == '1'
local n_blocking = #KEYS - 1 - (has_tf and 1 or 0)
local seen, ids, skipped = {}, {}, {}
local truncated = 0
for i = 1, n_blocking do
  local size = redis.call('SCARD', KEYS[i])
  if size > cap then
    skipped[#skipped + 1] = KEYS[i]
  elseif size > 0 then
    for _, id in ipairs(redis.call('SMEMBERS', KEYS[i])) do
      if not seen[id] then
        if #ids < total_cap then
          seen[id] = true
          ids[#ids + 1] = id
        else
          truncated = 1
        end
      end
    end
  end
end
local reply = {0, tonumber(redis.call('GET', KEYS[#KEYS]) or '0'), truncated}
if has_tf then reply[1] = redis.call('SCARD', KEYS[#KEYS - 1]) end
for _, key in ipairs(skipped) do reply[#reply + 1] = key end
reply[#reply + 1] = ''
for _, id in ipairs(ids) do
  local doc = redis.call('GET', prefix .. id .. suffix)
  if doc then
    reply[#reply + 1] = id
    reply[#reply + 1] = doc
  end
end
return reply
"""
