"""Orchestration across domains: an incident from an escalated insider alert, and changes of scope."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from ombud import clock
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


def open_from_alert(session: Session, alert_id: int, by: Employee | None) -> Incident:
    """Open the incident of an escalated insider alert (once: a second call returns the same incident).

    The actor is the alert's employee; the window spans every escalated alert of the alert's case (serial
    snooping by one person is one incident); the legal clock starts now, when the escalation made it known.
    """
    from sqlalchemy import select

    from ombud.errors import Conflict, NotFound
    from ombud.incidents.service import open_incident
    from ombud.insider.models import AlertStatus, InsiderAlert

    alert = session.get(InsiderAlert, alert_id)
    if alert is None:
        raise NotFound(f"no insider alert {alert_id}", field="alert_id")
    if alert.status is not AlertStatus.escalated:
        raise Conflict(f"alert {alert_id} is {alert.status.value}; only an escalated alert opens an incident",
                       field="alert_id")
    existing = session.scalar(select(Incident).where(Incident.source_alert_id == alert_id))
    if existing is not None:
        return existing
    related = list(session.scalars(select(InsiderAlert).where(
        InsiderAlert.case_id == alert.case_id, InsiderAlert.status == AlertStatus.escalated)))
    employee = session.get(Employee, alert.employee_id)
    assert employee is not None
    start = min(a.window_start for a in related)
    end = max(a.window_end for a in related)
    return open_incident(
        session, title=f"Insider alert {alert_id}: {employee.external_id}",
        description=alert.explanation[:20000], actors=[employee.external_id], window_start=start,
        window_end=end + timedelta(seconds=1),  # the window is [start, end): the alert's last event is inside
        discovered_at=min(clock.now(), alert.decided_at or clock.now()), by=by, source_alert_id=alert_id)
