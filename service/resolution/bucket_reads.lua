-- What one blocking bucket holds for a query (in the bucket's home): the ids listed under
-- each of the query's values found there, and the counts of its names.
-- KEYS: the bucket, then per read: the value's spill set (the bucket again for a count)
-- ARGV: entry_cap, then per read: "ids" or "count", the field
-- Reply: per read: its ids (an empty list for none), "*" when more customers share the
--   value than entry_cap (too common to use), or the count (0 for none)

local bucket, cap = KEYS[1], tonumber(ARGV[1])
local out = {}
for i = 2, #KEYS do
  local what, field = ARGV[2 * i - 2], ARGV[2 * i - 1]
  local value = redis.call('HGET', bucket, field)
  if what == 'count' then
    out[#out + 1] = tonumber(value or '0')
  elseif value == '*' then
    if redis.call('SCARD', KEYS[i]) <= cap then
      out[#out + 1] = redis.call('SMEMBERS', KEYS[i])
    else
      out[#out + 1] = '*'
    end
  elseif value then
    local ids = {}
    for id in string.gmatch(value, '%S+') do ids[#ids + 1] = id end
    out[#out + 1] = #ids > cap and '*' or ids
  else
    out[#out + 1] = {}
  end
end
return out
