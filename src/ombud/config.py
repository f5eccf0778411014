"""Settings, read from the environment (prefix ``OMBUD_``); nothing here connects or writes at import."""

from __future__ import annotations

from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Environment(StrEnum):
    development = "development"
    test = "test"
    production = "production"


class Settings(BaseSettings):
    """Every setting Ombud reads; each one is described so `ombud config` can explain it."""

    model_config = SettingsConfigDict(env_prefix="OMBUD_", env_file=None, extra="ignore")

    env: Environment = Field(
        Environment.development,
        description="development, test or production. Production refuses generated or default secrets.",
    )
    data_dir: Path = Field(
        Path("ombud-data"),
        description="Folder of the embedded default: the SQLite database and generated keys live here.",
    )
    database_url: str | None = Field(
        None,
        description=(
            "SQLAlchemy URL of the store, e.g. postgresql+psycopg://user@host/db. "
            "Unset: SQLite at <data_dir>/ombud.db."
        ),
    )
    card_fingerprint_key: SecretStr | None = Field(
        None,
        description="HMAC key (hex or base64, >= 32 bytes) for card fingerprints. Unset: generated in data_dir.",
    )
    identifier_hash_key: SecretStr | None = Field(
        None,
        description="HMAC key for keyed hashes of SSNs and other identifiers. Unset: generated in data_dir.",
    )
    field_encryption_key: SecretStr | None = Field(
        None,
        description="AES-256-GCM key (32 bytes, hex or base64) for encrypted fields. Unset: generated.",
    )
    audit_signing_key: SecretStr | None = Field(
        None,
        description="Ed25519 private key seed (32 bytes, hex or base64) signing audit checkpoints. Unset: generated.",
    )
    session_secret: SecretStr | None = Field(
        None,
        description="Secret for staff session and CSRF tokens (>= 32 bytes). Unset: generated in data_dir.",
    )
    audit_origin: str = Field(
        "ombud.example/audit",
        description="Origin line of signed audit checkpoints (names this log; unique per deployment).",
    )
    audit_key_name: str = Field(
        "ombud.example/audit",
        description="Key name in the signed-note signature line of audit checkpoints.",
    )
    audit_checkpoint_interval_seconds: int = Field(
        300, ge=1, description="How often `ombud serve` signs a new audit checkpoint when the log has grown."
    )
    audit_checkpoint_schedule: bool = Field(
        True, description="Whether the web app signs audit checkpoints on a timer while it runs."
    )
    host: str = Field("127.0.0.1", description="Address `ombud serve` listens on.")
    port: int = Field(8000, ge=1, le=65535, description="Port `ombud serve` listens on.")
    public_base_url: str = Field(
        "http://127.0.0.1:8000", description="Base URL used in links sent to victims and staff."
    )
    session_idle_minutes: int = Field(30, ge=1, description="Staff sessions end after this much inactivity.")
    session_max_hours: int = Field(12, ge=1, description="Staff sessions end this long after sign-in.")
    login_max_failures: int = Field(
        5, ge=1, description="Failed sign-ins allowed per email or IP within login_window_minutes."
    )
    login_window_minutes: int = Field(15, ge=1, description="Window for counting failed sign-ins.")
    cookie_secure: bool | None = Field(
        None, description="Send session cookies only over HTTPS. Unset: on in production, off otherwise."
    )
    customer_id_pattern: str | None = Field(
        None,
        description="Regular expression the retailer's account ids match in full, e.g. C[0-9]{9}. Unset: 1-64 of "
        "A-Z a-z 0-9 _ . : - with a letter and a digit, and not shaped like a phone, SSN or IP address.",
    )
    request_max_bytes: int = Field(
        1024 * 1024, ge=1024, le=1024**3,
        description="Largest request body the server takes (413 beyond); upload routes may declare more.",
    )
    import_batch_size: int = Field(5000, ge=1, description="Rows per transaction batch during `ombud import`.")
    identity_build_workers: int = Field(
        2, ge=1, le=32,
        description="Processes that normalise identities when an import builds the identity index in bulk "
        "(a first import) while the main process writes; builds under 50,000 records use one process.",
    )
    # --- victim requests (FCRA 609(e)) ---
    requests_timezone: str = Field(
        "America/New_York",
        description="Time zone of the designated channel for victims' records requests: days of the 30-day clock "
        "are counted in it (a request received at 23:59 there is received that day).",
    )
    requests_address: str = Field(
        "Ombud Records Requests, 100 Example Way, Springfield, IL 62704",
        description="The designated postal address for victims' records requests, published on /request/how.",
    )
    requests_email: str = Field(
        "records-requests@ombud.example",
        description="The designated email address for victims' records requests, published on /request/how.",
    )
    requests_team: str = Field("victim-requests", description="The team that works victims' records requests.")
    requests_team_email: str = Field(
        "victim-requests@ombud.example",
        description="Where reminders of unassigned victims' requests go (assigned ones go to the assignee).",
    )
    requests_reminder_days: list[int] = Field(
        [10, 20, 25], description="Days of the 30-day clock on which the sweep reminds whoever works a request."
    )
    requests_escalate_after_day: int = Field(
        25, ge=1, le=29, description="A request still open after this day is escalated to every privacy officer."
    )
    requests_max_upload_mb: int = Field(
        10, ge=1, le=50, description="Largest evidence file a victim may upload (PDF, JPEG or PNG), in megabytes."
    )
    # --- incidents: breach notices and the customer transparency page ---
    privacy_contact: str = Field(
        "privacy@example.com, 1-800-555-0100",
        description="How customers reach the privacy team; printed under 'For More Information' in breach notices.",
    )
    transparency_link_key: SecretStr | None = Field(
        None,
        description="HMAC-SHA256 key (>= 32 bytes, hex or base64) the retailer's site signs customer transparency "
        "links with. Unset: generated in data_dir (refused in production).",
    )
    transparency_link_max_minutes: int = Field(
        15, ge=1, le=15, description="Longest life of a customer transparency link (15 minutes at most)."
    )

    # --- notify: mail and webhooks (outbox drained by `ombud worker`) ---
    mailer: Literal["file", "smtp"] = Field(
        "file",
        description="How `ombud worker` sends mail: smtp (OMBUD_SMTP_*), or file (.eml files in <data_dir>/mail; "
        "the embedded default, refused in production).",
    )
    mail_from: str = Field(
        "Ombud records team <records@ombud.example>", description="From address of every email Ombud sends."
    )
    smtp_host: str = Field("127.0.0.1", description="SMTP server host (mailer=smtp).")
    smtp_port: int = Field(587, ge=1, le=65535, description="SMTP server port (587 submission, 465 implicit TLS).")
    smtp_username: str | None = Field(None, description="SMTP login; unset: no authentication.")
    smtp_password: SecretStr | None = Field(None, description="SMTP password (with OMBUD_SMTP_USERNAME).")
    smtp_starttls: bool = Field(True, description="Upgrade the SMTP connection with STARTTLS (required when set).")
    smtp_ssl: bool = Field(False, description="Implicit TLS from the first byte (port 465); overrides STARTTLS.")
    smtp_ca_file: Path | None = Field(
        None, description="CA bundle to trust for the SMTP server's certificate (a private CA); unset: the system's."
    )
    smtp_timeout_seconds: float = Field(30.0, gt=0, description="SMTP connect and command timeout.")
    mail_templates_dir: Path | None = Field(
        None,
        description="Folder of the retailer's own mail templates (<name>.subject.j2, .txt.j2, .html.j2); a file "
        "there overrides the shipped one of the same name.",
    )
    outbox_max_attempts: int = Field(8, ge=1, le=100, description="Attempts before a message goes to dead letters.")
    outbox_backoff_seconds: float = Field(
        30.0, gt=0, description="First retry delay; doubles per attempt (with jitter), capped at 6 hours."
    )
    outbox_lease_seconds: float = Field(
        120.0, gt=0, description="How long a worker holds a claimed message before another may take it over."
    )
    outbox_batch_size: int = Field(200, ge=1, le=5000, description="Messages a worker claims per round.")
    worker_sweep_seconds: int = Field(
        300, ge=5, le=86_400,
        description="How often `ombud worker` runs the deadline sweeps (victim requests' reminders, escalation and "
        "overdue marks; incident notice deadlines). Each sweep acts once per due step, however often it runs.",
    )
    webhook_url: str | None = Field(
        None,
        description="The retailer's endpoint for commands (remediation). Unset: commands are applied to Ombud's "
        "own copy of the records (embedded default).",
    )
    webhook_secret: SecretStr | None = Field(
        None, description="Shared HMAC-SHA256 secret (>= 32 bytes) signing webhooks and their callbacks."
    )
    webhook_timeout_seconds: float = Field(10.0, gt=0, description="Timeout of one webhook POST.")
    retailer_name: str = Field("Example Retail, Inc.", description="The retailer's name as records packages show it.")
    records_contact: str = Field(
        "Identity-theft records team, records@ombud.example, 1-800-555-0100",
        description="Who a victim or agency contacts about a records package (printed in every package).",
    )

    @cached_property
    def resolved_database_url(self) -> str:
        """The store's URL: the configured one, or SQLite in the data folder."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'ombud.db').resolve()}"

    @property
    def is_production(self) -> bool:
        return self.env is Environment.production

    @property
    def secure_cookies(self) -> bool:
        return self.is_production if self.cookie_secure is None else self.cookie_secure


def describe_settings() -> list[tuple[str, str, str]]:
    """(environment variable, default, description) for every setting."""
    rows = []
    for name, field in Settings.model_fields.items():
        default = "" if field.default is None else str(field.default)
        rows.append((f"OMBUD_{name.upper()}", default, field.description or ""))
    return rows
