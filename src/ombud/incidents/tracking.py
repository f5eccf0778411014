"""Deadline tracking: reminders as a deadline nears, escalation once it passes; never silently overdue.

`tick` is idempotent (each deadline is reminded once and escalated once) and runs from `ombud incidents tick`
(cron, or the worker's schedule). An escalation is recorded on the incident's timeline and in the audit log, and
mailed to the incident's owner through the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from ombud import clock
from ombud.config import Settings
from ombud.incidents.models import Incident, IncidentDeadline, IncidentStatus
from ombud.incidents.service import audit, note_entry
from ombud.incidents.views import DUE_SOON
from ombud.staff.models import Employee


@dataclass
class TickResult:
    reminded: list[tuple[int, str, str]] = field(default_factory=list)
    escalated: list[tuple[int, str, str]] = field(default_factory=list)


def tick(session: Session, settings: Settings | None = None) -> TickResult:
    """Remind of deadlines due within DUE_SOON, escalate overdue ones; each once."""
    now = clock.now()
    out = TickResult()
    rows = session.execute(
        select(IncidentDeadline, Incident).join(Incident, Incident.id == IncidentDeadline.incident_id)
        .where(IncidentDeadline.met_at.is_(None), Incident.status != IncidentStatus.closed)
        .order_by(IncidentDeadline.due_at)
    ).all()
    for deadline, incident in rows:
        key = (incident.id, deadline.jurisdiction, deadline.kind.value)
        what = f"{deadline.kind.value} deadline in {deadline.jurisdiction} ({deadline.due_at:%Y-%m-%d %H:%M} UTC)"
        if now >= deadline.due_at and deadline.escalated_at is None:
            deadline.escalated_at = now
            _announce(session, incident, deadline, "escalate", f"OVERDUE: {what}", settings)
            out.escalated.append(key)
        elif now < deadline.due_at <= now + DUE_SOON and deadline.reminded_at is None:
            deadline.reminded_at = now
            _announce(session, incident, deadline, "remind", f"Due soon: {what}", settings)
            out.reminded.append(key)
    session.flush()
    return out


def _announce(session: Session, incident: Incident, deadline: IncidentDeadline, verb: str, line: str,
              settings: Settings | None) -> None:
    """Audit leaf, timeline entry and a mail to the owner, for one reminder or escalation."""
    index = audit(session, f"incident.deadline.{verb}", None, incident.id,
                  detail={"jurisdiction": deadline.jurisdiction, "kind": deadline.kind.value})
    note_entry(session, incident, "escalation" if verb == "escalate" else "reminder", None, line, index)
    _mail_owner(session, incident, line, f"incident:{incident.id}:{verb}:{deadline.id}", settings)


def _mail_owner(session: Session, incident: Incident, line: str, key: str, settings: Settings | None) -> None:
    owner = session.get(Employee, incident.owner_id) if incident.owner_id else None
    if owner is None:
        return
    from ombud.notify.outbox import enqueue_mail

    enqueue_mail(session, to=owner.email, template="incident_deadline",
                 context={"name": owner.name, "line": line, "incident_reference": f"INC-{incident.id}",
                          "title": incident.title},
                 dedupe_key=key, purpose=f"incident:{incident.id}", settings=settings)
