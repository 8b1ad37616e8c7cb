-- Shared piece: what every change of an identity link made through the API reads, and
-- remember(), which writes the change's history entry in the same call as the change,
-- so the history never misses a change and never records one that did not happen.
-- Everything here is the identity's home; the customer's side (that they exist, and
-- their API identities, which an erasure follows) is involve.lua, a step before.
-- KEYS: link, link_record, link_history, rejections (the same four, in this order, for
--   link.lua, unlink.lua, reject.lua and withdraw.lua)
-- ARGV: customer_id, change_json (the history entry without its customer_id, which
--   remember adds), history_kept
-- Reply: none; remember(customer) returns nothing.

local link, record, history, rejections = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local id, change, keep = ARGV[1], cjson.decode(ARGV[2]), tonumber(ARGV[3])
local function remember(customer)
  change.customer_id = customer
  redis.call('LPUSH', history, cjson.encode(change))
  redis.call('LTRIM', history, 0, keep - 1)
end
