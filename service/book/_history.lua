-- Shared piece: one event into a customer's history, stored once by id, the same way by
-- every script that writes history (the book's, a conversation's reply, the worker's),
-- with the customer's open items kept up to date in the same step.
-- KEYS: none of its own; add_event is given the customer's events hash, history sorted
--   set and open-items hash (KeySchema.customer_events, .history, .open_items).
-- ARGV: none of its own; add_event is given the event's id, JSON, score (event time,
--   ms) and open-item role, as service.book.history.event_record makes them.
-- Reply: none; add_event returns 1 when the event was added, 0 when its id was already
--   stored (which keeps its first JSON and score: a resent event is not moved).
--
-- The open-items hash (service/book/openitems.py says what an item is): "e:<event id>"
-- -> event JSON for each event of an unsettled item, "i:<item>" -> the JSON array of
-- the item's event ids, "s:<item>" -> the time up to which the item is settled.

-- An item's event ids written back; the list goes when none is left.
local function set_item_ids(open, item, ids)
  if #ids > 0 then
    redis.call('HSET', open, 'i:' .. item, cjson.encode(ids))
  else
    redis.call('HDEL', open, 'i:' .. item)
  end
end

local function settle_item(open, history, item, bound)
  local listed = redis.call('HGET', open, 'i:' .. item)
  if listed then
    local kept = {}
    for _, id in ipairs(cjson.decode(listed)) do
      local at = tonumber(redis.call('ZSCORE', history, id))
      if at and at > bound then
        kept[#kept + 1] = id
      else
        redis.call('HDEL', open, 'e:' .. id)
      end
    end
    set_item_ids(open, item, kept)
  end
  local settled = tonumber(redis.call('HGET', open, 's:' .. item))
  if not settled or settled < bound then redis.call('HSET', open, 's:' .. item, bound) end
end

-- An event after a settlement is kept even when nothing reopened the item yet: a case
-- reopened later (or whose reopening arrives later) counts it.
local function keep_open(open, item, id, json, score)
  local settled = tonumber(redis.call('HGET', open, 's:' .. item))
  if settled and settled >= score then return end
  local listed = redis.call('HGET', open, 'i:' .. item)
  local ids = listed and cjson.decode(listed) or {}
  ids[#ids + 1] = id
  redis.call('HSET', open, 'e:' .. id, json, 'i:' .. item, cjson.encode(ids))
end

local function add_event(events_key, history_key, open_key, id, json, score, role)
  if redis.call('HSETNX', events_key, id, json) == 0 then return 0 end
  redis.call('ZADD', history_key, score, id)
  if role ~= '' then
    local verb, bound, item = string.match(role, '^(%a+) (%d+) (.+)$')
    if verb == 'settle' then
      settle_item(open_key, history_key, item, tonumber(bound))
    else
      keep_open(open_key, item, id, json, tonumber(score))
    end
  end
  return 1
end
