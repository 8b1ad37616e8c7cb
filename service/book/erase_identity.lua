-- An erased customer's identity, in the identity's home: its link goes if it leads to
-- them, its link record if it names them; they leave its rejections and its history.
-- KEYS: link, link_record, link_history, rejections
-- ARGV: customer_id
-- Reply: 1 the link led to them (and is gone), else 0

local link, record, link_history, rejections = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local id = ARGV[1]
local removed = 0
if redis.call('GET', link) == id then
  redis.call('DEL', link)
  removed = 1
end
if redis.call('HGET', record, 'customer_id') == id then redis.call('DEL', record) end
redis.call('SREM', rejections, id)
local changes = redis.call('LRANGE', link_history, 0, -1)
local kept = {}
for _, change in ipairs(changes) do
  local ok, decoded = pcall(cjson.decode, change)
  if not (ok and type(decoded) == 'table' and decoded.customer_id == id) then
    kept[#kept + 1] = change
  end
end
if #kept ~= #changes then
  redis.call('DEL', link_history)
  if #kept > 0 then redis.call('RPUSH', link_history, unpack(kept)) end
end
return removed
