"""Everything that works on one Redis connection, and the ingestion worker, built in one
place from the settings.

The app, the CLI and the benchmarks all take their stores from here, so that they run
the same code with the same configuration.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import partial

import aiohttp
import redis.asyncio as aioredis

from matchers.extract import extract
from service.book.audit import AuditLog
from service.book.customers import CustomerStore
from service.book.history import HistoryStore
from service.book.importer import Importer
from service.context.outreach_source import OutreachChecker
from service.context.source import CardSource
from service.conversations.case_moves import CaseMoves
from service.conversations.messages import MessageStore
from service.conversations.repository import ConversationStore
from service.events.deliveries import DeliveryLog
from service.events.dispatcher import Dispatcher, RetryPolicy
from service.events.payloads import EventBodies
from service.events.subscriptions import SubscriptionStore
from service.ingest.batch import Reading
from service.ingest.deliveries import DeliveryStore
from service.ingest.graph_names import GraphNames
from service.ingest.worker import Worker, running
from service.ops.metrics import Metrics
from service.outbound.senders import Senders
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
    deliveries: DeliveryStore
    messages: MessageStore
    case_moves: CaseMoves
    conversations: ConversationStore
    cards: CardSource
    outreach: OutreachChecker
    subscriptions: SubscriptionStore
    event_deliveries: DeliveryLog


def build_stores(
    client: aioredis.Redis, settings: Settings, keys: KeySchema | None = None
) -> Stores:
    keys = keys or KeySchema(settings.key_prefix)
    customers = CustomerStore(client, keys, settings.default_region, settings.audit_retention_days)
    history = HistoryStore(client, keys)
    audit = AuditLog(client, keys, settings.audit_retention_days)
    links = IdentityLinks(client, keys)
    models = ModelStore(client, keys)
    messages = MessageStore(
        client, keys, thread_days=settings.thread_days, routing=settings.routing
    )
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
        deliveries=DeliveryStore(
            client,
            keys,
            dedup_days=settings.dedup_days,
            fsync=settings.ingest_fsync,
            brand_accounts=settings.brand_accounts,
        ),
        messages=messages,
        case_moves=CaseMoves(client, keys),
        conversations=ConversationStore(client, keys, settings.routing),
        cards=CardSource(client, keys, history, settings.context_history_limit),
        outreach=OutreachChecker(
            client, keys, settings.outreach_rules, settings.context_history_limit
        ),
        subscriptions=SubscriptionStore(client, keys),
        event_deliveries=DeliveryLog(client, keys, keep_days=settings.events_keep_days),
    )


@asynccontextmanager
async def graph_names(
    client: aioredis.Redis, settings: Settings, keys: KeySchema
) -> AsyncIterator[GraphNames | None]:
    """A Graph API client when a page token is set, else None (senders stay unnamed)."""
    token = settings.facebook_page_token
    if token is None:
        yield None
        return
    timeout = aiohttp.ClientTimeout(total=settings.graph_timeout)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        yield GraphNames(
            client,
            keys,
            session,
            base_url=settings.facebook_graph_url,
            token=token.get_secret_value(),
        )


@asynccontextmanager
async def reply_senders(settings: Settings) -> AsyncIterator[Senders]:
    """Each channel's sender, sharing one HTTP client session (closed on the way out)."""
    timeout = aiohttp.ClientTimeout(total=settings.send_timeout)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        yield Senders(settings, session)


def build_worker(
    client: aioredis.Redis,
    settings: Settings,
    stores: Stores,
    *,
    names: GraphNames | None,
    metrics: Metrics | None,
) -> Worker:
    return Worker(
        client,
        stores.keys,
        deliveries=stores.deliveries,
        messages=stores.messages,
        resolver=stores.resolver,
        extract=partial(
            extract,
            region=settings.default_region,
            account_pattern=settings.account_pattern,
            check_digit=settings.account_check_digit,
        ),
        names=names,
        reading=Reading(settings.taxonomy(), settings.repeat_contact_threshold),
        metrics=metrics,
        batch=settings.worker_batch,
        claim_after=settings.worker_claim_after,
        max_attempts=settings.worker_max_attempts,
        block_ms=max(10, int(settings.redis_timeout * 500)),
    )


@asynccontextmanager
async def events_out(
    client: aioredis.Redis, settings: Settings, stores: Stores, metrics: Metrics | None
) -> AsyncIterator[Dispatcher]:
    """The events dispatcher running in the background, with its own HTTP client."""
    async with aiohttp.ClientSession() as session:
        dispatcher = Dispatcher(
            client,
            stores.keys,
            subscriptions=stores.subscriptions,
            deliveries=stores.event_deliveries,
            bodies=EventBodies(
                stores.messages, stores.customers, stores.cards, settings.card_settings
            ),
            session=session,
            policy=RetryPolicy(
                base=settings.events_retry_base_seconds,
                cap=settings.events_retry_max_seconds,
                give_up_after=settings.events_retry_for_seconds,
            ),
            timeout=settings.events_timeout,
            metrics=metrics,
            block_ms=max(10, int(settings.redis_timeout * 500)),
            claim_after=settings.worker_claim_after,
        )
        async with running(dispatcher, grace=settings.shutdown_timeout):
            yield dispatcher
