-- Shared piece: adding a customer to the blocking entries and removing them. In a bucket
-- hash, a field holds the space-separated ids of the customers with that value, or "*"
-- once they spilled to the entry's own set; or, for counted kinds, how many customers
-- have the value (see service/book/blocking.py).
-- KEYS: none of its own; the buckets and spill sets are named by _index_location.lua.
-- ARGV: none of its own; the script calls index_setup (see _index_location.lua) first.
-- Reply: none; index_add(entry, id), index_remove(entry, id) (1 removed, 0 not there),
--   and write_counts() when the script adds the counted entries up (COUNTS = {} first).

--#include _index_location.lua
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
-- A batch names the common surnames many times: their counters change by one sum each,
-- whatever the order of the changes.
local function write_counts()
  for entry, change in pairs(COUNTS) do
    if change ~= 0 then
      local bucket, field = index_location(entry)
      count_by(bucket, field, change)
    end
  end
  COUNTS = nil
end
