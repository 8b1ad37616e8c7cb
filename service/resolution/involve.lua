-- The customer's side of linking or rejecting an identity through the API, a step in
-- their home before the identity's: that they exist, and the identity among their API
-- identities, so that an erasure finds it even if the identity's step is cut off.
-- KEYS: doc, api_identities
-- ARGV: the identity as an api_identities member
-- Reply: "ok" | "missing" (no such customer)

if redis.call('EXISTS', KEYS[1]) == 0 then return 'missing' end
redis.call('SADD', KEYS[2], ARGV[1])
return 'ok'
