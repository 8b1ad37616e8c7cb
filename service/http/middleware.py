"""The request pipeline: request id and canonical log line, error mapping, then auth.

Every error response in the service is produced by ``error_middleware`` and nowhere else.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import secrets
import time
from collections.abc import Awaitable, Callable

import structlog
from aiohttp import web
from pydantic import ValidationError
from redis.exceptions import BusyLoadingError, RedisError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from service.errors import DomainError
from service.http.apikeys import Principal, Scope
from service.http.appkeys import (
    API_KEYS,
    KEYS,
    LOG_FIELDS,
    METRICS,
    PRINCIPAL,
    RATE_LIMITS,
    REDIS,
    REQUEST_ID,
    SETTINGS,
)
from service.http.problems import ProblemError, from_validation_error, problem_response
from service.http.ratelimits import RateLimited
from service.http.signedcalls import (
    SIGNATURE_HEADER,
    SIGNATURE_REFUSALS,
    SIGNED_PRINCIPAL,
    TIMESTAMP_HEADER,
    check_signed,
)
from service.ops.logs import get_logger

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

log = get_logger("socialid.http")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# Our request ids: random per process, then counted (a random id per request costs a
# system call on the busiest path). Unique across processes and restarts all the same.
_ID_PREFIX = secrets.token_hex(8)
_ID_COUNT = itertools.count()
_QUIET_PREFIXES = ("/health/", "/metrics")
_SCOPES_ATTR = "__socialid_scopes__"
# Only these mean "the store is away": retrying helps. Any other Redis error is a bug.
_UNAVAILABLE = (RedisConnectionError, RedisTimeoutError, BusyLoadingError, OSError)


def route_template(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def context_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    given = request.headers.get("X-Request-ID", "")
    request_id = given if _REQUEST_ID.match(given) else f"{_ID_PREFIX}{next(_ID_COUNT):016x}"
    request[REQUEST_ID] = request_id
    route = route_template(request)
    started = time.perf_counter()
    status = 500
    # Bound by hand rather than with bound_contextvars(): a generator-based context
    # manager per request shows in the profile of the webhook path.
    bound = structlog.contextvars.bind_contextvars(
        request_id=request_id, method=request.method, route=route
    )
    try:
        response = await handler(request)
        status = response.status
        response.headers["X-Request-ID"] = request_id
        return response
    except web.HTTPException as exc:  # redirects and the like pass through as raised
        status = exc.status
        exc.headers["X-Request-ID"] = request_id
        raise
    finally:
        elapsed = time.perf_counter() - started
        metrics = request.app[METRICS]
        labels = (route, request.method, str(status))
        metrics.child(metrics.requests, *labels).inc()
        metrics.child(metrics.latency, *labels).observe(elapsed)
        quiet = request.path.startswith(_QUIET_PREFIXES) and status < 400
        level = "debug" if quiet else ("error" if status >= 500 else "info")
        principal = request.get(PRINCIPAL)
        log.log(
            _LEVELS[level],
            "request",
            status=status,
            duration_ms=round(elapsed * 1000, 2),
            path=_loggable_path(request),
            principal=principal.key_id if principal else None,
            **request.get(LOG_FIELDS, {}),
        )
        structlog.contextvars.reset_contextvars(**bound)


_LEVELS = {"debug": 10, "info": 20, "error": 40}


def on_request_line(request: web.Request, **fields: object) -> None:
    """Facts a handler adds to its request's canonical log line (one line per request,
    not one more of the handler's own). Handed over on the request rather than bound as
    context variables, which cost 5% of an accepted webhook delivery."""
    request[LOG_FIELDS] = fields


# Path parameters that are credentials (SendGrid's URL secret) or a person's channel id.
_UNLOGGED_PARAMS = frozenset({"secret", "external_id"})


def _loggable_path(request: web.Request) -> str:
    """The path, with the route's placeholder for any part that is a credential or a
    channel user id (``/v1/identities/twitter/{external_id}``)."""
    params = request.match_info
    if not _UNLOGGED_PARAMS & params.keys():
        return request.path
    path = route_template(request)
    for name, value in params.items():
        if name not in _UNLOGGED_PARAMS:
            path = path.replace(f"{{{name}}}", value)
    return path


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except DomainError as exc:  # ProblemError included: one mapping for every kind
        error = exc
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        error = ProblemError(
            exc.status,
            _http_detail(exc),
            headers={k: v for k, v in exc.headers.items() if k.lower() == "allow"},
        )
    except ValidationError as exc:
        error = from_validation_error(exc)
    except _UNAVAILABLE as exc:
        request.app[METRICS].redis_errors.labels("request").inc()
        log.warning("redis_unavailable", error=type(exc).__name__)
        error = ProblemError(
            503,
            "The store is not answering; retry shortly.",
            slug="store-unavailable",
            headers={"Retry-After": "1"},
        )
    except asyncio.CancelledError:
        raise
    except Exception as exc:
        if isinstance(exc, RedisError):
            request.app[METRICS].redis_errors.labels("request").inc()
        log.exception("unhandled_error")
        error = ProblemError(
            500,
            "An unexpected error occurred; quote the request id when reporting it.",
            slug="internal-error",
        )
    return problem_response(error, instance=request.path, request_id=request.get(REQUEST_ID))


def _http_detail(exc: web.HTTPException) -> str:
    if exc.status == 404:
        return "No such resource."
    if isinstance(exc, web.HTTPMethodNotAllowed):
        return f"Method {exc.method} is not allowed here."
    if exc.status == 413:
        return "The request body is larger than this service accepts."
    return exc.text or exc.reason


def requires(*scopes: Scope) -> Callable[[Handler], Handler]:
    """Declare which scopes may call a /v1 handler (any one of them suffices)."""

    def mark(handler: Handler) -> Handler:
        setattr(handler, _SCOPES_ATTR, frozenset(scopes))
        return handler

    return mark


def scopes_of(handler: object) -> frozenset[Scope] | None:
    """The scopes a handler declared with ``requires`` (None: it declared none)."""
    scopes: frozenset[Scope] | None = getattr(handler, _SCOPES_ATTR, None)
    return scopes


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    # /v1 is all protected; elsewhere only routes that declare scopes (raw e-mail).
    declared = scopes_of(request.match_info.handler)
    if not request.path.startswith("/v1/") and declared is None:
        return await handler(request)
    metrics = request.app[METRICS]
    if SIGNATURE_HEADER in request.headers and request.path == "/v1/lookup":
        signed = await _signed(request)
        await _within_rate(request, signed.key_id)
        request[PRINCIPAL] = signed
        with structlog.contextvars.bound_contextvars(principal=signed.key_id):
            return await handler(request)
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip() or not token.isascii():
        metrics.auth_failures.labels("missing").inc()
        await failed_authentication(request)
        raise _unauthorized("A bearer token is required.")
    principal = await request.app[API_KEYS].authenticate(token.strip())
    if principal is None:
        metrics.auth_failures.labels("bad_token").inc()
        await failed_authentication(request)
        raise _unauthorized("The bearer token is not valid.")
    await _within_rate(request, principal.key_id)
    request[PRINCIPAL] = principal
    # A caller who may call something learns that a path is unknown (404/405) rather than
    # being told it lacks the scope of a route that does not exist.
    missing = request.match_info.http_exception
    if missing is not None:
        raise missing
    # Routes declare their scopes; one that forgot is admin-only rather than open.
    allowed = declared if declared is not None else frozenset({Scope.ADMIN})
    if not principal.scopes & allowed:
        metrics.auth_failures.labels("scope").inc()
        needed = " or ".join(sorted(allowed))
        raise ProblemError(403, f"This call needs the {needed} scope.", slug="missing-scope")
    with structlog.contextvars.bound_contextvars(principal=principal.key_id):
        return await handler(request)


async def _signed(request: web.Request) -> Principal:
    settings = request.app[SETTINGS]
    secret = settings.lookup_signing_secret
    if secret is None:
        raise _unauthorized("Signed calls are off: SOCIALID_LOOKUP_SIGNING_SECRET is not set.")
    reason = await check_signed(
        request.app[REDIS],
        request.app[KEYS],
        secret=secret.get_secret_value(),
        timestamp=request.headers.get(TIMESTAMP_HEADER),
        signature=request.headers[SIGNATURE_HEADER],
        body=await request.read(),  # kept by aiohttp: the handler reads it again
        max_age=settings.lookup_signature_max_age,
    )
    if reason is not None:
        request.app[METRICS].auth_failures.labels("signature").inc()
        await failed_authentication(request)
        raise _unauthorized(SIGNATURE_REFUSALS[reason])
    return SIGNED_PRINCIPAL


async def failed_authentication(request: web.Request) -> None:
    """Count a failed authentication against the client's address: past the limit, the
    answer is 429 rather than another chance to guess."""
    try:
        await request.app[RATE_LIMITS].failure(request.remote or "unknown")
    except RateLimited:
        request.app[METRICS].rate_limited.labels("auth").inc()
        raise


async def _within_rate(request: web.Request, key_id: str) -> None:
    try:
        await request.app[RATE_LIMITS].request(key_id)
    except RateLimited:
        request.app[METRICS].rate_limited.labels("key").inc()
        raise


def _unauthorized(detail: str) -> ProblemError:
    return ProblemError(
        401, detail, slug="unauthorized", headers={"WWW-Authenticate": 'Bearer realm="socialid"'}
    )
