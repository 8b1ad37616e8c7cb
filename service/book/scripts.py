"""Lua scripts for history."""

from __future__ import annotations

# Adds events to the histories of several customers, each only if the customer exists
# (so an event racing an erasure cannot leave history behind). Per customer, in order:
#   KEYS: doc, events hash, history sorted set
#   ARGV: number of events n, then n times: event id, event JSON, score (ms)
# Reply per customer: events newly added, or -1 when the customer does not exist.
ADD_EVENTS = """
local replies = {}
local a = 1
for k = 1, #KEYS, 3 do
  local n = tonumber(ARGV[a])
  a = a + 1
  if redis.call('EXISTS', KEYS[k]) == 0 then
    replies[#replies + 1] = -1
  else
    local added = 0
    for i = 0, n - 1 do
      local id, json, score = ARGV[a + 3 * i], ARGV[a + 3 * i + 1], ARGV[a + 3 * i + 2]
      if redis.call('HSETNX', KEYS[k + 1], id, json) == 1 then
        redis.call('ZADD', KEYS[k + 2], score, id)
        added = added + 1
      end
    end
    replies[#replies + 1] = added
  end
  a = a + 3 * n
end
return replies
"""
