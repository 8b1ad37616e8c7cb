-- An identity the customer's record no longer names stops leading to them, unless a rep
-- linked it through the API (it has a link record): only an explicit unlink removes that.
-- KEYS: link, link_record
-- ARGV: customer_id
-- Reply: 1 removed, 0 left (another customer's, an API link, or none)

if redis.call('GET', KEYS[1]) == ARGV[1] and redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('DEL', KEYS[1])
  return 1
end
return 0
