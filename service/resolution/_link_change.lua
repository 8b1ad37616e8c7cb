-- Shared piece: what every change of an identity link made through the API reads, and
-- remember(), which writes the change's history entry in the same call as the change,
-- so the history never misses a change and never records one that did not happen.
-- KEYS: doc, link, link_record, link_history, rejections, api_identities (the same six,
--   in this order, for link.lua, unlink.lua, reject.lua and withdraw.lua)
-- ARGV: customer_id, member (the identity as an api_identities member), change_json
--   (the history entry without its customer_id, which remember adds), history_kept
-- Reply: none; remember(customer) returns nothing.

local doc, link, record, history, rejections, involved =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local id, member, change, keep = ARGV[1], ARGV[2], cjson.decode(ARGV[3]), tonumber(ARGV[4])
local function remember(customer)
  change.customer_id = customer
  redis.call('LPUSH', history, cjson.encode(change))
  redis.call('LTRIM', history, 0, keep - 1)
end
