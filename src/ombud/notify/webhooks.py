"""The webhook outbox: signed commands to the retailer's systems, retried until answered, confirmed by callback.

`enqueue_webhook` writes the command in the caller's transaction. The worker POSTs it as JSON with an
`Idempotency-Key` (the receiver must apply a key once) and an `Ombud-Signature`; a 2xx answer makes it
`delivered`, and the receiver's signed callback (`POST /api/public/notify/callback`) makes it `confirmed` or
`rejected`. Domains hear of the outcome through CONFIRMATION_HANDLERS, in the callback's transaction.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ombud import clock
from ombud.audit.events import AuditEvent
from ombud.audit.service import append_event
from ombud.config import Settings
from ombud.errors import ConfigurationError, Conflict, InvalidInput, NotFound, Unauthenticated
from ombud.keys import decode_secret
from ombud.notify import queries, signing
from ombud.notify.models import WebhookDelivery, WebhookStatus

log = logging.getLogger("ombud.notify.webhooks")

#: A callback's outcome -> the delivery's final status.
OUTCOMES = {"applied": WebhookStatus.confirmed, "failed": WebhookStatus.rejected}

#: Called in the callback's transaction when a delivery of a purpose (the part before ":") is confirmed or
#: rejected: handler(session, delivery). Domains register theirs (remediation).
CONFIRMATION_HANDLERS: dict[str, Callable[[Session, WebhookDelivery], None]] = {}


def register_confirmation_handler(prefix: str, handler: Callable[[Session, WebhookDelivery], None]) -> None:
    """Have `handler` told when a webhook of purpose `prefix:…` is confirmed or rejected."""
    CONFIRMATION_HANDLERS[prefix] = handler


def _notify(session: Session, delivery: WebhookDelivery) -> None:
    handler = CONFIRMATION_HANDLERS.get(delivery.purpose.partition(":")[0])
    if handler is not None:
        handler(session, delivery)


def webhook_secret(settings: Settings) -> bytes:
    """The shared secret; ConfigurationError when unset or short."""
    if settings.webhook_secret is None:
        raise ConfigurationError("OMBUD_WEBHOOK_SECRET is not set", field="webhook_secret")
    secret = decode_secret("webhook_secret", settings.webhook_secret.get_secret_value())
    if len(secret) < 32:
        raise ConfigurationError("OMBUD_WEBHOOK_SECRET must be at least 32 bytes", field="webhook_secret")
    return secret


def enqueue_webhook(
    session: Session,
    *,
    event: str,
    payload: dict[str, Any],
    idempotency_key: str,
    purpose: str,
    url: str,
) -> WebhookDelivery:
    """Queue a command in the caller's transaction; the same idempotency key returns the first one queued."""
    if not idempotency_key or len(idempotency_key) > 200:
        raise InvalidInput("idempotency_key must be 1-200 characters", field="idempotency_key")
    if not url.startswith(("https://", "http://")):
        raise InvalidInput("the webhook URL must be http(s)", field="url")
    existing = session.scalar(select(WebhookDelivery).where(WebhookDelivery.idempotency_key == idempotency_key))
    if existing is not None:
        if existing.event != event:
            raise Conflict(f"idempotency key {idempotency_key!r} was used for another command",
                           field="idempotency_key")
        return existing
    json.dumps(payload)  # refuse what cannot be sent, now rather than in the worker
    now = clock.now()
    delivery = WebhookDelivery(
        idempotency_key=idempotency_key, purpose=purpose[:200], event=event, url=url, payload=payload,
        status=WebhookStatus.pending, attempts=0, next_attempt_at=now, created_at=now,
    )
    session.add(delivery)
    session.flush()
    return delivery


def request_body(delivery: WebhookDelivery) -> bytes:
    """The exact bytes POSTed (and signed) for a delivery."""
    document = {"id": delivery.idempotency_key, "event": delivery.event, "data": delivery.payload}
    return json.dumps(document, separators=(",", ":"), sort_keys=True).encode()


def handle_callback(session: Session, settings: Settings, body: bytes, signature: str | None) -> WebhookDelivery:
    """Apply the receiver's signed callback `{"idempotency_key", "outcome": applied|failed, "detail"?}`.

    Unauthenticated for a missing or wrong signature, InvalidInput for a malformed body, NotFound for an unknown
    key; a repeat of the same outcome is accepted and changes nothing. Logged without personal data.
    """
    if settings.webhook_secret is None:
        log.warning("webhook callback refused: no webhook secret is configured")
        raise Unauthenticated("callbacks are not accepted: OMBUD_WEBHOOK_SECRET is not set")
    try:
        signing.verify(webhook_secret(settings), signature, body, int(clock.now().timestamp()))
    except signing.SignatureError as exc:
        log.warning("webhook callback refused: %s (%d bytes)", exc, len(body))
        raise Unauthenticated(f"callback refused: {exc}") from exc
    try:
        document = json.loads(body)
    except ValueError as exc:
        log.warning("webhook callback refused: body is not JSON (%d bytes)", len(body))
        raise InvalidInput("the callback body is not JSON", field="body") from exc
    if not isinstance(document, dict):
        raise InvalidInput("the callback body must be a JSON object", field="body")
    key, outcome, detail = document.get("idempotency_key"), document.get("outcome"), document.get("detail")
    if not isinstance(key, str) or not key:
        raise InvalidInput("idempotency_key is required", field="idempotency_key")
    if outcome not in OUTCOMES:
        raise InvalidInput("outcome must be applied or failed", field="outcome")
    if detail is not None and not isinstance(detail, str):
        raise InvalidInput("detail must be text", field="detail")
    delivery = session.scalar(
        select(WebhookDelivery).where(WebhookDelivery.idempotency_key == key).with_for_update()
    )
    if delivery is None:
        log.warning("webhook callback for an unknown idempotency key")
        raise NotFound("no webhook with that idempotency key", field="idempotency_key")
    final = OUTCOMES[outcome]
    if delivery.status in (WebhookStatus.confirmed, WebhookStatus.rejected):
        if delivery.status is final:
            return delivery
        raise Conflict(f"webhook already {delivery.status.value}", field="outcome")
    delivery.status = final
    delivery.confirmed_at = clock.now()
    delivery.lease_until = None
    delivery.confirmation = {"outcome": outcome, "detail": (detail or "")[:500]}
    if delivery.delivered_at is None:  # the callback can overtake the worker's own record of the 2xx
        delivery.delivered_at = delivery.confirmed_at
    session.flush()
    append_event(session, AuditEvent(
        action=f"notify.webhook.{'confirm' if final is WebhookStatus.confirmed else 'reject'}",
        actor_type="system", actor_id="retailer-callback", subject_type="webhook", subject_id=str(delivery.id),
        purpose=delivery.purpose, decision=outcome,
    ))
    _notify(session, delivery)
    return delivery


def get_delivery(session: Session, delivery_id: int, *, lock: bool = False) -> WebhookDelivery:
    delivery = session.get(WebhookDelivery, delivery_id, populate_existing=lock, with_for_update=lock)
    if delivery is None:
        raise NotFound(f"no webhook {delivery_id}", field="id")
    return delivery


def list_deliveries(
    session: Session, *, status: WebhookStatus | None = None, purpose: str | None = None, limit: int = 100,
    before_id: int | None = None,
) -> list[WebhookDelivery]:
    """Webhooks newest first, filtered by status and purpose prefix."""
    return queries.list_rows(session, WebhookDelivery, status=status, purpose=purpose, limit=limit,
                             before_id=before_id)


def status_counts(session: Session) -> dict[str, int]:
    """How many webhooks are in each status."""
    return queries.count_by_status(session, WebhookDelivery, WebhookStatus)


def retry_delivery(session: Session, delivery_id: int, *, actor: str, actor_type: str = "employee") -> WebhookDelivery:
    """Send a dead or rejected command again now; a rejected one gets a new idempotency key (the receiver applied
    nothing under the old one, and may remember its refusal). Audited."""
    delivery = get_delivery(session, delivery_id, lock=True)
    if delivery.status not in (WebhookStatus.dead, WebhookStatus.rejected, WebhookStatus.pending):
        raise Conflict(f"webhook {delivery_id} is {delivery.status.value}; only dead, rejected or waiting ones "
                       "are retried")
    if delivery.status is WebhookStatus.rejected:
        base, _, generation = delivery.idempotency_key.partition("~r")
        delivery.idempotency_key = f"{base}~r{int(generation or 1) + 1}"
        delivery.confirmation = None
        delivery.confirmed_at = None
    queries.requeue(delivery, WebhookStatus.pending)
    session.flush()
    append_event(session, AuditEvent(
        action="notify.webhook.retry", actor_type=actor_type, actor_id=actor, subject_type="webhook",
        subject_id=str(delivery.id), purpose=delivery.purpose,
    ))
    _notify(session, delivery)
    return delivery
