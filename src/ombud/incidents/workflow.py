"""Orchestration across domains: an incident from an escalated insider alert, and changes of scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ombud import clock
from ombud.audit.events import AuditEvent
from ombud.audit.service import append_event
from ombud.errors import InvalidTransition
from ombud.incidents.models import Incident, IncidentStatus
from ombud.incidents.service import audit, check_actors, check_window, note_entry
from ombud.staff.models import Employee


def change_scope(session: Session, incident: Incident, by: Employee, *, actors: list[str] | None = None,
                 window_start: datetime | None = None, window_end: datetime | None = None) -> None:
    """Change the actors or the window; the next scope recomputes and shows the difference."""
    if incident.status is IncidentStatus.closed:
        raise InvalidTransition("a closed incident's scope is fixed; reopen it first", field="status")
    start = window_start or incident.window_start
    end = window_end or incident.window_end
    check_window(start, end)
    names = check_actors(session, actors) if actors is not None else list(incident.actors)
    before = f"{', '.join(incident.actors)} {incident.window_start:%Y-%m-%d %H:%M}→{incident.window_end:%Y-%m-%d %H:%M}"
    incident.actors, incident.window_start, incident.window_end = names, start, end
    incident.updated_at = clock.now()
    session.flush()
    after = f"{', '.join(names)} {start:%Y-%m-%d %H:%M}→{end:%Y-%m-%d %H:%M}"
    index = audit(session, "incident.scope.change", by, incident.id, detail={"actors": names})
    note_entry(session, incident, "scope_change", by, f"Scope changed: {before} ⇒ {after} (UTC)", index)


@dataclass(frozen=True)
class AlertDraft:
    """What an incident opened from an escalated alert starts with; the analyst may change any of it."""

    alert_id: int
    title: str
    actors: list[str]
    window_start: datetime
    window_end: datetime
    discovered_at: datetime
    description: str
    customers: int


def draft_from_alert(session: Session, alert_id: int) -> AlertDraft:
    """The incident an escalated alert suggests (InvalidTransition unless escalated, NotFound if no such alert).

    The actor is the alert's employee (ombud.insider.triage.escalation); the window spans every escalated alert of
    the alert's case (serial snooping by one person is one incident); the legal clock starts at the escalation.
    """
    from ombud.insider import triage
    from ombud.insider.models import AlertStatus, InsiderAlert

    esc = triage.escalation(session, alert_id)
    related = [esc, *(triage.escalation(session, other) for other in session.scalars(
        select(InsiderAlert.id).where(InsiderAlert.case_id == esc.case_id, InsiderAlert.id != alert_id,
                                      InsiderAlert.status == AlertStatus.escalated)))]
    alert = session.get(InsiderAlert, alert_id)
    escalated_at = alert.decided_at if alert is not None and alert.decided_at else clock.now()
    return AlertDraft(
        alert_id=alert_id, title=f"Insider alert {alert_id}: {esc.employee}", actors=[esc.employee],
        window_start=min(e.window_start for e in related),
        # The window is [start, end): a second past the last alert's end keeps its last event inside.
        window_end=max(e.window_end for e in related) + timedelta(seconds=1),
        discovered_at=min(clock.now(), escalated_at), description=esc.explanation[:20000],
        customers=len({c for e in related for c in e.customers}))


def incident_of_alert(session: Session, alert_id: int) -> Incident | None:
    """The incident opened from this alert, if any (the alert's side of the link)."""
    return session.scalar(select(Incident).where(Incident.source_alert_id == alert_id))


def open_from_alert(session: Session, alert_id: int, by: Employee | None, *, title: str | None = None,
                    description: str | None = None, actors: list[str] | None = None,
                    window_start: datetime | None = None, window_end: datetime | None = None,
                    discovered_at: datetime | None = None) -> Incident:
    """Open the incident of an escalated insider alert (once: a second call returns the same incident).

    Anything not given comes from `draft_from_alert`. The incident names the alert, and the alert's side of the
    link is an audit leaf on the alert, so the alert's history shows which incident it became.
    """
    from ombud.incidents.service import open_incident

    draft = draft_from_alert(session, alert_id)  # InvalidTransition unless escalated, NotFound if none
    existing = incident_of_alert(session, alert_id)
    if existing is not None:
        return existing
    incident = open_incident(
        session, title=title if title is not None else draft.title,
        description=description if description is not None else draft.description,
        actors=actors if actors is not None else draft.actors, window_start=window_start or draft.window_start,
        window_end=window_end or draft.window_end, discovered_at=discovered_at or draft.discovered_at, by=by,
        source_alert_id=alert_id)
    append_event(session, AuditEvent(
        action="insider.alert.incident", actor_type="employee" if by else "system",
        actor_id=by.external_id if by else "ombud.incidents", subject_type="insider_alert",
        subject_id=str(alert_id), detail={"incident": str(incident.id)}))
    return incident


def escalated_without_incident(session: Session, limit: int = 50) -> list[tuple[int, str, datetime]]:
    """Escalated insider alerts no incident has been opened from yet: (alert id, employee id, escalated at)."""
    from ombud.insider.models import AlertStatus, InsiderAlert

    opened = select(Incident.source_alert_id).where(Incident.source_alert_id.is_not(None))
    rows = session.execute(
        select(InsiderAlert.id, Employee.external_id, InsiderAlert.updated_at)
        .join(Employee, Employee.id == InsiderAlert.employee_id)
        .where(InsiderAlert.status == AlertStatus.escalated, InsiderAlert.id.not_in(opened))
        .order_by(InsiderAlert.updated_at.desc()).limit(limit)).all()
    return [(int(r[0]), str(r[1]), r[2]) for r in rows]
