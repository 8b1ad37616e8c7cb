-- The owner's reply to the customer, logged on the desk. Its event in the customer's
-- history is a step in the customer's home, after this one: until the caller has taken
-- that step, the event waits on the conversation as "due:<reply id>", and every reply
-- answers all that wait, so one whose history step was cut off (a crash) is finished by
-- the next reply on the conversation.
-- KEYS: conversation hash, conversation log.
-- ARGV: the prelude's seven (1-7), conversation id, replying rep, the version the caller
--   read ("" skips the check), time (ISO, ms), text, reply id, the conversation's
--   customer id as the caller read it ("" for none), the history step as JSON ("" for
--   none: no customer).
-- Reply: {"ok", version, due...} (each due a history step's JSON) or why nothing was
--   written: {"missing"}; {"conflict", owner, version} (the version moved on);
--   {"not_owner", owner, version}; {"customer_changed"} (the conversation's customer is
--   no longer the one the event was built for).

--#include _conversation.lua

prelude(1)
local conv, logkey = KEYS[1], KEYS[2]
local id, rep, expected, at, text = ARGV[8], ARGV[9], ARGV[10], ARGV[11], ARGV[12]
local reply_id, customer, due = ARGV[13], ARGV[14], ARGV[15]
local status, owner, version, team = head(conv)
if not status then return {'missing'} end
if expected ~= '' and expected ~= version then return {'conflict', owner, version} end
if owner ~= rep then return {'not_owner', owner, version} end
if (redis.call('HGET', conv, 'customer_id') or '') ~= customer then
  return {'customer_changed'}
end
if due ~= '' then redis.call('HSET', conv, 'due:' .. reply_id, due) end
log(logkey, id, team, {type = 'reply', by = rep, at = at, text = text, id = reply_id})
redis.call('HSET', conv, 'last_outbound_at', at)
if status ~= 'waiting_on_customer' then set_status(conv, id, status, 'waiting_on_customer') end
-- Waiting for the customer: out of the queue until they write again.
redis.call('ZREM', QP .. team, id)
local reply = {'ok', tostring(redis.call('HINCRBY', conv, 'version', 1))}
local fields = redis.call('HGETALL', conv)
for i = 1, #fields, 2 do
  if string.sub(fields[i], 1, 4) == 'due:' then reply[#reply + 1] = fields[i + 1] end
end
return reply
