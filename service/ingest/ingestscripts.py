"""Lua scripts of ingestion: each is one atomic step, so a crash never leaves half of it."""

from __future__ import annotations

# KEYS: stream, dedup key per message. ARGV: ttl seconds, "force" or "", message id per
# message, then the stream entry's field/value pairs. Claims every dedup key not yet held
# and, when any message is new, appends the delivery naming the new messages. Returns
# the new ids. "force" (a replay) takes every message: its keys were claimed when it
# first came, and the worker skips a message it already stored.
ACCEPT = """
local ttl = tonumber(ARGV[1])
local force = ARGV[2] == 'force'
local n = #KEYS - 1
local fresh = {}
for i = 1, n do
  local id = ARGV[i + 2]
  if redis.call('SET', KEYS[i + 1], id, 'NX', 'EX', ttl) or force then
    fresh[#fresh + 1] = id
  end
end
if #fresh > 0 then
  local entry = {}
  for i = n + 3, #ARGV do entry[#entry + 1] = ARGV[i] end
  entry[#entry + 1] = 'ids'
  entry[#entry + 1] = table.concat(fresh, ' ')
  redis.call('XADD', KEYS[1], '*', unpack(entry))
end
return fresh
"""
