-- ScriptBatcher's wrapper: one call that runs another script once per caller's call.
-- KEYS: every call's KEYS, one call after another.
-- ARGV: the number of calls n; then n pairs: a call's number of KEYS and of ARGV; then
--   every call's ARGV, one call after another.
-- Reply: per call, in order: its reply; false when it answered nil (so the replies keep
--   their places); its error when it failed.
-- ScriptBatcher puts the wrapped script's text in place of the line "--#wrapped script"
-- below (the only such line), making it a function of its own KEYS and ARGV.

local function one(KEYS, ARGV)
--#wrapped script
end

local calls = tonumber(ARGV[1])
local replies = {}
local k, a = 0, 1 + 2 * calls
for c = 1, calls do
  local nk, na = tonumber(ARGV[2 * c]), tonumber(ARGV[2 * c + 1])
  local keys, argv = {}, {}
  for i = 1, nk do keys[i] = KEYS[k + i] end
  for i = 1, na do argv[i] = ARGV[a + i] end
  k, a = k + nk, a + na
  -- A call that fails answers its own error; the calls after it still run, as they would
  -- have as separate commands.
  local ok, reply = pcall(one, keys, argv)
  if not ok then
    if type(reply) == 'table' and reply.err then replies[c] = reply
    else replies[c] = {err = tostring(reply)} end
  elseif reply == nil then
    replies[c] = false
  else
    replies[c] = reply
  end
end
return replies
