"""Every Redis key socialid uses is named here and nowhere else.

Keys that belong together carry the same hash tag (the part in braces), their home
(docs/cluster.md): everything about one customer shares ``{c:<id>}``, about one identity
``{i:<channel>:<id>}``, one blocking bucket ``{b:<kind>:<n>}``; API keys share
``{auth}``. A script touches the keys of one home only, all of them named in its KEYS.
Customer ids are restricted (see ``CUSTOMER_ID_PATTERN``) so they cannot contain braces.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

# Characters that would form a hash tag, a SCAN glob or an ambiguous separator are
# percent-escaped in values that become part of key names (cheaper than urllib's quote).
_ESCAPE = str.maketrans({ch: f"%{ord(ch):02X}" for ch in "%{}*?[]\\: \t\r\n"})


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

    def open_items(self, customer_id: str) -> str:
        """Hash of the customer's unsettled items and their events, kept whatever the
        history's length (``service/book/_history.lua`` says what it holds)."""
        return f"{self.prefix}:{{c:{customer_id}}}:open"

    # -- identities ------------------------------------------------------------------
    # Everything about one identity shares ``{i:<channel>:<quoted id>}``: its link, the
    # record of who linked it, its history and its rejections. The id is quoted so that
    # braces or spaces in a provider's id cannot end the tag or break a SCAN pattern.
    def identity(self, channel: str, external_id: str) -> str:
        """Exact link from a channel identity to a customer id."""
        return self.identity_of(identity_suffix(channel, external_id))

    def identity_of(self, member: str) -> str:
        """The link of an identity given as ``identity_suffix`` makes it."""
        return f"{self.prefix}:{{i:{member}}}:idn"

    def identity_link_of(self, member: str) -> str:
        """The link record of an identity given as ``identity_suffix`` makes it."""
        return f"{self.prefix}:{{i:{member}}}:lnk"

    def identity_channel(self, key: str) -> str:
        """The channel named in an identity key (for messages that must not show the id)."""
        return key.removeprefix(f"{self.prefix}:{{i:").split(":", 1)[0]

    def identity_link(self, channel: str, external_id: str) -> str:
        """Hash: who linked the identity through the API, how, when and why. Absent
        for a link that comes from the customer's own record (its ``identities``)."""
        return self.identity_link_of(identity_suffix(channel, external_id))

    def identity_history(self, channel: str, external_id: str) -> str:
        """List of the identity's link changes made through the API, newest first."""
        return self.identity_keys(identity_suffix(channel, external_id))[2]

    def identity_rejections(self, channel: str, external_id: str) -> str:
        """Set of the customers a rep ruled out for this identity."""
        return self.identity_keys(identity_suffix(channel, external_id))[3]

    def customer_identities(self, customer_id: str) -> str:
        """Set of the identities (``channel:quoted id``) whose links, rejections or
        history name this customer through the API: what an erasure must also clear."""
        return f"{self.prefix}:{{c:{customer_id}}}:idx"

    def identity_keys(self, member: str) -> tuple[str, str, str, str]:
        """Link, link record, history and rejections of a ``customer_identities`` member."""
        home = f"{self.prefix}:{{i:{member}}}"
        return (f"{home}:idn", f"{home}:lnk", f"{home}:idh", f"{home}:rej")

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

    def customer_pending(self, customer_id: str) -> str:
        """The index lists a put replaced whose buckets and links may not all have moved
        yet (service/book/putting.py): present only while a put is under way, or after
        one stopped half-way, until the next put of the customer finishes it."""
        return f"{self.prefix}:{{c:{customer_id}}}:pend"

    def customer_candidacies(self, customer_id: str) -> str:
        """Sorted set of other senders' messages whose resolution lists this customer as
        a candidate, by time sent: what an erasure must take them out of."""
        return f"{self.prefix}:{{c:{customer_id}}}:cand"

    def audit_subject(self, customer_id: str) -> str:
        """The customer's pseudonym in the audit trail: entries name it, never the id, so
        that deleting it at erasure leaves a trail that no longer leads to the person."""
        return f"{self.prefix}:{{c:{customer_id}}}:subj"

    def customer_keys(self, customer_id: str) -> tuple[str, str, str, str, str, str, str, str, str]:
        """Every key that holds one customer's own data: document, history, events, open
        items, the index of audit entries about them, the list of their blocking sets,
        the messages listing them as a candidate, their audit pseudonym and the index
        lists a put has still to move them from."""
        return (
            self.customer(customer_id),
            self.history(customer_id),
            self.customer_events(customer_id),
            self.open_items(customer_id),
            self.customer_audit(customer_id),
            self.customer_index(customer_id),
            self.customer_candidacies(customer_id),
            self.audit_subject(customer_id),
            self.customer_pending(customer_id),
        )

    # -- matching ----------------------------------------------------------------------
    # The blocking index (service/book/blocking.py says what goes where): a hash per kind
    # of value and bucket number, and a set per value that spilled out of its bucket.
    # A bucket and its spill sets share ``{b:<kind>:<number>}``.
    def index_bucket_head(self) -> str:
        """What every bucket key has before ``<kind>:<number>}``."""
        return f"{self.prefix}:{{b:"

    def index_bucket_pattern(self) -> str:
        """SCAN pattern of every bucket and spill set."""
        return f"{self.prefix}:{{b:*"

    def index_bucket(self, kind: str, number: int) -> str:
        """Hash of one bucket of a kind: a value's digest -> the ids holding it."""
        return f"{self.index_bucket_head()}{kind}:{number:x}}}"

    @staticmethod
    def index_spill(bucket: str, field: str) -> str:
        """Set of the ids holding one value, once they no longer fit in its bucket."""
        return f"{bucket}:{field}"

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
    # The stream, its dead letters and the dedup keys share ``{in}``: a delivery's dedup
    # keys are claimed in the step that appends it. One slot for all of them is one node's
    # work on a cluster: a stream is read by one consumer group anyway.
    def ingest_stream(self) -> str:
        """Stream of deliveries stored before they were acknowledged, until processed."""
        return f"{self.prefix}:{{in}}:ingest"

    def dead_letters(self) -> str:
        """Stream of deliveries that could not be read, with the reason."""
        return f"{self.prefix}:{{in}}:dead"

    def dedup(self, dedup_key: str) -> str:
        """Present while a provider's retries of one message must be refused."""
        return f"{self.prefix}:{{in}}:dd:{_digest(dedup_key)}"

    def webhook_nonce(self, provider: str, nonce: str) -> str:
        """A signed token already used (Mailgun): a replay is refused."""
        return f"{self.prefix}:nonce:{provider}:{_digest(nonce)}"

    # -- the desk ------------------------------------------------------------------------
    # What reps work from shares ``{desk}``: conversations (state, log, messages), thread
    # keys, team queues, reps, the status and message listings, the resolution counts, the
    # events outbox and the subscriptions' listing. A queue is a set of conversations and
    # a claim changes both at once, so they keep one slot, the way a BullMQ queue keeps
    # its keys under one tag; the bulk (messages, customers, identities, buckets) spreads
    # over the cluster.
    def message(self, message_id: str) -> str:
        """Hash: the message, its resolution, conversation and processing state."""
        return f"{self.prefix}:msg:{message_id}"

    def messages(self, facet: str = "all") -> str:
        """Sorted set of message ids by time sent: all, ``ch:<channel>`` or
        ``st:<resolution status>``."""
        return f"{self.prefix}:{{desk}}:msgs:{facet}"

    def thread(self, thread_key: str) -> str:
        """A thread key (DM pair, reply chain, topic, Message-ID) -> conversation id."""
        return f"{self.prefix}:{{desk}}:thr:{_digest(thread_key)}"

    def conversation(self, conversation_id: str) -> str:
        return f"{self.prefix}:{{desk}}:conv:{conversation_id}"

    def conversation_log(self, conversation_id: str) -> str:
        """Stream of everything that happened in the conversation, in order: inbound
        messages, replies and what became of sending them, notes, claims, releases,
        hand-offs, closes and reopens."""
        return f"{self.prefix}:{{desk}}:conv:{conversation_id}:log"

    def reply_sending(self, reply_id: str) -> str:
        """Held (with a time to live) while a reply is being sent: a retry meanwhile would
        send it twice."""
        return f"{self.prefix}:sending:{reply_id}"

    def team_queue(self, team: str) -> str:
        """Sorted set of the team's conversations not closed, scored by SLA due (ms)."""
        return f"{self.prefix}:{{desk}}:queue:{quote(team)}"

    def rep(self, rep_id: str) -> str:
        """Hash: a rep's name, team and whether on shift."""
        return f"{self.prefix}:{{desk}}:rep:{rep_id}"

    def rep_conversations(self, rep_id: str) -> str:
        """Set of the conversations a rep owns."""
        return f"{self.prefix}:{{desk}}:rep:{rep_id}:convs"

    def reps(self) -> str:
        return f"{self.prefix}:{{desk}}:reps"

    def conversations_by_status(self, status: str) -> str:
        """Sorted set of conversations in a status, scored by last activity (ms)."""
        return f"{self.prefix}:{{desk}}:convs:st:{status}"

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

    def message_origin(self, origin: str) -> str:
        """The id of the message stored for a provider's message (its origin key), so that
        its edits and withdrawal find it."""
        return f"{self.prefix}:orig:{_digest(origin)}"

    def pending_change(self, origin: str) -> str:
        """An edit or withdrawal that came before its message, applied when it comes."""
        return f"{self.prefix}:pend:{_digest(origin)}"

    def conversation_messages(self, conversation_id: str) -> str:
        """Sorted set of the conversation's message ids by time sent."""
        return f"{self.prefix}:{{desk}}:conv:{conversation_id}:msgs"

    def sender_name(self, channel: str, external_id: str) -> str:
        """Cached name of a sender the provider's payload does not name (Messenger)."""
        return f"{self.prefix}:name:{identity_suffix(channel, external_id)}"

    def resolution_counts(self) -> str:
        """Hash ``channel:status`` -> messages resolved so (shared by every worker)."""
        return f"{self.prefix}:{{desk}}:stats:resolutions"

    # -- events out --------------------------------------------------------------------
    # Everything about one subscription shares ``{s:<id>}``: its record, its deliveries,
    # its due set, log and dead letters, so each subscription's scripts touch one slot.
    def event_outbox(self) -> str:
        """Stream of events written in the same step as the change each reports, until
        the dispatcher has made a delivery of it for every subscription that wants it."""
        return f"{self.prefix}:{{desk}}:ev:out"

    def event_types_wanted(self) -> str:
        """Set of the event types some subscription wants: no other event is written."""
        return f"{self.prefix}:{{desk}}:ev:wanted"

    def subscriptions(self) -> str:
        """Set of the subscription ids."""
        return f"{self.prefix}:{{desk}}:subs"

    def subscription(self, subscription_id: str) -> str:
        """Hash: the subscription's URL, event types, secrets and when it was made."""
        return f"{self.prefix}:{{s:{subscription_id}}}:doc"

    def subscription_delivery(self, subscription_id: str, event_id: str) -> str:
        """Hash: one event's delivery to one subscription, its body and its attempts."""
        return f"{self.prefix}:{{s:{subscription_id}}}:d:{event_id}"

    def subscription_due(self, subscription_id: str) -> str:
        """Sorted set of deliveries still to make, scored by the next attempt's time (ms)."""
        return f"{self.prefix}:{{s:{subscription_id}}}:due"

    def subscription_log(self, subscription_id: str) -> str:
        """Sorted set of every delivery kept, scored by when its event happened (ms)."""
        return f"{self.prefix}:{{s:{subscription_id}}}:log"

    def subscription_dead(self, subscription_id: str) -> str:
        """Sorted set of the deliveries that gave up, scored by when (ms): to replay."""
        return f"{self.prefix}:{{s:{subscription_id}}}:dead"

    # -- audit -----------------------------------------------------------------------
    def audit(self) -> str:
        """Stream of who did what to whose record (erasures, links)."""
        return f"{self.prefix}:audit"

    # -- auth ------------------------------------------------------------------------
    def api_key(self, key_id: str) -> str:
        return f"{self.prefix}:{{auth}}:key:{key_id}"

    def api_key_index(self) -> str:
        return f"{self.prefix}:{{auth}}:keys"

    def rate_limits(self) -> str:
        """What the rate limiter's keys (``limits``' own names) start with."""
        return f"{self.prefix}:rl"

    # -- housekeeping ----------------------------------------------------------------
    def everything(self) -> str:
        """SCAN pattern matching every key of this prefix (tests and erasure checks)."""
        return f"{self.prefix}:*"
