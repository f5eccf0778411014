"""Tables of the notify domain: the mail outbox and the webhook outbox.

Both are written in the caller's transaction (the one that decided the message), and drained by `ombud worker`,
which claims rows with a lease (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; one atomic UPDATE on SQLite).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Index, Integer, SmallInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ombud.db import Base, BigIntPK, JSONType, UTCDateTime, str_enum


class MailStatus(StrEnum):
    pending = "pending"  # waiting for its next attempt (next_attempt_at)
    sending = "sending"  # claimed by a worker until lease_until; an expired lease is claimable again
    sent = "sent"  # accepted by the mail server (or written as .eml by the file mailer)
    dead = "dead"  # gave up: permanent refusal or attempts exhausted; retry from the console or CLI


class WebhookStatus(StrEnum):
    pending = "pending"
    sending = "sending"
    delivered = "delivered"  # the receiver answered 2xx; waiting for its signed callback
    confirmed = "confirmed"  # the receiver's callback said the command was applied
    rejected = "rejected"  # the receiver's callback said the command could not be applied
    dead = "dead"  # attempts exhausted or refused outright (4xx); retry from the console or CLI


class _Leased:
    """What both outboxes track per row: attempts, when the next one is due, the lease of the worker sending it."""

    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    leased_by: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OutboxMessage(_Leased, Base):
    """One email to send: rendered at enqueue (a template error fails the deciding transaction, not the worker)."""

    __tablename__ = "notify_outbox"
    __table_args__ = (
        Index("ix_notify_outbox_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_notify_outbox_purpose", "purpose"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    purpose: Mapped[str] = mapped_column(String(200))  # e.g. "victim_request:VR-2026-0001", "lookback:17"
    template: Mapped[str] = mapped_column(String(100))
    to_address: Mapped[str] = mapped_column(String(320))
    message_id: Mapped[str] = mapped_column(String(255), unique=True)  # stable across every attempt
    subject: Mapped[str] = mapped_column(String(500))
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str | None] = mapped_column(Text)
    status: Mapped[MailStatus] = mapped_column(str_enum(MailStatus, "notify_mail_status"))
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebhookDelivery(_Leased, Base):
    """One signed command to the retailer's systems, retried until answered and confirmed by callback."""

    __tablename__ = "notify_webhook"
    __table_args__ = (
        Index("ix_notify_webhook_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_notify_webhook_purpose", "purpose"),
    )

    id: Mapped[int] = mapped_column(BigIntPK, primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    purpose: Mapped[str] = mapped_column(String(200))  # e.g. "remediation:42"
    event: Mapped[str] = mapped_column(String(100))  # e.g. "remediation.lock_account"
    url: Mapped[str] = mapped_column(String(1000))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    status: Mapped[WebhookStatus] = mapped_column(str_enum(WebhookStatus, "notify_webhook_status"))
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmation: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
