"""Headers every response carries, set in one place as the response is sent (errors,
streams and pages alike)."""

from __future__ import annotations

from aiohttp import web

# Pages load nothing from elsewhere and nothing inline: their styles are files of this
# service. No framing, no base rewriting, no plugins.
PAGE_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; script-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


async def security_headers(request: web.Request, response: web.StreamResponse) -> None:
    headers = response.headers
    headers["Server"] = "socialid"  # no versions for a scanner to match
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    if request.path.startswith("/v1/"):
        # Customers' records and cards must not linger in a browser's or proxy's cache.
        headers["Cache-Control"] = "no-store"
    if response.content_type == "text/html":
        headers["Content-Security-Policy"] = PAGE_POLICY
