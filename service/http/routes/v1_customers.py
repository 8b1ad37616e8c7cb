"""Customers: create, replace, merge-patch, read, erase, export."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel, Field

from matchers.redact import Redactor
from service.book.audit import AuditEntry
from service.book.customers import Contended, Erasure, PreconditionFailed
from service.book.erased_person import erased_person
from service.conversations.messages import StoredMessage
from service.errors import FieldIssue
from service.http.apikeys import Scope
from service.http.appkeys import AUDIT, CONVERSATIONS, CUSTOMERS, HISTORY, MESSAGES, SETTINGS
from service.http.bodies import json_model, read_json_object
from service.http.middleware import requires
from service.http.openapi import documented
from service.http.problems import ProblemError
from service.http.routes.common import (
    actor,
    audit,
    audited,
    customer_id,
    existing_customer,
    if_match,
    quoted,
)
from service.schemas import Customer, CustomerIn, Event
from service.schemas.customer import REGION

routes = web.RouteTableDef()
_PATCH_RETRIES = 50


class Export(BaseModel):
    """Everything socialid holds on one customer (data-subject access)."""

    exported_at: datetime
    customer: dict[str, Any] = Field(description="The record exactly as stored.")
    events: list[Event]
    messages: list[StoredMessage] = Field(description="Inbound messages resolved to them.")
    audit: list[AuditEntry]


def _validated(request: web.Request, body: dict[str, Any]) -> Customer:
    if body.get("id", customer_id(request)) != customer_id(request):
        raise ProblemError(
            422,
            "The id in the body differs from the id in the path.",
            slug="validation-failed",
            title="Validation failed",
            errors=[FieldIssue(pointer="/id", message="must equal the path's id", code="id")],
        )
    context = {REGION: request.app[SETTINGS].default_region}
    return Customer.model_validate({**body, "id": customer_id(request)}, context=context)


async def _store(request: web.Request, customer: Customer, expected: str | None) -> web.Response:
    result = await request.app[CUSTOMERS].put(customer, if_match=expected, actor=actor(request))
    await audit(request, audited(request, "customer_written", customer.id))
    response = json_model(customer, status=201 if result.created else 200)
    response.headers["ETag"] = quoted(result.etag)
    return response


@routes.put("/v1/customers/{customer_id}")
@documented(
    "Create or replace a customer.", body=CustomerIn, responses={200: Customer, 201: Customer}
)
@requires(Scope.ADMIN, Scope.INTEGRATION)
async def put_customer(request: web.Request) -> web.Response:
    body = await read_json_object(request)
    return await _store(request, _validated(request, body), if_match(request))


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7396 JSON Merge Patch: objects merge, null deletes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


@routes.patch("/v1/customers/{customer_id}")
@documented("Change some fields (JSON Merge Patch).", responses={200: Customer})
@requires(Scope.ADMIN, Scope.INTEGRATION)
async def patch_customer(request: web.Request) -> web.Response:
    patch = await read_json_object(request)
    expected = if_match(request)
    # Without If-Match the caller wants "apply this change to whatever is there now": when
    # someone else wrote in between, read again and re-apply rather than fail.
    for _ in range(_PATCH_RETRIES):
        current, etag = await existing_customer(request)
        if expected not in (None, "*", etag):
            raise PreconditionFailed
        document = merge_patch(current.model_dump(mode="json", exclude={"id"}), patch)
        try:
            return await _store(request, _validated(request, document), etag)
        except PreconditionFailed:
            if expected not in (None, "*"):
                raise
            await asyncio.sleep(random.uniform(0, 0.005))  # noqa: S311 - jitter, not secrets
    raise Contended


@routes.get("/v1/customers/{customer_id}")
@documented("A customer.", responses={200: Customer})
@requires(Scope.REP, Scope.ADMIN, Scope.INTEGRATION)
async def get_customer(request: web.Request) -> web.Response:
    customer, etag = await existing_customer(request)
    await audit(request, audited(request, "customer_read", customer.id))
    response = json_model(customer)
    response.headers["ETag"] = quoted(etag)
    return response


@routes.delete("/v1/customers/{customer_id}")
@documented("Erase a customer and everything leading to them.", responses={200: Erasure})
@requires(Scope.ADMIN)
async def erase_customer(request: web.Request) -> web.Response:
    cid = customer_id(request)
    # What names them in other people's text, read before anything goes.
    person = erased_person(cid, await request.app[CUSTOMERS].raw(cid))
    redactor = Redactor(person, request.app[SETTINGS].default_region)
    # Messages and conversations first: should the erasure stop half-way, a retry still
    # finds the customer (and the list of the messages naming them as a candidate).
    conversations = {m.conversation_id for m in await request.app[MESSAGES].of_customer(cid)}
    erased_conversations = await request.app[CONVERSATIONS].erase_of(cid, conversations)
    messages = await request.app[MESSAGES].erase_customer(cid)
    listed = await request.app[MESSAGES].erase_candidate(cid, redactor)
    redacted = await request.app[CONVERSATIONS].redact_logs(
        listed.conversations - conversations, redactor
    )
    erased: Erasure | None = await request.app[CUSTOMERS].erase(cid)
    if erased is None:
        raise ProblemError(404, "No customer with this id.", slug="customer-not-found")
    erased.messages = messages
    erased.conversations = erased_conversations
    erased.listed_in = listed.changed
    erased.conversations_redacted = redacted
    # Under the pseudonym the erasure read: the entry shows who erased which subject,
    # and nothing left leads from it to the person.
    erased.audit_subject = await request.app[AUDIT].record_erasure(
        erased.audit_subject or None,
        audited(
            request, "erase", detail=erased.model_dump(exclude={"customer_id", "audit_subject"})
        ),
    )
    return json_model(erased)


@routes.get("/v1/customers/{customer_id}/export")
@documented("Everything held on a customer.", responses={200: Export})
@requires(Scope.ADMIN)
async def export_customer(request: web.Request) -> web.Response:
    cid = customer_id(request)
    document = await request.app[CUSTOMERS].raw(cid)
    if document is None:
        raise ProblemError(404, "No customer with this id.", slug="customer-not-found")
    events = await request.app[HISTORY].recent(cid, limit=1_000_000)
    # Who looked at them, this export included.
    await audit(request, audited(request, "customer_exported", cid))
    trail = await request.app[AUDIT].about(cid)
    messages = await request.app[MESSAGES].of_customer(cid)
    return json_model(
        Export(
            exported_at=datetime.now(UTC),
            customer=document,
            events=events,
            messages=messages,
            audit=trail,
        )
    )
