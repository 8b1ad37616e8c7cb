"""The bodies subscribers receive: ``{"type", "timestamp", "data"}``, as the Standard
Webhooks specification suggests, with one ``data`` shape per event type.

An outbox entry holds what the script that wrote it knew; a message.received is
completed here with the stored message (its resolution inside) and, when it was matched
to a customer, that customer's context card as of now.
"""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import BaseModel, Field

from service.book.customers import CustomerStore
from service.context.continuation import with_case
from service.context.source import CardSource
from service.conversations.messages import MessageStore, StoredMessage
from service.events.subscriptions import EventName
from service.schemas.context_card import ContextCard
from service.settings import CardSettings


class MessageReceived(BaseModel):
    message: StoredMessage = Field(description="The message with its resolution.")
    card: ContextCard | None = Field(
        default=None, description="The matched customer's context card; null unless matched."
    )


class MessageWithdrawn(BaseModel):
    message_id: str
    conversation_id: str
    channel: str
    withdrawn_at: datetime


class ConversationChanged(BaseModel):
    """conversation.claimed, conversation.handed_off and conversation.closed."""

    conversation_id: str
    team: str
    by: str = Field(description="The rep who acted.")
    at: datetime
    to: str | None = Field(
        default=None, description='Handed off: the rep, or "team:<name>", it went to.'
    )
    note: str | None = Field(default=None, description="Handed off: the hand-off note.")


class IdentityLinked(BaseModel):
    channel: str
    external_id: str
    customer_id: str
    method: str
    by: str = Field(description="Who linked it (a rep, or the key that did).")
    at: datetime
    reason: str | None = None


EventData = MessageReceived | MessageWithdrawn | ConversationChanged | IdentityLinked


class OutboundEvent(BaseModel):
    type: EventName
    timestamp: datetime = Field(description="When the change happened.")
    data: EventData


def simple_data(event_type: EventName, fields: dict[str, str]) -> EventData:
    """Pure: the data of an event whose outbox entry holds all of it."""
    if event_type == "message.withdrawn":
        return MessageWithdrawn.model_validate(fields)
    if event_type == "identity.linked":
        return IdentityLinked.model_validate({**fields, "by": fields["actor"]})
    return ConversationChanged.model_validate(
        {**fields, "note": fields.get("text") if event_type == "conversation.handed_off" else None}
    )


class EventBodies:
    """Outbox entries to the JSON bodies sent, built once per event whatever the number of
    subscriptions that get it."""

    def __init__(
        self,
        messages: MessageStore,
        customers: CustomerStore,
        cards: CardSource,
        card_settings: CardSettings,
    ) -> None:
        self._messages = messages
        self._customers = customers
        self._cards = cards
        self._card_settings = card_settings

    async def body(self, event_type: EventName, at: datetime, fields: dict[str, str]) -> str | None:
        """The body; None when there is nothing left to tell (a message erased since)."""
        data: EventData
        if event_type == "message.received":
            found = await self._received(fields["message_id"])
            if found is None:
                return None
            data = found
        else:
            data = simple_data(event_type, fields)
        return OutboundEvent(type=event_type, timestamp=at, data=data).model_dump_json()

    async def _received(self, message_id: str) -> MessageReceived | None:
        stored = await self._messages.get(message_id)
        if stored is None:
            return None
        customer_id = stored.resolution.customer_id
        customer = await self._customers.get(customer_id) if customer_id else None
        if customer is None:
            return MessageReceived(message=stored)
        history = await self._cards.history(customer.id)
        card = await self._cards.card(customer, history, self._card_settings)
        return MessageReceived(message=stored, card=with_case(card, stored.case))


def event_time(entry_id: str) -> datetime:
    """When an outbox entry was written: its stream id's milliseconds."""
    return datetime.fromtimestamp(int(entry_id.split("-", 1)[0]) / 1000, UTC)
