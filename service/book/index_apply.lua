-- Changes to one blocking bucket, in order: customers added to and removed from the
-- values it holds, and the counters of counted kinds (see _index.lua for the layout).
-- Each change is idempotent: adding an id listed, or removing one that is not, does
-- nothing, so a put that stopped half-way can be finished by doing its changes again.
-- KEYS: per change: the bucket, its value's spill set (the bucket's own tag); the buckets
--   of one call share a slot (on one server, any buckets)
-- ARGV: per change: "+" add, "-" remove or "#" count, the field, then the id ("+" and
--   "-") or the signed amount ("#")
-- Reply: how many ids were removed that were there

local MAX_INLINE = 64
local call, find = redis.call, string.find
local bucket
local function has_id(list, id)
  return find(' ' .. list .. ' ', ' ' .. id .. ' ', 1, true) ~= nil
end
local function add(field, spill, id)
  local list = call('HGET', bucket, field)
  if not list then
    call('HSET', bucket, field, id)
  elseif list == '*' then
    call('SADD', spill, id)
  elseif not has_id(list, id) then
    local longer = list .. ' ' .. id
    if #longer <= MAX_INLINE then
      call('HSET', bucket, field, longer)
    else
      local ids = {id}
      for member in string.gmatch(list, '%S+') do ids[#ids + 1] = member end
      call('SADD', spill, unpack(ids))
      call('HSET', bucket, field, '*')
    end
  end
end
local function remove(field, spill, id)
  local list = call('HGET', bucket, field)
  if not list then return 0 end
  if list == '*' then
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

local removed = 0
for i = 1, #KEYS / 2 do
  bucket = KEYS[2 * i - 1]
  local spill = KEYS[2 * i]
  local change, field, value = ARGV[3 * i - 2], ARGV[3 * i - 1], ARGV[3 * i]
  if change == '+' then
    add(field, spill, value)
  elseif change == '-' then
    removed = removed + remove(field, spill, value)
  elseif call('HINCRBY', bucket, field, value) <= 0 then
    -- A counter is never kept at zero or below.
    call('HDEL', bucket, field)
  end
end
return removed
