"""Incidents: open (by hand or from an escalated alert), the status state machine, the timeline and notes.

Functions take the caller's session, flush and never commit. Every change writes an audit leaf (references
only) and a timeline entry in the same transaction.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ombud import clock
from ombud.audit.events import AuditEvent, DetailValue
from ombud.audit.service import append_event
from ombud.errors import InvalidInput, InvalidTransition, NotFound
from ombud.incidents.models import Incident, IncidentEntry, IncidentKind, IncidentStatus
from ombud.staff.models import Employee

_S = IncidentStatus
#: Allowed moves. A new scope may follow any open state (an approval then lapses: it was of the old scope).
TRANSITIONS: dict[IncidentStatus, frozenset[IncidentStatus]] = {
    _S.open: frozenset({_S.scoped, _S.closed}),
    _S.scoped: frozenset({_S.scoped, _S.approved, _S.closed}),
    _S.approved: frozenset({_S.scoped, _S.notifying}),
    _S.notifying: frozenset({_S.scoped, _S.closed}),
    _S.closed: frozenset({_S.open}),
}
MAX_WINDOW = timedelta(days=3660)


def audit(session: Session, action: str, employee: Employee | None, incident_id: int | None, *,
          customer_id: str | None = None, detail: dict[str, DetailValue] | None = None) -> int:
    """Append the incident domain's audit leaf (references only) in the caller's transaction."""
    return append_event(session, AuditEvent(
        action=action,
        actor_type="employee" if employee else "system",
        actor_id=employee.external_id if employee else "ombud.incidents",
        customer_id=customer_id,
        subject_type="incident" if incident_id is not None else None,
        subject_id=None if incident_id is None else str(incident_id),
        detail=detail or {},
    ))


def note_entry(session: Session, incident: Incident, kind: str, employee: Employee | None, text: str = "",
               audit_index: int | None = None) -> IncidentEntry:
    """Add a timeline entry."""
    entry = IncidentEntry(incident_id=incident.id, at=clock.now(), kind=kind,
                          employee_id=employee.id if employee else None, text=text[:4000], audit_index=audit_index)
    session.add(entry)
    session.flush()
    return entry


def check_actors(session: Session, actors: Iterable[str]) -> list[str]:
    """The actors as employee directory ids, each one known; InvalidInput names the first unknown one."""
    cleaned = sorted({a.strip() for a in actors if a and a.strip()})
    if len(cleaned) > 200:
        raise InvalidInput("at most 200 actors per incident", field="actors")
    if cleaned:
        known = set(session.scalars(select(Employee.external_id).where(Employee.external_id.in_(cleaned))))
        unknown = [a for a in cleaned if a not in known]
        if unknown:
            raise InvalidInput(f"no employee {unknown[0]!r}", field="actors")
    return cleaned


def check_window(start: datetime, end: datetime) -> None:
    """A window is aware, non-empty and not absurdly long."""
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("window times need a time zone (UTC)", field="window_start")
    if end <= start:
        raise InvalidInput("the window ends after it starts", field="window_end")
    if end - start > MAX_WINDOW:
        raise InvalidInput("a window is at most ten years", field="window_end")


def open_incident(
    session: Session, *, title: str, description: str, actors: Iterable[str], window_start: datetime,
    window_end: datetime, discovered_at: datetime, by: Employee | None, kind: IncidentKind = IncidentKind.insider,
    owner: Employee | None = None, source_alert_id: int | None = None,
) -> Incident:
    """Open an incident by hand or from an alert; its legal clock starts at `discovered_at`."""
    title = (title or "").strip()
    if not title or len(title) > 200:
        raise InvalidInput("a title of 1 to 200 characters", field="title")
    check_window(window_start, window_end)
    if discovered_at.tzinfo is None:
        raise InvalidInput("the discovery time needs a time zone (UTC)", field="discovered_at")
    if discovered_at > clock.now() + timedelta(minutes=5):
        raise InvalidInput("the discovery time is in the future", field="discovered_at")
    names = check_actors(session, actors)
    if kind is IncidentKind.insider and not names:
        raise InvalidInput("an insider incident names at least one actor (employee id)", field="actors")
    if source_alert_id is not None:
        existing = session.scalar(select(Incident).where(Incident.source_alert_id == source_alert_id))
        if existing is not None:
            return existing
    now = clock.now()
    incident = Incident(
        title=title, kind=kind, status=IncidentStatus.open, description=(description or "").strip()[:20000],
        actors=names, window_start=window_start, window_end=window_end, discovered_at=discovered_at,
        source_alert_id=source_alert_id, owner_id=(owner or by).id if (owner or by) else None,
        opened_by_id=by.id if by else None, opened_at=now, updated_at=now, what_happened="", what_we_are_doing="",
        law_enforcement_delay=False,
    )
    session.add(incident)
    session.flush()
    index = audit(session, "incident.open", by, incident.id, detail={
        "kind": kind.value, "actors": names, "alert": None if source_alert_id is None else str(source_alert_id),
    })
    source = f" from alert {source_alert_id}" if source_alert_id is not None else ""
    note_entry(session, incident, "opened", by, f"Opened{source}; actors: {', '.join(names) or 'none'}", index)
    return incident


def get_incident(session: Session, incident_id: int, *, lock: bool = False) -> Incident:
    """The incident, or NotFound."""
    query = select(Incident).where(Incident.id == incident_id)
    if lock:
        query = query.with_for_update()
    incident = session.scalar(query)
    if incident is None:
        raise NotFound(f"no incident {incident_id}", field="incident_id")
    return incident


def list_incidents(session: Session, *, status: IncidentStatus | None = None, limit: int = 100) -> list[Incident]:
    """Incidents, newest first."""
    query = select(Incident).order_by(Incident.id.desc()).limit(min(max(limit, 1), 500))
    if status is not None:
        query = query.where(Incident.status == status)
    return list(session.scalars(query))


def timeline(session: Session, incident_id: int) -> list[IncidentEntry]:
    """The incident's timeline, oldest first."""
    return list(session.scalars(
        select(IncidentEntry).where(IncidentEntry.incident_id == incident_id).order_by(IncidentEntry.id)
    ))


def transition(session: Session, incident: Incident, to: IncidentStatus, by: Employee | None, note: str = "") -> None:
    """Move the incident to `to` if the state machine allows it; stamps, audits, and writes the timeline."""
    if to not in TRANSITIONS[incident.status]:
        raise InvalidTransition(f"an incident cannot go from {incident.status.value} to {to.value}", field="status")
    before = incident.status
    now = clock.now()
    incident.status = to
    incident.updated_at = now
    if to is IncidentStatus.closed:
        incident.closed_at = now
    elif to is IncidentStatus.open:
        incident.closed_at = None
    session.flush()
    index = audit(session, "incident.transition", by, incident.id, detail={"from": before.value, "to": to.value})
    note_entry(session, incident, "status", by, f"{before.value} → {to.value}" + (f": {note}" if note else ""), index)


def add_note(session: Session, incident: Incident, by: Employee, text: str) -> IncidentEntry:
    """A free-text note on the timeline (the note's text stays in the incident store, not in the log)."""
    text = (text or "").strip()
    if not text:
        raise InvalidInput("a note needs text", field="text")
    index = audit(session, "incident.note", by, incident.id, detail={"length": len(text)})
    return note_entry(session, incident, "note", by, text, index)


def assign(session: Session, incident: Incident, owner: Employee, by: Employee) -> None:
    """Give the incident to an owner."""
    incident.owner_id = owner.id
    incident.updated_at = clock.now()
    index = audit(session, "incident.assign", by, incident.id, detail={"owner": owner.external_id})
    note_entry(session, incident, "assigned", by, f"Owner: {owner.external_id}", index)


def update_wording(session: Session, incident: Incident, by: Employee, *, what_happened: str | None = None,
                   what_we_are_doing: str | None = None, law_enforcement_delay: bool | None = None) -> None:
    """The incident's own words for the notices; changing them after approval needs a new approval."""
    if incident.status in (IncidentStatus.notifying, IncidentStatus.closed):
        raise InvalidTransition("the notices have gone out; their wording is fixed", field="status")
    if what_happened is not None:
        incident.what_happened = what_happened.strip()[:8000]
    if what_we_are_doing is not None:
        incident.what_we_are_doing = what_we_are_doing.strip()[:8000]
    if law_enforcement_delay is not None:
        incident.law_enforcement_delay = law_enforcement_delay
    incident.updated_at = clock.now()
    if incident.status is IncidentStatus.approved:
        incident.approved_scope_id = None
        transition(session, incident, IncidentStatus.scoped, by, "the wording changed after approval")
    index = audit(session, "incident.wording", by, incident.id)
    note_entry(session, incident, "wording", by, "Notice wording changed", index)
