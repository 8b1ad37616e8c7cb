"""``socialid deliver``: sign a delivery as the provider would and post it to a running
service, so that trying a channel needs no hand-written HMAC.

The secrets are the service's own settings (``SOCIALID_TWITTER_CONSUMER_SECRET``, ...),
read from the same environment; the body is a file of the provider's shape, or a sample
message built here.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path

import aiohttp
from pydantic import SecretStr

from service.cli.signed_deliveries import DeliverySecrets, MissingSecret, sample_body, signed
from service.settings import Settings

CHANNELS = ("twitter", "facebook", "instagram", "forum", "email")


def add_parser(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    deliver = sub.add_parser(
        "deliver", help="sign a webhook delivery as the provider would and post it"
    )
    deliver.add_argument("channel", choices=CHANNELS)
    deliver.add_argument(
        "file",
        nargs="?",
        help="the body as the provider sends it (JSON; raw RFC 5322 for email), - for "
        "stdin; absent: a sample message from --sender saying --text",
    )
    deliver.add_argument("--url", help="the service (default: http://SOCIALID_HOST:PORT)")
    deliver.add_argument("--text", default="Hello, is anyone there? My internet is down.")
    deliver.add_argument(
        "--sender", default="555001", help="the sender's channel id (an address for email)"
    )
    deliver.add_argument("--name", help="the sender's display name")
    deliver.add_argument("--token", help="bearer token for email (default SOCIALID_ADMIN_TOKEN)")


def _secret(value: SecretStr | None) -> str | None:
    return value.get_secret_value() if value is not None else None


def run_deliver(settings: Settings, args: argparse.Namespace) -> int:
    secrets = DeliverySecrets(
        twitter=_secret(settings.twitter_consumer_secret),
        facebook=_secret(settings.facebook_app_secret),
        forum=_secret(settings.discourse_secret),
        token=args.token or _secret(settings.admin_token),
    )
    if args.file is None:
        body = sample_body(
            args.channel,
            int(time.time()),
            text=args.text,
            external_id=args.sender,
            handle=None,
            name=args.name,
        )
    elif args.file == "-":
        body = sys.stdin.buffer.read()
    else:
        body = Path(args.file).read_bytes()
    try:
        path, headers = signed(args.channel, body, secrets)
    except MissingSecret as exc:
        print(f"socialid: {exc}", file=sys.stderr)
        return 2
    url = (args.url or f"http://{settings.host}:{settings.port}").rstrip("/") + path
    status, answer = asyncio.run(_post(url, body, headers))
    print(f"POST {path} -> {status}")
    print(answer)
    return 0 if status < 300 else 1


async def _post(url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as http,
        http.post(url, data=body, headers=headers) as resp,
    ):
        return resp.status, await resp.text()
