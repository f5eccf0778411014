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
from ombud.incidents import notices, rules, service, wording, workflow
from ombud.incidents import scope as scoping
from ombud.incidents.models import Exposure, IncidentKind, IncidentScope, NoticeChannel
from ombud.incidents.views import DELIVERY_FILTERS, deadline_state, incident_summary, notice_rows
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
                  customer: Annotated[str | None, Query(max_length=64)] = None,
                  delivery: Annotated[str | None, Query(max_length=16)] = None) -> Response:
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
    chosen = delivery if delivery in DELIVERY_FILTERS else None
    sent = notice_rows(session, incident_id, state=chosen, customer=customer or None, limit=PAGE_ROWS) \
        if summary.notices else []
    settings = get_context(request).settings
    approved = wording.by_id(session, summary.incident.approved_template_id) \
        if summary.incident.approved_template_id else None
    return render(request, "incidents/incident.html", staff, s=summary, rows=rows, proofs=proofs,
                  customer=customer or "", classes=classes, state=deadline_state, page_rows=PAGE_ROWS,
                  may_approve=staff.has_role(Role.privacy_officer), sent=sent, delivery=chosen or "",
                  delivery_states=list(DELIVERY_FILTERS), current_wording=wording.effective(
                      session, summary.incident, settings), approved_wording=approved)


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


@router.post("/incidents/declared/{incident_id}")
async def incident_declared(request: Request, staff: Responder, incident_id: int) -> Response:
    """Scope from an uploaded declared list (a leaked export, a vendor's breach): checked whole, stored whole."""
    from starlette.concurrency import run_in_threadpool
    from starlette.datastructures import UploadFile

    back = RedirectResponse(_back(incident_id), status_code=303)
    form = await request.form()
    upload = form.get("file")
    if not isinstance(upload, UploadFile) or not upload.filename:
        return flash(request, back, "Choose a CSV file of customer_id, data_class (declared)", "error")
    data = await upload.read()
    ctx = get_context(request)
    name = upload.filename

    def scope() -> IncidentScope:
        try:
            lines = data.decode("utf-8-sig").splitlines()
        except UnicodeDecodeError:
            raise InvalidInput(f"{name}: not UTF-8 text", field="declared") from None
        with ctx.sessions() as session:
            incident = service.get_incident(session, incident_id)
            window = (incident.window_start, incident.window_end)
        frame = scoping.parse_declared(lines, window, name)
        return scoping.scope_incident(ctx, incident_id, staff.employee.id, frame)

    try:
        # Off the event loop: checking the list and verifying the log take a while on a large store.
        result = await run_in_threadpool(scope)
    except OmbudError as exc:
        return flash(request, back, f"Nothing stored: {exc.message}", "error")
    return flash(request, back, f"Scope v{result.version} with the declared list {upload.filename}: "
                                f"{result.customers:,} customers, {result.rows:,} exposed items", "success")


@router.post("/incidents/{incident_id}/resend")
def incident_resend(request: Request, session: DbSession, staff: Responder, incident_id: int, customer: Text,
                    channel: Annotated[str, Form()] = "") -> Response:
    """Send one customer's notice again (a bounce, a returned letter), by the same or the other channel."""
    incident = service.get_incident(session, incident_id)
    settings = get_context(request).settings

    def act() -> Any:
        try:
            chosen = NoticeChannel(channel) if channel else None
        except ValueError:
            raise InvalidInput(f"unknown channel {channel!r}", field="channel") from None
        return notices.resend(session, incident, customer.strip(), staff.employee, settings, chosen)

    return _attempt(request, session, act, lambda n: f"Notice to {n.customer_id} queued again by {n.channel.value} "
                    f"(send {n.sends})", _back(incident_id) + "#notices-heading")


@router.post("/incidents/{incident_id}/letters")
def incident_letters(request: Request, session: DbSession, staff: Responder, incident_id: int) -> Response:
    """Render every queued letter into one PDF for the print run (kept in the data folder), and download it."""
    from ombud.incidents import letters

    incident = service.get_incident(session, incident_id)
    ctx = get_context(request)
    folder = ctx.settings.data_dir / "letters"
    try:
        with session.begin_nested():
            run = letters.print_letters(session, incident, staff.employee, ctx.settings, folder)
    except OmbudError as exc:
        return flash(request, RedirectResponse(_back(incident_id), status_code=303), exc.message, "error")
    if run.pdf is None:
        return flash(request, RedirectResponse(_back(incident_id), status_code=303), "No letters wait for printing",
                     "info")
    session.commit()  # the letters are marked printed before the file leaves
    return Response(run.pdf.read_bytes(), media_type="application/pdf", headers={
        "content-disposition": f'attachment; filename="{run.pdf.name}"', "cache-control": "no-store"})


@router.post("/incidents/{incident_id}/reports/{jurisdiction}/submitted")
def incident_report_submitted(request: Request, session: DbSession, staff: Responder, incident_id: int,
                              jurisdiction: str) -> Response:
    """Record that a regulator's report was submitted (its deadline is met)."""
    from ombud.incidents import reports

    incident = service.get_incident(session, incident_id)
    code = jurisdiction.upper()[:16]
    return _attempt(request, session, lambda: reports.mark_submitted(session, incident, code, staff.employee),
                    lambda _: f"The {code} report is recorded as submitted", _back(incident_id))
