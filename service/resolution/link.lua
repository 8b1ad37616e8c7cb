-- Links an identity to a customer, with who, how, when and why: never over another
-- customer's link, nor to a customer a rep ruled out for it.
-- KEYS: doc, link, link_record, link_history, rejections, api_identities
-- ARGV: customer_id, member, change_json, history_kept, the outbox's two (5-6), the
--   identity.linked event's fields as JSON, then the link record's field/value pairs
-- Reply: {"linked"} | {"unchanged", "api"|"customer_record"} | {"missing"} |
--   {"conflict", owner} | {"rejected"}

--#include _link_change.lua
--#include service.store:_outbox.lua

if redis.call('EXISTS', doc) == 0 then return {'missing'} end
local owner = redis.call('GET', link)
if owner == id then
  return {'unchanged', redis.call('EXISTS', record) == 1 and 'api' or 'customer_record'}
end
if owner then return {'conflict', owner} end
if redis.call('SISMEMBER', rejections, id) == 1 then return {'rejected'} end
redis.call('SET', link, id)
redis.call('DEL', record)
redis.call('HSET', record, unpack(ARGV, 8))
redis.call('SADD', involved, member)
remember(id)
outbox(5)
emit('identity.linked', cjson.decode(ARGV[7]))
return {'linked'}
