"""The application factory: one ``cleanup_ctx`` per resource, started in order."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import AsyncIterator

from aiohttp import web

from service.conversations.live import LiveHub
from service.http.apikeys import ApiKeyStore
from service.http.appkeys import (
    API_KEYS,
    AUDIT,
    CARD_SOURCE,
    CASE_MOVES,
    CONVERSATIONS,
    CUSTOMERS,
    DELIVERIES,
    EMBEDDED,
    EVENT_DELIVERIES,
    GRAPH_NAMES,
    HISTORY,
    IMPORTER,
    KEYS,
    LINKS,
    LIVE,
    MESSAGES,
    METRICS,
    OPENAPI,
    OUTREACH,
    RATE_LIMITS,
    REDIS,
    REDIS_URL,
    REPLIES,
    RESOLVER,
    SETTINGS,
    STOPPING,
    SUBSCRIPTIONS,
    TAXONOMY,
)
from service.http.headers import security_headers
from service.http.middleware import auth_middleware, context_middleware, error_middleware
from service.http.ratelimits import RateLimits
from service.http.routes import (
    console,
    docs,
    operations,
    v1_audit,
    v1_conversations,
    v1_customers,
    v1_history,
    v1_households,
    v1_identities,
    v1_import,
    v1_keys,
    v1_lookup,
    v1_messages,
    v1_outreach,
    v1_reps,
    v1_resolve,
    v1_stream,
    v1_subscriptions,
    webhooks,
    webhooks_email,
)
from service.ingest.worker import running
from service.ops.logs import get_logger
from service.ops.metrics import Metrics
from service.outbound.dispatch import Dispatch
from service.outbound.senders import missing
from service.settings import ConfigError, Settings
from service.store.client import redis_client
from service.store.embedded import EmbeddedRedis
from service.store.keynames import KeySchema
from service.wiring import build_stores, build_worker, events_out, graph_names, reply_senders

log = get_logger("socialid.app")


async def embedded_store_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    if settings.redis_url is not None:
        app[REDIS_URL] = settings.redis_url
        log.info("store", kind="external")
        yield
        return
    server = EmbeddedRedis.configured(settings.data_dir, settings)
    await asyncio.to_thread(server.start)
    app[EMBEDDED] = server
    app[REDIS_URL] = server.url
    log.info(
        "store",
        kind="embedded",
        data_dir=str(settings.data_dir),
        pid=server.pid,
        allocator=server.allocator,
    )
    try:
        yield
    finally:
        await asyncio.to_thread(server.stop)
        log.info("store_stopped", kind="embedded")


async def refuse_an_open_door(settings: Settings, api_keys: ApiKeyStore) -> None:
    """Listening beyond this machine with no way to authenticate is a misconfiguration,
    not a warning: refuse to start."""
    if _loopback(settings.host) or settings.admin_token is not None or await api_keys.count():
        return
    raise ConfigError(
        f"SOCIALID_HOST={settings.host} is reachable from other machines, but no "
        "SOCIALID_ADMIN_TOKEN is set and no API key exists: set the token, issue a key "
        "(socialid keys create), or listen on 127.0.0.1."
    )


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a name: it may resolve to anything


async def redis_ctx(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    client = redis_client(app[REDIS_URL], settings)
    app[REDIS] = client
    stores = build_stores(client, settings, app[KEYS])
    admin = settings.admin_token
    app[API_KEYS] = ApiKeyStore(client, stores.keys, admin.get_secret_value() if admin else None)
    await refuse_an_open_door(settings, app[API_KEYS])
    app[RATE_LIMITS] = RateLimits(
        client,
        stores.keys,
        per_second=settings.rate_limit_per_second,
        burst=settings.rate_limit_burst,
        failures_per_minute=settings.auth_failures_per_minute,
        cluster_url=app[REDIS_URL] if settings.redis_cluster else None,
    )
    app[CUSTOMERS] = stores.customers
    app[HISTORY] = stores.history
    app[AUDIT] = stores.audit
    app[RESOLVER] = stores.resolver
    app[LINKS] = stores.links
    app[IMPORTER] = stores.importer
    app[DELIVERIES] = stores.deliveries
    app[MESSAGES] = stores.messages
    app[CASE_MOVES] = stores.case_moves
    app[CONVERSATIONS] = stores.conversations
    app[CARD_SOURCE] = stores.cards
    app[OUTREACH] = stores.outreach
    app[SUBSCRIPTIONS] = stores.subscriptions
    app[EVENT_DELIVERIES] = stores.event_deliveries
    hub = LiveHub(client, stores.keys.live_channel())
    app[LIVE] = hub
    hub.start()
    try:
        await stores.deliveries.check_fsync()
        async with graph_names(client, settings, stores.keys) as names:
            if names is not None:
                app[GRAPH_NAMES] = names
            if not settings.worker:
                yield
                return
            worker = build_worker(client, settings, stores, names=names, metrics=app[METRICS])
            async with (
                running(worker, grace=settings.shutdown_timeout),
                events_out(client, settings, stores, app[METRICS]),
            ):
                yield
    finally:
        await hub.stop()
        await client.aclose()


async def replies_ctx(app: web.Application) -> AsyncIterator[None]:
    """The channels' senders and their HTTP session: after the store, closed before it."""
    settings = app[SETTINGS]
    async with reply_senders(settings) as senders:
        app[REPLIES] = Dispatch(
            app[REDIS],
            app[KEYS],
            conversations=app[CONVERSATIONS],
            messages=app[MESSAGES],
            senders=senders,
            metrics=app[METRICS],
            timeout=settings.send_timeout,
        )
        yield


async def end_streams(app: web.Application) -> None:
    """Live streams and imports never end on their own: end them before shutdown waits
    for them."""
    app[STOPPING].set()
    if LIVE in app:
        await app[LIVE].stop()


# Each channel and the settings it needs before its webhook answers anything but 404.
CHANNEL_SECRETS = {
    "twitter": ("twitter_consumer_secret",),
    "facebook": ("facebook_app_secret", "facebook_verify_token"),
    "forum": ("discourse_secret",),
    "email/mailgun": ("mailgun_signing_key",),
    "email/sendgrid": ("sendgrid_path_secret",),
    "email/postmark": ("postmark_basic_auth",),
}


def log_channels(settings: Settings) -> None:
    """Say at start-up which webhooks are on, and what an off one is missing."""
    on, off = [], {}
    for channel, names in CHANNEL_SECRETS.items():
        missing = [f"SOCIALID_{n.upper()}" for n in names if getattr(settings, n) is None]
        if missing:
            off[channel] = ", ".join(missing)
        else:
            on.append(channel)
    log.info("webhooks", on=[*on, "email/raw"], off=off)


def log_senders(settings: Settings) -> None:
    """Say at start-up which channels send replies, and what an off one is missing."""
    unset = missing(settings)
    log.info(
        "senders",
        on=[c.value for c, names in unset.items() if not names],
        off={c.value: ", ".join(names) for c, names in unset.items() if names},
    )


def create_app(settings: Settings, *, process: int = 1) -> web.Application:
    """``process``: which of serve's processes this is (1 to SOCIALID_PROCESSES)."""
    app = web.Application(
        middlewares=[context_middleware, error_middleware, auth_middleware],
        client_max_size=settings.max_body_bytes,
    )
    app.on_response_prepare.append(security_headers)
    app[STOPPING] = asyncio.Event()
    app[SETTINGS] = settings
    app[TAXONOMY] = settings.taxonomy()
    app[KEYS] = KeySchema(settings.key_prefix)
    app[METRICS] = Metrics(process=process, labelled=settings.processes > 1)
    app[OPENAPI] = {}
    log_channels(settings)
    log_senders(settings)
    app.cleanup_ctx.append(embedded_store_ctx)
    app.cleanup_ctx.append(redis_ctx)
    app.cleanup_ctx.append(replies_ctx)
    app.on_shutdown.append(end_streams)
    # v1_resolve first: /v1/customers/search must win over /v1/customers/{customer_id}.
    modules = (
        operations,
        v1_keys,
        v1_audit,
        v1_resolve,
        v1_customers,
        v1_history,
        v1_households,
        v1_identities,
        v1_import,
        v1_lookup,
        v1_messages,
        v1_outreach,
        v1_conversations,
        v1_reps,
        v1_stream,
        v1_subscriptions,
        webhooks,
        webhooks_email,
        docs,
        console,
    )
    for module in modules:
        app.router.add_routes(module.routes)
    return app


def free_port() -> int:
    """A loopback port nobody holds now: for the demo's and the benchmarks' own servers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port
