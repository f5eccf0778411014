"""The messages a request sends: written to the notification outbox in the deciding transaction.

Templates live under ombud/notify/templates (``victim_request_<name>.{subject,txt,html}.j2``). Each message has
a dedupe key, so a decision replayed or a sweep run twice queues it once. The timeline records that a message
was queued (its template and who it is for, never the address).
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ombud.config import Settings
from ombud.notify.outbox import enqueue_mail
from ombud.victim_requests.models import RequestEvent, VictimRequest

#: Every message of this domain: template name -> what it is.
TEMPLATES: dict[str, str] = {
    "victim_request_receipt": "receipt with the reference, the status link and the due date",
    "victim_request_information": "a request for more information (the clock keeps running)",
    "victim_request_decline": "the decline letter, naming the statutory ground in plain language",
    "victim_request_reminder": "a reminder to whoever works the request, on the configured days",
    "victim_request_escalation": "an escalation to a privacy officer of a request past the escalation day",
    "victim_request_overdue": "notice to a privacy officer that a request passed its due date",
}


def queue(session: Session, request: VictimRequest, *, to: str | None, recipient: str, template: str,
          context: dict[str, Any], dedupe_key: str) -> bool:
    """Queue one message for the outbox worker; the timeline notes it. False when there is nowhere to send it."""
    from ombud.victim_requests.service import add_event

    if template not in TEMPLATES:
        raise ValueError(f"unknown template {template}")
    detail = {"template": template, "recipient": recipient, "dedupe_key": dedupe_key}
    if not to:
        add_event(session, request, "mail.no_address", None, detail=detail)
        return False
    message = enqueue_mail(session, to=to, template=template, context=context, dedupe_key=dedupe_key,
                           purpose=f"victim_request:{request.id}")
    # Once per message on the timeline, however often the decision that queued it is replayed.
    key = "mail:" + hashlib.sha256(dedupe_key.encode()).hexdigest()[:40]
    if session.scalar(select(RequestEvent.id).where(RequestEvent.request_id == request.id,
                                                    RequestEvent.dedupe_key == key)) is None:
        add_event(session, request, "mail.queued", None, detail=detail | {"outbox_id": message.id}, dedupe_key=key)
    return True


def local_date(settings: Settings, at: datetime) -> str:
    """A date as the requester reads it, in the designated channel's time zone: ``December 2, 2026``."""
    from ombud.victim_requests.service import zone_of

    local = at.astimezone(zone_of(settings))
    return f"{local:%B} {local.day}, {local.year}"
