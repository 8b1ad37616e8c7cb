"""All configuration, read once from `SOCIALID_*` environment variables (the channels'
are in ``channels.py``, mixed in)."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import SettingsConfigDict

from matchers.decide import Thresholds
from matchers.topics import Taxonomy, default_taxonomy, load_taxonomy
from service.ops.logs import LogFormat, LogLevel
from service.schemas.conversation import TEAM_PATTERN
from service.settings.channels import ChannelSettings
from service.settings.values import CardSettings, FlagThresholds, OutreachRules, Routing

__all__ = [
    "ENV_PREFIX",
    "CardSettings",
    "ConfigError",
    "FlagThresholds",
    "OutreachRules",
    "Routing",
    "Settings",
    "describe_validation_error",
    "load_settings",
]

ENV_PREFIX = "SOCIALID_"


class Settings(ChannelSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore", frozen=True)

    redis_url: str | None = Field(
        default=None,
        description="redis://, rediss:// or unix:// URL. Unset: start the embedded server.",
    )
    redis_cluster: bool = Field(
        default=False,
        description="SOCIALID_REDIS_URL names a node of a Redis (or Valkey) Cluster: use "
        "the cluster client, which finds the other nodes itself.",
    )
    data_dir: Path = Field(default=Path(".socialid"), description="Embedded store's data.")
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    admin_token: SecretStr | None = Field(
        default=None, description="Bootstrap bearer token with every scope."
    )
    log_format: LogFormat | None = Field(
        default=None, description="json or console; default json unless stderr is a TTY."
    )
    log_level: LogLevel = "INFO"
    key_prefix: str = Field(
        default="sid", pattern=r"^[A-Za-z0-9_.-]{1,32}$", description="Prefix of every Redis key."
    )
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024, description="Largest request body.")
    rate_limit_per_second: float = Field(
        default=200.0,
        gt=0,
        description="Requests one API key may make per second, sustained (429 past it).",
    )
    rate_limit_burst: int = Field(
        default=1000, ge=1, description="Requests one API key may make at once, above the rate."
    )
    audit_retention_days: int = Field(
        default=365,
        ge=1,
        le=36_500,
        description="Audit entries older than this are trimmed as new ones are written.",
    )
    auth_failures_per_minute: int = Field(
        default=30,
        ge=1,
        description="Failed authentications (bad token, bad signature) one client address may "
        "make per minute before it is answered 429.",
    )
    redis_timeout: float = Field(
        default=1.0, gt=0, le=30, description="Seconds a Redis command may take before it fails."
    )
    shutdown_timeout: float = Field(default=10.0, gt=0, le=300)
    processes: int = Field(
        default=1,
        ge=1,
        le=64,
        description="HTTP processes serve runs on the port, each with its own worker.",
    )
    embedded_appendfsync: Literal["always", "everysec", "no"] = Field(
        default="everysec", description="fsync policy of the embedded server's append-only file."
    )
    embedded_allocator: Literal["mimalloc", "libc"] = Field(
        default="mimalloc",
        description="Allocator of the embedded server: mimalloc (Linux, from the "
        "cmeel-mimalloc wheel; falls back to libc where it cannot load) or the C library's.",
    )

    default_region: str = Field(
        default="GB",
        pattern=r"^[A-Z]{2}$",
        description="Region for phone numbers written without a country code (ISO 3166).",
    )
    context_recent_days: int = Field(
        default=90, ge=1, le=3650, description="Contract changes this recent are listed/flagged."
    )
    context_interactions: int = Field(default=5, ge=0, le=100)
    context_history_limit: int = Field(
        default=1000, ge=10, le=100_000, description="Newest events the card is built from."
    )
    repeat_contact_threshold: int = Field(
        default=3, ge=2, description="Contacts about one open case that flag repeat_contact."
    )
    repeat_contact_channels: int = Field(
        default=2, ge=2, description="Channels used about one case that flag repeat_contact."
    )
    repeat_contact_window_days: int = Field(default=14, ge=1, le=365)
    outreach_contact_days: int = Field(
        default=7,
        ge=0,
        le=365,
        description="An interaction this recent blocks sales pitches and surveys (0: never).",
    )
    import_batch_size: int = Field(default=250, ge=1, le=10_000)
    match_auto_threshold: float = Field(
        default=0.99, gt=0, le=1, description="Probability above which a match may link."
    )
    match_review_threshold: float = Field(
        default=0.05,
        ge=0,
        le=1,
        description="Share of the candidates' posterior from which a rep sees a candidate.",
    )
    match_margin_bits: float = Field(
        default=4.0, ge=0, description="How far (in match weight) the best must lead the next."
    )
    match_max_candidates: int = Field(default=5, ge=1, le=50)
    blocking_key_cap: int = Field(
        default=500, ge=1, description="A blocking value shared by more customers is skipped."
    )
    candidate_cap: int = Field(
        default=50,
        ge=1,
        description="Most candidates one query scores; past it, those that agree on least are cut.",
    )
    account_pattern: str = Field(
        default=r"\b\d{2}-\d{4}-\d{2}\b", description="Regex of account numbers in free text."
    )
    account_check_digit: Literal["luhn", "mod11"] | None = None
    topics_file: Path | None = Field(
        default=None,
        description="A TOML file of topics (phrases, strong phrases, patterns) that extends "
        "the default English taxonomy, matchers/topics.toml; a topic named there replaces "
        "the default one of that name.",
    )

    lookup_signing_secret: SecretStr | None = Field(
        default=None,
        description="Chat tools may sign /v1/lookup with it instead of sending a token.",
    )
    lookup_signature_max_age: int = Field(default=300, ge=10, le=3600)

    # -- ingestion ----------------------------------------------------------------------
    dedup_days: int = Field(
        default=7, ge=1, le=365, description="How long a delivery's keys refuse a repeat."
    )
    ingest_fsync: bool = Field(
        default=False,
        description="Answer a webhook only once the store's append-only file is fsynced "
        "(WAITAOF; needs appendonly yes).",
    )
    thread_days: int = Field(
        default=180, ge=1, le=3650, description="How long a thread key finds its conversation."
    )
    worker: bool = Field(default=True, description="Run the ingestion worker inside serve.")
    worker_metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="Port on SOCIALID_HOST where `socialid worker` answers GET /metrics "
        "(its messages processed, delays and event deliveries). Unset: no port.",
    )
    worker_batch: int = Field(default=64, ge=1, le=1000)
    worker_claim_after: float = Field(
        default=30.0, gt=0, description="Seconds before another worker claims a pending delivery."
    )
    worker_max_attempts: int = Field(
        default=5, ge=1, description="Attempts before a delivery goes to the dead letters."
    )

    # -- events out (signed webhooks to subscriptions) ------------------------------------
    events_timeout: float = Field(
        default=10.0, gt=0, le=60, description="Seconds a receiver has to answer a delivery."
    )
    events_retry_base_seconds: float = Field(
        default=5.0, gt=0, description="Wait after a delivery's first failed attempt; doubles."
    )
    events_retry_max_seconds: float = Field(
        default=3600.0, gt=0, description="Longest wait between two attempts of a delivery."
    )
    events_retry_for_seconds: int = Field(
        default=86_400,
        ge=1,
        description="How long a delivery is retried before it becomes a dead letter.",
    )
    events_keep_days: int = Field(
        default=7, ge=1, le=365, description="How long the delivery log keeps a delivery."
    )
    events_secret_overlap_hours: float = Field(
        default=24.0,
        ge=0,
        le=720,
        description="After a rotation, how long the old secret still signs beside the new.",
    )

    # -- conversations ------------------------------------------------------------------
    default_team: str = Field(
        default="social",
        pattern=TEAM_PATTERN,
        description="The team whose queue a new conversation joins.",
    )
    channel_teams: dict[str, str] = Field(
        default_factory=dict,
        description='Teams by channel, as JSON: {"email": "care"}; others go to default_team.',
    )
    brand_accounts: dict[str, list[str]] = Field(
        default_factory=dict,
        description="The brand's own account ids by channel, as JSON: "
        '{"twitter": ["900001"], "facebook": ["104400"]}. What they post is never a '
        "customer message, whatever the delivery says.",
    )
    sla_minutes: dict[str, int] = Field(
        default_factory=lambda: {"urgent": 15, "high": 60, "normal": 240, "low": 1440},
        description='Minutes a conversation may wait for a rep, by "priority" or '
        '"team:priority", as JSON.',
    )

    @field_validator("redis_url")
    @classmethod
    def _known_scheme(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @field_validator(
        "admin_token",
        "lookup_signing_secret",
        mode="before",
    )
    @classmethod
    def _blank_is_unset(cls, value: object) -> object:
        # An empty secret would sign with an empty key: anyone could forge deliveries.
        # Deployment templates pass empty values for what is not configured.
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("redis_cluster")
    @classmethod
    def _cluster_named(cls, value: bool, info: ValidationInfo) -> bool:
        # The embedded store is one server: a cluster is always one the operator runs.
        url = info.data.get("redis_url")
        if value and (url is None or url.startswith("unix")):
            raise ValueError("needs SOCIALID_REDIS_URL naming a node (redis:// or rediss://)")
        return value

    @field_validator("topics_file")
    @classmethod
    def _topics_load(cls, value: Path | None) -> Path | None:
        if value is not None:
            try:
                load_taxonomy(value.read_text(encoding="utf-8"))
            except (OSError, ValueError, re.error) as exc:  # TOMLDecodeError is a ValueError
                raise ValueError(f"cannot be read as topics: {exc}") from None
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value

    def taxonomy(self) -> Taxonomy:
        """The topics messages are classified into: the default, extended by
        ``topics_file`` (checked when the settings load)."""
        if self.topics_file is None:
            return default_taxonomy()
        return load_taxonomy(self.topics_file.read_text(encoding="utf-8"))

    @property
    def thresholds(self) -> Thresholds:
        return Thresholds(
            auto=self.match_auto_threshold,
            review=self.match_review_threshold,
            margin=self.match_margin_bits,
            max_candidates=self.match_max_candidates,
        )

    @property
    def routing(self) -> Routing:
        return Routing(
            default_team=self.default_team,
            channel_teams=dict(self.channel_teams),
            sla_ms={k: v * 60_000 for k, v in self.sla_minutes.items()},
        )

    @property
    def card_settings(self) -> CardSettings:
        return CardSettings(
            recent_days=self.context_recent_days,
            interactions=self.context_interactions,
            thresholds=FlagThresholds(
                repeat_contacts=self.repeat_contact_threshold,
                repeat_channels=self.repeat_contact_channels,
                repeat_window_days=self.repeat_contact_window_days,
            ),
        )

    @property
    def outreach_rules(self) -> OutreachRules:
        return OutreachRules(
            recent_days=self.context_recent_days, contact_days=self.outreach_contact_days
        )

    @property
    def resolved_log_format(self) -> LogFormat:
        if self.log_format is not None:
            return self.log_format
        return "console" if sys.stderr.isatty() else "json"


class ConfigError(Exception):
    """A setting has a bad value; the message is one line naming the variable."""


def describe_validation_error(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors():
        field = str(err["loc"][0]) if err["loc"] else "?"
        given = err.get("input")
        shown = f" (got {given!r})" if isinstance(given, str | int | float) else ""
        parts.append(f"{ENV_PREFIX}{field.upper()}: {err['msg']}{shown}")
    return "invalid configuration: " + "; ".join(parts)


def load_settings(**overrides: object) -> Settings:
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc)) from None
