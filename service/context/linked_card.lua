-- What a lookup needs for a linked sender, in one round trip: the link, the customer's
-- record, their newest events, their open items and how many events they have; reads
-- that otherwise follow each other (the record's key comes from the link, the rest's
-- from the record's id).
-- KEYS: identity_link
-- ARGV: customer_head (what a customer's keys have before the id), doc_tail,
--   history_tail, events_tail, open_items_tail (what each has after it), event_limit
-- Reply: {} without a link, else {customer_id, doc or false, {event_json...} newest
--   first, the open-items hash as HGETALL gives it, the history's length}

local customer_head, doc_tail, history_tail, events_tail, open_tail =
  ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local event_limit = tonumber(ARGV[6])
local owner = redis.call('GET', KEYS[1])
if not owner then return {} end
local head = customer_head .. owner
local doc = redis.call('GET', head .. doc_tail)
local ids = redis.call('ZRANGE', head .. history_tail, 0, event_limit - 1, 'REV')
local events = {}
if #ids > 0 then
  for _, event in ipairs(redis.call('HMGET', head .. events_tail, unpack(ids))) do
    if event then events[#events + 1] = event end
  end
end
return {owner, doc, events, redis.call('HGETALL', head .. open_tail),
        redis.call('ZCARD', head .. history_tail)}
