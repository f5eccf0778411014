"""Console pages of the access domain: cases (and reading through the broker), grants, break-glass, reviews,
the broker's recent decisions, and a customer's "who accessed my data and why".

Forms post and redirect (post/redirect/get); a domain error on a form is rolled back to a savepoint and shown
as a message. Customer data reaches these pages only as broker views.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import case, select
from sqlalchemy.orm import Session

from ombud import clock
from ombud.access import breakglass, broker, cases, events, grants, reviews, service, transparency
from ombud.access.classes import DESCRIPTIONS, FIELDS, SENSITIVE, DataClass
from ombud.access.models import (
    BreakGlass,
    BreakGlassReview,
    Case,
    CaseOrigin,
    CaseStatus,
    CaseType,
    Decision,
    Grant,
    GrantKind,
    GrantStatus,
    PurposeKind,
    ReviewDecision,
    ReviewItem,
)
from ombud.api.deps import CurrentStaff, DbSession, Staff, get_context
from ombud.errors import NotFound, OmbudError, PolicyDenied
from ombud.staff.models import Employee, Role
from ombud.web.tables import Column, Filter, TableSpec, enum_choices
from ombud.web.templating import NavItem, flash, register_nav, render

router = APIRouter(prefix="/access", tags=["pages"], include_in_schema=False)
register_nav(NavItem("Transparency", ("/access/transparency",)))
_OVERSEERS = (Role.privacy_officer, Role.security_analyst)

Text = Annotated[str, Form()]
OptText = Annotated[str | None, Form()]


def _attempt(request: Request, session: Session, action: Callable[[], Any], done: Callable[[Any], str],
             back: str, success: Callable[[Any], str] | None = None) -> Response:
    """Run a form's action in a savepoint; redirect with a message either way."""
    try:
        with session.begin_nested():
            result = action()
    except OmbudError as exc:
        where = f" ({exc.field})" if exc.field else ""
        return flash(request, RedirectResponse(back, status_code=303), exc.message + where, "error")
    target = success(result) if success else back
    return flash(request, RedirectResponse(target, status_code=303), done(result), "success")


def _names(session: Session, ids: set[int | None]) -> dict[int, str]:
    out: dict[int, str] = {}
    for i in ids:
        if i is not None and i not in out:
            emp = session.get(Employee, i)
            out[i] = f"{emp.name} ({emp.team})" if emp else str(i)
    return out


def _find(session: Session, ref: str | None) -> Employee | None:
    return service.find_employee(session, ref) if ref and ref.strip() else None


# --- cases ----------------------------------------------------------------------------------------------------


CASES_TABLE = TableSpec(
    name="cases",
    columns=(
        Column("id", "Case", sort=Case.id, numeric=True), Column("case_type", "Type", sort=Case.case_type),
        Column("customer", "Customer", sort=Case.customer_id), Column("title", "Title"),
        Column("status", "Status", sort=Case.status), Column("origin", "Origin", sort=Case.origin),
        Column("assignee", "Assignee"), Column("team", "Team", sort=Case.team),
        Column("opened", "Opened", sort=Case.opened_at),
    ),
    filters=(
        Filter("status", "Status", Case.status, choices=enum_choices(CaseStatus)),
        Filter("case_type", "Type", Case.case_type, choices=enum_choices(CaseType)),
        Filter("origin", "Origin", Case.origin, choices=enum_choices(CaseOrigin)),
        Filter("customer_id", "Customer id", Case.customer_id),
    ),
    default_sort="-id",
)


@router.get("/cases")
def case_list(request: Request, session: DbSession, staff: CurrentStaff) -> Response:
    """Cases: yours and your team's (overseers see all), paged, sorted and filtered; open ones unless asked."""
    query = dict(request.query_params)
    if "status" not in query:
        query["status"] = CaseStatus.open.value
    stmt = select(Case)
    if not staff.has_role(*_OVERSEERS):
        me = staff.employee
        stmt = stmt.where((Case.assignee_id == me.id) | (Case.team == me.team) | (Case.opened_by_id == me.id))
    page = CASES_TABLE.run(session, stmt, query)
    # What the viewer's direct reports opened for themselves: a manager sees manufactured purposes.
    reports_self_opened = cases.list_cases(session, status=CaseStatus.open, origin=CaseOrigin.self_opened,
                                           opened_by_reports_of=staff.employee, limit=200)
    names = _names(session, {c.assignee_id for c in [*page.rows, *reports_self_opened]}
                   | {c.opened_by_id for c in reports_self_opened})
    return render(request, "access/cases.html", staff, page=page, cases=page.rows, names=names,
                  case_types=list(CaseType), can_open_any=staff.has_role(*_OVERSEERS),
                  reports_self_opened=reports_self_opened, origin_labels=cases.ORIGIN_LABELS)


@router.post("/cases")
def case_create(request: Request, session: DbSession, staff: CurrentStaff, customer_id: Text, title: Text,
                case_type: Text = "support_ticket", assignee: OptText = None, team: OptText = None) -> Response:
    """Open a case."""
    def action() -> Any:
        kind = CaseType(case_type) if case_type in {t.value for t in CaseType} else CaseType.support_ticket
        return cases.open_case(session, case_type=kind, customer_id=customer_id, title=title, actor=staff.employee,
                               assignee=_find(session, assignee), team=(team or "").strip() or None)
    return _attempt(request, session, action, lambda c: f"Case {c.id} opened", "/access/cases",
                    lambda c: f"/access/cases/{c.id}")


def _case_for(session: Session, staff: Staff, case_id: int) -> cases.Case:
    case = cases.get_case(session, case_id)
    if not (staff.has_role(*_OVERSEERS) or cases.visible_to(session, case, staff.employee)):
        raise NotFound(f"no case {case_id}")
    return case


@router.get("/cases/{case_id}")
def case_detail(case_id: int, request: Request, session: DbSession, staff: CurrentStaff) -> Response:
    """One case, its assignment, and a form to read its customer's data through the broker."""
    case = _case_for(session, staff, case_id)
    names = _names(session, {case.assignee_id, case.opened_by_id, case.closed_by_id})
    return render(request, "access/case.html", staff, case=case, names=names, classes=list(DataClass),
                  descriptions=DESCRIPTIONS, view=None, may_read=cases.may_read_for(case, staff.employee),
                  origin_labels=cases.ORIGIN_LABELS)


@router.post("/cases/{case_id}/read")
def case_read(case_id: int, request: Request, session: DbSession, staff: CurrentStaff,
              classes: Annotated[list[str] | None, Form()] = None) -> Response:
    """Read the case's customer through the broker for this case; the decision is recorded either way."""
    case = _case_for(session, staff, case_id)
    view = broker.read(session, staff.employee, customer_id=case.customer_id, classes=classes or ["contact"],
                       purpose=f"case:{case.id}", cipher=get_context(request).keys.field_cipher,
                       channel="console")
    names = _names(session, {case.assignee_id, case.opened_by_id, case.closed_by_id})
    return render(request, "access/case.html", staff, status_code=403 if view.refused else 200, case=case,
                  names=names, classes=list(DataClass), descriptions=DESCRIPTIONS, view=view, fields=FIELDS,
                  may_read=cases.may_read_for(case, staff.employee),
                  origin_labels=cases.ORIGIN_LABELS)


@router.post("/cases/{case_id}/assign")
def case_assign(case_id: int, request: Request, session: DbSession, staff: CurrentStaff,
                assignee: OptText = None, team: OptText = None) -> Response:
    """Give a case to someone else or a team."""
    back = f"/access/cases/{case_id}"
    return _attempt(request, session, lambda: cases.assign(
        session, _case_for(session, staff, case_id), actor=staff.employee, assignee=_find(session, assignee),
        team=(team or "").strip() or None), lambda c: f"Case {c.id} reassigned", back)


@router.post("/cases/{case_id}/close")
def case_close(case_id: int, request: Request, session: DbSession, staff: CurrentStaff,
               reason: OptText = None) -> Response:
    """Close a case."""
    return _attempt(request, session, lambda: cases.close(
        session, _case_for(session, staff, case_id), actor=staff.employee, reason=reason),
        lambda c: f"Case {c.id} closed", f"/access/cases/{case_id}")


@router.post("/cases/{case_id}/reopen")
def case_reopen(case_id: int, request: Request, session: DbSession, staff: CurrentStaff,
                reason: OptText = None) -> Response:
    """Reopen a case."""
    return _attempt(request, session, lambda: cases.reopen(
        session, _case_for(session, staff, case_id), actor=staff.employee, reason=reason),
        lambda c: f"Case {c.id} reopened", f"/access/cases/{case_id}")


# --- reading with a grant or break-glass ---------------------------------------------------------------------


@router.post("/read")
def read_page(request: Request, session: DbSession, staff: CurrentStaff, customer_id: Text, purpose: Text,
              classes: Annotated[list[str] | None, Form()] = None) -> Response:
    """Read through the broker with a grant or break-glass as the purpose."""
    keys = get_context(request).keys
    view = broker.read(session, staff.employee, customer_id=customer_id, classes=classes or ["contact"],
                       purpose=purpose, cipher=keys.field_cipher, channel="console",
                       probe_key=keys.identifier_hash_key)
    status = 422 if view.field else 403 if view.refused else 200
    return render(request, "access/view.html", staff, status_code=status, view=view, fields=FIELDS)


# --- grants ---------------------------------------------------------------------------------------------------


ALL_GRANTS_TABLE = TableSpec(
    name="all",
    columns=(
        Column("id", "Grant", sort=Grant.id, numeric=True), Column("holder", "Holder"),
        Column("kind", "Kind", sort=Grant.kind), Column("customer", "Customer", sort=Grant.customer_id),
        Column("data_class", "Class", sort=Grant.data_class), Column("status", "Status", sort=Grant.status),
        Column("until", "Until", sort=Grant.expires_at), Column("action", "Action"),
    ),
    filters=(
        Filter("status", "Status", Grant.status, choices=enum_choices(GrantStatus)),
        Filter("kind", "Kind", Grant.kind, choices=enum_choices(GrantKind)),
        Filter("data_class", "Class", Grant.data_class,
               choices=enum_choices(DataClass)),
        Filter("customer_id", "Customer id", Grant.customer_id),
    ),
    default_sort="-id",
    prefixed=True,
)


@router.get("/grants")
def grant_list(request: Request, session: DbSession, staff: CurrentStaff) -> Response:
    """Your grants, the requests you may decide, a form to ask for one, and (privacy officers) every grant."""
    mine = grants.list_grants(session, employee_id=staff.employee.id, limit=100)
    waiting = grants.waiting_for(session, staff.employee)
    everyone = ALL_GRANTS_TABLE.run(session, select(Grant), request.query_params) \
        if staff.has_role(Role.privacy_officer) else None
    names = _names(session, {g.employee_id for g in [*waiting, *(everyone.rows if everyone else [])]})
    return render(request, "access/grants.html", staff, mine=mine, waiting=waiting, everyone=everyone, names=names,
                  classes=list(DataClass), descriptions=DESCRIPTIONS, GrantStatus=GrantStatus, GrantKind=GrantKind)


#: The longest grant in minutes (a standing one); a just-in-time grant's own range is the service's to check.
_LONGEST_GRANT = grants.STANDING_MAX_DAYS * 24 * 60


@router.post("/grants")
def grant_create(request: Request, session: DbSession, staff: CurrentStaff, data_class: Text, justification: Text,
                 kind: Text = "just_in_time", customer_id: OptText = None,
                 duration_minutes: Annotated[int | None, Form(ge=grants.JIT_MIN_MINUTES, le=_LONGEST_GRANT)] = None,
                 ) -> Response:
    """Ask for a grant."""
    grant_kind = GrantKind.standing if kind == "standing" else GrantKind.just_in_time
    return _attempt(request, session, lambda: grants.request_grant(
        session, requester=staff.employee, kind=grant_kind, data_class=data_class, justification=justification,
        customer_id=(customer_id or "").strip() or None, duration_minutes=duration_minutes),
        lambda g: f"Grant {g.id} requested; a privacy officer or your manager decides it", "/access/grants")


@router.post("/grants/{grant_id}/{verb}")
def grant_act(grant_id: int, verb: str, request: Request, session: DbSession, staff: CurrentStaff,
              note: OptText = None) -> Response:
    """Approve, deny, cancel or revoke a grant."""
    def action() -> Any:
        grant = grants.get_grant(session, grant_id)
        if verb == "approve":
            return grants.approve(session, grant, approver=staff.employee, note=note)
        if verb == "deny":
            return grants.deny(session, grant, approver=staff.employee, note=note)
        if verb == "cancel":
            return grants.cancel(session, grant, actor=staff.employee)
        if verb == "revoke":
            return grants.revoke(session, grant, actor=staff.employee, reason=note)
        raise NotFound(f"no action {verb}")
    return _attempt(request, session, action, lambda g: f"Grant {g.id} is now {g.status.value}", "/access/grants")


# --- break-glass ----------------------------------------------------------------------------------------------


GLASS_TABLE = TableSpec(
    name="uses",
    columns=(
        Column("id", "#", sort=BreakGlass.id, numeric=True), Column("employee", "Employee"),
        Column("customer", "Customer", sort=BreakGlass.customer_id), Column("classes", "Classes"),
        Column("opened", "Opened", sort=BreakGlass.opened_at), Column("until", "Until", sort=BreakGlass.expires_at),
        Column("justification", "Justification"),
        # Security's review queue first: uses still waiting for a verdict, then the rest.
        Column("review", "Review", sort=case((BreakGlass.review == BreakGlassReview.pending, 0), else_=1)),
        Column("action", "Action"),
    ),
    filters=(
        Filter("review", "Review", BreakGlass.review,
               choices=enum_choices(BreakGlassReview)),
        Filter("customer_id", "Customer id", BreakGlass.customer_id),
    ),
    default_sort="review",
    tiebreak=BreakGlass.id.desc(),
)


@router.get("/break-glass")
def glass_list(request: Request, session: DbSession, staff: CurrentStaff) -> Response:
    """Open emergency access; security sees every use and reviews them (waiting ones first)."""
    security = staff.has_role(Role.security_analyst)
    stmt = select(BreakGlass) if security else select(BreakGlass).where(BreakGlass.employee_id == staff.employee.id)
    page = GLASS_TABLE.run(session, stmt, request.query_params)
    rows = page.rows
    names = _names(session, {r.employee_id for r in rows} | {r.reviewed_by_id for r in rows})
    now = clock.now()
    # Read is offered only where it can work: the viewer's own use, still in force.
    readable = {r.id for r in rows if r.employee_id == staff.employee.id and breakglass.is_live(r, now)}
    return render(request, "access/break_glass.html", staff, table=page, names=names, security=security,
                  classes=list(DataClass), pending=BreakGlassReview.pending, minimum=breakglass.MIN_JUSTIFICATION,
                  readable=readable)


@router.post("/break-glass")
def glass_open(request: Request, session: DbSession, staff: CurrentStaff, customer_id: Text, justification: Text,
               classes: Annotated[list[str] | None, Form()] = None,
               minutes: Annotated[int, Form(ge=1, le=breakglass.MAX_MINUTES)] = breakglass.DEFAULT_MINUTES) -> Response:
    """Open break-glass access (raised to security at once)."""
    return _attempt(request, session, lambda: breakglass.open_break_glass(
        session, employee=staff.employee, customer_id=customer_id, justification=justification,
        classes=classes or None, minutes=minutes),
        lambda r: f"Break-glass {r.id} open until {r.expires_at:%H:%M} UTC; security has been notified. "
                  f"Read with purpose break_glass:{r.id}.", "/access/break-glass")


@router.post("/break-glass/{record_id}/review")
def glass_review(record_id: int, request: Request, session: DbSession, staff: CurrentStaff, outcome: Text,
                 note: OptText = None) -> Response:
    """Security's verdict on a use."""
    def action() -> Any:
        verdict = BreakGlassReview(outcome) if outcome in ("justified", "unjustified") else BreakGlassReview.pending
        return breakglass.review(session, breakglass.get_break_glass(session, record_id), reviewer=staff.employee,
                                 outcome=verdict, note=note)
    return _attempt(request, session, action, lambda r: f"Break-glass {r.id} reviewed: {r.review.value}",
                    "/access/break-glass")


@router.post("/break-glass/{record_id}/end")
def glass_end(record_id: int, request: Request, session: DbSession, staff: CurrentStaff) -> Response:
    """End emergency access early."""
    return _attempt(request, session, lambda: breakglass.end(
        session, breakglass.get_break_glass(session, record_id), actor=staff.employee),
        lambda r: f"Break-glass {r.id} ended", "/access/break-glass")


# --- reviews --------------------------------------------------------------------------------------------------


REACH_TABLE = TableSpec(
    name="reach",
    columns=(
        Column("employee", "Employee", sort=lambda r: r.employee.lower()),
        Column("role", "Role", sort=lambda r: r.role),
        Column("team", "Team", sort=lambda r: r.team), Column("data_class", "Data", sort=lambda r: r.data_class.value),
        Column("via", "Through"), Column("reads", "Reads", sort=lambda r: r.reads, numeric=True),
        Column("last_used_at", "Last used", sort=lambda r: r.last_used_at),
    ),
    filters=(
        Filter("data_class", "Data", choices=enum_choices(DataClass),
               apply=lambda r, v: r.data_class.value == v),
        Filter("role", "Role", choices=enum_choices(Role), apply=lambda r, v: r.role == v),
        Filter("team", "Team", apply=lambda r, v: r.team.lower() == v.lower()),
        Filter("employee", "Name contains", apply=lambda r, v: v.lower() in r.employee.lower()),
        Filter("use", "Use", choices=(("unused", "Never used in the window"), ("used", "Used")),
               apply=lambda r, v: (r.reads == 0) == (v == "unused")),
    ),
    default_sort="employee",
)


@router.get("/reviews")
def review_page(request: Request, session: DbSession, staff: CurrentStaff, days: int = 30) -> Response:
    """The minimisation report (overseers), open rounds and the items you recertify."""
    report = reviews.reach_report(session, days=max(1, min(days, 366))) if staff.has_role(*_OVERSEERS) else None
    rounds = reviews.list_rounds(session)
    current = next((r for r in rounds if r.status.value == "open"), None)
    items = reviews.items(session, current.id, reviewer=staff.employee) if current else []
    names = _names(session, {i.employee_id for i in items} | {i.reviewer_id for i in items})
    reach = REACH_TABLE.run_list(report.rows, request.query_params) if report else None
    holders = _names(session, {g.employee_id for g in report.unused_standing}) if report else {}
    return render(request, "access/reviews.html", staff, report=report, reach=reach, rounds=rounds, current=current,
                  items=items, names={**names, **holders}, days=days, sensitive=SENSITIVE,
                  can_run=staff.has_role(Role.privacy_officer))


@router.post("/reviews/rounds")
def review_open(request: Request, session: DbSession, staff: CurrentStaff, name: Text,
                due_days: Annotated[int, Form(ge=1, le=reviews.MAX_DUE_DAYS)] = 14) -> Response:
    """Open a recertification round."""
    if not staff.has_role(Role.privacy_officer):
        raise PolicyDenied("privacy officers open review rounds")
    return _attempt(request, session, lambda: reviews.open_round(session, actor=staff.employee, name=name,
                                                                 due_days=due_days),
                    lambda r: f"Review round {r.id} opened", "/access/reviews")


@router.post("/reviews/items/{item_id}")
def review_decide(item_id: int, request: Request, session: DbSession, staff: CurrentStaff, decision: Text,
                  note: OptText = None) -> Response:
    """Confirm or revoke one standing grant."""
    def action() -> Any:
        item = session.get(ReviewItem, item_id)
        if item is None:
            raise NotFound(f"no review item {item_id}")
        verdict = ReviewDecision(decision) if decision in ("confirmed", "revoked") else ReviewDecision.pending
        return reviews.decide_item(session, item, reviewer=staff.employee, decision=verdict, note=note)
    return _attempt(request, session, action, lambda i: f"Access {i.decision.value}", "/access/reviews")


@router.post("/reviews/rounds/{round_id}/close")
def review_close(round_id: int, request: Request, session: DbSession, staff: CurrentStaff,
                 revoke_unreviewed: Annotated[bool, Form()] = False) -> Response:
    """Close a round."""
    return _attempt(request, session, lambda: reviews.close_round(
        session, reviews.get_round(session, round_id), actor=staff.employee, revoke_unreviewed=revoke_unreviewed),
        lambda r: f"Review round {r.id} closed", "/access/reviews")


# --- decisions and transparency -------------------------------------------------------------------------------


DECISIONS_TABLE = TableSpec(
    name="decisions",
    columns=(
        Column("at", "When", sort=events.VIEW.c.audit_index),
        Column("employee", "Employee", sort=events.VIEW.c.employee),
        Column("customer", "Customer", sort=events.VIEW.c.customer_id), Column("purpose", "Purpose"),
        Column("decision", "Decision", sort=events.VIEW.c.decision), Column("shown", "Shown"),
        Column("masked", "Masked"), Column("reason", "Reason / policies"),
        Column("leaf", "Leaf", sort=events.VIEW.c.audit_index, numeric=True),
    ),
    filters=(
        Filter("decision", "Decision", events.VIEW.c.decision,
               choices=enum_choices(Decision)),
        Filter("purpose_kind", "Purpose", events.VIEW.c.purpose_kind,
               choices=enum_choices(PurposeKind)),
        Filter("customer_id", "Customer id", events.VIEW.c.customer_id),
        Filter("employee", "Employee (directory id)", events.VIEW.c.employee),
    ),
    default_sort="-at",
)


@router.get("/decisions")
def decision_list(request: Request, session: DbSession, staff: CurrentStaff) -> Response:
    """The broker's decisions, read from their audit leaves: paged, sorted, filtered (overseers see everyone's,
    others their own)."""
    stmt = events.query(employee=None if staff.has_role(*_OVERSEERS) else staff.employee.external_id)
    page = DECISIONS_TABLE.run(session, stmt, request.query_params)
    page.rows = events.rows_to_events(page.rows)
    names = _names(session, {r.employee_id for r in page.rows})
    return render(request, "access/decisions.html", staff, page=page, rows=page.rows, names=names)


@router.get("/transparency")
def transparency_page(request: Request, session: DbSession, staff: CurrentStaff,
                      customer_id: str | None = None) -> Response:
    """Who accessed a customer's data and why: when, which data, what for, which team and region."""
    entries = transparency.accesses(session, customer_id) if customer_id else []
    return render(request, "access/transparency.html", staff, entries=entries, customer_id=customer_id or "",
                  descriptions=DESCRIPTIONS)
