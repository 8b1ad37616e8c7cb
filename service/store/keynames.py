"""Every Redis key socialid uses is named here and nowhere else.

Keys that belong together carry the same hash tag (the part in braces): everything about
one customer shares ``{c:<id>}``; API keys share ``{auth}``. That is the groundwork for a
Redis Cluster, not support for it: the scripts that move index entries with a customer
touch keys on several slots, so today socialid needs a single primary (with replicas).
Customer ids are restricted (see ``CUSTOMER_ID_PATTERN``) so they cannot contain braces.
"""

from __future__ import annotations

import binascii
import hashlib
import string
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

# Characters that would form a hash tag, a SCAN glob or an ambiguous separator are
# percent-escaped in values that become part of key names (cheaper than urllib's quote).
_ESCAPE = str.maketrans({ch: f"%{ord(ch):02X}" for ch in "%{}*?[]\\: \t\r\n"})


# Buckets per kind of blocking value: about 64 values per bucket at a million customers,
# well inside Redis's listpack limit (128 entries by default). Changing it re-addresses
# every entry: only with a rebuilt index.
INDEX_BUCKETS = 1 << 14

# Kinds whose entries only count customers (term frequency), never list them.
COUNTED_KINDS = frozenset({"fn", "gn"})

_IDENTIFIER_KINDS = frozenset({"em", "ph", "ac", "hd"})
# Kinds whose value is usually one customer's alone when first written (a postcode holds a
# household or two): the scripts try to write such an entry as new before reading it.
_SELDOM_SHARED_KINDS = _IDENTIFIER_KINDS | {"pc"}
# More than all name and place entries of one query together.
IDENTIFIER_VOTE = 100
_PLACE_OR_BIRTH_KINDS = frozenset({"dob", "pc", "st"})
_PLACE_OR_BIRTH_VOTE = 10
# Identifiers, then what narrows most among the rest: a street or full name holds a few
# people, a given name within a town many.
_BLOCKING_KINDS = ("em", "ph", "ac", "hd", "dob", "pc", "st", "nf", "nt", "nm", "gt", "gd", "gx")
_BLOCKING_ORDER = {k: i for i, k in enumerate((*_BLOCKING_KINDS, "hh"))}


_B64 = {
    ch: i for i, ch in enumerate(string.ascii_uppercase + string.ascii_lowercase + "0123456789-_")
}


_URLSAFE = bytes.maketrans(b"+/", b"-_")


# A hasher per kind that has read "kind:" already: copying it costs less than making a
# new one with its parameters, once for every entry of every customer imported.
_HASHERS: dict[str, hashlib.blake2b] = {}


def _entry_of(kind: str, value: str) -> str:
    hasher = _HASHERS.get(kind)
    if hasher is None:
        hasher = _HASHERS[kind] = hashlib.blake2b(f"{kind}:".encode(), digest_size=9)
    digest = hasher.copy()
    digest.update(value.encode())
    # base64.urlsafe_b64encode, without its two Python-level calls per entry.
    encoded = binascii.b2a_base64(digest.digest(), newline=False).translate(_URLSAFE)
    return f"{kind}:{encoded.decode()}"


# Birthdays and name keys repeat across a book: cached. The kinds seldom shared (e-mails,
# phones, accounts, handles, postcodes) would only fill a cache and miss: 2% of the
# synthetic book's postcodes repeat, half of its birthdays.
_entry_of_repeating = lru_cache(maxsize=131_072)(_entry_of)


# KeySchema.index_location in Lua, for the scripts that write index entries (so that an
# entry travels to the store as the single string it is). The script calls
# index_setup(first argument index) once, with the arguments of index_location_args().
INDEX_LOCATION_LUA = """
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
local function index_setup(at)
  INDEX_PREFIX, INDEX_BUCKETS = ARGV[at], tonumber(ARGV[at + 1])
  for kind in string.gmatch(ARGV[at + 2], '%S+') do COUNTED[kind] = true end
  for kind in string.gmatch(ARGV[at + 3], '%S+') do SELDOM_SHARED[kind] = true end
end
-- bucket hash, field and kind of an entry ("kind:digest")
local function index_location(entry)
  local colon = find(entry, ':', 1, true)
  local kind = sub(entry, 1, colon - 1)
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
-- the set an entry's ids spill to
local function index_spill(bucket, field)
  return bucket .. ':' .. field
end
"""


def _index_entry(kind: str, value: str) -> str:
    if kind in _SELDOM_SHARED_KINDS:
        return _entry_of(kind, value)
    return _entry_of_repeating(kind, value)


def _digest(value: str) -> str:
    return hashlib.blake2b(value.encode(), digest_size=12).hexdigest()


def quote(value: str) -> str:
    return value.translate(_ESCAPE)


def identity_suffix(channel: str, external_id: str) -> str:
    """``channel:quoted id``: the part every key about one identity shares."""
    if channel == "email":
        # Mail systems treat addresses case-insensitively in practice: one key for all
        # spellings, so "Dana.King@x" and "dana.king@x" cannot belong to two people.
        external_id = external_id.strip().casefold()
    return f"{channel}:{quote(external_id)}"


@dataclass(frozen=True, slots=True)
class KeySchema:
    prefix: str = "sid"

    # -- customers -------------------------------------------------------------------
    def customer(self, customer_id: str) -> str:
        return f"{self.prefix}:{{c:{customer_id}}}:doc"

    @staticmethod
    def around_id(name: Callable[[str], str]) -> tuple[str, str]:
        """What one kind of per-customer key has before and after the customer id (for
        scripts that name the keys of many customers themselves)."""
        prefix, _, suffix = name("\0").partition("\0")
        return prefix, suffix

    def history(self, customer_id: str) -> str:
        """Sorted set of the customer's event ids, scored by event time (ms)."""
        return f"{self.prefix}:{{c:{customer_id}}}:hist"

    def customer_events(self, customer_id: str) -> str:
        """Hash event id -> event JSON, so an event is stored once however often sent."""
        return f"{self.prefix}:{{c:{customer_id}}}:evs"

    # -- identities ------------------------------------------------------------------
    def identity(self, channel: str, external_id: str) -> str:
        """Exact link from a channel identity to a customer id.

        No hash tag: identities spread over the cluster; the id is quoted so that braces
        or spaces in a provider's id cannot form a tag or break a SCAN pattern.
        """
        return self.identity_prefix() + identity_suffix(channel, external_id)

    def identity_prefix(self) -> str:
        """What every identity link key has before ``identity_suffix``."""
        return f"{self.prefix}:idn:"

    def identity_link_prefix(self) -> str:
        """What every link record key has before ``identity_suffix``."""
        return f"{self.prefix}:lnk:"

    def identity_channel(self, key: str) -> str:
        """The channel named in an identity key (for messages that must not show the id)."""
        return key.removeprefix(self.identity_prefix()).split(":", 1)[0]

    def identity_link(self, channel: str, external_id: str) -> str:
        """Hash: who linked the identity through the API, how, when and why. Absent
        for a link that comes from the customer's own record (its ``identities``)."""
        return self.identity_link_prefix() + identity_suffix(channel, external_id)

    def identity_history(self, channel: str, external_id: str) -> str:
        """List of the identity's link changes made through the API, newest first."""
        return f"{self.prefix}:idh:{identity_suffix(channel, external_id)}"

    def identity_rejections(self, channel: str, external_id: str) -> str:
        """Set of the customers a rep ruled out for this identity."""
        return f"{self.prefix}:rej:{identity_suffix(channel, external_id)}"

    def customer_identities(self, customer_id: str) -> str:
        """Set of the identities (``channel:quoted id``) whose links, rejections or
        history name this customer through the API: what an erasure must also clear."""
        return f"{self.prefix}:{{c:{customer_id}}}:idx"

    def identity_keys(self, member: str) -> tuple[str, str, str, str]:
        """Link, link record, history and rejections of a ``customer_identities`` member."""
        p = self.prefix
        return (
            self.identity_prefix() + member,
            self.identity_link_prefix() + member,
            f"{p}:idh:{member}",
            f"{p}:rej:{member}",
        )

    def customer_messages(self, customer_id: str) -> str:
        """Sorted set of the inbound messages resolved to this customer (for erasure)."""
        return f"{self.prefix}:{{c:{customer_id}}}:msgs"

    def customer_audit(self, customer_id: str) -> str:
        """List of the ids of audit entries about this customer, newest first."""
        return f"{self.prefix}:{{c:{customer_id}}}:aud"

    def customer_index(self, customer_id: str) -> str:
        """The blocking entries the customer was put in, as written (so that an update or
        an erasure removes exactly those, whatever the code or settings compute today)."""
        return f"{self.prefix}:{{c:{customer_id}}}:ix"

    def customer_keys(self, customer_id: str) -> tuple[str, str, str, str, str]:
        """Every key that holds one customer's own data: document, history, events, the
        index of audit entries about them and the list of their blocking sets."""
        return (
            self.customer(customer_id),
            self.history(customer_id),
            self.customer_events(customer_id),
            self.customer_audit(customer_id),
            self.customer_index(customer_id),
        )

    # -- matching ----------------------------------------------------------------------
    # The blocking index maps a value (an e-mail, a phone, a phonetic surname with
    # initial, ...) to the customers holding it. A key per value costs ~200 bytes of
    # Redis memory for what is mostly one customer, so values are hashed into buckets:
    # a hash per kind and bucket whose field is the value's digest and whose value the
    # space-separated ids. Small hashes stay listpack-encoded (a few bytes per entry).
    # A value shared by more customers than fit in 64 bytes spills to a set of its own.
    # Digests keep the keyspace free of e-mails and phones in clear and of any length.
    # The compact name of one blocking value: its kind and digest ("em:Xq3..."). The
    # module function itself, without a method around it: an import calls it 8 times
    # per customer.
    index_entry = staticmethod(_index_entry)

    def index_location(self, entry: str) -> tuple[str, str, str]:
        """Where an entry lives: its bucket hash, its field there, its spill-over set.
        The scripts that write entries place them with ``INDEX_LOCATION_LUA``, the same
        rule in Lua, given ``index_location_args()``."""
        kind, _, field = entry.partition(":")
        # The first three base64 characters are 18 bits of the digest.
        bits = _B64[field[0]] << 12 | _B64[field[1]] << 6 | _B64[field[2]]
        bucket_key = f"{self.prefix}:bk:{kind}:{bits % INDEX_BUCKETS:x}"
        return bucket_key, field, f"{bucket_key}:{field}"

    def index_location_args(self) -> list[str]:
        """What ``index_location`` in Lua is set up with: the bucket key prefix, the
        number of buckets, the counted kinds and the kinds seldom shared."""
        return [
            f"{self.prefix}:bk:",
            str(INDEX_BUCKETS),
            " ".join(sorted(COUNTED_KINDS)),
            " ".join(sorted(_SELDOM_SHARED_KINDS)),
        ]

    @staticmethod
    def index_kind(entry: str) -> str:
        return entry.partition(":")[0]

    def index_rank(self, entry: str) -> int:
        """Order of blocking entries by how much they narrow: identifiers first, names
        last."""
        return _BLOCKING_ORDER.get(self.index_kind(entry), len(_BLOCKING_ORDER))

    def index_vote(self, entry: str) -> int:
        """How much sharing the entry counts for when candidates must be cut: an
        identifier (e-mail, phone, account, handle) outweighs everything else together;
        a birthday, postcode or street outweighs every name key of a query together (a
        namesake is found by many keys of one name, which all say the same thing)."""
        kind = self.index_kind(entry)
        if kind in _IDENTIFIER_KINDS:
            return IDENTIFIER_VOTE
        return _PLACE_OR_BIRTH_VOTE if kind in _PLACE_OR_BIRTH_KINDS else 1

    def customer_count(self) -> str:
        """How many customers the book holds (term frequencies need the total)."""
        return f"{self.prefix}:stats:customers"

    # -- model -----------------------------------------------------------------------
    def model_active(self) -> str:
        """The version of the fitted model parameters in use (absent: shipped defaults)."""
        return f"{self.prefix}:model:active"

    def model_params(self, version: str) -> str:
        """One fitted parameter set, as JSON, kept after it is replaced (for rollback)."""
        return f"{self.prefix}:model:v:{quote(version)}"

    def model_versions(self) -> str:
        """Sorted set of the fitted versions, scored by when they were fitted."""
        return f"{self.prefix}:model:versions"

    # -- ingestion -----------------------------------------------------------------------
    # Deliveries, messages and conversations carry no hash tag of their own; dedup and
    # thread keys are digests, so no provider id or address appears in a key name.
    def ingest_stream(self) -> str:
        """Stream of deliveries stored before they were acknowledged, until processed."""
        return f"{self.prefix}:ingest"

    def dead_letters(self) -> str:
        """Stream of deliveries that could not be read, with the reason."""
        return f"{self.prefix}:ingest:dead"

    def dedup(self, dedup_key: str) -> str:
        """Present while a provider's retries of one message must be refused."""
        return f"{self.prefix}:dd:{_digest(dedup_key)}"

    def webhook_nonce(self, provider: str, nonce: str) -> str:
        """A signed token already used (Mailgun): a replay is refused."""
        return f"{self.prefix}:nonce:{provider}:{_digest(nonce)}"

    def message(self, message_id: str) -> str:
        """Hash: the message, its resolution, conversation and processing state."""
        return f"{self.prefix}:msg:{message_id}"

    def messages(self, facet: str = "all") -> str:
        """Sorted set of message ids by time sent: all, ``ch:<channel>`` or
        ``st:<resolution status>``."""
        return f"{self.prefix}:msgs:{facet}"

    def thread(self, thread_key: str) -> str:
        """A thread key (DM pair, reply chain, topic, Message-ID) -> conversation id."""
        return f"{self.prefix}:thr:{_digest(thread_key)}"

    def conversation(self, conversation_id: str) -> str:
        return f"{self.prefix}:conv:{conversation_id}"

    def conversation_log(self, conversation_id: str) -> str:
        """Stream of everything that happened in the conversation, in order: inbound
        messages, replies, notes, claims, releases, hand-offs, closes and reopens."""
        return f"{self.prefix}:conv:{conversation_id}:log"

    def team_queue(self, team: str) -> str:
        """Sorted set of the team's conversations not closed, scored by SLA due (ms)."""
        return f"{self.prefix}:queue:{quote(team)}"

    def rep(self, rep_id: str) -> str:
        """Hash: a rep's name, team and whether on shift."""
        return f"{self.prefix}:rep:{rep_id}"

    def rep_conversations(self, rep_id: str) -> str:
        """Set of the conversations a rep owns."""
        return f"{self.prefix}:rep:{rep_id}:convs"

    def reps(self) -> str:
        return f"{self.prefix}:reps"

    def conversations_by_status(self, status: str) -> str:
        """Sorted set of conversations in a status, scored by last activity (ms)."""
        return f"{self.prefix}:convs:st:{status}"

    def live_channel(self) -> str:
        """Pub/sub channel of conversation events (the SSE stream listens to it)."""
        return f"{self.prefix}:live"

    def key_prefixes(self) -> dict[str, str]:
        """Name prefixes of keys the conversation scripts derive from stored values (a
        conversation's team, its last owner): the scripts append the value."""
        return {
            "queue": self.team_queue(""),
            "rep": self.rep(""),
            "status": self.conversations_by_status(""),
        }

    def conversation_messages(self, conversation_id: str) -> str:
        """Sorted set of the conversation's message ids by time sent."""
        return f"{self.prefix}:conv:{conversation_id}:msgs"

    def sender_name(self, channel: str, external_id: str) -> str:
        """Cached name of a sender the provider's payload does not name (Messenger)."""
        return f"{self.prefix}:name:{identity_suffix(channel, external_id)}"

    def resolution_counts(self) -> str:
        """Hash ``channel:status`` -> messages resolved so (shared by every worker)."""
        return f"{self.prefix}:stats:resolutions"

    # -- audit -----------------------------------------------------------------------
    def audit(self) -> str:
        """Stream of who did what to whose record (erasures, links)."""
        return f"{self.prefix}:audit"

    # -- auth ------------------------------------------------------------------------
    def api_key(self, key_id: str) -> str:
        return f"{self.prefix}:{{auth}}:key:{key_id}"

    def api_key_index(self) -> str:
        return f"{self.prefix}:{{auth}}:keys"

    # -- housekeeping ----------------------------------------------------------------
    def everything(self) -> str:
        """SCAN pattern matching every key of this prefix (tests and erasure checks)."""
        return f"{self.prefix}:*"
