-- Withdraws a rejection made by mistake.
-- KEYS: link, link_record, link_history, rejections
-- ARGV: customer_id, change_json, history_kept
-- Reply: {"withdrawn"} | {"unchanged"}

--#include _link_change.lua

if redis.call('SREM', rejections, id) == 0 then return {'unchanged'} end
remember(id)
return {'withdrawn'}
