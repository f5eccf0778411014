"""Console pages of incidents: the list, an incident (exposure, deadlines, notices, timeline), the notice preview,
and the jurisdictions table. For security analysts, privacy officers and admins; approval is a privacy officer's.

Forms post and redirect (post/redirect/get); a domain error is rolled back to a savepoint and flashed.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select

from ombud.api.deps import DbSession, Staff, get_context, require_roles
from ombud.clock import ensure_utc
from ombud.errors import InvalidInput, OmbudError
from ombud.incidents import notices, rules, service, workflow
from ombud.incidents import scope as scoping
from ombud.incidents.models import Exposure, IncidentKind
from ombud.incidents.views import deadline_state, incident_summary
from ombud.staff.models import Role
from ombud.web.access import _attempt
from ombud.web.templating import NavItem, flash, register_nav, render

router = APIRouter(tags=["pages"], include_in_schema=False)
_ROLES = (Role.security_analyst, Role.privacy_officer, Role.admin)
Responder = Annotated[Staff, Depends(require_roles(*_ROLES))]
Text = Annotated[str, Form()]
register_nav(NavItem("Incidents", ("/incidents",), roles=_ROLES))
PAGE_ROWS = 200


def _when(value: str, field: str) -> datetime:
    try:
        return ensure_utc(datetime.fromisoformat(value.strip()))
    except ValueError:
        raise InvalidInput(f"{value!r} is not a date and time like 2026-03-02T10:00", field=field) from None


@router.get("/incidents")
def incidents_home(request: Request, session: DbSession, staff: Responder) -> Response:
    """Every incident with its state and nearest deadline; overdue ones first in the count."""
    items = service.list_incidents(session)
    summaries = [incident_summary(session, i.id) for i in items]
    overdue = sum(1 for s in summaries for d in s.deadlines if s.state_of(d) == "overdue")
    return render(request, "incidents/index.html", staff, summaries=summaries, overdue=overdue,
                  kinds=[k.value for k in IncidentKind], escalated=workflow.escalated_without_incident(session))


@router.post("/incidents/from-alert/{alert_id}")
def incidents_from_alert(request: Request, session: DbSession, staff: Responder, alert_id: int) -> Response:
    """Open the incident of an escalated insider alert, and go to it."""
    try:
        with session.begin_nested():
            incident = workflow.open_from_alert(session, alert_id, staff.employee)
    except OmbudError as exc:
        return flash(request, RedirectResponse("/incidents", status_code=303), exc.message, "error")
    return flash(request, RedirectResponse(f"/incidents/{incident.id}", status_code=303),
                 f"Incident {incident.id} opened from alert {alert_id}", "success")


@router.post("/incidents")
def incidents_open(request: Request, session: DbSession, staff: Responder, title: Text, start: Text, end: Text,
                   discovered: Text, actors: Annotated[str, Form()] = "", kind: Annotated[str, Form()] = "insider",
                   description: Annotated[str, Form()] = "") -> Response:
    """Open an incident by hand."""
    created: dict[str, int] = {}

    def act() -> int:
        try:
            kind_value = IncidentKind(kind)
        except ValueError:
            raise InvalidInput(f"unknown kind {kind!r}", field="kind") from None
        incident = service.open_incident(
            session, title=title, description=description, actors=actors.replace(",", " ").split(),
            window_start=_when(start, "start"), window_end=_when(end, "end"),
            discovered_at=_when(discovered, "discovered"), by=staff.employee, kind=kind_value)
        created["id"] = incident.id
        return incident.id

    response = _attempt(request, session, act, lambda i: f"Incident {i} opened", "/incidents")
    if "id" in created:
        response.headers["location"] = f"/incidents/{created['id']}"
    return response


@router.get("/incidents/jurisdictions")
def jurisdictions(request: Request, staff: Responder) -> Response:
    """The breach-notice rules as data, with their sources."""
    return render(request, "incidents/jurisdictions.html", staff, rules=list(rules.load_rules().values()))


@router.get("/incidents/{incident_id}")
def incident_page(request: Request, session: DbSession, staff: Responder, incident_id: int,
                  customer: Annotated[str | None, Query(max_length=64)] = None) -> Response:
    """An incident: status, exposure (first rows, or one customer's with proofs), deadlines, notices, timeline."""
    summary = incident_summary(session, incident_id)
    rows: list[dict[str, Any]] = []
    proofs: list[scoping.LeafProof] = []
    classes: dict[str, int] = {}
    if summary.scope is not None:
        frame = scoping.exposure_frame(session, summary.scope, customer or None)
        rows = frame.head(PAGE_ROWS).to_dicts()
        classes = dict(session.execute(
            select(Exposure.data_class, func.count(func.distinct(Exposure.customer_id)))
            .where(Exposure.scope_id == summary.scope.id).group_by(Exposure.data_class)).all())
        if customer and rows:
            proofs = scoping.proofs(session, summary.scope, customer)
    return render(request, "incidents/incident.html", staff, s=summary, rows=rows, proofs=proofs,
                  customer=customer or "", classes=classes, state=deadline_state, page_rows=PAGE_ROWS,
                  may_approve=staff.has_role(Role.privacy_officer))


def _back(incident_id: int) -> str:
    return f"/incidents/{incident_id}"


@router.post("/incidents/{incident_id}/scope")
def incident_scope(request: Request, session: DbSession, staff: Responder, incident_id: int,
                   start: Annotated[str, Form()] = "", end: Annotated[str, Form()] = "",
                   actors: Annotated[str, Form()] = "") -> Response:
    """Change the window or actors if given, then verify the log and compute the exposure."""
    incident = service.get_incident(session, incident_id)
    back = RedirectResponse(_back(incident_id), status_code=303)
    try:
        if start or end or actors:
            with session.begin_nested():
                workflow.change_scope(
                    session, incident, staff.employee, actors=actors.replace(",", " ").split() or None,
                    window_start=_when(start, "start") if start else None,
                    window_end=_when(end, "end") if end else None)
        # Scoping signs, verifies and stores in transactions of its own: end this one first (SQLite has one writer).
        session.commit()
        result = scoping.scope_incident(get_context(request), incident_id, staff.employee.id)
    except OmbudError as exc:
        return flash(request, back, exc.message, "error")
    return flash(request, back, f"Scope v{result.version}: {result.customers:,} customers, {result.rows:,} "
                                "exposed items", "success")


@router.post("/incidents/{incident_id}/wording")
def incident_wording(request: Request, session: DbSession, staff: Responder, incident_id: int,
                     what_happened: Text, what_we_are_doing: Text,
                     law_enforcement_delay: Annotated[bool, Form()] = False) -> Response:
    """The incident's own words for the notices."""
    incident = service.get_incident(session, incident_id)
    return _attempt(request, session, lambda: service.update_wording(
        session, incident, staff.employee, what_happened=what_happened, what_we_are_doing=what_we_are_doing,
        law_enforcement_delay=law_enforcement_delay), lambda _: "Wording saved", _back(incident_id))


@router.post("/incidents/{incident_id}/note")
def incident_note(request: Request, session: DbSession, staff: Responder, incident_id: int, text: Text) -> Response:
    incident = service.get_incident(session, incident_id)
    return _attempt(request, session, lambda: service.add_note(session, incident, staff.employee, text),
                    lambda _: "Note added", _back(incident_id))


@router.post("/incidents/{incident_id}/close")
def incident_close(request: Request, session: DbSession, staff: Responder, incident_id: int,
                   note: Annotated[str, Form()] = "") -> Response:
    incident = service.get_incident(session, incident_id)
    return _attempt(request, session, lambda: service.transition(
        session, incident, service.IncidentStatus.closed, staff.employee, note), lambda _: "Closed", _back(incident_id))


@router.get("/incidents/{incident_id}/preview")
def incident_preview(request: Request, session: DbSession, staff: Responder, incident_id: int) -> Response:
    """The dry run: counts per jurisdiction and channel, a sample notice per jurisdiction, every problem."""
    incident = service.get_incident(session, incident_id)
    chosen = scoping.get_scope(session, incident)
    run = notices.dry_run(session, incident, chosen, get_context(request).settings)
    return render(request, "incidents/preview.html", staff, incident=incident, run=run,
                  may_approve=staff.has_role(Role.privacy_officer))


@router.post("/incidents/{incident_id}/approve")
def incident_approve(request: Request, session: DbSession, staff: Responder, incident_id: int) -> Response:
    """A privacy officer approves the notices of the current scope."""
    incident = service.get_incident(session, incident_id)
    settings = get_context(request).settings
    return _attempt(request, session, lambda: notices.approve(session, incident, staff.employee, settings),
                    lambda _: "Notices approved", _back(incident_id))


@router.post("/incidents/{incident_id}/send")
def incident_send(request: Request, session: DbSession, staff: Responder, incident_id: int) -> Response:
    """Queue every approved notice not yet queued (emails through the outbox, letters for the print run)."""
    incident = service.get_incident(session, incident_id)
    settings = get_context(request).settings
    return _attempt(request, session, lambda: notices.send(session, incident, staff.employee, settings),
                    lambda r: f"Queued {r.emails:,} email(s) and {r.letters:,} letter(s)", _back(incident_id))
