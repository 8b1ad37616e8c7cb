-- Indexes audit entries under their customer, newest first (in the customer's home).
-- KEYS: the customer's audit index
-- ARGV: the length kept, then the entries' ids, oldest first
-- Reply: the index's length

local n
for i = 2, #ARGV do n = redis.call('LPUSH', KEYS[1], ARGV[i]) end
-- Trimmed only once over its length: most customers never get there.
if n > tonumber(ARGV[1]) then redis.call('LTRIM', KEYS[1], 0, tonumber(ARGV[1]) - 1) end
return n
