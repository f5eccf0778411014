"""API shapes of the notify domain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ombud.notify.models import MailStatus, WebhookStatus


def mask_address(address: str) -> str:
    """An email address with the local part hidden (`j•••@example.com`): enough to tell messages apart."""
    name_free = address.rsplit("<", 1)[-1].rstrip(">")
    local, _, domain = name_free.rpartition("@")
    return f"{local[:1]}•••@{domain}" if local else "•••"


class OutboxMessageRead(BaseModel):
    """A queued or sent email, without its body (which may hold a download link) and with the recipient masked."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    status: MailStatus
    purpose: str
    template: str
    recipient: str = Field(description="The recipient with the local part masked.")
    message_id: str
    subject: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None

    @classmethod
    def of(cls, message: Any) -> OutboxMessageRead:
        return cls(
            id=message.id, status=message.status, purpose=message.purpose, template=message.template,
            recipient=mask_address(message.to_address), message_id=message.message_id, subject=message.subject,
            attempts=message.attempts, next_attempt_at=message.next_attempt_at, last_error=message.last_error,
            created_at=message.created_at, sent_at=message.sent_at,
        )


class OutboxPage(BaseModel):
    items: list[OutboxMessageRead]
    counts: dict[str, int]


class WebhookRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    status: WebhookStatus
    purpose: str
    event: str
    idempotency_key: str
    attempts: int
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    delivered_at: datetime | None
    confirmed_at: datetime | None
    confirmation: dict[str, Any] | None


class WebhookPage(BaseModel):
    items: list[WebhookRead]
    counts: dict[str, int]


class PreviewIn(BaseModel):
    context: dict[str, Any] | None = Field(None, description="The template's fields; default: its sample.")


class PreviewRead(BaseModel):
    template: str
    origin: str
    subject: str
    text: str
    html: str | None


class CallbackAck(BaseModel):
    idempotency_key: str
    status: WebhookStatus
