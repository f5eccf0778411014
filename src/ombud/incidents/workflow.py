"""Orchestration across domains: an incident from an escalated insider alert, and changes of scope."""

from __future__ import annotations

from datetime import datetime

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
