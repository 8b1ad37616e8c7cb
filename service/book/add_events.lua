-- Adds events to the histories of several customers, each only while the customer exists
-- (so an event racing an erasure cannot leave history behind); an event whose id is
-- stored already is left as it was.
-- KEYS: per customer: doc, events, history
-- ARGV: per customer: event_count, then event_count times: event_id, event_json,
--   score (event time, ms)
-- Reply: per customer, the events newly added, or -1 when the customer does not exist

--#include _history.lua

local replies = {}
local a = 1
for k = 1, #KEYS, 3 do
  local doc, events, history = KEYS[k], KEYS[k + 1], KEYS[k + 2]
  local n = tonumber(ARGV[a])
  a = a + 1
  if redis.call('EXISTS', doc) == 0 then
    replies[#replies + 1] = -1
  else
    local added = 0
    for i = a, a + 3 * (n - 1), 3 do
      added = added + add_event(events, history, ARGV[i], ARGV[i + 1], ARGV[i + 2])
    end
    replies[#replies + 1] = added
  end
  a = a + 3 * n
end
return replies
