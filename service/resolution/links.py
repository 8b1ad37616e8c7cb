"""Identity links made by people: a rep confirms that @dana_k is customer C-1, a login
verifies an e-mail address, a rep rules a suggested customer out.

The customer's own record (its ``identities``) links what the CRM knows; these links
add what reps learn. They outlive a re-import of the record, can be undone (an unlink
restores the state before the link), and every change is kept with who, when and why.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Literal

import redis.asyncio as aioredis
from pydantic import BaseModel, Field

from service.errors import DomainError
from service.schemas.fields import Channel, CustomerId, LongText
from service.store.keynames import KeySchema, identity_suffix
from service.store.lua import load_script
from service.store.outbox import emit_call
from service.store.redistypes import text, text_map, texts

HISTORY_KEPT = 200
Method = Literal["rep_confirmed", "customer_verified", "imported"]


class LinkIn(BaseModel, extra="forbid"):
    customer_id: CustomerId
    method: Method = Field(
        description="rep_confirmed: a rep checked it; customer_verified: the customer "
        "proved it (a login, a code); imported: another system of record says so."
    )
    reason: LongText | None = Field(default=None, description="Why, for the next rep.")


class UnlinkIn(BaseModel, extra="forbid"):
    reason: LongText = Field(min_length=1, description="Why the link was wrong or ended.")


class RejectionIn(BaseModel, extra="forbid"):
    customer_id: CustomerId
    reason: LongText | None = None


class IdentityLink(BaseModel):
    customer_id: str
    source: Literal["api", "customer_record"] = Field(
        description="api: made through this API; customer_record: listed in the "
        "customer's own record (change the record to change it)."
    )
    method: Method
    actor: str | None = None
    at: datetime | None = None
    reason: str | None = None


class LinkChange(BaseModel):
    at: datetime
    action: Literal["linked", "unlinked", "rejected", "rejection_withdrawn"]
    customer_id: str
    actor: str
    method: Method | None = None
    reason: str | None = None


class IdentityState(BaseModel):
    channel: Channel
    external_id: str
    link: IdentityLink | None
    rejected: list[str] = Field(description="Customers a rep ruled out for this identity.")
    history: list[LinkChange] = Field(description="Changes made through the API, newest first.")


class LinkError(DomainError):
    """A change that the identity's current state does not allow."""

    def __init__(self, status: int, slug: str, detail: str) -> None:
        super().__init__(detail, status=status, slug=slug)


# -- the scripts' calls: the one place that knows their KEYS and ARGV in order ------------
# The four identity scripts share one layout (_link_change.lua): the identity's four
# keys, then the customer, the history entry and the history length kept.


def _change_call(
    keys: KeySchema,
    channel: Channel,
    external_id: str,
    customer_id: str,
    change: dict[str, str | None],
) -> tuple[list[str], list[str]]:
    """``change``: the history entry, its empty values left out."""
    script_keys = [
        keys.identity(channel, external_id),
        keys.identity_link(channel, external_id),
        keys.identity_history(channel, external_id),
        keys.identity_rejections(channel, external_id),
    ]
    entry = {k: v for k, v in change.items() if v}
    return script_keys, [customer_id, json.dumps(entry), str(HISTORY_KEPT)]


def involve_call(
    keys: KeySchema, channel: Channel, external_id: str, customer_id: str
) -> tuple[list[str], list[str]]:
    """KEYS and ARGV of involve.lua: the customer's step before a link or rejection."""
    return (
        [keys.customer(customer_id), keys.customer_identities(customer_id)],
        [identity_suffix(channel, external_id)],
    )


def involve_reply(reply: bytes | str) -> None:
    if text(reply) == "missing":
        raise LinkError(404, "customer-not-found", "No customer with this id.")


def link_record(link: LinkIn, *, actor: str, at: str) -> dict[str, str]:
    """The link record: who linked, how, when and why."""
    record = {"customer_id": link.customer_id, "method": link.method, "actor": actor, "at": at}
    if link.reason:
        record["reason"] = link.reason
    return record


def link_call(
    keys: KeySchema, channel: Channel, external_id: str, link: LinkIn, *, actor: str, at: str
) -> tuple[list[str], list[str]]:
    """KEYS and ARGV of link.lua: the common layout, then the link record's fields."""
    script_keys, args = _change_call(
        keys,
        channel,
        external_id,
        link.customer_id,
        {
            "at": at,
            "action": "linked",
            "actor": actor,
            "method": link.method,
            "reason": link.reason,
        },
    )
    record = link_record(link, actor=actor, at=at)
    return script_keys, [*args, *(v for pair in record.items() for v in pair)]


def link_reply(reply: list[bytes | str]) -> bool:
    """True when the link is new."""
    status = texts(reply)[0]
    if status == "conflict":
        raise LinkError(
            409,
            "identity-conflict",
            "This identity is linked to another customer. Unlink it there first "
            "(DELETE with a reason); socialid never moves a link silently.",
        )
    if status == "rejected":
        raise LinkError(
            409,
            "identity-rejected",
            "A rep ruled this customer out for this identity. Withdraw the rejection "
            "first if that was a mistake.",
        )
    return status == "linked"


def unlink_call(
    keys: KeySchema, channel: Channel, external_id: str, unlink: UnlinkIn, *, actor: str, at: str
) -> tuple[list[str], list[str]]:
    """KEYS and ARGV of unlink.lua, which finds the customer from the link: the customer's
    keys in the layout name a placeholder customer ("-") and go unread."""
    script_keys, args = _change_call(
        keys,
        channel,
        external_id,
        "-",
        {"at": at, "action": "unlinked", "actor": actor, "reason": unlink.reason},
    )
    return script_keys, ["", *args[1:]]


def unlink_reply(reply: list[bytes | str]) -> str:
    """The customer the link pointed at."""
    status, *rest = texts(reply)
    if status == "missing":
        raise LinkError(404, "identity-not-linked", "This identity is not linked.")
    if status == "customer_record":
        raise LinkError(
            409,
            "identity-from-record",
            "This link comes from the customer's own record (its identities); change "
            "the record to remove it.",
        )
    return rest[0]


def reject_call(
    keys: KeySchema,
    channel: Channel,
    external_id: str,
    rejection: RejectionIn,
    *,
    actor: str,
    at: str,
) -> tuple[list[str], list[str]]:
    """KEYS and ARGV of reject.lua."""
    return _change_call(
        keys,
        channel,
        external_id,
        rejection.customer_id,
        {"at": at, "action": "rejected", "actor": actor, "reason": rejection.reason},
    )


def reject_reply(reply: list[bytes | str]) -> bool:
    """True when the rejection is new."""
    status = texts(reply)[0]
    if status == "linked":
        raise LinkError(
            409,
            "identity-linked",
            "This identity is linked to that customer; unlink it (with a reason) "
            "rather than rejecting.",
        )
    return status == "rejected"


def withdraw_call(
    keys: KeySchema, channel: Channel, external_id: str, customer_id: str, *, actor: str, at: str
) -> tuple[list[str], list[str]]:
    """KEYS and ARGV of withdraw.lua."""
    return _change_call(
        keys,
        channel,
        external_id,
        customer_id,
        {"at": at, "action": "rejection_withdrawn", "actor": actor},
    )


def withdraw_reply(reply: list[bytes | str]) -> None:
    if texts(reply)[0] == "unchanged":
        raise LinkError(404, "rejection-not-found", "This customer was not rejected here.")


def _now() -> str:
    return datetime.now(UTC).isoformat()


class IdentityLinks:
    def __init__(self, redis: aioredis.Redis, keys: KeySchema) -> None:
        self._redis = redis
        self._keys = keys
        self._link = load_script(redis, "service.resolution", "link.lua")
        self._unlink = load_script(redis, "service.resolution", "unlink.lua")
        self._reject = load_script(redis, "service.resolution", "reject.lua")
        self._withdraw = load_script(redis, "service.resolution", "withdraw.lua")
        self._involve_script = load_script(redis, "service.resolution", "involve.lua")
        self._emit = load_script(redis, "service.store", "emit.lua")

    async def link(
        self, channel: Channel, external_id: str, link: LinkIn, actor: str
    ) -> tuple[bool, IdentityState]:
        """Link; True when the link is new. Never moves a link held by someone else.
        Three steps, three homes: the customer's (involve.lua), the identity's, then the
        identity.linked event on the desk."""
        await self._involve(channel, external_id, link.customer_id)
        at = _now()
        keys, args = link_call(self._keys, channel, external_id, link, actor=actor, at=at)
        linked = link_reply(await self._link(keys=keys, args=args))
        if linked:
            event = {"channel": channel.value, "external_id": external_id}
            event |= link_record(link, actor=actor, at=at)
            keys, args = emit_call(self._keys, "identity.linked", json.dumps(event))
            await self._emit(keys=keys, args=args)
        return linked, await self.state(channel, external_id)

    async def _involve(self, channel: Channel, external_id: str, customer_id: str) -> None:
        keys, args = involve_call(self._keys, channel, external_id, customer_id)
        involve_reply(await self._involve_script(keys=keys, args=args))

    async def unlink(
        self, channel: Channel, external_id: str, unlink: UnlinkIn, actor: str
    ) -> tuple[str, IdentityState]:
        """Unlink a link made through the API; the customer it pointed at."""
        keys, args = unlink_call(self._keys, channel, external_id, unlink, actor=actor, at=_now())
        customer_id = unlink_reply(await self._unlink(keys=keys, args=args))
        return customer_id, await self.state(channel, external_id)

    async def reject(
        self, channel: Channel, external_id: str, rejection: RejectionIn, actor: str
    ) -> tuple[bool, IdentityState]:
        await self._involve(channel, external_id, rejection.customer_id)
        keys, args = reject_call(
            self._keys, channel, external_id, rejection, actor=actor, at=_now()
        )
        rejected = reject_reply(await self._reject(keys=keys, args=args))
        return rejected, await self.state(channel, external_id)

    async def withdraw(
        self, channel: Channel, external_id: str, customer_id: str, actor: str
    ) -> IdentityState:
        keys, args = withdraw_call(
            self._keys, channel, external_id, customer_id, actor=actor, at=_now()
        )
        withdraw_reply(await self._withdraw(keys=keys, args=args))
        return await self.state(channel, external_id)

    async def rejected(self, channel: str, external_id: str) -> frozenset[str]:
        return frozenset(
            texts(await self._redis.smembers(self._keys.identity_rejections(channel, external_id)))
        )

    async def state(self, channel: Channel, external_id: str) -> IdentityState:
        k = self._keys
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.get(k.identity(channel, external_id))
            pipe.hgetall(k.identity_link(channel, external_id))
            pipe.smembers(k.identity_rejections(channel, external_id))
            pipe.lrange(k.identity_history(channel, external_id), 0, -1)
            owner, record, rejected, history = await pipe.execute()
        link = None
        if owner is not None:
            fields = text_map(record)
            link = (
                IdentityLink(source="api", **fields)
                if fields.get("customer_id") == text(owner)
                else IdentityLink(
                    customer_id=text(owner), source="customer_record", method="imported"
                )
            )
        return IdentityState(
            channel=channel,
            external_id=external_id,
            link=link,
            rejected=sorted(texts(rejected)),
            history=[LinkChange.model_validate_json(entry) for entry in texts(history)],
        )
