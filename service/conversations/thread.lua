-- The conversation a message belongs to. The first conversation a thread key names wins;
-- every key then names it, so the next message sharing any of them joins it.
-- KEYS: the message's thread keys (KeySchema.thread of each).
-- ARGV: how long a thread key lasts (seconds), the conversation id to use when no thread
--   key names one yet.
-- Reply: the conversation id.

local found = nil
for i = 1, #KEYS do
  found = redis.call('GET', KEYS[i])
  if found then break end
end
local conv = found or ARGV[2]
for i = 1, #KEYS do
  redis.call('SET', KEYS[i], conv, 'EX', tonumber(ARGV[1]))
end
return conv
