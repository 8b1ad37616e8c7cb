"""A rep moving a message to another of the customer's open cases, or to none.

Two steps, two homes, each idempotent: the customer's history event (and the open items
it counts in) first, then the message. A process that dies between them leaves the
message naming the old case; the rep's retry of the same move completes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import redis.asyncio as aioredis

from service.book.customers import Contended
from service.book.history import open_events
from service.context.continuation import link_for
from service.context.derive import open_cases
from service.conversations.changes import amend_call, history_entry
from service.conversations.messages import StoredMessage, replace_call
from service.errors import DomainError
from service.store.keynames import KeySchema
from service.store.lua import load_script
from service.store.redistypes import text

_ATTEMPTS = 8


class MessageNotFound(DomainError):
    status = 404
    slug = "message-not-found"
    default_detail = "No processed message has this id."


class NotMatched(DomainError):
    status = 409
    slug = "message-not-matched"
    default_detail = (
        "The message is not tied to a customer yet, so it belongs to none of their cases: "
        "confirm who sent it first."
    )


class CaseNotOpen(DomainError):
    status = 409
    slug = "case-not-open"
    default_detail = "The customer has no open case with this id."


@dataclass(frozen=True, slots=True)
class Moved:
    message: StoredMessage
    was: str | None  # the case it was tied to before


class CaseMoves:
    def __init__(self, redis: aioredis.Redis, keys: KeySchema) -> None:
        self._redis = redis
        self._keys = keys
        self._amend = load_script(redis, "service.conversations", "amend_event.lua")
        self._replace = load_script(redis, "service.conversations", "replace_message.lua")

    async def move(self, message_id: str, case_id: str | None, by: str, note: str | None) -> Moved:
        key = self._keys.message(message_id)
        for _ in range(_ATTEMPTS):
            raw = await self._redis.get(key)
            if raw is None:
                raise MessageNotFound
            stored = StoredMessage.model_validate_json(raw)
            customer = stored.resolution.customer_id
            if customer is None:
                raise NotMatched
            link = None
            if case_id is not None:
                fields = await self._redis.hgetall(self._keys.open_items(customer))
                today = datetime.now(UTC).date()
                cases = {c.case_id: c for c in open_cases(open_events(fields), today)}
                if case_id not in cases:
                    listed = ", ".join(cases) or "none"
                    raise CaseNotOpen(
                        f"The customer has no open case {case_id} (open: {listed}).",
                        extensions={"open_cases": list(cases)},
                    )
                why = f"moved here by {by}" + (f": {note}" if note else "")
                channel = stored.message.channel.value
                link = link_for(cases[case_id], stored.id, channel, [why], today, by)
            after = stored.model_copy(update={"case": link})
            keys, args = amend_call(self._keys, customer, history_entry(after))
            await self._amend(keys=keys, args=args)
            message_keys, message_args = replace_call(self._keys, raw, after)
            outcome = text(await self._replace(keys=message_keys, args=message_args))
            if outcome == "missing":
                raise MessageNotFound
            if outcome == "replaced":
                return Moved(after, stored.case.case_id if stored.case else None)
        raise Contended
