-- Rules a customer out for an identity: a rep's "not this one", never suggested again.
-- KEYS: doc, link, link_record, link_history, rejections, api_identities
-- ARGV: customer_id, member, change_json, history_kept
-- Reply: {"rejected"} | {"unchanged"} | {"missing"} | {"linked"}

--#include _link_change.lua

if redis.call('EXISTS', doc) == 0 then return {'missing'} end
if redis.call('GET', link) == id then return {'linked'} end
if redis.call('SADD', rejections, id) == 0 then return {'unchanged'} end
redis.call('SADD', involved, member)
remember(id)
return {'rejected'}
