"""Lua scripts for history and candidate look-ups."""

from __future__ import annotations

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

# Candidates for one query in one round trip. KEYS: bucket and spill set of each
# blocking entry, then the bucket of each name counter asked (surname, given name: term
# frequencies), then the active model version, then the customer counter.
# ARGV: doc key prefix, doc key suffix, index key suffix, packed profile tag, cap per
# entry, cap in total, how many name counters are asked, an identifier's vote, then the
# field and the vote of each blocking entry, then the fields of the name counters asked.
# An entry shared by more customers than the cap is skipped: one common value ("Smith")
# must not make a query score thousands of records. Past the total cap, the candidates
# with the most votes are kept (an identifier's entry votes more than a name's; a
# customer found by name and by postcode has two votes), ties in blocking order: those
# cut off are the ones that agree on least. Only when one found by an identifier is cut
# could the cut have hidden a match: then the reply says the candidates are incomplete.
# Reply: {customer count, 1 if the total cap cut an identifier's candidate, active model
#         version ("" for the shipped defaults), each name counter asked (how many
#         customers have that surname, that given name), skipped fields..., "",
#         then per candidate: id, "p" and its packed profile (the first line of its
#         index list) or, for a record written before profiles were packed, "d" and
#         the record}
CANDIDATES = """
local prefix, suffix, ix_suffix, tag = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local cap, total_cap = tonumber(ARGV[5]), tonumber(ARGV[6])
local n_tf = tonumber(ARGV[7])
local identifier_vote = tonumber(ARGV[8])
local n_blocking = (#KEYS - 2 - n_tf) / 2
local votes, ids, skipped = {}, {}, {}
for i = 1, n_blocking do
  local bucket, spill = KEYS[2 * i - 1], KEYS[2 * i]
  local field, vote = ARGV[7 + 2 * i], tonumber(ARGV[8 + 2 * i])
  local list = redis.call('HGET', bucket, field)
  local members = {}
  if list == '*' then
    if redis.call('SCARD', spill) <= cap then members = redis.call('SMEMBERS', spill)
    else members = nil end
  elseif list then
    for id in string.gmatch(list, '%S+') do members[#members + 1] = id end
    if #members > cap then members = nil end
  end
  if members == nil then
    skipped[#skipped + 1] = field
  else
    for _, id in ipairs(members) do
      local known = votes[id]
      if known then
        votes[id] = known + vote
      else
        ids[#ids + 1] = id
        votes[id] = vote
      end
    end
  end
end
local truncated = 0
if #ids > total_cap then
  -- Grouped by vote (a handful of distinct values), not sorted: a common name brings
  -- hundreds of ids, and a sort with a Lua comparator is what that would cost.
  local groups, distinct = {}, {}
  for _, id in ipairs(ids) do
    local v = votes[id]
    local group = groups[v]
    if not group then
      group = {}
      groups[v] = group
      distinct[#distinct + 1] = v
    end
    group[#group + 1] = id
  end
  table.sort(distinct, function(a, b) return a > b end)
  local ordered = {}
  for _, v in ipairs(distinct) do
    for _, id in ipairs(groups[v]) do ordered[#ordered + 1] = id end
  end
  -- Only a cut candidate found by an identifier could have been linked.
  if votes[ordered[total_cap + 1]] >= identifier_vote then truncated = 1 end
  for k = #ordered, total_cap + 1, -1 do ordered[k] = nil end
  ids = ordered
end
local reply = {tonumber(redis.call('GET', KEYS[#KEYS]) or '0'), truncated,
               redis.call('GET', KEYS[#KEYS - 1]) or ''}
for i = 1, n_tf do
  local count = redis.call('HGET', KEYS[2 * n_blocking + i], ARGV[8 + 2 * n_blocking + i])
  reply[#reply + 1] = tonumber(count or '0')
end
for _, field in ipairs(skipped) do reply[#reply + 1] = field end
reply[#reply + 1] = ''
for _, id in ipairs(ids) do
  local index = redis.call('GET', prefix .. id .. ix_suffix)
  local packed = nil
  if index and string.sub(index, 1, #tag) == tag then
    local eol = string.find(index, '\\n', 1, true)
    packed = eol and string.sub(index, 1, eol - 1) or index
  end
  if packed then
    reply[#reply + 1] = id
    reply[#reply + 1] = 'p'
    reply[#reply + 1] = packed
  else
    local doc = redis.call('GET', prefix .. id .. suffix)
    if doc then
      reply[#reply + 1] = id
      reply[#reply + 1] = 'd'
      reply[#reply + 1] = doc
    end
  end
end
return reply
"""
