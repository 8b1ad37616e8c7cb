"""Settings of the channels: their webhooks' secrets and the credentials replies go
out with. A channel whose secret is unset answers 404; one whose credentials are unset
does not send."""

from __future__ import annotations

from email.utils import parseaddr

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings


class ChannelSettings(BaseSettings):
    """Mixed into ``Settings``, which gives it the ``SOCIALID_`` prefix."""

    # -- channels: a channel whose secret is unset answers 404 ---------------------------
    twitter_consumer_secret: SecretStr | None = Field(
        default=None, description="Signs Twitter/X CRC answers and deliveries."
    )
    facebook_app_secret: SecretStr | None = Field(
        default=None, description="Meta app secret: X-Hub-Signature-256 of deliveries."
    )
    facebook_verify_token: SecretStr | None = Field(
        default=None, description="The token Meta echoes in its hub verification."
    )
    facebook_page_token: SecretStr | None = Field(
        default=None,
        description="Page access token (Graph API): Messenger senders' names, and replies "
        "through the Send API and as comments.",
    )
    facebook_graph_url: str = Field(
        default="https://graph.facebook.com/v21.0", description="Graph API base URL."
    )
    graph_timeout: float = Field(default=2.0, gt=0, le=30)
    discourse_secret: SecretStr | None = Field(
        default=None, description="Discourse webhook secret; also signs the generic forum JSON."
    )
    mailgun_signing_key: SecretStr | None = None
    mailgun_max_age: int = Field(
        default=300, ge=10, description="Seconds a Mailgun signature's timestamp stays valid."
    )
    sendgrid_path_secret: SecretStr | None = Field(
        default=None, description="The secret path segment of the SendGrid Inbound Parse URL."
    )
    postmark_basic_auth: SecretStr | None = Field(
        default=None, description="user:password Postmark sends as HTTP Basic credentials."
    )

    # -- replies out: a channel whose credentials are unset does not send ----------------
    twitter_access_token: SecretStr | None = Field(
        default=None,
        description="OAuth 2.0 user access token of the brand's X account (dm.write, "
        "tweet.write): replies as DMs and reply posts.",
    )
    twitter_api_url: str = Field(default="https://api.x.com", description="X API base URL.")
    discourse_url: str | None = Field(
        default=None,
        description="The Discourse instance replies are posted to, as its webhooks name it "
        "(X-Discourse-Instance); posts from another instance are not answered.",
    )
    discourse_api_key: SecretStr | None = Field(
        default=None, description="Discourse API key that replies are posted with."
    )
    discourse_api_username: str | None = Field(
        default=None, description="The Discourse user replies are posted as."
    )
    smtp_host: str | None = Field(default=None, description="SMTP server e-mail replies go to.")
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_starttls: bool = Field(
        default=True, description="Require STARTTLS before authenticating and sending."
    )
    email_from: str | None = Field(
        default=None, description='From of e-mail replies: "Acme Help <help@acme.example>".'
    )
    send_timeout: float = Field(
        default=10.0, gt=0, le=120, description="Seconds a provider may take to take a reply."
    )

    @field_validator(
        "twitter_consumer_secret",
        "facebook_app_secret",
        "facebook_verify_token",
        "facebook_page_token",
        "discourse_secret",
        "mailgun_signing_key",
        "sendgrid_path_secret",
        "postmark_basic_auth",
        "twitter_access_token",
        "discourse_url",
        "discourse_api_key",
        "discourse_api_username",
        "smtp_host",
        "smtp_username",
        "smtp_password",
        "email_from",
        mode="before",
    )
    @classmethod
    def _blank_credential_is_unset(cls, value: object) -> object:
        # A name of its own: Settings' validator of the same name would replace it.
        # An empty secret would sign with an empty key: anyone could forge deliveries.
        # Deployment templates pass empty values for what is not configured.
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("email_from")
    @classmethod
    def _an_address(cls, value: str | None) -> str | None:
        if value is not None and "@" not in parseaddr(value)[1]:
            raise ValueError('must be an address, e.g. "Acme Help <help@acme.example>"')
        return value
