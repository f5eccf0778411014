"""The messages a request sends: written to the notification outbox in the deciding transaction.

Templates live under ombud/notify/templates (``victim_request_<name>.{subject,txt,html}.j2``). Each message has
a dedupe key, so a decision replayed or a sweep run twice queues it once. The timeline records that a message
was queued (its template and who it is for, never the address).
"""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy.orm import Session

from ombud.victim_requests.models import VictimRequest

#: Every message of this domain: template name -> what it is.
TEMPLATES: dict[str, str] = {
    "victim_request_receipt": "receipt with the reference, the status link and the due date",
    "victim_request_information": "a request for more information (the clock keeps running)",
    "victim_request_decline": "the decline letter, naming the statutory ground in plain language",
    "victim_request_reminder": "a reminder to whoever works the request, on the configured days",
    "victim_request_escalation": "an escalation to a privacy officer of a request past the escalation day",
    "victim_request_overdue": "notice to a privacy officer that a request passed its due date",
    "victim_request_verified": "notice to the requester that their identity is confirmed",
}


def outbox_available() -> bool:
    """True when the notification outbox (ombud.notify) is installed in this build."""
    try:
        from ombud.notify import outbox  # noqa: F401
    except ImportError:
        return False
    return True


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
    if not outbox_available():
        # No outbox in this build: the message is recorded as pending on the timeline (once per dedupe key),
        # never pretended sent.
        key = "mail:" + hashlib.sha256(dedupe_key.encode()).hexdigest()[:40]
        add_event(session, request, "mail.pending", None, detail=detail, dedupe_key=key)
        return False
    from ombud.notify.outbox import enqueue_mail

    enqueue_mail(session, to=to, template=template, context=context, dedupe_key=dedupe_key,
                 purpose=f"request:{request.id}")
    add_event(session, request, "mail.queued", None, detail=detail)
    return True
