-- Rules a customer out for an identity: a rep's "not this one", never suggested again.
-- involve.lua runs before (the customer exists).
-- KEYS: link, link_record, link_history, rejections
-- ARGV: customer_id, change_json, history_kept
-- Reply: {"rejected"} | {"unchanged"} | {"linked"}

--#include _link_change.lua

if redis.call('GET', link) == id then return {'linked'} end
if redis.call('SADD', rejections, id) == 0 then return {'unchanged'} end
remember(id)
return {'rejected'}
