"""Console pages of victims' records requests: the queue (/requests), a request's page, the SLA dashboard, and the
form for a mailed letter or an email. Forms post and redirect; a refusal is rolled back and shown as a message."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from ombud.access import service as access_service
from ombud.api.deps import DbSession, Staff, get_context, require_roles
from ombud.api.errors import error_page
from ombud.errors import InvalidInput, OmbudError
from ombud.staff.models import Role
from ombud.victim_requests import discovery, service, sla, states, views, workflow
from ombud.victim_requests.models import EvidenceKind, MatchVerdict, VictimRequest
from ombud.victim_requests.schemas import LetterIn
from ombud.victim_requests.states import GROUND_TEXT, Status
from ombud.web.tables import Column, Filter, TableSpec, enum_choices
from ombud.web.templating import NavItem, flash, register_nav, render
from ombud.web.victim_requests import TEXT_FIELDS, field_errors, to_request

router = APIRouter(prefix="/requests", tags=["pages"], include_in_schema=False)
_ROLES = (Role.agent, Role.privacy_officer)
register_nav(NavItem("Requests", ("/requests",), roles=_ROLES))
Worker = Annotated[Staff, Depends(require_roles(*_ROLES))]
Officer = Annotated[Staff, Depends(require_roles(Role.privacy_officer))]
Text = Annotated[str, Form()]
OptText = Annotated[str | None, Form()]


def _attempt(request: Request, session: Session, back: str, action: Callable[[], Any], done: str) -> Response:
    try:
        with session.begin_nested():
            action()
    except OmbudError as exc:
        where = f" ({exc.field})" if exc.field else ""
        return flash(request, RedirectResponse(back, status_code=303), exc.message + where, "error")
    return flash(request, RedirectResponse(back, status_code=303), done, "success")


QUEUE_TABLE = TableSpec(
    name="requests",
    columns=(
        Column("reference", "Reference", sort=VictimRequest.reference),
        Column("status", "Stage", sort=VictimRequest.status),
        Column("channel", "Channel", sort=VictimRequest.channel),
        Column("received", "Received", sort=VictimRequest.received_at),
        Column("due", "Due", sort=VictimRequest.due_at),
        Column("days_left", "Days left"), Column("assignee", "Assignee"), Column("repeat_of", "Repeat of"),
    ),
    filters=(
        # The stage and "overdue only" shape the query itself (service.queue_query).
        Filter("status", "Stage", choices=enum_choices(Status), by_route=True),
        Filter("overdue", "Due", choices=(("true", "overdue only"),), by_route=True),
    ),
    default_sort="due",
    tiebreak=VictimRequest.id,
)


@router.get("")
def queue(request: Request, session: DbSession, staff: Worker) -> Response:
    """Open requests by due date (overdue first), filtered by stage, paged and sorted."""
    ctx = get_context(request)
    query = dict(request.query_params)
    if query.get("sort") == "received":  # the queue's old link for "newest received"
        query["sort"] = "-received"
    status = query.get("status")
    wanted = Status(status) if status in {s.value for s in Status} else None
    stmt = service.queue_query(status=wanted, overdue_only=query.get("overdue") == "true", mine=staff.employee)
    page = QUEUE_TABLE.run(session, stmt.order_by(None), query)
    page.rows = views.summaries(session, ctx.settings, page.rows)
    return render(request, "victim_requests/queue.html", staff, table=page, labels=states.LABELS)


@router.get("/sla")
def dashboard(request: Request, session: DbSession, staff: Worker) -> Response:
    """The SLA dashboard."""
    report = sla.report(session, get_context(request).settings)
    return render(request, "victim_requests/sla.html", staff, report=report, labels=states.LABELS)


@router.get("/letter")
def letter_form(request: Request, staff: Worker) -> Response:
    """Enter a mailed letter or an email that reached the designated address."""
    return render(request, "victim_requests/letter.html", staff, form={}, errors={})


@router.post("/letter")
async def letter_submit(request: Request, session: DbSession, staff: Worker) -> Response:
    """Take the letter in: received when it reached the designated channel; the scan attached."""
    ctx = get_context(request)
    raw = await request.form(max_files=1, max_fields=100)
    form = {k: v for k, v in raw.items() if isinstance(v, str)}
    kept = {k: form.get(k, "") for k in (*TEXT_FIELDS, "channel", "received_at")}
    try:
        received = datetime.fromisoformat(form.get("received_at", "")) if form.get("received_at") else None
        if received is not None and received.tzinfo is None:
            received = received.replace(tzinfo=service.zone_of(ctx.settings))
        data = LetterIn.model_validate({**to_request(form), "statement_true": True,
                                        "channel": form.get("channel") or "mail", "received_at": received})
    except ValueError as exc:
        errors = field_errors(exc) if isinstance(exc, ValidationError) else {"received_at": "not a date and time"}
        return render(request, "victim_requests/letter.html", staff, status_code=422, form=kept, errors=errors)
    uploads = []
    scan = raw.get("scan")
    if isinstance(scan, UploadFile) and scan.filename:
        content = await scan.read(ctx.settings.requests_max_upload_mb * 1024 * 1024 + 1)
        uploads.append(service.Upload(EvidenceKind.letter, scan.filename, content, field="scan"))
    try:
        with session.begin_nested():
            intake = service.receive_letter(session, ctx.keys, ctx.settings, data, entered_by=staff.employee,
                                            uploads=uploads)
            workflow.send_receipt(session, ctx.keys, ctx.settings, intake.request, intake.token)
    except OmbudError as exc:
        return render(request, "victim_requests/letter.html", staff, status_code=422, form=kept,
                      errors={exc.field or "form": exc.message})
    return flash(request, RedirectResponse(f"/requests/{intake.request.reference}", status_code=303),
                 f"Request {intake.request.reference} entered; due {intake.request.due_at:%Y-%m-%d %H:%M} UTC.",
                 "success")


@router.get("/{ref}")
def request_page(ref: str, request: Request, session: DbSession, staff: Worker) -> Response:
    """A request: identifiers, evidence, verification, matches with explanations, declines, timeline, clock."""
    ctx = get_context(request)
    found = service.find_request(session, ref)
    page = views.detail(session, ctx.keys, ctx.settings, found, staff.employee)
    return render(request, "victim_requests/request.html", staff, r=page, labels=states.LABELS,
                  moves=sorted((s for s in states.TRANSITIONS[found.status] if s is not Status.declined),
                               key=list(Status).index),
                  grounds=GROUND_TEXT, bases=workflow.BASES, verdicts=list(MatchVerdict),
                  is_officer=staff.has_role(Role.privacy_officer), me=staff.employee.external_id,
                  running=found.status in states.CLOCK_RUNNING, readable={s.value for s in states.WORKING})


@router.get("/{ref}/evidence/{evidence_id}")
def evidence_file(ref: str, evidence_id: int, request: Request, session: DbSession, staff: Worker) -> Response:
    """Open an evidence file through the access broker, the request as purpose: the file, or 403 with the reason
    (either way one decision on the record, committed with this page)."""
    ctx = get_context(request)
    opened = service.open_evidence(session, ctx.keys, service.find_request(session, ref), evidence_id,
                                   staff.employee, channel="console")
    if opened.data is None:
        return error_page(request, 403, f"{opened.decision.reason} (decision recorded at leaf "
                                        f"{opened.decision.audit_index})")
    return Response(opened.data, media_type=opened.evidence.content_type, headers={
        "content-disposition": f'inline; filename="evidence-{opened.evidence.id}"', "cache-control": "no-store",
        "x-content-type-options": "nosniff", "content-security-policy": "default-src 'none'; sandbox"})


def _back(ref: str) -> str:
    return f"/requests/{ref}"


@router.post("/{ref}/assign")
def assign(ref: str, request: Request, session: DbSession, staff: Worker, assignee: Text) -> Response:
    found = service.find_request(session, ref)
    return _attempt(request, session, _back(ref), lambda: service.assign(
        session, found, actor=staff.employee, assignee=access_service.find_employee(session, assignee)), "Assigned.")


@router.post("/{ref}/move")
def move(ref: str, request: Request, session: DbSession, staff: Worker, to: Text, reason: OptText = None) -> Response:
    found = service.find_request(session, ref)

    def act() -> None:
        service.require_worker(found, staff.employee)
        workflow.transition(session, found, to, actor=staff.employee, reason=reason)

    return _attempt(request, session, _back(ref), act, f"Moved to {to.replace('_', ' ')}.")


@router.post("/{ref}/verify")
def verify(ref: str, request: Request, session: DbSession, staff: Worker, confident: Text,
           basis: Annotated[list[str] | None, Form()] = None, note: OptText = None) -> Response:
    ctx = get_context(request)
    found = service.find_request(session, ref)
    return _attempt(request, session, _back(ref), lambda: workflow.verify(
        session, ctx.keys, found, actor=staff.employee, confident=confident == "yes", basis=basis or [], note=note),
        "Verification recorded.")


@router.post("/{ref}/information")
def information(ref: str, request: Request, session: DbSession, staff: Worker, what: Text) -> Response:
    ctx = get_context(request)
    found = service.find_request(session, ref)
    return _attempt(request, session, _back(ref), lambda: workflow.request_information(
        session, ctx.keys, ctx.settings, found, actor=staff.employee, what=what),
        "Asked the requester for more information (the clock keeps running).")


@router.post("/{ref}/discovery")
def run_discovery(ref: str, request: Request, session: DbSession, staff: Worker) -> Response:
    ctx = get_context(request)
    found = service.find_request(session, ref)
    return _attempt(request, session, _back(ref), lambda: discovery.run(session, ctx.keys, found,
                                                                        actor=staff.employee),
                    "Discovery ran under this request; what it found is below and on the record.")


@router.post("/{ref}/matches/{match_id}")
def verdict(ref: str, match_id: int, request: Request, session: DbSession, staff: Worker, verdict: Text,
            note: OptText = None) -> Response:
    found = service.find_request(session, ref)
    return _attempt(request, session, _back(ref) + f"#match-{match_id}", lambda: workflow.set_verdict(
        session, found, match_id, actor=staff.employee, verdict=verdict, note=note), "Verdict recorded.")


@router.post("/{ref}/review/finish")
def finish_review(ref: str, request: Request, session: DbSession, staff: Worker) -> Response:
    found = service.find_request(session, ref)
    return _attempt(request, session, _back(ref), lambda: workflow.finish_review(session, found,
                                                                                 actor=staff.employee),
                    "Review finished: on to the records package.")


@router.post("/{ref}/declines")
def propose_decline(ref: str, request: Request, session: DbSession, staff: Worker, ground: Text,
                    explanation: Text) -> Response:
    found = service.find_request(session, ref)
    return _attempt(request, session, _back(ref), lambda: workflow.propose_decline(
        session, found, actor=staff.employee, ground=ground, explanation=explanation),
        "Decline proposed; another privacy officer decides.")


@router.post("/{ref}/declines/{decline_id}")
def review_decline(ref: str, decline_id: int, request: Request, session: DbSession, staff: Officer,
                   decision: Text, note: OptText = None) -> Response:
    ctx = get_context(request)
    found = service.find_request(session, ref)
    if decision not in ("confirm", "reject"):
        raise InvalidInput("confirm or reject", field="decision")
    return _attempt(request, session, _back(ref), lambda: workflow.review_decline(
        session, ctx.keys, found, decline_id, actor=staff.employee, confirm=decision == "confirm", note=note),
        "Decline confirmed; the letter is queued." if decision == "confirm" else "Decline rejected.")
