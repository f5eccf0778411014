"""Notify API: the mail and webhook outboxes (list, retry), template preview, and the retailer's signed callback.

Staff endpoints are for privacy officers, security analysts and admins. The callback is called by the retailer's
systems, authenticated by its HMAC signature (no staff sign-in).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request

from ombud.api.deps import DbSession, Staff, get_context, require_roles
from ombud.notify import outbox, templates, webhooks
from ombud.notify.models import MailStatus, WebhookStatus
from ombud.notify.schemas import (
    CallbackAck,
    OutboxMessageRead,
    OutboxPage,
    PreviewIn,
    PreviewRead,
    WebhookPage,
    WebhookRead,
)
from ombud.notify.signing import SIGNATURE_HEADER
from ombud.shapes import REASON_KEY
from ombud.staff.models import Role

router = APIRouter(prefix="/api/notify", tags=["notify"])
#: Called by the retailer's systems, authenticated by the HMAC signature of the body, not by a staff sign-in.
public_router = APIRouter(prefix="/api/public/notify", tags=["notify"])

#: A template's name as the code takes it (ombud.notify.templates.check_name).
TemplateName = Annotated[str, Path(max_length=100, json_schema_extra={
    "pattern": f"^{templates.NAME_PATTERN}$", REASON_KEY: "a template name is lower-case letters, digits and _"})]
Operator = Annotated[Staff, Depends(require_roles(Role.privacy_officer, Role.security_analyst, Role.admin))]


@router.get("/outbox", response_model=OutboxPage)
def list_outbox(
    session: DbSession,
    _staff: Operator,
    status: MailStatus | None = None,
    purpose: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before_id: int | None = None,
) -> OutboxPage:
    """Mail newest first (recipients masked, bodies left out) and the count per status."""
    rows = outbox.list_messages(session, status=status, purpose=purpose, limit=limit, before_id=before_id)
    return OutboxPage(items=[OutboxMessageRead.of(m) for m in rows], counts=outbox.status_counts(session))


@router.post("/outbox/{message_id}/retry", response_model=OutboxMessageRead)
def retry_mail(message_id: int, session: DbSession, staff: Operator) -> OutboxMessageRead:
    """Send a dead letter again now (audited)."""
    return OutboxMessageRead.of(outbox.retry_message(session, message_id, actor=staff.employee.external_id))


@router.get("/webhooks", response_model=WebhookPage)
def list_webhooks(
    session: DbSession,
    _staff: Operator,
    status: WebhookStatus | None = None,
    purpose: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> WebhookPage:
    """Commands to the retailer's systems, newest first, and the count per status."""
    rows = webhooks.list_deliveries(session, status=status, purpose=purpose, limit=limit)
    return WebhookPage(items=[WebhookRead.model_validate(d) for d in rows], counts=webhooks.status_counts(session))


@router.post("/webhooks/{delivery_id}/retry", response_model=WebhookRead)
def retry_webhook(delivery_id: int, session: DbSession, staff: Operator) -> WebhookRead:
    """Send a dead or rejected command again now (audited)."""
    delivery = webhooks.retry_delivery(session, delivery_id, actor=staff.employee.external_id)
    return WebhookRead.model_validate(delivery)


@router.post("/templates/{name}/preview", response_model=PreviewRead)
def preview_template(name: TemplateName, body: PreviewIn, request: Request, _staff: Operator) -> PreviewRead:
    """Render a template with the given fields (or its sample); 422 names a missing field."""
    folder = get_context(request).settings.mail_templates_dir
    context = body.context if body.context is not None else templates.sample_context(name, folder)
    rendered = templates.render(name, context, folder)
    return PreviewRead(template=name, origin=templates.origin(name, folder), subject=rendered.subject,
                       text=rendered.text, html=rendered.html)


async def raw_body(request: Request) -> bytes:
    """The request's exact bytes (a signature covers them, not a re-encoding)."""
    return await request.body()


@public_router.post("/callback", response_model=CallbackAck)
def webhook_callback(
    request: Request, session: DbSession, body: Annotated[bytes, Depends(raw_body)]
) -> CallbackAck:
    """The retailer confirms (or refuses) a command: JSON `{"idempotency_key", "outcome": "applied"|"failed",
    "detail"}`, signed like the webhook (`Ombud-Signature: t=<unix>,v1=<hex HMAC-SHA256 of "t.body">`).
    401 for a missing or wrong signature, 422 for a malformed body, 404 for an unknown key."""
    settings = get_context(request).settings
    delivery = webhooks.handle_callback(session, settings, body, request.headers.get(SIGNATURE_HEADER))
    return CallbackAck(idempotency_key=delivery.idempotency_key, status=delivery.status)
