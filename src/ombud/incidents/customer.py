"""What a customer sees on their "who accessed my data and why" page: staff accesses and incidents with notices.

Built on ombud.access.transparency (when, data class, purpose category, team and region — never who) and on
this customer's own notices: an incident appears once its notices went out, with the notice they were sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ombud.access.transparency import AccessEntry, accesses
from ombud.config import Settings
from ombud.errors import InvalidInput, NotFound
from ombud.incidents import wording
from ombud.incidents.models import Incident, IncidentScope, Notice
from ombud.incidents.notices import context_for, delivery_of, describe_item, recipients, render


@dataclass(frozen=True)
class CustomerIncident:
    reference: str
    title: str
    notified_at: datetime
    channels: tuple[str, ...]
    delivery: tuple[str, ...]
    items: tuple[str, ...]
    notice_subject: str | None
    notice_text: str | None


@dataclass(frozen=True)
class CustomerView:
    accesses: list[AccessEntry]
    incidents: list[CustomerIncident]


def customer_view(session: Session, customer_id: str, settings: Settings, *, limit: int = 500) -> CustomerView:
    """The customer's page: accesses newest first, incidents that touched them with their notice."""
    entries = accesses(session, customer_id, limit=limit)
    notices = list(session.scalars(select(Notice).where(Notice.customer_id == customer_id)
                                   .order_by(Notice.queued_at.desc())))
    states = delivery_of(session, notices)
    by_incident: dict[int, list[Notice]] = {}
    for notice in notices:
        by_incident.setdefault(notice.incident_id, []).append(notice)
    out: list[CustomerIncident] = []
    for incident_id, mine in by_incident.items():
        incident = session.get(Incident, incident_id)
        scope = session.get(IncidentScope, mine[0].scope_id)
        if incident is None or scope is None:
            continue
        people = recipients(session, scope, [customer_id])
        subject = text = None
        described: tuple[str, ...] = ()
        if people:
            described = tuple(sorted({describe_item(i, c) for i, c in people[0].items}))
            try:
                source = wording.of_notice(session, mine[0].template_id, incident, settings)
                rendered = render(context_for(incident, people[0], settings), source)
                subject, text = rendered.subject, rendered.text
            except (InvalidInput, NotFound):  # the template changed since; the items still say what was involved
                pass
        out.append(CustomerIncident(
            reference=f"INC-{incident.id}", title=incident.title, notified_at=min(n.queued_at for n in mine),
            channels=tuple(sorted({n.channel.value for n in mine})),
            delivery=tuple(sorted({states[n.id] for n in mine})), items=described,
            notice_subject=subject, notice_text=text,
        ))
    return CustomerView(entries, out)
