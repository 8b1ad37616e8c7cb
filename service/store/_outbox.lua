-- Shared piece: an event for the subscriptions, written in the same step as the change
-- it reports. Nothing is written for a type no subscription wants, so a service without
-- subscriptions pays one SISMEMBER per change.
-- KEYS: none of its own; outbox(at) reads the outbox stream's and the wanted types'
--   names from ARGV[at] and ARGV[at + 1] (outbox_args in service/store/outbox.py).
-- Reply: none; emit(type, fields) returns nothing. Field values become strings.

local OUTBOX, WANTED = '', ''
local function outbox(at)
  OUTBOX, WANTED = ARGV[at], ARGV[at + 1]
end
local function emit(event_type, fields)
  if redis.call('SISMEMBER', WANTED, event_type) == 0 then return end
  local args = {'type', event_type}
  for k, v in pairs(fields) do
    args[#args + 1] = k
    args[#args + 1] = tostring(v)
  end
  redis.call('XADD', OUTBOX, '*', unpack(args))
end
