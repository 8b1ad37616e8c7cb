-- Adds events to the histories of several customers, each only while the customer exists
-- (so an event racing an erasure cannot leave history behind); an event whose id is
-- stored already is left as it was.
-- KEYS: per customer: doc, events, history, open_items
-- ARGV: per customer: event_count, then event_count times: event_id, event_json,
--   score (event time, ms), open-item role (see _history.lua)
-- Reply: per customer, the events newly added, or -1 when the customer does not exist

--#include _history.lua

local replies = {}
local a = 1
for k = 1, #KEYS, 4 do
  local doc, events, history, open = KEYS[k], KEYS[k + 1], KEYS[k + 2], KEYS[k + 3]
  local n = tonumber(ARGV[a])
  a = a + 1
  if redis.call('EXISTS', doc) == 0 then
    replies[#replies + 1] = -1
  else
    local added = 0
    for i = a, a + 4 * (n - 1), 4 do
      added = added + add_event(events, history, open, ARGV[i], ARGV[i + 1], ARGV[i + 2],
                                ARGV[i + 3])
    end
    replies[#replies + 1] = added
  end
  a = a + 4 * n
end
return replies
