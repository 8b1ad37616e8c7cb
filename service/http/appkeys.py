"""Every typed key of the aiohttp application and of its requests, in one place."""

from __future__ import annotations

import asyncio

import redis.asyncio as aioredis
from aiohttp import web

from matchers.topics import Taxonomy
from service.book.audit import AuditLog
from service.book.customers import CustomerStore
from service.book.history import HistoryStore
from service.book.importer import Importer
from service.context.outreach_source import OutreachChecker
from service.context.source import CardSource
from service.conversations.case_moves import CaseMoves
from service.conversations.live import LiveHub
from service.conversations.messages import MessageStore
from service.conversations.repository import ConversationStore
from service.events.deliveries import DeliveryLog
from service.events.subscriptions import SubscriptionStore
from service.http.apikeys import ApiKeyStore, Principal
from service.http.ratelimits import RateLimits
from service.ingest.deliveries import DeliveryStore
from service.ingest.graph_names import GraphNames
from service.ops.metrics import Metrics
from service.outbound.dispatch import Dispatch
from service.resolution.links import IdentityLinks
from service.resolution.resolver import Resolver
from service.settings import Settings
from service.store.embedded import EmbeddedRedis
from service.store.keynames import KeySchema

SETTINGS = web.AppKey("settings", Settings)
TAXONOMY = web.AppKey("taxonomy", Taxonomy)
KEYS = web.AppKey("keys", KeySchema)
METRICS = web.AppKey("metrics", Metrics)
EMBEDDED = web.AppKey("embedded", EmbeddedRedis)
REDIS_URL = web.AppKey("redis_url", str)
REDIS = web.AppKey("redis", aioredis.Redis)
API_KEYS = web.AppKey("api_keys", ApiKeyStore)
CUSTOMERS = web.AppKey("customers", CustomerStore)
HISTORY = web.AppKey("history", HistoryStore)
AUDIT = web.AppKey("audit", AuditLog)
IMPORTER = web.AppKey("importer", Importer)
RESOLVER = web.AppKey("resolver", Resolver)
LINKS = web.AppKey("links", IdentityLinks)
DELIVERIES = web.AppKey("deliveries", DeliveryStore)
CONVERSATIONS = web.AppKey("conversations", ConversationStore)
LIVE = web.AppKey("live", LiveHub)
CARD_SOURCE = web.AppKey("card_source", CardSource)
OUTREACH = web.AppKey("outreach", OutreachChecker)
OPENAPI = web.AppKey("openapi", dict)
MESSAGES = web.AppKey("messages", MessageStore)
CASE_MOVES = web.AppKey("case_moves", CaseMoves)
GRAPH_NAMES = web.AppKey("graph_names", GraphNames)
RATE_LIMITS = web.AppKey("rate_limits", RateLimits)
SUBSCRIPTIONS = web.AppKey("subscriptions", SubscriptionStore)
EVENT_DELIVERIES = web.AppKey("event_deliveries", DeliveryLog)
REPLIES = web.AppKey("replies", Dispatch)
# Set as the service starts to stop: long requests (an import) end and answer.
STOPPING = web.AppKey("stopping", asyncio.Event)

REQUEST_ID = web.RequestKey("request_id", str)
PRINCIPAL = web.RequestKey("principal", Principal)
# Facts a handler adds to the request's canonical log line (the delivery's outcome).
LOG_FIELDS = web.RequestKey("log_fields", dict[str, object])
