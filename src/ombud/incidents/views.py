"""What the faces show of an incident: one read of its scope, deadlines, notices and timeline."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ombud import clock
from ombud.incidents.models import Incident, IncidentDeadline, IncidentEntry, IncidentScope, Notice
from ombud.incidents.scope import current_scope
from ombud.incidents.service import get_incident, timeline

#: A deadline this close is shown as due soon (and reminded by `ombud incidents tick`).
DUE_SOON = timedelta(days=7)


def deadline_state(deadline: IncidentDeadline, now: datetime | None = None) -> str:
    """met, overdue, due soon, or open."""
    now = now or clock.now()
    if deadline.met_at is not None:
        return "met" if deadline.met_at <= deadline.due_at else "met late"
    if now >= deadline.due_at:
        return "overdue"
    if deadline.due_at - now <= DUE_SOON:
        return "due soon"
    return "open"


@dataclass
class IncidentSummary:
    incident: Incident
    scope: IncidentScope | None
    deadlines: list[IncidentDeadline]
    timeline: list[IncidentEntry]
    notices: dict[str, int] = field(default_factory=dict)
    now: datetime = field(default_factory=clock.now)

    def state_of(self, deadline: IncidentDeadline) -> str:
        return deadline_state(deadline, self.now)


def deadlines_of(session: Session, incident_id: int) -> list[IncidentDeadline]:
    return list(session.scalars(select(IncidentDeadline).where(IncidentDeadline.incident_id == incident_id)
                                .order_by(IncidentDeadline.due_at, IncidentDeadline.jurisdiction)))


def notice_counts(session: Session, incident_id: int) -> dict[str, int]:
    """Notices by channel and delivery state, e.g. {"email sent": 3, "letter printed": 1}."""
    if not session.scalar(select(func.count()).select_from(Notice).where(Notice.incident_id == incident_id)):
        return {}
    from ombud.incidents.notices import delivery_counts

    return delivery_counts(session, incident_id)


def incident_summary(session: Session, incident_id: int) -> IncidentSummary:
    incident = get_incident(session, incident_id)
    return IncidentSummary(incident, current_scope(session, incident), deadlines_of(session, incident_id),
                           timeline(session, incident_id), notice_counts(session, incident_id))
