-- Adds events to a customer's history, only while the customer exists (so an event
-- racing an erasure cannot leave history behind); an event whose id is stored already
-- is left as it was.
-- KEYS: doc, events, history, open_items
-- ARGV: event_count, then event_count times: event_id, event_json, score (event time,
--   ms), open-item role (see _history.lua)
-- Reply: the events newly added, or -1 when the customer does not exist

--#include _history.lua

if redis.call('EXISTS', KEYS[1]) == 0 then return -1 end
local added = 0
for i = 2, 4 * tonumber(ARGV[1]), 4 do
  added = added + add_event(KEYS[2], KEYS[3], KEYS[4], ARGV[i], ARGV[i + 1], ARGV[i + 2],
                            ARGV[i + 3])
end
return added
