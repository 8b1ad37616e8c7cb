-- Shared piece: blocking.index_location in Lua, so that an entry travels to the store as
-- the single string it is ("kind:digest") and the script finds its bucket itself.
-- KEYS: none of its own; the buckets and spill sets it names are undeclared keys, which
--   a single primary allows (socialid needs one, see service/store/keynames.py).
-- ARGV: none of its own; the script calls index_setup once with the four values of
--   blocking.placement: bucket key prefix, buckets, counted kinds, kinds seldom shared.
-- Reply: none; index_location(entry) returns the bucket hash, the field and the kind,
--   index_spill(bucket, field) the set an entry's ids spill to.

local find, sub, byte, format = string.find, string.sub, string.byte, string.format
local B64 = {}
do
  local alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'
  for i = 1, 64 do B64[byte(alphabet, i)] = i - 1 end
end
local INDEX_PREFIX, INDEX_BUCKETS, COUNTED, SELDOM_SHARED = '', 1, {}, {}
-- Bucket key names by kind and number, made once per call: a batch places thousands
-- of entries in a few hundred buckets of each kind.
local BUCKETS = {}
local function index_setup(bucket_prefix, buckets, counted_kinds, seldom_shared_kinds)
  INDEX_PREFIX, INDEX_BUCKETS = bucket_prefix, tonumber(buckets)
  for kind in string.gmatch(counted_kinds, '%S+') do COUNTED[kind] = true end
  for kind in string.gmatch(seldom_shared_kinds, '%S+') do SELDOM_SHARED[kind] = true end
end
local function index_location(entry)
  local colon = find(entry, ':', 1, true)
  local kind = sub(entry, 1, colon - 1)
  -- The first three base64 characters are 18 bits of the digest.
  local b1, b2, b3 = byte(entry, colon + 1, colon + 3)
  local n = (B64[b1] * 4096 + B64[b2] * 64 + B64[b3]) % INDEX_BUCKETS
  local of_kind = BUCKETS[kind]
  if not of_kind then
    of_kind = {}
    BUCKETS[kind] = of_kind
  end
  local bucket = of_kind[n]
  if not bucket then
    bucket = INDEX_PREFIX .. kind .. ':' .. format('%x', n)
    of_kind[n] = bucket
  end
  return bucket, sub(entry, colon + 1), kind
end
local function index_spill(bucket, field)
  return bucket .. ':' .. field
end
