-- Claims an identity for the customer whose record names it, unless it leads to someone.
-- KEYS: link
-- ARGV: customer_id
-- Reply: who held it before (false for no one: it is this customer's now)

local owner = redis.call('GET', KEYS[1])
if not owner then redis.call('SET', KEYS[1], ARGV[1]) end
return owner
