"""Configuration from SOCIALID_* variables; a bad value names the variable."""

from __future__ import annotations

import pytest

from service.settings import ConfigError, load_settings


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SOCIALID_REDIS_URL", "SOCIALID_PORT", "SOCIALID_LOG_FORMAT", "SOCIALID_DATA_DIR"):
        monkeypatch.delenv(name, raising=False)
    settings = load_settings()
    assert settings.port == 8080
    assert settings.redis_url is None
    assert str(settings.data_dir) == ".socialid"


def test_reads_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SOCIALID_PORT", "9090")
    monkeypatch.setenv("SOCIALID_REDIS_URL", "unix:///run/redis.sock")
    monkeypatch.setenv("SOCIALID_LOG_LEVEL", "debug")
    monkeypatch.setenv("SOCIALID_ADMIN_TOKEN", "s3cret")
    settings = load_settings()
    assert (settings.port, settings.redis_url, settings.log_level) == (
        9090,
        "unix:///run/redis.sock",
        "DEBUG",
    )
    assert "s3cret" not in repr(settings)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("SOCIALID_PORT", "eighty"),
        ("SOCIALID_PORT", "70000"),
        ("SOCIALID_REDIS_URL", "http://localhost:6379"),
        ("SOCIALID_LOG_FORMAT", "xml"),
        ("SOCIALID_LOG_LEVEL", "loud"),
        ("SOCIALID_KEY_PREFIX", "has space"),
    ],
)
def test_a_bad_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert name in message
    assert "\n" not in message


def test_log_format_defaults_to_json_off_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SOCIALID_LOG_FORMAT", raising=False)
    # pytest captures stderr, so it is not a TTY here.
    assert load_settings().resolved_log_format == "json"
    monkeypatch.setenv("SOCIALID_LOG_FORMAT", "console")
    assert load_settings().resolved_log_format == "console"


def test_an_empty_channel_secret_leaves_the_channel_off() -> None:
    settings = load_settings(twitter_consumer_secret="", discourse_secret="  ")
    assert settings.twitter_consumer_secret is None
    assert settings.discourse_secret is None
    assert load_settings(mailgun_signing_key="k").mailgun_signing_key is not None


def test_empty_send_credentials_leave_the_send_off_and_a_bad_from_is_named() -> None:
    settings = load_settings(
        twitter_access_token=" ", smtp_host="", email_from="", discourse_api_username=""
    )
    assert settings.twitter_access_token is None
    assert settings.smtp_host is None
    assert settings.email_from is None
    assert settings.discourse_api_username is None
    with pytest.raises(ConfigError, match="SOCIALID_EMAIL_FROM"):
        load_settings(email_from="Acme Help")
    assert load_settings(email_from="Acme <help@acme.example>").email_from is not None
