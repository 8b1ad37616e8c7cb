-- What became of sending a reply to the customer, in the conversation's log and on the
-- live stream, so that the next shift sees whether the customer got it. The
-- conversation's state and version do not change: the reply itself changed them.
-- KEYS: conversation hash, conversation log.
-- ARGV: the prelude's seven (1-7), conversation id, the rep who sent it, time (ISO, ms),
--   entry type (reply_sent, reply_failed, reply_send_off), reply id, provider's message
--   id, provider's status, reason (each of the last three "" when it has none).
-- Reply: "ok", or "missing" when the conversation is gone (erased while it was sent).

--#include _conversation.lua

prelude(1)
local conv, logkey = KEYS[1], KEYS[2]
local id, rep, at, kind, reply_id = ARGV[8], ARGV[9], ARGV[10], ARGV[11], ARGV[12]
local status, _, _, team = head(conv)
if not status then return 'missing' end
local fields = {type = kind, by = rep, at = at, reply_id = reply_id}
if ARGV[13] ~= '' then fields.provider_id = ARGV[13] end
if ARGV[14] ~= '' then fields.provider_status = ARGV[14] end
if ARGV[15] ~= '' then fields.reason = ARGV[15] end
log(logkey, id, team, fields)
return 'ok'
