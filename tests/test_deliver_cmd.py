"""``socialid deliver``: a channel tried without a hand-written HMAC, against a running
service configured with the same secrets."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests import channels as ch
from tests.helpers import ADMIN_TOKEN
from tests.served import Service, call, clean_env

pytestmark = pytest.mark.cluster

pytestmark = pytest.mark.slow

SECRETS = {
    "SOCIALID_TWITTER_CONSUMER_SECRET": ch.TWITTER_SECRET,
    "SOCIALID_FACEBOOK_APP_SECRET": ch.FACEBOOK_SECRET,
    "SOCIALID_FACEBOOK_VERIFY_TOKEN": ch.FACEBOOK_VERIFY,
    "SOCIALID_DISCOURSE_SECRET": ch.FORUM_SECRET,
    "SOCIALID_LOG_LEVEL": "WARNING",
}


def _deliver(base: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "service", "deliver", *args, "--url", base],
        env=clean_env(**{**SECRETS, "SOCIALID_ADMIN_TOKEN": ADMIN_TOKEN, **env}),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _accepted(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, result.stdout + result.stderr
    status, _, answer = result.stdout.partition("\n")
    assert status.endswith("-> 200")
    [message_id] = json.loads(answer)["accepted"]
    return str(message_id)


def test_every_channel_can_be_tried_with_one_command(tmp_path: Path) -> None:
    service = Service(tmp_path / "store", log=tmp_path / "service.log", env=SECRETS)
    try:
        sent = {
            channel: _accepted(
                _deliver(service.base, channel, "--sender", sender, "--text", f"hi on {channel}")
            )
            for channel, sender in (
                ("twitter", "555001"),
                ("facebook", "7700112233"),
                ("instagram", "1789000001"),
                ("forum", "https://forum.example.com/u/311"),
                ("email", "nora@example.com"),
            )
        }
        # A body of the provider's own shape, from a file, signed the same way.
        messenger = tmp_path / "messenger.json"
        messenger.write_bytes(ch.body(ch.messenger("m_file1", "7700112299", "from a file")))
        sent["file"] = _accepted(_deliver(service.base, "facebook", str(messenger)))
        for message_id in sent.values():
            for _ in range(100):
                status, stored = call("GET", f"{service.base}/v1/messages/{message_id}")
                if status == 200:
                    break
                time.sleep(0.05)
            assert status == 200, message_id
        _, stored = call("GET", f"{service.base}/v1/messages/{sent['instagram']}")
        assert stored["message"]["channel"] == "instagram"

        # A secret that differs from the service's is refused, and said so.
        wrong = _deliver(service.base, "twitter", SOCIALID_TWITTER_CONSUMER_SECRET="not-the-secret")
        assert wrong.returncode == 1
        assert "-> 403" in wrong.stdout
        assert "does not match the body" in wrong.stdout
        # A channel whose secret is not set cannot be signed at all.
        unset = _deliver(service.base, "forum", SOCIALID_DISCOURSE_SECRET="")
        assert unset.returncode == 2
        assert "SOCIALID_DISCOURSE_SECRET is not set" in unset.stderr
    finally:
        service.terminate()
