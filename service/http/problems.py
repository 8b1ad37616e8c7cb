"""RFC 9457 problem details: the one shape of every error socialid answers with."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from service.errors import DomainError, FieldIssue
from service.schemas.validation import json_pointer

PROBLEM_CONTENT_TYPE = "application/problem+json"
# Problem types are relative URIs that this service itself dereferences (GET
# /problems/{slug}), so the explanation always matches the running version.
TYPE_BASE = "/problems/"

# Every problem type the service can answer with, and what a client should do about it.
PROBLEM_TYPES: dict[str, str] = {
    "malformed-json": "The body is not valid JSON. Fix the syntax and resend.",
    "validation-failed": "The body is JSON but does not match the schema; `errors` lists "
    "each offending field as a JSON Pointer with a message.",
    "unsupported-media-type": "Send the body with the content type this route expects.",
    "request-entity-too-large": "The body exceeds SOCIALID_MAX_BODY_BYTES; split the request.",
    "not-found": "No route matches this path.",
    "method-not-allowed": "The route exists but not with this method; see the Allow header.",
    "unauthorized": "Send `Authorization: Bearer <token>` with a valid, unrevoked token.",
    "missing-scope": "The token is valid but lacks the scope this call needs.",
    "wrong-rep": "A key bound to a rep acts as that rep only; a rep's key that is not bound "
    "cannot act. Leave `rep` out, or use the right rep's key.",
    "customer-not-found": "No customer has this id.",
    "household-not-found": "No customer's record names this household.",
    "key-not-found": "No API key has this id.",
    "subscription-not-found": "No subscription has this id. GET /v1/subscriptions lists them.",
    "identity-conflict": "The channel identity is linked to another customer. Unlink it "
    "there first; socialid never moves a link silently.",
    "identity-rejected": "A rep ruled this customer out for this identity. Withdraw the "
    "rejection (DELETE .../rejections/{customer_id}) if that was a mistake, then link.",
    "identity-not-linked": "The identity has no link to remove.",
    "identity-from-record": "The link comes from the customer's own record (its "
    "`identities`): change the record, not the link.",
    "identity-linked": "The identity is linked to this customer: unlink it with a reason "
    "instead of rejecting the customer.",
    "rejection-not-found": "This customer was not ruled out for this identity.",
    "precondition-failed": "If-Match named a version that is no longer current: read the "
    "record again (its ETag), re-apply your change and resend.",
    "contended": "The record kept changing while this request ran; retry.",
    "bad-cursor": "The history cursor was not issued by this service; start without one.",
    "channel-not-configured": "This channel's secret is not set on the server "
    "(SOCIALID_<CHANNEL>_...): its webhook is off. See the start-up log.",
    "bad-signature": "The delivery's signature (or credentials) is missing, wrong, stale or "
    "replayed. Check the shared secret configured on both sides.",
    "bad-form": "The body is not a readable form (multipart/form-data or urlencoded).",
    "message-not-found": "No processed message has this id (it may still be waiting in the "
    "ingestion stream: retry shortly).",
    "conversation-not-found": "No conversation has this id.",
    "dead-letter-not-found": "No dead letter has this id (it may have been replayed).",
    "still-unreadable": "The dead letter still cannot be parsed; `detail` says why. It stays "
    "in the dead letters.",
    "conversation-conflict": "Someone else changed the conversation first: another rep owns "
    "it (`owner`), or its `version` moved on. Read it again and decide.",
    "not-owner": "Only the rep who owns the conversation may reply or add notes: claim it first.",
    "message-not-matched": "The message has no customer yet, so it belongs to none of their "
    "cases: link its sender first.",
    "case-not-open": "The customer has no open case with this id; `open_cases` lists theirs.",
    "reply-not-found": "The conversation has no reply with this id.",
    "reply-already-sent": "The customer already got this reply (its `reply_sent` entry is in "
    "the conversation's log): a reply is never sent twice.",
    "send-in-progress": "The reply is being sent right now. Read the conversation: its log "
    "says how it went.",
    "rep-not-found": "No rep has this id: create the rep with PUT /v1/reps/{id}.",
    "rep-off-shift": "A rep off shift cannot claim or reopen a conversation: start the shift "
    "first.",
    "bad-transition": "The conversation is not in a state that allows this (closing a closed "
    "one, reopening an open one).",
    "import-interrupted": "The server stopped during the import. The lines up to "
    "`resume_from_line` - 1 are written: send the rest again with `?from_line=`.",
    "rate-limited": "Too many requests with this key (or failed authentications from this "
    "address). Wait for the Retry-After seconds; SOCIALID_RATE_LIMIT_* set the limits.",
    "store-unavailable": "Redis is not answering. Retry after the Retry-After delay.",
    "internal-error": "An unexpected error. Quote the request_id when reporting it.",
}


class FieldError(BaseModel):
    pointer: str = Field(description="JSON Pointer (RFC 6901) to the offending field")
    message: str
    code: str


class Problem(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldError] | None = None


class ProblemError(DomainError):
    """Raise from a handler to answer with a problem: a ``DomainError`` that the HTTP layer
    itself raises, and may carry response headers (``Allow``, ``Retry-After``)."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        slug: str | None = None,
        title: str | None = None,
        errors: list[FieldIssue] | None = None,
        headers: dict[str, str] | None = None,
        extensions: dict[str, Any] | None = None,
    ) -> None:
        phrase = HTTPStatus(status).phrase
        super().__init__(
            detail,
            status=status,
            slug=slug or phrase.lower().replace(" ", "-"),
            title=title,
            errors=errors,
            extensions=extensions,
        )
        self.headers = headers or {}


# Parts of pydantic's error locations that name its validators, not the request's fields.


def field_errors(exc: ValidationError) -> list[FieldIssue]:
    # The offending input is deliberately not echoed: it may be personal data.
    return [
        FieldIssue(pointer=json_pointer(tuple(e["loc"])), message=e["msg"], code=e["type"])
        for e in exc.errors(include_url=False, include_input=False)
    ]


def from_validation_error(exc: ValidationError) -> ProblemError:
    if any(e["type"] == "json_invalid" for e in exc.errors()):
        return ProblemError(400, "The request body is not valid JSON.", slug="malformed-json")
    return ProblemError(
        422,
        "The request does not match the expected shape; see errors.",
        slug="validation-failed",
        title="Validation failed",
        errors=field_errors(exc),
    )


def problem_response(
    error: DomainError, *, instance: str | None, request_id: str | None
) -> web.Response:
    """The one rendering of every error a request causes."""
    # Generic statuses aiohttp may raise (e.g. 400 from a bad header) have no type of
    # their own: about:blank still dereferences.
    slug = error.slug if error.slug in PROBLEM_TYPES else "about:blank"
    problem = Problem(
        type=slug if slug == "about:blank" else TYPE_BASE + slug,
        title=error.title,
        status=error.status,
        detail=error.detail,
        instance=instance,
        request_id=request_id,
        errors=[FieldError(**issue._asdict()) for issue in error.errors] if error.errors else None,
    )
    body: dict[str, Any] = {**error.extensions, **problem.model_dump(exclude_none=True)}
    return web.Response(
        status=error.status,
        body=json.dumps(body).encode(),
        content_type=PROBLEM_CONTENT_TYPE,
        headers=error.headers if isinstance(error, ProblemError) else None,
    )
