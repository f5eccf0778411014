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


@dataclass(frozen=True)
class NoticeRow:
    customer_id: str
    channel: str
    jurisdiction: str
    state: str
    sends: int
    queued_at: datetime
    items: list[str]


#: A delivery state as the console filters by it: (email outbox states, letter notice states).
DELIVERY_FILTERS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "queued": (("pending", "sending"), ("queued",)),
    "sent": (("sent",), ()),
    "bounced": (("dead",), ()),
    "printed": ((), ("printed",)),
}


def notice_rows(session: Session, incident_id: int, *, state: str | None = None, customer: str | None = None,
                limit: int = 200) -> list[NoticeRow]:
    """The incident's notices, one row per customer and channel with its delivery state, filtered."""
    from sqlalchemy import and_, or_

    from ombud.incidents.models import NoticeChannel
    from ombud.incidents.notices import DELIVERY
    from ombud.notify.models import OutboxMessage

    query = (select(Notice, OutboxMessage.status)
             .join(OutboxMessage, OutboxMessage.dedupe_key == Notice.dedupe_key, isouter=True)
             .where(Notice.incident_id == incident_id).order_by(Notice.customer_id, Notice.channel).limit(limit))
    if customer:
        query = query.where(Notice.customer_id == customer)
    if state in DELIVERY_FILTERS:
        mail, letter = DELIVERY_FILTERS[state]
        query = query.where(or_(
            and_(Notice.channel == NoticeChannel.email, OutboxMessage.status.in_(mail)),
            and_(Notice.channel == NoticeChannel.letter, Notice.status.in_(letter))))
    out = []
    for notice, mail_status in session.execute(query):
        if notice.channel is NoticeChannel.email:
            shown = DELIVERY.get(str(getattr(mail_status, "value", mail_status)), notice.status.value)
        else:
            shown = notice.status.value
        out.append(NoticeRow(notice.customer_id, notice.channel.value, notice.jurisdiction, shown, notice.sends,
                             notice.queued_at, list(notice.items)))
    return out
