-- Candidates for one query in one round trip, with each one's packed matching profile
-- (the first line of its index list) and the counts that weigh the query's names.
-- KEYS: customer_count, model_active, then per blocking entry: bucket, spill, then per
--   name counter asked (surname, given name): bucket
-- ARGV: index_list_head, index_list_tail (what a customer's index list key has before
--   and after the id), entry_cap, total_cap, identifier_vote, entry_count, then per
--   blocking entry: field, vote, then per name counter asked: field
-- Reply: {customer_count, identifier_cut (1 if the total cap cut a candidate an
--   identifier found, else 0), model_version ("" for the shipped defaults),
--   {count of each name counter asked}, {skipped fields}, {candidate ids},
--   {their packed profiles}}

local customer_count, model_active = KEYS[1], KEYS[2]
local index_head, index_tail = ARGV[1], ARGV[2]
local entry_cap, total_cap = tonumber(ARGV[3]), tonumber(ARGV[4])
local identifier_vote, entry_count = tonumber(ARGV[5]), tonumber(ARGV[6])
local FIRST_ENTRY_KEY, FIRST_ENTRY_ARG = 3, 7
local first_counter_key = FIRST_ENTRY_KEY + 2 * entry_count
local first_counter_arg = FIRST_ENTRY_ARG + 2 * entry_count

-- An entry shared by more customers than the cap is skipped: one common value ("Smith")
-- must not make a query score thousands of records.
local votes, ids, skipped = {}, {}, {}
for i = 0, entry_count - 1 do
  local bucket, spill = KEYS[FIRST_ENTRY_KEY + 2 * i], KEYS[FIRST_ENTRY_KEY + 2 * i + 1]
  local field, vote = ARGV[FIRST_ENTRY_ARG + 2 * i], tonumber(ARGV[FIRST_ENTRY_ARG + 2 * i + 1])
  local list = redis.call('HGET', bucket, field)
  local members = {}
  if list == '*' then
    if redis.call('SCARD', spill) <= entry_cap then members = redis.call('SMEMBERS', spill)
    else members = nil end
  elseif list then
    for id in string.gmatch(list, '%S+') do members[#members + 1] = id end
    if #members > entry_cap then members = nil end
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

-- Past the total cap, the candidates with the most votes are kept (an identifier's entry
-- votes more than a name's; a customer found by name and by postcode has two votes), ties
-- in blocking order: those cut off are the ones that agree on least. Only when one found
-- by an identifier is cut could the cut have hidden a match.
local identifier_cut = 0
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
  if votes[ordered[total_cap + 1]] >= identifier_vote then identifier_cut = 1 end
  for k = #ordered, total_cap + 1, -1 do ordered[k] = nil end
  ids = ordered
end

local counts = {}
for i = 0, #KEYS - first_counter_key do
  local count = redis.call('HGET', KEYS[first_counter_key + i], ARGV[first_counter_arg + i])
  counts[#counts + 1] = tonumber(count or '0')
end
-- An id listed without an index list (never expected: both are written and erased in
-- one call) has no profile to score: not a candidate.
local found, profiles = {}, {}
for _, id in ipairs(ids) do
  local index = redis.call('GET', index_head .. id .. index_tail)
  if index then
    local eol = string.find(index, '\n', 1, true)
    found[#found + 1] = id
    profiles[#profiles + 1] = eol and string.sub(index, 1, eol - 1) or index
  end
end
return {tonumber(redis.call('GET', customer_count) or '0'), identifier_cut,
        redis.call('GET', model_active) or '', counts, skipped, found, profiles}
