-- A customer's history event replaced, in the customer's home: by its message's edit or
-- withdrawal, or by a rep moving the message to another case or to none. Only an event
-- that is there: a customer erased since keeps none. The open items follow, so that a
-- withdrawn text leaves them too: the event's copy there is replaced, or moved from the
-- case it was attached to (as its stored JSON says) to the one it is attached to now.
-- Running it again changes nothing more.
-- KEYS: the customer's events hash, history sorted set, open-items hash
-- ARGV: the event's id, its new JSON, the item it is attached to now ("case:<id>", or ""
--   for none)
-- Reply: 1 when replaced, 0 when there was no such event.

--#include service.book:_history.lua

local events, history, open = KEYS[1], KEYS[2], KEYS[3]
local id, json, now = ARGV[1], ARGV[2], ARGV[3]
local current = redis.call('HGET', events, id)
if not current then return 0 end
local case_id = cjson.decode(current)['case_id']
local was = (type(case_id) == 'string') and ('case:' .. case_id) or ''
redis.call('HSET', events, id, json)

local function unlist(item)
  local listed = redis.call('HGET', open, 'i:' .. item)
  if not listed then return end
  local kept = {}
  for _, other in ipairs(cjson.decode(listed)) do
    if other ~= id then kept[#kept + 1] = other end
  end
  set_item_ids(open, item, kept)
end

if was == now then
  if redis.call('HEXISTS', open, 'e:' .. id) == 1 then
    redis.call('HSET', open, 'e:' .. id, json)
  end
  return 1
end
if was ~= '' then unlist(was) end
redis.call('HDEL', open, 'e:' .. id)
if now ~= '' then
  unlist(now)
  keep_open(open, now, id, json, tonumber(redis.call('ZSCORE', history, id)) or 0)
end
return 1
