"""API of victims' records requests (FCRA 609(e)) for the retailer's support tools and the console.

Staff only (bearer token or session); the victim's own face is the portal (``/request``). Every change goes through
the domain's workflow, so the API, the pages and the command line refuse the same things.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, File, Form, Header, Query, Request, UploadFile
from fastapi.responses import Response

from ombud.access import service as access_service
from ombud.api.deps import DbSession, Staff, get_context, require_roles
from ombud.staff.models import Role
from ombud.victim_requests import discovery, service, sla, sweep, views, workflow
from ombud.victim_requests.models import EvidenceKind, RequestDecline
from ombud.victim_requests.schemas import (
    DeclineIn,
    DeclineRead,
    DeclineReviewIn,
    EvidenceRead,
    EvidenceRefusal,
    InformationIn,
    LetterIn,
    RequestCreate,
    RequestCreated,
    RequestDetail,
    RequestPage,
    SlaReport,
    SweepReport,
    TransitionIn,
    VerdictIn,
    VerificationIn,
)
from ombud.victim_requests.states import GROUND_TEXT, Channel, Status

router = APIRouter(prefix="/api/victim-requests", tags=["victim requests"])

Worker = Annotated[Staff, Depends(require_roles(Role.agent, Role.privacy_officer))]
Officer = Annotated[Staff, Depends(require_roles(Role.privacy_officer))]


def _created(request: Request, intake: service.Intake) -> RequestCreated:
    ctx = get_context(request)
    r = intake.request
    return RequestCreated(id=r.id, reference=r.reference, status=r.status, received_at=r.received_at,
                          due_at=r.due_at, status_url=workflow.status_url(ctx.settings, intake.token),
                          repeat_of=intake.repeat_of.reference if intake.repeat_of else None)


#: A header is text or absent (the document's type is a string, not a string or null: a header has no null).
IdempotencyKey = Annotated[str, Header(min_length=16, max_length=80, description="16 to 80 characters.")]


@router.post("", response_model=RequestCreated, status_code=201)
def create_request(body: RequestCreate, request: Request, session: DbSession, staff: Worker,
                   idempotency_key: IdempotencyKey = None) -> RequestCreated:
    """Take a request in from a support tool (channel ``api``): received now, due in 30 days, receipt queued.
    The same ``Idempotency-Key`` again returns the first request."""
    ctx = get_context(request)
    intake = service.submit(session, ctx.keys, ctx.settings, body, channel=Channel.api,
                            entered_by=staff.employee, idempotency_key=idempotency_key)
    if intake.created:
        workflow.send_receipt(session, ctx.keys, ctx.settings, intake.request, intake.token)
    return _created(request, intake)


@router.post("/letters", response_model=RequestCreated, status_code=201)
def receive_letter(body: LetterIn, request: Request, session: DbSession, staff: Worker) -> RequestCreated:
    """A mailed letter or email typed in by staff; ``received_at`` is when it reached the designated channel.
    Attach the scan with ``POST /{ref}/evidence`` (kind ``letter``)."""
    ctx = get_context(request)
    intake = service.receive_letter(session, ctx.keys, ctx.settings, body, entered_by=staff.employee)
    workflow.send_receipt(session, ctx.keys, ctx.settings, intake.request, intake.token)
    return _created(request, intake)


@router.get("", response_model=RequestPage)
def list_requests(request: Request, session: DbSession, staff: Worker,
                  status: Status | None = None, overdue: bool = False,
                  sort: Annotated[str, Query(pattern="^(due|received|reference)$")] = "due",
                  limit: Annotated[int, Query(ge=1, le=500)] = 100,
                  offset: Annotated[int, Query(ge=0)] = 0) -> RequestPage:
    """The queue: open requests by due date (overdue first), yours and your team's (privacy officers see all)."""
    ctx = get_context(request)
    rows, total = service.list_requests(session, status=status, overdue_only=overdue, mine=staff.employee,
                                        sort=sort, limit=limit, offset=offset)
    return RequestPage(items=views.summaries(session, ctx.settings, rows), total=total)


@router.get("/sla", response_model=SlaReport)
def sla_report(request: Request, session: DbSession, _staff: Worker,
               window_days: Annotated[int, Query(ge=1, le=3650)] = 365) -> SlaReport:
    """Open requests by days left, overdue (goal: zero), median and p95 days to close, declines by ground, channels."""
    return sla.report(session, get_context(request).settings, window_days=window_days)


@router.post("/sweep", response_model=SweepReport)
def run_sweep(request: Request, session: DbSession, _staff: Officer) -> SweepReport:
    """Run the clock's sweep now (reminders, escalations, overdue; each once)."""
    return sweep.sweep(session, get_context(request).settings)


@router.get("/grounds")
def decline_grounds(_staff: Worker) -> dict[str, str]:
    """The four statutory decline grounds and how the decline letter words them."""
    return {g.value: text for g, text in GROUND_TEXT.items()}


def _detail(request: Request, session: DbSession, staff: Staff, ref: str) -> RequestDetail:
    ctx = get_context(request)
    return views.detail(session, ctx.keys, ctx.settings, service.find_request(session, ref), staff.employee)


@router.get("/{ref}", response_model=RequestDetail)
def get_request(ref: str, request: Request, session: DbSession, staff: Worker) -> RequestDetail:
    """The request: identifiers, evidence, verification, matches with explanations, declines, timeline, clock.
    Opening it is on the audit log."""
    return _detail(request, session, staff, ref)


@router.post("/{ref}/assign", response_model=RequestDetail)
def assign(ref: str, request: Request, session: DbSession, staff: Worker,
           assignee: Annotated[str, Query(description="Email or directory id of the agent or privacy officer.")],
           ) -> RequestDetail:
    """Give the request to someone (privacy officers), or take one of your team's (agents)."""
    service.assign(session, service.find_request(session, ref), actor=staff.employee,
                   assignee=access_service.find_employee(session, assignee))
    return _detail(request, session, staff, ref)


@router.post("/{ref}/evidence", response_model=EvidenceRead, status_code=201)
async def add_evidence(ref: str, request: Request, session: DbSession, staff: Worker,
                       kind: Annotated[EvidenceKind, Form()], file: Annotated[UploadFile, File()]) -> EvidenceRead:
    """Attach a file (PDF, JPEG or PNG, checked by content): a letter's scan, an ID, a report, an affidavit."""
    ctx = get_context(request)
    data = await file.read(ctx.settings.requests_max_upload_mb * 1024 * 1024 + 1)
    target = service.find_request(session, ref)
    evidence = service.add_evidence(session, ctx.keys, ctx.settings, target,
                                    service.Upload(kind, file.filename, data, field="file"), actor=staff.employee)
    return EvidenceRead(id=evidence.id, kind=evidence.kind, content_type=evidence.content_type, size=evidence.size,
                        sha256=evidence.sha256, uploaded_at=evidence.uploaded_at,
                        uploaded_by=staff.employee.external_id)


@router.get("/{ref}/evidence/{evidence_id}", response_class=Response,
            responses={200: {"content": {"application/pdf": {}, "image/jpeg": {}, "image/png": {}}},
                       403: {"model": EvidenceRefusal}})
def open_evidence(ref: str, evidence_id: int, request: Request, session: DbSession, staff: Worker) -> Response:
    """The file, opened through the access broker with the request as purpose; 403 with the reason when the
    policies refuse. Every opening is one decision on the audit log, refusals included."""
    ctx = get_context(request)
    opened = service.open_evidence(session, ctx.keys, service.find_request(session, ref), evidence_id,
                                   staff.employee, channel="api")
    if opened.data is None:
        refusal = EvidenceRefusal(detail=opened.decision.reason or "refused", decision=opened.decision.decision.value,
                                  purpose=opened.decision.purpose, policy_ids=list(opened.decision.policy_ids),
                                  audit_index=opened.decision.audit_index)
        return Response(refusal.model_dump_json(), status_code=403, media_type="application/json")
    return Response(opened.data, media_type=opened.evidence.content_type, headers={
        "content-disposition": f'attachment; filename="evidence-{opened.evidence.id}"', "cache-control": "no-store",
        "x-content-type-options": "nosniff"})


@router.post("/{ref}/transition", response_model=RequestDetail)
def transition(ref: str, body: TransitionIn, request: Request, session: DbSession, staff: Worker) -> RequestDetail:
    """Move the request along the state machine (illegal moves 409; ``declined`` only through a confirmed decline)."""
    target = service.find_request(session, ref)
    service.require_worker(target, staff.employee)
    workflow.transition(session, target, body.to, actor=staff.employee, reason=body.reason)
    return _detail(request, session, staff, ref)


@router.post("/{ref}/verify", response_model=RequestDetail)
def verify(ref: str, body: VerificationIn, request: Request, session: DbSession, staff: Worker) -> RequestDetail:
    """Record the identity decision and its basis; a confident one moves the request to ``verified``."""
    ctx = get_context(request)
    target = service.find_request(session, ref)
    workflow.verify(session, ctx.keys, target, actor=staff.employee, confident=body.confident,
                    basis=list(body.basis), note=body.note)
    return _detail(request, session, staff, ref)


@router.post("/{ref}/information", response_model=RequestDetail)
def request_information(ref: str, body: InformationIn, request: Request, session: DbSession,
                        staff: Worker) -> RequestDetail:
    """Ask the requester for more; the 30-day clock keeps running."""
    ctx = get_context(request)
    workflow.request_information(session, ctx.keys, ctx.settings, service.find_request(session, ref),
                                 actor=staff.employee, what=body.what)
    return _detail(request, session, staff, ref)


@router.post("/{ref}/discovery", response_model=RequestDetail)
def run_discovery(ref: str, request: Request, session: DbSession, staff: Worker) -> RequestDetail:
    """Search the identity index for the request's verified identifiers (purpose ``request:<id>``, audited) and
    record every account, card and application found."""
    ctx = get_context(request)
    discovery.run(session, ctx.keys, service.find_request(session, ref), actor=staff.employee)
    return _detail(request, session, staff, ref)


@router.post("/{ref}/matches/{match_id}/verdict", response_model=RequestDetail)
def set_verdict(ref: str, match_id: int, body: VerdictIn, request: Request, session: DbSession,
                staff: Worker) -> RequestDetail:
    """Mark a found account, card or application as fraud, the victim's own, or not related."""
    workflow.set_verdict(session, service.find_request(session, ref), match_id, actor=staff.employee,
                         verdict=body.verdict, note=body.note)
    return _detail(request, session, staff, ref)


@router.post("/{ref}/review/finish", response_model=RequestDetail)
def finish_review(ref: str, request: Request, session: DbSession, staff: Worker) -> RequestDetail:
    """Every match decided and at least one fraud: on to the records package."""
    workflow.finish_review(session, service.find_request(session, ref), actor=staff.employee)
    return _detail(request, session, staff, ref)


def _decline_read(session: DbSession, decline: RequestDecline) -> DeclineRead:
    return views.decline_read(session, decline)


@router.post("/{ref}/declines", response_model=DeclineRead, status_code=201)
def propose_decline(ref: str, body: DeclineIn, session: DbSession, staff: Worker) -> DeclineRead:
    """Propose a decline on one of the four statutory grounds; a privacy officer who did not propose it decides."""
    decline = workflow.propose_decline(session, service.find_request(session, ref), actor=staff.employee,
                                       ground=body.ground, explanation=body.explanation)
    return _decline_read(session, decline)


@router.post("/{ref}/declines/{decline_id}/review", response_model=DeclineRead)
def review_decline(ref: str, decline_id: int, body: DeclineReviewIn, request: Request, session: DbSession,
                   staff: Officer) -> DeclineRead:
    """Confirm (the request is declined and the letter queued) or reject a proposed decline; never your own."""
    ctx = get_context(request)
    decline = workflow.review_decline(session, ctx.keys, service.find_request(session, ref), decline_id,
                                      actor=staff.employee, confirm=body.confirm, note=body.note)
    return _decline_read(session, decline)
