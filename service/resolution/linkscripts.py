"""Lua scripts for identity links made through the API (a rep's confirmation, a verified
login). Each change and its history entry are written together, so the history never
misses a change and never records one that did not happen.

Common layout. KEYS: customer document, link, link record, history, rejections, the
customer's API identities set. ARGV: customer id ("" when the script finds it), the
identities-set member, the history entry's fields as JSON (the script adds
``customer_id``), the history length kept.
"""

from __future__ import annotations

_COMMON = """
local doc, link, record, history, rejections, involved =
  KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local id, member, change, keep = ARGV[1], ARGV[2], cjson.decode(ARGV[3]), tonumber(ARGV[4])
local function remember(customer)
  change.customer_id = customer
  redis.call('LPUSH', history, cjson.encode(change))
  redis.call('LTRIM', history, 0, keep - 1)
end
"""

# ARGV[5..]: the link record's field/value pairs.
# Reply: {"linked"} | {"unchanged", "api"|"customer_record"} | {"missing"} |
#        {"conflict", owner} | {"rejected"}
LINK = (
    _COMMON
    + """
if redis.call('EXISTS', doc) == 0 then return {'missing'} end
local owner = redis.call('GET', link)
if owner == id then
  return {'unchanged', redis.call('EXISTS', record) == 1 and 'api' or 'customer_record'}
end
if owner then return {'conflict', owner} end
if redis.call('SISMEMBER', rejections, id) == 1 then return {'rejected'} end
redis.call('SET', link, id)
redis.call('DEL', record)
redis.call('HSET', record, unpack(ARGV, 5))
redis.call('SADD', involved, member)
remember(id)
return {'linked'}
"""
)

# Reply: {"unlinked", customer} | {"missing"} | {"customer_record", customer}
UNLINK = (
    _COMMON
    + """
local owner = redis.call('GET', link)
if not owner then return {'missing'} end
if redis.call('EXISTS', record) == 0 then return {'customer_record', owner} end
redis.call('DEL', link, record)
remember(owner)
return {'unlinked', owner}
"""
)

# Reply: {"rejected"} | {"unchanged"} | {"missing"} | {"linked"}
REJECT = (
    _COMMON
    + """
if redis.call('EXISTS', doc) == 0 then return {'missing'} end
if redis.call('GET', link) == id then return {'linked'} end
if redis.call('SADD', rejections, id) == 0 then return {'unchanged'} end
redis.call('SADD', involved, member)
remember(id)
return {'rejected'}
"""
)

# Reply: {"withdrawn"} | {"unchanged"}
WITHDRAW = (
    _COMMON
    + """
if redis.call('SREM', rejections, id) == 0 then return {'unchanged'} end
remember(id)
return {'withdrawn'}
"""
)
