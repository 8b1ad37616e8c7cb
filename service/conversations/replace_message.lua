-- Replaces a stored message's JSON, unless it changed since the caller read it (an
-- erasure taking a candidate out of its resolution). The JSON is built by the caller,
-- never re-encoded here: cjson would write an empty list as an object.
-- KEYS: the message
-- ARGV: the SHA-1 of the JSON as the caller read it, the new JSON
-- Reply: "replaced", "changed" (read it again) or "missing"

local current = redis.call('GET', KEYS[1])
if not current then return 'missing' end
if redis.sha1hex(current) ~= ARGV[1] then return 'changed' end
redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
return 'replaced'
