-- The last step of a put: its blocking entries and identity links have moved, so the
-- pending work put_record.lua left is done, unless another put has added to it since.
-- KEYS: pending
-- ARGV: the pending work as put_record.lua left it
-- Reply: 1 cleared, 0 left for the put that added to it

if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
