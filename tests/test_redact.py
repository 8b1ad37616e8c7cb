"""Redaction of an erased customer from other people's text: the pure function, and the
two places an erasure applies it (a stored message, a conversation's log)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import phonenumbers
import redis.asyncio as aioredis
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.message import Channel, InboundMessage, Sender
from matchers.redact import MARKER, Person, Redactor
from service.book.erased_person import erased_person
from service.conversations.messages import Mention, StoredMessage, without_candidate
from service.conversations.repository import redacted_log
from service.conversations.scriptcalls import rewrite_log_call
from service.resolution.resolver import Candidate, Resolution
from service.store.keynames import KeySchema
from service.store.lua import load_script
from service.store.redistypes import stream_entries, text

DANA = Person(
    customer_id="cust-0042",
    names=("Dana King", "King Dana"),
    emails=("Dana.King@example.com",),
    phones=("+447700900123", "+14155550134"),
    handles=("dana_k",),
    accounts=("55-1234-88",),
)
REDACTOR = Redactor(DANA)


def test_names_in_any_case_spacing_or_order_and_only_whole() -> None:
    assert REDACTOR.redact("Spoke to DANA  king, then to King, Dana.") == (
        f"Spoke to {MARKER}, then to {MARKER}."
    )
    assert REDACTOR.redact("dana-king's order") == f"{MARKER}'s order"
    # Another person's name that begins like hers, and her given name alone, stay.
    kept = "Dana Kingsley wrote; Dana said hi"
    assert REDACTOR.redact(kept) == kept


def test_addresses_ids_and_handles_whole() -> None:
    assert REDACTOR.redact("mail DANA.KING@Example.com.") == f"mail {MARKER}."
    assert REDACTOR.redact("see cust-0042, not cust-00421") == f"see {MARKER}, not cust-00421"
    assert REDACTOR.redact("@dana_k and @dana_kx") == f"{MARKER} and @dana_kx"
    assert REDACTOR.redact("acct 55-1234-88, not 55-1234-889") == f"acct {MARKER}, not 55-1234-889"
    other = "xdana.king@example.com.au"
    assert REDACTOR.redact(other) == other


def test_terms_too_short_to_be_hers_alone_are_left() -> None:
    redactor = Redactor(Person(customer_id="42", names=("Al",), handles=("@x",)))
    assert redactor.redact("Al paid 42 to @x") == "Al paid 42 to @x"


def test_her_numbers_in_every_form_and_only_hers() -> None:
    text = (
        "07700 900123 / +44 (0)7700-900-123 / 447700900123 / 077 009 001 23 / "
        "(415) 555-0134 / tel:+1-415-555-0134 / keep 0113 496 0000 and order 4411"
    )
    assert REDACTOR.redact(text) == (
        f"{MARKER} / {MARKER} / {MARKER} / {MARKER} / {MARKER} / tel:{MARKER} / "
        "keep 0113 496 0000 and order 4411"
    )


FORMATS = [
    phonenumbers.PhoneNumberFormat.E164,
    phonenumbers.PhoneNumberFormat.INTERNATIONAL,
    phonenumbers.PhoneNumberFormat.NATIONAL,
    phonenumbers.PhoneNumberFormat.RFC3966,
]
WORDS = st.text(alphabet=st.sampled_from("abcdefghij ,.!?;:'\n"), max_size=40)


@settings(max_examples=300, deadline=None)
@given(
    before=WORDS,
    after=WORDS,
    phone=st.sampled_from(DANA.phones),
    form=st.sampled_from(FORMATS),
    gap=st.sampled_from([" ", "-", ".", ""]),
)
def test_a_number_of_hers_never_survives_however_written(
    before: str, after: str, phone: str, form: int, gap: str
) -> None:
    written = phonenumbers.format_number(phonenumbers.parse(phone), form)
    written = re.sub(r"(?<=\d) (?=\d)", gap, written)
    redacted = REDACTOR.redact(f"{before} {written} {after}")
    national = str(phonenumbers.parse(phone).national_number)
    runs = (re.sub(r"\D", "", m) for m in re.findall(r"[\d\s().+-]+", redacted))
    assert all(national not in digits for digits in runs), redacted


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=200))
def test_text_that_does_not_name_her_is_left_as_it_is(text: str) -> None:
    redactor = Redactor(Person(customer_id="zq-customer-zq", names=("Zqx Wvy",)))
    assert redactor.redact(text) == text


def test_the_person_read_from_a_record_that_may_not_validate() -> None:
    person = erased_person(
        "C-1",
        {
            "given_name": "Dana",
            "family_name": "King",
            "emails": ["d@example.com", 7],
            "phones": ["+447700900123", "call after 6"],
            "accounts": [{"number": "55-1234-88"}, {"status": "closed"}],
            "identities": [
                {"channel": "email", "external_id": "old@example.com"},
                {"channel": "twitter", "external_id": "1", "handle": "dana_k"},
                "junk",
            ],
        },
    )
    assert person.names == ("Dana King", "King Dana")
    assert person.emails == ("d@example.com", "old@example.com")
    assert person.phones == ("+447700900123", "call after 6")
    assert person.handles == ("dana_k",)
    assert person.accounts == ("55-1234-88",)
    assert erased_person("C-1", None) == Person(customer_id="C-1")


def _stored(text: str, candidates: list[str], bio: str) -> StoredMessage:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    return StoredMessage(
        id="msg_1",
        message=InboundMessage(
            channel=Channel.TWITTER,
            provider="tweet",
            event_id="1",
            dedup_key="t:1",
            sender=Sender(external_id="99", display_name="Flatmate", bio=bio),
            text=text,
            sent_at=at,
            private=False,
        ),
        resolution=Resolution(
            status="ambiguous",
            method="model",
            candidates=[
                Candidate(
                    customer_id=c, match_probability=0.1, share=0.5, match_weight=-3, evidence=[]
                )
                for c in candidates
            ],
        ),
        conversation_id="conv_1",
        mentions=[
            Mention(kind="email", value="dana.king@example.com", start=9, end=30),
            Mention(kind="order_number", value="4411", start=37, end=41),
        ],
        received_at=at,
        processed_at=at,
    )


def test_a_message_loses_her_candidacy_and_her_mentions_and_keeps_the_rest() -> None:
    stored = _stored(
        "mail me: dana.king@example.com order 4411", ["cust-0042", "C-9"], "lives w/ Dana King"
    )
    scrubbed = without_candidate(stored, "cust-0042", REDACTOR)
    assert scrubbed is not None
    assert [c.customer_id for c in scrubbed.resolution.candidates] == ["C-9"]
    assert scrubbed.message.text == f"mail me: {MARKER} order 4411"
    assert scrubbed.message.sender.bio == f"lives w/ {MARKER}"
    [order] = scrubbed.mentions
    assert scrubbed.message.text[order.start : order.end] == "4411"
    unrelated = _stored("nothing of hers here", ["C-9"], "Leeds").model_copy(
        update={"mentions": []}
    )
    assert without_candidate(unrelated, "cust-0042", REDACTOR) is None


async def test_a_log_is_written_again_with_its_ids_unless_it_changed(
    redis: aioredis.Redis, keys: KeySchema
) -> None:
    log = keys.conversation_log("conv_1")
    await redis.xadd(log, {"type": "inbound", "message_id": "msg_1", "at": "t"})
    await redis.xadd(log, {"type": "note", "by": "ana", "text": "is it Dana King?", "id": "n1"})
    read = stream_entries(await redis.xrange(log))
    entries = redacted_log(read, REDACTOR)
    assert entries is not None
    assert [f.get("text") for _, f in entries] == [None, f"is it {MARKER}?"]
    assert redacted_log(entries, REDACTOR) is None

    rewrite = load_script(redis, "service.conversations", "rewrite_log.lua")
    await redis.xadd(log, {"type": "claimed", "by": "ben", "at": "t"})
    stale_keys, stale_args = rewrite_log_call(keys, "conv_1", read, entries)
    assert await rewrite(keys=stale_keys, args=stale_args) == "changed"

    read = stream_entries(await redis.xrange(log))
    entries = redacted_log(read, REDACTOR)
    assert entries is not None
    script_keys, args = rewrite_log_call(keys, "conv_1", read, entries)
    assert await rewrite(keys=script_keys, args=args) == "rewritten"
    assert stream_entries(await redis.xrange(log)) == entries
    # The log goes on from there as before.
    later = text(await redis.xadd(log, {"type": "closed", "by": "ben", "at": "t"}))

    def order(entry_id: str) -> tuple[int, ...]:
        return tuple(int(part) for part in entry_id.split("-"))

    assert order(later) > order(entries[-1][0])
