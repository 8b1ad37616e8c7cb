"""What every webhook route does the same way: refuse an unconfigured channel, count and
answer signature failures, store the delivery, answer with what was accepted."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from aiohttp import web
from pydantic import SecretStr

from adapters.delivery import CHANNEL_OF, Delivery, Format
from service.http.appkeys import DELIVERIES, METRICS
from service.http.bodies import json_model, require_type
from service.http.middleware import failed_authentication, on_request_line
from service.http.problems import ProblemError
from service.http.signedcalls import SIGNATURE_REFUSALS
from service.ops.logs import get_logger

log = get_logger("socialid.webhooks")


def secret_of(value: SecretStr | None, setting: str) -> str:
    """The channel's secret; a channel without one is off (404)."""
    if value is None:
        raise ProblemError(
            404,
            f"This webhook is off: SOCIALID_{setting} is not set on the server.",
            slug="channel-not-configured",
        )
    return value.get_secret_value()


async def refuse(request: web.Request, channel: str, reason: str) -> ProblemError:
    """A delivery without valid credentials: 401 when none came, 403 when they are wrong,
    stale or replayed; 429 once its address failed too often (a provider's deliveries are
    limited on failed signatures only). Counted, never logged with the body."""
    request.app[METRICS].signature_failures.labels(channel, reason).inc()
    await failed_authentication(request)
    log.warning("webhook_refused", channel=channel, reason=reason)
    status = 401 if reason == "missing" else 403
    return ProblemError(status, SIGNATURE_REFUSALS[reason], slug="bad-signature")


async def signed_json(
    request: web.Request, channel: str, header: str, check: Callable[[bytes, str], bool]
) -> bytes:
    """The raw JSON body, once ``check`` accepts the signature in ``header``."""
    require_type(request, "application/json")
    body = await request.read()
    given = request.headers.get(header)
    if given is None:
        raise await refuse(request, channel, "missing")
    if not check(body, given):
        raise await refuse(request, channel, "mismatch")
    return body


async def receive(
    request: web.Request, fmt: Format, body: bytes, meta: dict[str, str] | None = None
) -> web.Response:
    """Store the delivery durably, then answer 200; a repeat stores nothing new."""
    delivery = Delivery(format=fmt, received_at=datetime.now(UTC), body=body, meta=meta or {})
    result = await request.app[DELIVERIES].receive(delivery)
    channel = CHANNEL_OF[fmt].value
    metrics = request.app[METRICS]
    if result.dead_letter is not None:
        outcome = "dead_letter"
    elif result.accepted:
        outcome = "accepted"
    elif result.duplicates:
        outcome = "duplicate"
    else:
        outcome = "empty"  # a ping, an echo, a read receipt: nothing for a rep
    metrics.child(metrics.deliveries, channel, outcome).inc()
    # Said once, on the request's canonical log line: a second line per delivery would
    # cost the busiest path a third of its time.
    on_request_line(
        request,
        channel=channel,
        delivery=outcome,
        accepted=len(result.accepted),
        duplicates=result.duplicates,
        dead_letter=result.dead_letter,
    )
    return json_model(result)
