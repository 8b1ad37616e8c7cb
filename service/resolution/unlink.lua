-- Removes a link made through the API; a link from the customer's own record stays
-- (only a change of the record removes it).
-- KEYS: link, link_record, link_history, rejections
-- ARGV: customer_id (""; the script finds the customer from the link), change_json,
--   history_kept
-- Reply: {"unlinked", customer} | {"missing"} | {"customer_record", customer}

--#include _link_change.lua

local owner = redis.call('GET', link)
if not owner then return {'missing'} end
if redis.call('EXISTS', record) == 0 then return {'customer_record', owner} end
redis.call('DEL', link, record)
remember(owner)
return {'unlinked', owner}
