-- Shared piece: one event into a customer's history, stored once by id.
-- add_event(events_key, history_key, id, json, score): the events hash holds id -> JSON,
-- the history sorted set orders the ids by score (event time, ms). An id already stored
-- keeps its first JSON and score, so a resent event is neither duplicated nor moved.
-- Returns 1 when the event was added, 0 when it was already there.

local function add_event(events_key, history_key, id, json, score)
  if redis.call('HSETNX', events_key, id, json) == 1 then
    redis.call('ZADD', history_key, score, id)
    return 1
  end
  return 0
end
