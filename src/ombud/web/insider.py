"""Insider alerts pages for security analysts: the alerts list, one alert with its evidence and proofs, triage.

Employees appear under pseudonyms until an alert is escalated; opening the list or an alert is recorded in the
audit log, like every triage move. Forms post and redirect; a refused move is shown as a message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from ombud.access.service import find_employee
from ombud.api.deps import DbSession, Staff, get_context, require_roles
from ombud.api.insider import alert_detail, alert_read
from ombud.errors import InvalidInput, OmbudError
from ombud.insider import service, triage
from ombud.insider.models import AlertStatus, DismissReason, InsiderAlert
from ombud.staff.models import Role
from ombud.web.tables import Column, Filter, TableSpec, enum_choices
from ombud.web.templating import NavItem, flash, register_nav, render

router = APIRouter(prefix="/insider", tags=["pages"], include_in_schema=False)
_ROLES = (Role.security_analyst, Role.admin)
Analyst = Annotated[Staff, Depends(require_roles(*_ROLES))]
OptText = Annotated[str | None, Form()]
register_nav(NavItem("Insider alerts", ("/insider",), roles=_ROLES))

REASONS = {
    DismissReason.legitimate_work: "Legitimate work on a reason Ombud did not see",
    DismissReason.expected_for_role: "Expected for this team or role",
    DismissReason.duplicate: "Duplicate of another alert or case",
    DismissReason.insufficient_evidence: "Not enough to act on",
}


def _attempt(request: Request, session: Session, action: Callable[[], Any], done: str, back: str) -> Response:
    try:
        with session.begin_nested():
            action()
    except OmbudError as exc:
        where = f" ({exc.field})" if exc.field else ""
        return flash(request, RedirectResponse(back, status_code=303), exc.message + where, "error")
    return flash(request, RedirectResponse(back, status_code=303), done, "success")


ALERTS_TABLE = TableSpec(
    name="alerts",
    columns=(
        Column("id", "Alert", sort=InsiderAlert.id, numeric=True), Column("case", "Case", sort=InsiderAlert.case_id),
        Column("day", "Day", sort=InsiderAlert.day), Column("employee", "Employee"),
        Column("score", "Score", sort=InsiderAlert.score, numeric=True),
        Column("status", "Status", sort=InsiderAlert.status), Column("why", "Why"),
    ),
    filters=(
        Filter("status", "Status", InsiderAlert.status, choices=enum_choices(AlertStatus)),
        Filter("mine", "Assigned", choices=(("true", "to me"),), by_route=True),  # the viewer's own
    ),
    default_sort="-score",
    tiebreak=InsiderAlert.id,
)


@router.get("")
def alerts_page(request: Request, session: DbSession, staff: Analyst) -> Response:
    """Alerts, highest score first; paged, sorted and filtered by status (and those assigned to the viewer)."""
    key = get_context(request).keys.identifier_hash_key
    query = dict(request.query_params)
    stmt = select(InsiderAlert)
    if query.get("mine") == "true":
        stmt = stmt.where(InsiderAlert.assignee_id == staff.employee.id)
    page = ALERTS_TABLE.run(session, stmt, query)
    alerts = page.rows
    if alerts:
        triage.record_read(session, staff.employee, [a.id for a in alerts], what="list")
    page.rows = [alert_read(session, key, a) for a in alerts]
    return render(request, "insider/alerts.html", staff, table=page, scan=service.latest_scan(session))


@router.get("/alerts/{alert_id}")
def alert_page(alert_id: int, request: Request, session: DbSession, staff: Analyst) -> Response:
    """One alert: the findings in plain words, the evidence events with their proofs, and triage."""
    alert = service.get_alert(session, alert_id)
    triage.record_read(session, staff.employee, [alert.id], what="detail")
    detail = alert_detail(session, get_context(request).keys.identifier_hash_key, alert)
    from ombud.incidents import workflow as incidents

    escalated = alert.status is AlertStatus.escalated
    return render(request, "insider/alert.html", staff, alert=detail, reasons=REASONS,
                  can_move=bool(triage.MOVES[alert.status]), status=alert.status.value,
                  incident=incidents.incident_of_alert(session, alert_id) if escalated else None,
                  draft=incidents.draft_from_alert(session, alert_id) if escalated else None)


@router.post("/alerts/{alert_id}/incident")
def open_incident(alert_id: int, request: Request, session: DbSession, staff: Analyst, title: OptText = None,
                  actors: OptText = None, start: OptText = None, end: OptText = None, discovered: OptText = None,
                  description: OptText = None) -> Response:
    """Open the incident of an escalated alert from the form pre-filled with the alert's actors, window and story."""
    from ombud.incidents import workflow as incidents
    from ombud.web.incidents import _when

    opened: dict[str, int] = {}

    def act() -> None:
        incident = incidents.open_from_alert(
            session, alert_id, staff.employee, title=title, description=description,
            actors=(actors or "").replace(",", " ").split() if actors is not None else None,
            window_start=_when(start, "start") if start else None, window_end=_when(end, "end") if end else None,
            discovered_at=_when(discovered, "discovered") if discovered else None)
        opened["id"] = incident.id

    response = _attempt(request, session, act, "Incident opened from this alert", f"/insider/alerts/{alert_id}")
    if "id" in opened:
        response.headers["location"] = f"/incidents/{opened['id']}"
    return response


@router.post("/alerts/{alert_id}/assign")
def assign(alert_id: int, request: Request, session: DbSession, staff: Analyst, assignee: OptText = None) -> Response:
    """Assign to yourself or another analyst."""
    target = (assignee or "").strip()
    return _attempt(request, session, lambda: triage.assign(
        session, alert_id, staff.employee, find_employee(session, target) if target else None),
        f"Alert {alert_id} assigned", f"/insider/alerts/{alert_id}")


@router.post("/alerts/{alert_id}/dismiss")
def dismiss(alert_id: int, request: Request, session: DbSession, staff: Analyst, reason: OptText = None,
            note: OptText = None) -> Response:
    """Dismiss with a reason."""
    def act() -> None:
        if not reason:
            raise InvalidInput("choose a reason", field="reason")
        triage.dismiss(session, alert_id, staff.employee, reason, (note or "").strip() or None)

    return _attempt(request, session, act, f"Alert {alert_id} dismissed", f"/insider/alerts/{alert_id}")


@router.post("/alerts/{alert_id}/escalate")
def escalate(alert_id: int, request: Request, session: DbSession, staff: Analyst, note: OptText = None) -> Response:
    """Escalate to an incident."""
    return _attempt(request, session, lambda: triage.escalate(
        session, alert_id, staff.employee, (note or "").strip() or None),
        f"Alert {alert_id} escalated", f"/insider/alerts/{alert_id}")
