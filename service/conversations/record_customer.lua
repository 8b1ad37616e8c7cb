-- A customer's part of recording a message resolved to them: the message among theirs
-- and its event in their history, in their home. Run again (a delivery claimed after a
-- crash), it changes nothing.
-- KEYS: the customer's messages, document, events hash, history and open items.
-- ARGV: the message's score (time sent, ms) and id, then the history event's id, JSON,
--   score and open-item role.
-- Reply: 1 when the event was added now, else 0.

--#include service.book:_history.lua

redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2])
-- Only while the customer exists: an event racing an erasure leaves no history.
if redis.call('EXISTS', KEYS[2]) == 0 then return 0 end
return add_event(KEYS[3], KEYS[4], KEYS[5], ARGV[3], ARGV[4], ARGV[5], ARGV[6])
