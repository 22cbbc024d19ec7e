"""Deployment settings, read from ``PINGAN_*`` environment variables (and ``.env``).

No ``PINGAN_DATABASE_URL`` means an embedded SQLite file under ``var/``; no
``PINGAN_BROKER_URL`` means jobs run on an in-process dramatiq ``StubBroker``.
"""

import socket
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

#: Listening on every interface: no address a visitor could use.
WILDCARD_HOSTS = {"0.0.0.0", "::", ""}


class Settings(BaseSettings):
    """Every setting Pingan reads; the README lists them with their meaning."""

    model_config = SettingsConfigDict(env_prefix="PINGAN_", env_file=".env", extra="ignore")

    var_dir: Path = Field(Path("var"), description="Folder for the embedded database and stores.")
    database_url: str | None = Field(
        None, description="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db; unset: SQLite."
    )
    database_pool_size: int = Field(10, ge=1, description="PostgreSQL connections per process.")
    broker_url: str | None = Field(
        None, description="redis://… or amqp://… for dramatiq; unset: in-process jobs."
    )
    disabled_plugins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Comma-separated plugin names blocked for the deployment."
    )
    trace_hooks: bool = Field(False, description="Log every plugin hook call and its result.")
    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    public_url: str | None = Field(
        None,
        description="Address people reach the platform at (https://pingan.example.gov.cn), for "
        "absolute links in certificate QR codes and notifications; unset: the run address.",
    )
    default_locale: str = Field(
        "zh", description="Page language when the user chose none: zh or en."
    )
    worker_threads: int = Field(4, ge=1, description="Job threads per worker process.")
    embedded_scheduler: bool = Field(
        True, description="Run the scheduler thread inside `pingan run` (embedded default)."
    )
    job_lease_seconds: int = Field(
        900, ge=5, description="A job untouched this long while unfinished is sent again."
    )
    job_send_grace_seconds: int = Field(
        10, ge=0, description="A job the broker never took is sent again after this."
    )
    job_time_limit_seconds: int = Field(600, ge=1, description="Default time limit of one job run.")
    job_max_retries: int = Field(5, ge=0, description="Retries after a failed job run.")
    job_min_backoff_ms: int = Field(
        1_000, ge=1, description="First retry delay; doubles each time."
    )
    job_max_backoff_ms: int = Field(300_000, ge=1, description="Longest retry delay.")
    job_retention_days: int = Field(30, ge=1, description="Finished jobs are purged after this.")
    sweep_interval_seconds: int = Field(
        60, ge=1, description="How often the scheduler re-sends stale jobs."
    )
    redis_heartbeat_timeout_ms: int = Field(
        60_000, ge=1_000, description="After this, a dead Redis worker's messages are requeued."
    )
    redis_maintenance_chance: int = Field(
        10_000,
        ge=1,
        le=1_000_000,
        description="Redis fetches per million that requeue dead workers' messages.",
    )

    secret_key: str | None = Field(
        None, description="Signs CSRF tokens. Required with a server database; generated otherwise."
    )
    encryption_keys: str | None = Field(
        None, description="kid:base64 AES-256 keys for personal data, newest first (rotation)."
    )
    index_key: str | None = Field(None, description="base64 key (≥32 bytes) for ID-number search.")
    secure_cookies: bool = Field(
        True, description="Mark cookies Secure; `pingan run` on a loopback address turns it off."
    )
    session_idle_minutes: int = Field(30, ge=1, description="A page session ends after this idle.")
    session_absolute_hours: int = Field(12, ge=1, description="A page session ends after this.")
    lockout_account_threshold: int = Field(
        5, ge=1, description="Failed sign-ins locking an account."
    )
    lockout_address_threshold: int = Field(
        20, ge=1, description="Failed sign-ins (any account) locking an address."
    )
    lockout_minutes: int = Field(15, ge=1, description="How long a lockout lasts (and its window).")
    password_min_length: int = Field(10, ge=8, le=64, description="Shortest password accepted.")
    password_max_age_days: int | None = Field(
        None, ge=1, description="Force a change after this many days (unset: never, per ASVS)."
    )
    token_max_age_days: int = Field(90, ge=1, description="Longest lifetime of an API token.")
    policy_file: Path | None = Field(None, description="TOML file remapping roles to actions.")
    national_export_file: Path | None = Field(
        None,
        description="TOML file of the national volunteer export's columns; unset: core's own.",
    )
    audit_retention_days: int = Field(
        183, ge=183, description="Audit entries are kept at least this long (≥ 6 months)."
    )
    smtp_host: str | None = Field(
        None, description="SMTP server for notification e-mail; unset: no e-mail is sent."
    )
    smtp_port: int = Field(587, ge=1, le=65535, description="SMTP port.")
    smtp_user: str | None = Field(None, description="SMTP user name, if the server wants one.")
    smtp_password: str | None = Field(None, description="SMTP password.")
    smtp_from: str = Field("pingan@localhost", description="Sender address of notification e-mail.")
    smtp_starttls: bool = Field(True, description="Upgrade the SMTP connection with STARTTLS.")
    smtp_timeout_seconds: int = Field(30, ge=1, description="SMTP connection timeout.")

    @field_validator("disabled_plugins", mode="before")
    @classmethod
    def _split_names(cls, value: object) -> object:
        if isinstance(value, str):
            return [name.strip() for name in value.split(",") if name.strip()]
        return value

    @field_validator("public_url")
    @classmethod
    def _absolute_http_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parsed = urlsplit(value.strip())
        if parsed.scheme not in ("http", "https") or not parsed.netloc:
            raise ValueError("public_url must be an absolute http:// or https:// address")
        if parsed.query or parsed.fragment:
            raise ValueError("public_url takes no query or fragment")
        return value.strip().rstrip("/")

    @field_validator("default_locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        if value not in ("zh", "en"):
            raise ValueError("default_locale must be zh or en")
        return value

    @model_validator(mode="after")
    def _lease_outlasts_a_run(self) -> "Settings":
        if self.job_lease_seconds <= self.job_time_limit_seconds:
            raise ValueError("job_lease_seconds must exceed job_time_limit_seconds")
        return self

    @property
    def effective_database_url(self) -> str:
        """The configured URL, or the embedded SQLite file under ``var_dir``."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.var_dir / 'pingan.sqlite3').resolve()}"

    @property
    def base_url(self) -> str:
        """Where links sent out of the platform point: ``public_url``, else the run address.

        Without ``public_url`` the address ``pingan run`` listens on is used (a wildcard
        address becomes this machine's host name), which suits the embedded mode on one
        machine; a deployment behind a proxy or a domain name sets ``PINGAN_PUBLIC_URL``.
        """
        if self.public_url:
            return self.public_url
        host = socket.gethostname() if self.host in WILDCARD_HOSTS else self.host
        if ":" in host:  # an IPv6 literal
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    @property
    def embedded_jobs(self) -> bool:
        """True when jobs run in-process on a ``StubBroker``."""
        return not self.broker_url
