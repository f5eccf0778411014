"""Console pages of the outbox: mail and webhooks by status, dead letters with retry, template previews.

For privacy officers, security analysts and admins. Recipients are masked and bodies are not shown (a body may
hold a victim's download link); the template preview renders the template's sample, or fields you type.
"""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ombud.api.deps import DbSession, Staff, get_context, require_roles
from ombud.errors import InvalidInput, NotFound
from ombud.notify import outbox, templates, webhooks
from ombud.notify.models import MailStatus, WebhookStatus
from ombud.notify.schemas import mask_address
from ombud.staff.models import Role
from ombud.web.templating import NavItem, flash, register_nav, render

router = APIRouter(tags=["pages"], include_in_schema=False)

_ROLES = (Role.privacy_officer, Role.security_analyst, Role.admin)
Operator = Annotated[Staff, Depends(require_roles(*_ROLES))]

register_nav(NavItem("Outbox", ("/outbox",), roles=_ROLES))


#: Messages (and webhooks) listed at a time.
PAGE = 100


@router.get("/outbox")
def outbox_page(
    request: Request,
    session: DbSession,
    staff: Operator,
    status: Annotated[str | None, Query(max_length=20)] = None,
    purpose: Annotated[str | None, Query(max_length=200)] = None,
    mail_before: Annotated[int | None, Query(ge=1, le=2**63 - 1, description="Mail older than this one.")] = None,
    hook_before: Annotated[int | None, Query(ge=1, le=2**63 - 1, description="Webhooks older than this one.")] = None,
) -> Response:
    """Mail and webhooks: counts per status, the chosen status listed newest first (dead letters unless another
    status is asked), 100 at a time with links to older ones, retry buttons."""
    mail_counts = outbox.status_counts(session)
    hook_counts = webhooks.status_counts(session)
    chosen = status or ("dead" if mail_counts.get("dead") or hook_counts.get("dead") else "pending")
    mail_status = MailStatus(chosen) if chosen in MailStatus.__members__ else None
    hook_status = WebhookStatus(chosen) if chosen in WebhookStatus.__members__ else None
    messages = outbox.list_messages(session, status=mail_status, purpose=purpose or None, limit=PAGE + 1,
                                    before_id=mail_before) if mail_status else []
    deliveries = webhooks.list_deliveries(session, status=hook_status, purpose=purpose or None, limit=PAGE + 1,
                                          before_id=hook_before) if hook_status else []
    kept = {"status": chosen, **({"purpose": purpose} if purpose else {})}
    folder = get_context(request).settings.mail_templates_dir
    return render(
        request, "notify/outbox.html", staff,
        chosen=chosen, purpose=purpose or "", mail_counts=mail_counts, hook_counts=hook_counts,
        messages=messages[:PAGE], deliveries=deliveries[:PAGE], mask=mask_address, kept=kept,
        older_mail=messages[PAGE - 1].id if len(messages) > PAGE else None,
        older_hooks=deliveries[PAGE - 1].id if len(deliveries) > PAGE else None,
        paged=mail_before is not None or hook_before is not None,
        statuses=sorted({*MailStatus.__members__, *WebhookStatus.__members__}),
        template_names=[(n, templates.origin(n, folder)) for n in templates.available(folder)],
    )


@router.post("/outbox/mail/{message_id}/retry")
def retry_mail(request: Request, message_id: int, session: DbSession, staff: Operator) -> Response:
    """Queue a dead letter again (audited)."""
    outbox.retry_message(session, message_id, actor=staff.employee.external_id)
    return flash(request, RedirectResponse("/outbox?status=dead", status_code=303),
                 f"Message {message_id} queued again.", "success")


@router.post("/outbox/webhooks/{delivery_id}/retry")
def retry_webhook(request: Request, delivery_id: int, session: DbSession, staff: Operator) -> Response:
    """Queue a dead or rejected command again (audited)."""
    delivery = webhooks.retry_delivery(session, delivery_id, actor=staff.employee.external_id)
    return flash(request, RedirectResponse("/outbox?status=dead", status_code=303),
                 f"Command {delivery.id} ({delivery.event}) queued again.", "success")


def _preview(request: Request, staff: Staff, name: str, context_text: str | None) -> Response:
    folder = get_context(request).settings.mail_templates_dir
    templates.check_name(name)
    if name not in templates.available(folder):
        raise NotFound(f"no mail template {name!r}", field="template")
    error = rendered = None
    if context_text is None:
        context_text = json.dumps(templates.sample_context(name, folder), indent=2, ensure_ascii=False)
    try:
        data = json.loads(context_text)
        if not isinstance(data, dict):
            raise InvalidInput("the fields must be a JSON object", field="context")
        rendered = templates.render(name, data, folder)
    except ValueError as exc:
        error = f"The fields are not valid JSON: {exc}"
    except (InvalidInput, NotFound) as exc:
        error = exc.message
    return render(request, "notify/preview.html", staff, template_name=name, origin=templates.origin(name, folder),
                  context_text=context_text, rendered=rendered, error=error,
                  status_code=422 if error else 200)


@router.get("/outbox/templates/{name}")
def preview_page(request: Request, name: str, staff: Operator) -> Response:
    """A template rendered with its sample fields."""
    return _preview(request, staff, name, None)


@router.post("/outbox/templates/{name}")
def preview_with_fields(
    request: Request, name: str, staff: Operator, context: Annotated[str, Form(max_length=20000)]
) -> Response:
    """A template rendered with the fields typed in (a missing one is named)."""
    return _preview(request, staff, name, context)


@router.get("/outbox/templates/{name}/html")
def preview_html(request: Request, name: str, _staff: Operator) -> Response:
    """The HTML part rendered with the sample, as a page of its own (no scripts, nothing loaded)."""
    folder = get_context(request).settings.mail_templates_dir
    rendered = templates.render(name, templates.sample_context(name, folder), folder)
    if rendered.html is None:
        raise NotFound(f"template {name!r} has no HTML part", field="template")
    return HTMLResponse(rendered.html, headers={
        "content-security-policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
        "cache-control": "no-store", "x-content-type-options": "nosniff",
    })
