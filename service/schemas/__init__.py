"""Pydantic shapes on the wire, shared by the API, the importer, the CLI and the demo.

They import neither storage nor HTTP."""

from service.schemas.customer import (
    Account,
    Address,
    Customer,
    CustomerIn,
    DataIssue,
    Household,
    Identity,
    Product,
    StoreIntegrityError,
    lenient_customer,
    read_stored,
)
from service.schemas.events import Event, EventIn, EventType, HistoryPage, ImportEvent
from service.schemas.fields import Channel, CustomerId, ExternalId, LongText, ShortText, Strict
from service.schemas.lookup_request import LookupRequest, Sender
from service.schemas.validation import describe

__all__ = [
    "Account",
    "Address",
    "Channel",
    "Customer",
    "CustomerId",
    "CustomerIn",
    "DataIssue",
    "Event",
    "EventIn",
    "EventType",
    "ExternalId",
    "HistoryPage",
    "Household",
    "Identity",
    "ImportEvent",
    "LongText",
    "LookupRequest",
    "Product",
    "Sender",
    "ShortText",
    "StoreIntegrityError",
    "Strict",
    "describe",
    "lenient_customer",
    "read_stored",
]
