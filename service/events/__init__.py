"""Events out: signed webhooks to the tools reps live in (Standard Webhooks).

A change that subscribers care about writes an event to the outbox stream in the same
script as the change (``_outbox.lua``), so no event is lost to a crash and none reports
a change that did not happen. The dispatcher turns each event into one delivery per
subscription that wants it, and sends those with retries until they succeed or, after
a day, become dead letters that an admin can replay.
"""
