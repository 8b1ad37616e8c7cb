-- An event for the subscriptions, written as a step of its own: the change it reports
-- was a step in another home (a message's withdrawal, an identity's link).
-- KEYS: the outbox stream, the set of wanted types (the names ARGV gives too).
-- ARGV: the outbox's two (1-2), the event's type, its fields as JSON.
-- Reply: none.

--#include _outbox.lua

outbox(1)
emit(ARGV[3], cjson.decode(ARGV[4]))
