"""The whole-suite log check finds what it looks for (else it could never fail)."""

from __future__ import annotations

import pytest

from tests.logscan import leaks, traceable


@pytest.mark.parametrize(
    "line",
    [
        '{"event":"x","to":"dana.king@example.com"}',
        '{"event":"x","token":"sid_0123456789ab_abcdefghijklmnopqrstuvwxyz0123"}',
        '{"path":"/v1/identities/twitter/555001"}',
        '{"event":"x","phone":"+447700900123"}',
        '{"event":"x","detail":"for Dana King"}',
    ],
)
def test_a_leak_is_found(line: str) -> None:
    assert leaks(line)


def test_masked_lines_pass_and_stream_ids_count_as_traceable() -> None:
    line = (
        '{"event":"delivery_claimed","entry":"1733500000000-0","to":"[email]",'
        '"path":"/v1/identities/twitter/{external_id}","phone":"[phone]"}'
    )
    assert leaks(line) == []
    assert traceable(line)
