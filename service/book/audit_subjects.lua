-- The audit pseudonyms of customers (each in their own home), made when they have none:
-- concurrent writers agree on the first.
-- KEYS: each customer's audit subject key
-- ARGV: a fresh pseudonym per key, kept only where the customer has none yet
-- Reply: each customer's pseudonym, in order

local subjects = {}
for i, key in ipairs(KEYS) do
  redis.call('SET', key, ARGV[i], 'NX')
  subjects[i] = redis.call('GET', key)
end
return subjects
