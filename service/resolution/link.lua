-- Links an identity to a customer, with who, how, when and why: never over another
-- customer's link, nor to a customer a rep ruled out for it. involve.lua runs before
-- (the customer exists); the identity.linked event is a step after (store/emit.lua).
-- KEYS: link, link_record, link_history, rejections
-- ARGV: customer_id, change_json, history_kept, then the link record's field/value pairs
-- Reply: {"linked"} | {"unchanged", "api"|"customer_record"} | {"conflict", owner} |
--   {"rejected"}

--#include _link_change.lua

local owner = redis.call('GET', link)
if owner == id then
  return {'unchanged', redis.call('EXISTS', record) == 1 and 'api' or 'customer_record'}
end
if owner then return {'conflict', owner} end
if redis.call('SISMEMBER', rejections, id) == 1 then return {'rejected'} end
redis.call('SET', link, id)
redis.call('DEL', record)
redis.call('HSET', record, unpack(ARGV, 4))
remember(id)
return {'linked'}
