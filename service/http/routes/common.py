"""Small pieces the /v1 route modules share."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from aiohttp import web

from service.book.audit import Action
from service.book.history import CardHistory
from service.context import ContextCard
from service.conversations.brief import Brief, build_brief
from service.errors import FieldIssue
from service.http.apikeys import Principal, Scope
from service.http.appkeys import (
    AUDIT,
    CARD_SOURCE,
    CUSTOMERS,
    HISTORY,
    MESSAGES,
    PRINCIPAL,
    REQUEST_ID,
    SETTINGS,
)
from service.http.problems import ProblemError
from service.schemas import Customer
from service.schemas.conversation import ConversationDetail
from service.schemas.fields import CUSTOMER_ID_PATTERN


def customer_id(request: web.Request) -> str:
    """The path's customer id, exactly as sent: never trimmed into another customer's."""
    value = request.match_info["customer_id"]
    if not _CUSTOMER_ID.fullmatch(value):
        raise ProblemError(
            404,
            "No customer can have this id: ids are 1 to 128 letters, digits and . _ : @ -, "
            "starting with a letter or digit.",
            slug="customer-not-found",
        )
    return value


async def context_card(request: web.Request, customer: Customer) -> ContextCard:
    """The card from the customer's history and household, as of today."""
    return await card_of(request, customer, await request.app[CARD_SOURCE].history(customer.id))


async def card_of(request: web.Request, customer: Customer, history: CardHistory) -> ContextCard:
    """The card from a history already read, with the household read now."""
    return await request.app[CARD_SOURCE].card(
        customer, history, request.app[SETTINGS].card_settings
    )


async def existing_customer(request: web.Request) -> tuple[Customer, str]:
    found = await request.app[CUSTOMERS].get_with_etag(customer_id(request))
    if found is None:
        raise ProblemError(404, "No customer with this id.", slug="customer-not-found")
    return found


_CUSTOMER_ID = re.compile(CUSTOMER_ID_PATTERN)


def acting_rep(request: web.Request, named: str | None) -> str:
    """The rep a request acts as. A key bound to a rep acts as that rep and no other; an
    admin or integration key acts for the rep it names; a rep's key that is not bound
    acts for nobody (with one key Ana could otherwise act as Ben)."""
    principal: Principal | None = request.get(PRINCIPAL)
    bound = principal.rep if principal else None
    if bound is not None:
        if named is not None and named != bound:
            raise ProblemError(
                403, f"This key acts as {bound}, and for no other rep.", slug="wrong-rep"
            )
        return bound
    if principal is not None and not principal.scopes & {Scope.ADMIN, Scope.INTEGRATION}:
        raise ProblemError(
            403,
            "A rep's key acts only when bound to the rep: issue one with `rep` "
            "(POST /v1/keys, or socialid keys create --rep).",
            slug="wrong-rep",
        )
    if named is None:
        raise ProblemError(
            422,
            "Name the rep who acts in `rep` (a key bound to a rep need not).",
            slug="validation-failed",
            title="Validation failed",
            errors=[FieldIssue(pointer="/rep", message="required", code="missing")],
        )
    return named


def audited(
    request: web.Request,
    action: str,
    customer_id: str | None = None,
    *,
    detail: dict[str, Any] | None = None,
    conversation: str | None = None,
    rep: str | None = None,
) -> Action:
    """An audit entry for this request: its key, the rep it acts as (``rep``, else the
    key's own), its request id."""
    principal: Principal | None = request.get(PRINCIPAL)
    return Action(
        action,
        customer_id,
        principal.key_id if principal else "anonymous",
        detail or {},
        rep=rep or (principal.rep if principal else None),
        request_id=request.get(REQUEST_ID),
        conversation=conversation,
    )


async def audit(request: web.Request, *actions: Action) -> None:
    """Record every look and every change before answering: one batched script call."""
    await request.app[AUDIT].record_many(actions)


async def audit_looks(request: web.Request, action: str, customer_ids: Iterable[str]) -> None:
    """A read that showed these customers (a search, a resolution's candidates)."""
    await audit(request, *(audited(request, action, c) for c in dict.fromkeys(customer_ids)))


def actor(request: web.Request) -> str:
    principal = request.get(PRINCIPAL)
    return principal.key_id if principal else "anonymous"


def person(request: web.Request) -> str:
    """Who a record the next rep reads names as having done it (a link's actor): the rep
    a key is bound to, else the key (the audit trail keeps both)."""
    principal = request.get(PRINCIPAL)
    return (principal.rep or principal.key_id) if principal else "anonymous"


def quoted(etag: str) -> str:
    return f'"{etag}"'


def if_match(request: web.Request) -> str | None:
    raw = request.headers.get("If-Match")
    if raw is None:
        return None
    value = raw.strip()
    if value == "*":
        return value
    # If-Match uses strong comparison (RFC 9110): a weak tag never matches, and is kept
    # as it is so that it cannot equal a stored etag.
    return value if value.startswith("W/") else value.strip('"')


async def conversation_brief(request: web.Request, found: ConversationDetail) -> Brief:
    """The brief of a conversation (also part of a chat tool's lookup)."""
    ids = [e.message_id for e in found.log if e.type == "inbound" and e.message_id]
    messages = await request.app[MESSAGES].many(ids)
    card, since = None, []
    if found.customer_id:
        customer = await request.app[CUSTOMERS].get(found.customer_id)
        if customer is not None:
            card = await context_card(request, customer)
            page = await request.app[HISTORY].page(
                found.customer_id,
                limit=100,
                types=frozenset({"interaction"}),
                since=found.created_at,
            )
            since = page.events
    return build_brief(found, messages, card, since)
