-- Withdraws a rejection made by mistake.
-- KEYS: doc, link, link_record, link_history, rejections, api_identities
-- ARGV: customer_id, member, change_json, history_kept
-- Reply: {"withdrawn"} | {"unchanged"}

--#include _link_change.lua

if redis.call('SREM', rejections, id) == 0 then return {'unchanged'} end
remember(id)
return {'withdrawn'}
