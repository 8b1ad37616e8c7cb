-- Shared piece: one event into a customer's history, stored once by id, the same way by
-- every script that writes history (the book's, a conversation's reply, the worker's).
-- KEYS: none of its own; add_event is given the customer's events hash and history
--   sorted set (KeySchema.customer_events and .history).
-- ARGV: none of its own; add_event is given the event's id, JSON and score (event time,
--   ms), as service.book.history.event_record makes them.
-- Reply: none; add_event returns 1 when the event was added, 0 when its id was already
--   stored (which keeps its first JSON and score: a resent event is not moved).

local function add_event(events_key, history_key, id, json, score)
  if redis.call('HSETNX', events_key, id, json) == 1 then
    redis.call('ZADD', history_key, score, id)
    return 1
  end
  return 0
end
