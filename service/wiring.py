"""Everything that works on one Redis connection, built in one place from the settings.

The app, the CLI and the benchmarks all take their stores from here, so that they run
the same code with the same configuration.
"""

from __future__ import annotations

from dataclasses import dataclass

import redis.asyncio as aioredis

from service.book.audit import AuditLog
from service.book.customers import CustomerStore
from service.book.history import HistoryStore
from service.book.importer import Importer
from service.conversations.repository import ConversationStore
from service.http.apikeys import ApiKeyStore
from service.ingest.deliveries import DeliveryStore
from service.ingest.messages import MessageStore
from service.resolution.links import IdentityLinks
from service.resolution.modelstore import ModelStore
from service.resolution.resolver import Resolver
from service.settings import Settings
from service.store.keynames import KeySchema


@dataclass(frozen=True, slots=True)
class Stores:
    keys: KeySchema
    customers: CustomerStore
    history: HistoryStore
    audit: AuditLog
    importer: Importer
    resolver: Resolver
    links: IdentityLinks
    models: ModelStore
    api_keys: ApiKeyStore
    deliveries: DeliveryStore
    messages: MessageStore
    conversations: ConversationStore


def build_stores(
    client: aioredis.Redis, settings: Settings, keys: KeySchema | None = None
) -> Stores:
    keys = keys or KeySchema(settings.key_prefix)
    customers = CustomerStore(client, keys, settings.default_region)
    history = HistoryStore(client, keys)
    audit = AuditLog(client, keys)
    links = IdentityLinks(client, keys)
    models = ModelStore(client, keys)
    admin = settings.admin_token
    return Stores(
        keys=keys,
        customers=customers,
        history=history,
        audit=audit,
        importer=Importer(
            customers,
            history,
            default_region=settings.default_region,
            batch_size=settings.import_batch_size,
        ),
        resolver=Resolver(
            client,
            keys,
            customers,
            links,
            region=settings.default_region,
            thresholds=settings.thresholds,
            account_pattern=settings.account_pattern,
            check_digit=settings.account_check_digit,
            key_cap=settings.blocking_key_cap,
            candidate_cap=settings.candidate_cap,
            models=models,
        ),
        models=models,
        links=links,
        api_keys=ApiKeyStore(client, keys, admin.get_secret_value() if admin else None),
        deliveries=DeliveryStore(
            client, keys, dedup_days=settings.dedup_days, fsync=settings.ingest_fsync
        ),
        messages=MessageStore(
            client, keys, thread_days=settings.thread_days, routing=settings.routing
        ),
        conversations=ConversationStore(client, keys, settings.routing),
    )
