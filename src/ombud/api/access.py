"""Access API: reads through the broker, cases, grants, break-glass, reviews, decisions, transparency.

A refused read answers 403 with the reason *without* raising, so the request's transaction commits and the
refusal's audit leaf stays on the record.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.routing import Route

from ombud.access import breakglass, broker, cases, grants, hotpath, reviews, service, transparency
from ombud.access.classes import SENSITIVE
from ombud.access.events import AccessEvent
from ombud.access.models import (
    BreakGlassReview,
    CaseOrigin,
    CaseStatus,
    CaseType,
    Decision,
    GrantKind,
    GrantStatus,
    ReviewItem,
)
from ombud.access.policy import default_engine
from ombud.access.schemas import (
    BreakGlassCreate,
    BreakGlassRead,
    BreakGlassReviewIn,
    CaseAssign,
    CaseClose,
    CaseCreate,
    CaseRead,
    DecisionRead,
    GrantCreate,
    GrantDecide,
    GrantRead,
    GrantRevoke,
    PolicyOut,
    PolicySetOut,
    ProfileIn,
    ProfileOut,
    ReachReportOut,
    ReachRowOut,
    ReadRequest,
    ReadResponse,
    Refusal,
    ReviewItemDecide,
    ReviewItemRead,
    RoundClose,
    RoundCreate,
    RoundDetail,
    RoundRead,
    TransparencyEntry,
    TransparencyReport,
)
from ombud.api.contract import SIGNED_IN
from ombud.api.deps import (
    SESSION_COOKIE,
    Caller,
    CurrentStaff,
    CustomerIdPath,
    CustomerIdQuery,
    DbSession,
    Staff,
    bearer_token,
    csrf_protect,
    get_context,
    require_roles,
    token_caller,
)
from ombud.context import Context
from ombud.errors import NotFound, PolicyDenied, Unauthenticated
from ombud.staff import service as staff_service
from ombud.staff.models import Employee, Role

router = APIRouter(prefix="/api/access", tags=["access"])

Overseer = Annotated[Staff, Depends(require_roles(Role.privacy_officer, Role.security_analyst))]
PrivacyOfficer = Annotated[Staff, Depends(require_roles(Role.privacy_officer))]
_OVERSEERS = (Role.privacy_officer, Role.security_analyst)


def decision_out(row: AccessEvent) -> DecisionRead:
    """A broker decision as its audit leaf records it."""
    return DecisionRead(
        id=row.audit_index, at=row.at, employee_id=row.employee_id, employee=row.employee, team=row.team,
        region=row.region, customer_id=row.customer_id, purpose_kind=row.purpose_kind.value,
        purpose_id=row.purpose_id, case_type=row.case_type, decision=row.decision,
        classes_allowed=[c.value for c in row.classes_allowed], classes_masked=[c.value for c in row.classes_masked],
        fields=list(row.fields), policy_ids=list(row.policy_ids), reason=row.reason, audit_index=row.audit_index,
    )


# --- the broker ---------------------------------------------------------------------------------------------


#: The read endpoint's request body in the OpenAPI document (the handler parses the body itself; see read()).
_READ_BODY = {"requestBody": {"required": True, "content": {"application/json": {
    "schema": ReadRequest.model_json_schema(ref_template="#/components/schemas/{model}")}}},
    "security": SIGNED_IN}


def _read_request(raw: bytes) -> ReadRequest:
    try:
        return ReadRequest.model_validate_json(raw or b"null")
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)], body=raw
        ) from None


def _serve_read(
    session: Session, raw: bytes, token: str | None, cookie: str | None, ctx: Context
) -> broker.AccessView:
    """Resolve the caller, check the body and read through the broker, in one transaction.

    The caller comes first, as with the other routes: an anonymous request is refused (401) whatever it sent.
    """
    reader: Employee | Caller | None = None
    if token is not None:  # a bearer token is judged alone, never by a cookie beside it
        reader = token_caller(session, token)
    elif cookie:
        record = staff_service.resolve_session(session, ctx.settings, cookie)
        reader = staff_service.get_employee(session, record.employee_id) if record else None
    if reader is None:
        raise Unauthenticated("sign in first")
    body = _read_request(raw)
    return broker.read(session, reader, customer_id=body.customer_id, fields=body.fields, classes=body.classes,
                       purpose=body.purpose, cipher=ctx.keys.field_cipher, channel="api",
                       probe_key=ctx.keys.identifier_hash_key)


def _json(payload: dict[str, Any], status_code: int = 200) -> Response:
    return Response(orjson.dumps(payload), status_code=status_code, media_type="application/json")


@router.post("/read", response_model=ReadResponse, responses={403: {"model": Refusal}}, openapi_extra=_READ_BODY)
async def read(request: Request) -> Response:
    """Read a customer's fields for a purpose: the masked view, or 403 with the reason. Every call is audited.

    The busiest endpoint of all, so it is lean: the body is parsed and checked by Pydantic in one step, the
    caller is resolved in the read's own transaction (one indexed query for a token), the transaction is a
    short writer committed before the answer is sent, batched with the reads that arrive together
    (``ombud.access.hotpath``), and the answer is encoded directly (its shapes are ReadResponse and Refusal).
    The work runs on the event loop: a read is a few hundred microseconds of CPU, which a thread hand-off
    would only add to.
    """
    raw = await request.body()
    ctx = get_context(request)
    token = bearer_token(request)
    cookie = None if token is not None else request.cookies.get(SESSION_COOKIE)
    view = await hotpath.run_async(ctx.sessions, lambda session: _serve_read(session, raw, token, cookie, ctx))
    if view.field is not None:  # malformed input, recorded as a probe (a keyed hash of what was typed)
        return _json({"detail": f"{view.field}: {view.reason}", "field": view.field,
                      "errors": [{"field": view.field, "message": view.reason}]}, status_code=422)
    if view.refused:
        return _json({"detail": view.reason or "refused", "decision": view.decision.value,
                      "customer_id": view.customer_id, "purpose": view.purpose,
                      "policy_ids": list(view.policy_ids), "audit_index": view.audit_index}, status_code=403)
    return _json({
        "decision": view.decision.value, "customer_id": view.customer_id, "purpose": view.purpose,
        "fields": view.fields, "masked": list(view.masked), "classes": view.classes,
        "policy_ids": list(view.policy_ids), "audit_index": view.audit_index, "at": view.at,
    })


async def _read_fast_lane(request: Request) -> Response:
    await csrf_protect(request)  # what the app-wide dependency does for every FastAPI route
    return await read(request)


#: The read endpoint once more, as a plain Starlette route that create_app puts in front of all the others. In
#: this FastAPI, a request walks the included routers one by one and then resolves the app-wide dependencies;
#: for the busiest call of all that was about two thirds of the framework's cost per request (route matching
#: through every router before this one, dependency solving). The fast lane runs the same handler and the
#: same CSRF check, and raises into the same exception handlers; the FastAPI route above stays for the
#: OpenAPI document (and answers if the fast lane is not installed).
FAST_ROUTES = [Route("/api/access/read", _read_fast_lane, methods=["POST"], name="access_read_fast_lane")]


@router.get("/decisions", response_model=list[DecisionRead])
def list_decisions(
    session: DbSession,
    staff: CurrentStaff,
    customer_id: CustomerIdQuery = None,
    decision: Decision | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> list[DecisionRead]:
    """The broker's recent decisions (overseers see all; others their own)."""
    mine = None if staff.has_role(*_OVERSEERS) else staff.employee.id
    rows = broker.recent_decisions(session, limit=limit, employee_id=mine, customer_id=customer_id, decision=decision)
    return [decision_out(r) for r in rows]


@router.get("/policies", response_model=PolicySetOut)
def list_policies(_staff: CurrentStaff) -> PolicySetOut:
    """The Cedar policies the broker runs with, and their hash."""
    engine = default_engine()
    return PolicySetOut(
        digest=engine.digest,
        policies=[PolicyOut(id=p.id, effect=p.effect, reason=p.reason, file=p.file) for p in engine.policies.values()],
    )


# --- cases --------------------------------------------------------------------------------------------------


@router.post("/cases", response_model=CaseRead, status_code=201)
def create_case(body: CaseCreate, session: DbSession, staff: CurrentStaff) -> CaseRead:
    """Open a case (the purpose of reads about its customer)."""
    assignee = service.find_employee(session, body.assignee) if body.assignee else None
    case = cases.open_case(session, case_type=body.case_type, customer_id=body.customer_id, title=body.title,
                           actor=staff.employee, assignee=assignee, team=body.team, source=body.source,
                           origin=body.origin, origin_ref=body.origin_ref)
    return CaseRead.model_validate(case)


@router.get("/cases", response_model=list[CaseRead])
def list_cases(
    session: DbSession,
    staff: CurrentStaff,
    status: CaseStatus | None = None,
    customer_id: CustomerIdQuery = None,
    case_type: CaseType | None = None,
    origin: CaseOrigin | None = None,
    mine: bool = False,
    reports: Annotated[bool, Query(description="Cases your direct reports opened (managers).")] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[CaseRead]:
    """Cases, newest first; agents see the cases of their own and their team's; ``reports`` lists those your
    direct reports opened (a manager's view of self-opened cases: ``reports=true&origin=self_opened``)."""
    if reports:
        rows = cases.list_cases(session, status=status, customer_id=customer_id, case_type=case_type, origin=origin,
                                opened_by_reports_of=staff.employee, limit=limit, offset=offset)
        return [CaseRead.model_validate(c) for c in rows]
    only_mine = mine or not staff.has_role(*_OVERSEERS)
    rows = cases.list_cases(session, status=status, customer_id=customer_id, case_type=case_type, origin=origin,
                            mine=staff.employee if only_mine else None, limit=limit, offset=offset)
    return [CaseRead.model_validate(c) for c in rows]


def _visible_case(session: DbSession, staff: Staff, case_id: int) -> cases.Case:
    case = cases.get_case(session, case_id)
    if not staff.has_role(*_OVERSEERS) and not cases.visible_to(session, case, staff.employee):
        raise NotFound(f"no case {case_id}")
    return case


@router.get("/cases/{case_id}", response_model=CaseRead)
def get_case(case_id: int, session: DbSession, staff: CurrentStaff) -> CaseRead:
    """One case."""
    return CaseRead.model_validate(_visible_case(session, staff, case_id))


@router.post("/cases/{case_id}/assign", response_model=CaseRead)
def assign_case(case_id: int, body: CaseAssign, session: DbSession, staff: CurrentStaff) -> CaseRead:
    """Give a case to an employee and/or a team."""
    case = _visible_case(session, staff, case_id)
    assignee = service.find_employee(session, body.assignee) if body.assignee else None
    return CaseRead.model_validate(cases.assign(session, case, actor=staff.employee, assignee=assignee, team=body.team))


@router.post("/cases/{case_id}/close", response_model=CaseRead)
def close_case(case_id: int, body: CaseClose, session: DbSession, staff: CurrentStaff) -> CaseRead:
    """Close a case; reads for it are refused from now on."""
    case = _visible_case(session, staff, case_id)
    return CaseRead.model_validate(cases.close(session, case, actor=staff.employee, reason=body.reason))


@router.post("/cases/{case_id}/reopen", response_model=CaseRead)
def reopen_case(case_id: int, body: CaseClose, session: DbSession, staff: CurrentStaff) -> CaseRead:
    """Reopen a closed case."""
    case = _visible_case(session, staff, case_id)
    return CaseRead.model_validate(cases.reopen(session, case, actor=staff.employee, reason=body.reason))


# --- grants -------------------------------------------------------------------------------------------------


@router.post("/grants", response_model=GrantRead, status_code=201)
def request_grant(body: GrantCreate, session: DbSession, staff: CurrentStaff) -> GrantRead:
    """Ask for a just-in-time or standing grant; someone else decides."""
    grant = grants.request_grant(session, requester=staff.employee, kind=body.kind, data_class=body.data_class,
                                 justification=body.justification, customer_id=body.customer_id,
                                 duration_minutes=body.duration_minutes)
    return GrantRead.model_validate(grant)


@router.get("/grants", response_model=list[GrantRead])
def list_grants(
    session: DbSession,
    staff: CurrentStaff,
    status: GrantStatus | None = None,
    kind: GrantKind | None = None,
    waiting: Annotated[bool, Query(description="Only requests you may decide.")] = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[GrantRead]:
    """Grants: your own, or (privacy officers) everyone's; ``waiting`` lists what you may decide."""
    if waiting:
        return [GrantRead.model_validate(g) for g in grants.waiting_for(session, staff.employee)]
    holder = None if staff.has_role(Role.privacy_officer) else staff.employee.id
    rows = grants.list_grants(session, status=status, kind=kind, employee_id=holder, limit=limit)
    return [GrantRead.model_validate(g) for g in rows]


def _grant(session: DbSession, staff: Staff, grant_id: int) -> grants.Grant:
    grant = grants.get_grant(session, grant_id)
    if grant.employee_id != staff.employee.id and not staff.has_role(Role.privacy_officer):
        requester = session.get(Employee, grant.employee_id)
        if requester is None or requester.manager_id != staff.employee.id:
            raise NotFound(f"no grant {grant_id}")
    return grant


@router.get("/grants/{grant_id}", response_model=GrantRead)
def get_grant(grant_id: int, session: DbSession, staff: CurrentStaff) -> GrantRead:
    """One grant (yours, your reports', or any for privacy officers)."""
    return GrantRead.model_validate(_grant(session, staff, grant_id))


@router.post("/grants/{grant_id}/approve", response_model=GrantRead)
def approve_grant(grant_id: int, body: GrantDecide, session: DbSession, staff: CurrentStaff) -> GrantRead:
    """Approve a request (never your own)."""
    grant = _grant(session, staff, grant_id)
    return GrantRead.model_validate(grants.approve(session, grant, approver=staff.employee, note=body.note))


@router.post("/grants/{grant_id}/deny", response_model=GrantRead)
def deny_grant(grant_id: int, body: GrantDecide, session: DbSession, staff: CurrentStaff) -> GrantRead:
    """Deny a request (never your own)."""
    grant = _grant(session, staff, grant_id)
    return GrantRead.model_validate(grants.deny(session, grant, approver=staff.employee, note=body.note))


@router.post("/grants/{grant_id}/cancel", response_model=GrantRead)
def cancel_grant(grant_id: int, session: DbSession, staff: CurrentStaff) -> GrantRead:
    """Withdraw your own request."""
    grant = _grant(session, staff, grant_id)
    return GrantRead.model_validate(grants.cancel(session, grant, actor=staff.employee))


@router.post("/grants/{grant_id}/revoke", response_model=GrantRead)
def revoke_grant(grant_id: int, body: GrantRevoke, session: DbSession, staff: CurrentStaff) -> GrantRead:
    """End an approved grant now."""
    grant = _grant(session, staff, grant_id)
    return GrantRead.model_validate(grants.revoke(session, grant, actor=staff.employee, reason=body.reason))


# --- break-glass --------------------------------------------------------------------------------------------


@router.post("/break-glass", response_model=BreakGlassRead, status_code=201)
def open_break_glass(body: BreakGlassCreate, session: DbSession, staff: CurrentStaff) -> BreakGlassRead:
    """Emergency access now: justified, time-boxed, raised to security; read with purpose break_glass:<id>."""
    record = breakglass.open_break_glass(session, employee=staff.employee, customer_id=body.customer_id,
                                         justification=body.justification, classes=body.classes, minutes=body.minutes)
    return BreakGlassRead.model_validate(record)


@router.get("/break-glass", response_model=list[BreakGlassRead])
def list_break_glass(
    session: DbSession, staff: CurrentStaff, review: BreakGlassReview | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[BreakGlassRead]:
    """Break-glass uses: security sees all (``review=pending`` is its queue); others their own."""
    holder = None if staff.has_role(*_OVERSEERS) else staff.employee.id
    rows = breakglass.list_break_glass(session, review=review, employee_id=holder, limit=limit)
    return [BreakGlassRead.model_validate(r) for r in rows]


@router.post("/break-glass/{record_id}/end", response_model=BreakGlassRead)
def end_break_glass(record_id: int, session: DbSession, staff: CurrentStaff) -> BreakGlassRead:
    """End emergency access before its time."""
    record = breakglass.get_break_glass(session, record_id)
    return BreakGlassRead.model_validate(breakglass.end(session, record, actor=staff.employee))


@router.post("/break-glass/{record_id}/review", response_model=BreakGlassRead)
def review_break_glass(
    record_id: int, body: BreakGlassReviewIn, session: DbSession, staff: CurrentStaff
) -> BreakGlassRead:
    """Security's review of a use: justified or unjustified."""
    record = breakglass.get_break_glass(session, record_id)
    return BreakGlassRead.model_validate(
        breakglass.review(session, record, reviewer=staff.employee, outcome=body.outcome, note=body.note)
    )


# --- minimisation and reviews -------------------------------------------------------------------------------


@router.get("/reviews/report", response_model=ReachReportOut)
def reach_report(
    session: DbSession, _staff: Overseer, days: Annotated[int, Query(ge=1, le=366)] = 30
) -> ReachReportOut:
    """Who can reach which data class and through what, their use, and unused standing grants."""
    report = reviews.reach_report(session, days=days)
    return ReachReportOut(
        since=report.since,
        people_per_class={cls.value: n for cls, n in report.people_per_class.items()},
        sensitive=sorted(cls.value for cls in SENSITIVE),
        rows=[ReachRowOut(employee_id=r.employee_id, employee=r.employee, role=r.role, team=r.team,
                          data_class=r.data_class.value, via=r.via, via_roles=r.via_roles, via_grants=r.via_grants,
                          reads=r.reads, last_used_at=r.last_used_at) for r in report.rows],
        unused_standing_grants=[GrantRead.model_validate(g) for g in report.unused_standing],
    )


@router.get("/reviews/rounds", response_model=list[RoundRead])
def list_rounds(session: DbSession, _staff: CurrentStaff) -> list[RoundRead]:
    """Recertification rounds, newest first."""
    return [RoundRead.model_validate(r) for r in reviews.list_rounds(session)]


@router.post("/reviews/rounds", response_model=RoundRead, status_code=201)
def open_round(body: RoundCreate, session: DbSession, staff: PrivacyOfficer) -> RoundRead:
    """Open a recertification round over every standing grant."""
    round_ = reviews.open_round(session, actor=staff.employee, name=body.name, due_days=body.due_days,
                                unused_days=body.unused_days)
    return RoundRead.model_validate(round_)


@router.get("/reviews/rounds/{round_id}", response_model=RoundDetail)
def get_round(round_id: int, session: DbSession, staff: CurrentStaff) -> RoundDetail:
    """A round and the items you decide (all items for privacy officers)."""
    round_ = reviews.get_round(session, round_id)
    items = reviews.items(session, round_id, reviewer=staff.employee)
    return RoundDetail(**RoundRead.model_validate(round_).model_dump(),
                       items=[ReviewItemRead.model_validate(i) for i in items])


@router.post("/reviews/items/{item_id}", response_model=ReviewItemRead)
def decide_item(item_id: int, body: ReviewItemDecide, session: DbSession, staff: CurrentStaff) -> ReviewItemRead:
    """Confirm or revoke one standing grant of a report of yours."""
    item = session.get(ReviewItem, item_id)
    if item is None:
        raise NotFound(f"no review item {item_id}")
    decided = reviews.decide_item(session, item, reviewer=staff.employee, decision=body.decision, note=body.note)
    return ReviewItemRead.model_validate(decided)


@router.post("/reviews/rounds/{round_id}/close", response_model=RoundRead)
def close_round(round_id: int, body: RoundClose, session: DbSession, staff: PrivacyOfficer) -> RoundRead:
    """Close a round (optionally revoking every grant nobody confirmed)."""
    round_ = reviews.get_round(session, round_id)
    closed = reviews.close_round(session, round_, actor=staff.employee, revoke_unreviewed=body.revoke_unreviewed)
    return RoundRead.model_validate(closed)


# --- transparency and profiles ------------------------------------------------------------------------------


@router.get("/transparency/{customer_id}", response_model=TransparencyReport)
def customer_transparency(customer_id: CustomerIdPath, session: DbSession, _staff: CurrentStaff) -> TransparencyReport:
    """Who accessed this customer's data and why: when, classes, purpose category, team and region (no names)."""
    entries = transparency.accesses(session, customer_id)
    return TransparencyReport(
        customer_id=customer_id,
        accesses=[TransparencyEntry(at=e.at, data_classes=[c.value for c in e.data_classes],
                                    purpose_category=e.purpose_category, purpose=e.purpose_label, team=e.team,
                                    region=e.region) for e in entries],
    )


@router.get("/profiles/{employee}", response_model=ProfileOut)
def get_profile(employee: str, session: DbSession, staff: CurrentStaff) -> ProfileOut:
    """An employee's daily limit, shift hours and time zone (your own, or anyone's for overseers)."""
    target = service.find_employee(session, employee)
    if target.id != staff.employee.id and not staff.has_role(*_OVERSEERS):
        raise PolicyDenied("you may see your own access profile only")
    p = service.profile_of(session, target)
    return ProfileOut(employee=target.external_id, daily_limit=p.daily_limit, shift_start=p.shift_start,
                      shift_end=p.shift_end, timezone=p.timezone)


@router.put("/profiles/{employee}", response_model=ProfileOut)
def put_profile(employee: str, body: ProfileIn, session: DbSession, staff: PrivacyOfficer) -> ProfileOut:
    """Set an employee's daily limit, shift hours or time zone."""
    target = service.find_employee(session, employee)
    p = service.set_profile(session, target, actor=staff.employee, **body.model_dump())
    return ProfileOut(employee=target.external_id, daily_limit=p.daily_limit, shift_start=p.shift_start,
                      shift_end=p.shift_end, timezone=p.timezone)
