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
from service.resolution.linkscripts import LINK, REJECT, UNLINK, WITHDRAW
from service.schemas.fields import Channel, CustomerId, LongText
from service.store.keynames import KeySchema, identity_suffix
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


class IdentityLinks:
    def __init__(self, redis: aioredis.Redis, keys: KeySchema) -> None:
        self._redis = redis
        self._keys = keys
        self._link = redis.register_script(LINK)
        self._unlink = redis.register_script(UNLINK)
        self._reject = redis.register_script(REJECT)
        self._withdraw = redis.register_script(WITHDRAW)

    def _keys_of(self, channel: Channel, external_id: str, customer_id: str) -> list[str]:
        k = self._keys
        return [
            k.customer(customer_id),
            k.identity(channel, external_id),
            k.identity_link(channel, external_id),
            k.identity_history(channel, external_id),
            k.identity_rejections(channel, external_id),
            k.customer_identities(customer_id),
        ]

    def _args(
        self, channel: Channel, external_id: str, customer_id: str, **change: str | None
    ) -> list[str]:
        entry = {"at": datetime.now(UTC).isoformat(), **{k: v for k, v in change.items() if v}}
        return [
            customer_id,
            identity_suffix(channel, external_id),
            json.dumps(entry),
            str(HISTORY_KEPT),
        ]

    async def link(
        self, channel: Channel, external_id: str, link: LinkIn, actor: str
    ) -> tuple[bool, IdentityState]:
        """Link; True when the link is new. Never moves a link held by someone else."""
        at = datetime.now(UTC).isoformat()
        record = {"customer_id": link.customer_id, "method": link.method, "actor": actor, "at": at}
        if link.reason:
            record["reason"] = link.reason
        reply = texts(
            await self._link(
                keys=self._keys_of(channel, external_id, link.customer_id),
                args=[
                    *self._args(channel, external_id, link.customer_id, action="linked",
                                actor=actor, method=link.method, reason=link.reason),
                    *(v for pair in record.items() for v in pair),
                ],
            )
        )  # fmt: skip
        status = reply[0]
        if status == "missing":
            raise LinkError(404, "customer-not-found", "No customer with this id.")
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
        return status == "linked", await self.state(channel, external_id)

    async def unlink(
        self, channel: Channel, external_id: str, unlink: UnlinkIn, actor: str
    ) -> tuple[str, IdentityState]:
        """Unlink a link made through the API; the customer it pointed at."""
        reply = texts(
            await self._unlink(
                keys=self._keys_of(channel, external_id, "-"),
                args=self._args(channel, external_id, "", action="unlinked", actor=actor,
                                reason=unlink.reason),
            )
        )  # fmt: skip
        if reply[0] == "missing":
            raise LinkError(404, "identity-not-linked", "This identity is not linked.")
        if reply[0] == "customer_record":
            raise LinkError(
                409,
                "identity-from-record",
                "This link comes from the customer's own record (its identities); change "
                "the record to remove it.",
            )
        return reply[1], await self.state(channel, external_id)

    async def reject(
        self, channel: Channel, external_id: str, rejection: RejectionIn, actor: str
    ) -> tuple[bool, IdentityState]:
        reply = texts(
            await self._reject(
                keys=self._keys_of(channel, external_id, rejection.customer_id),
                args=self._args(channel, external_id, rejection.customer_id,
                                action="rejected", actor=actor, reason=rejection.reason),
            )
        )  # fmt: skip
        if reply[0] == "missing":
            raise LinkError(404, "customer-not-found", "No customer with this id.")
        if reply[0] == "linked":
            raise LinkError(
                409,
                "identity-linked",
                "This identity is linked to that customer; unlink it (with a reason) "
                "rather than rejecting.",
            )
        return reply[0] == "rejected", await self.state(channel, external_id)

    async def withdraw(
        self, channel: Channel, external_id: str, customer_id: str, actor: str
    ) -> IdentityState:
        reply = texts(
            await self._withdraw(
                keys=self._keys_of(channel, external_id, customer_id),
                args=self._args(channel, external_id, customer_id,
                                action="rejection_withdrawn", actor=actor),
            )
        )  # fmt: skip
        if reply[0] == "unchanged":
            raise LinkError(404, "rejection-not-found", "This customer was not rejected here.")
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
                else IdentityLink(customer_id=text(owner), source="customer_record",
                                  method="imported")
            )  # fmt: skip
        return IdentityState(
            channel=channel,
            external_id=external_id,
            link=link,
            rejected=sorted(texts(rejected)),
            history=[LinkChange.model_validate_json(entry) for entry in texts(history)],
        )
