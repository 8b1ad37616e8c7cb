"""The audit trail over HTTP (admin): who looked at or changed what."""

from __future__ import annotations

from aiohttp import web
from pydantic import AwareDatetime, BaseModel, Field, field_validator

from service.book.audit import AuditEntry
from service.http.apikeys import Scope
from service.http.appkeys import AUDIT
from service.http.bodies import json_model, query_model
from service.http.middleware import requires
from service.http.openapi import documented
from service.schemas import ShortText, Strict
from service.schemas.fields import CustomerId
from service.store.paging import is_stream_id

routes = web.RouteTableDef()


class AuditQuery(Strict):
    customer_id: CustomerId | None = Field(
        default=None, description="Entries about this (living) customer."
    )
    actor: ShortText | None = Field(default=None, description="An API key's id.")
    action: ShortText | None = Field(
        default=None, description="customer_read, card_read, lookup, erase, key_created, ..."
    )
    since: AwareDatetime | None = None
    until: AwareDatetime | None = None
    limit: int = Field(default=50, ge=1, le=500)
    cursor: str | None = Field(default=None, description="next_cursor of the page before.")

    @field_validator("cursor")
    @classmethod
    def _entry_id(cls, value: str | None) -> str | None:
        if value is not None and not is_stream_id(value):
            raise ValueError("not a cursor this service issued")
        return value


class AuditPage(BaseModel):
    entries: list[AuditEntry] = Field(description="Newest first.")
    next_cursor: str | None = None


@routes.get("/v1/audit")
@documented(
    "Who looked at or changed what, newest first.", query=AuditQuery, responses={200: AuditPage}
)
@requires(Scope.ADMIN)
async def audit_trail(request: web.Request) -> web.Response:
    q = query_model(request, AuditQuery)
    entries, cursor = await request.app[AUDIT].page(
        customer_id=q.customer_id,
        actor=q.actor,
        action=q.action,
        since=q.since,
        until=q.until,
        limit=q.limit,
        cursor=q.cursor,
    )
    return json_model(AuditPage(entries=entries, next_cursor=cursor))
