"""The console home (what this employee can do, what the store holds) and the employee's own account page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Table, func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ombud import clock
from ombud.api.deps import CurrentStaff, DbSession, Staff, require_roles
from ombud.errors import Conflict, InvalidInput, NotFound
from ombud.models import metadata
from ombud.staff import service as staff_service
from ombud.staff.models import Employee, Role, StaffSession
from ombud.web.tables import Column, Filter, TableSpec, enum_choices
from ombud.web.templating import flash, nav_links, render

router = APIRouter(tags=["pages"], include_in_schema=False)

#: Status values that mean a case or request is finished; anything else counts as open.
_CLOSED_STATUSES = ("closed", "resolved", "cancelled", "canceled", "declined", "done", "completed", "rejected")


@dataclass(frozen=True)
class StatSpec:
    """A count on the home page: rows of the first of `tables` the store has.

    `open_only` counts rows not finished (no `left_on`, or a `status` that is not a closing one);
    `where` counts only rows whose column holds one of the values, e.g. ("status", ("requested",)).
    """

    label: str
    tables: tuple[str, ...]
    open_only: bool = False
    where: tuple[str, tuple[str, ...]] | None = None
    roles: tuple[Role, ...] = ()  # empty: everyone
    link_label: str | None = None  # the nav section this count links to, when the app serves it


_OVERSIGHT = (Role.privacy_officer, Role.security_analyst)

#: The home page's counts, in order. A table that does not exist yet is skipped, so a domain still being
#: built never breaks the home page.
HOME_STATS: list[StatSpec] = [
    StatSpec("Customer accounts in the store", ("retail_account",)),
    StatSpec("Orders in the store", ("retail_order",)),
    StatSpec("Open victim records requests", ("victim_request", "victim_requests_request"), open_only=True),
    StatSpec("Open cases", ("access_case",), open_only=True, link_label="Cases"),
    StatSpec("Grants awaiting a decision", ("access_grant",), where=("status", ("requested",)),
             link_label="Grants"),
    StatSpec("Break-glass uses awaiting review", ("access_break_glass",), where=("review", ("pending",)),
             roles=_OVERSIGHT, link_label="Break-glass"),
    StatSpec("Open insider-risk alerts", ("insider_alert",), open_only=True, roles=_OVERSIGHT),
    StatSpec("Events in the audit log", ("audit_event",), roles=_OVERSIGHT, link_label="Audit"),
    StatSpec("Active staff accounts", ("staff_employee",), open_only=True, roles=(Role.admin,)),
]

#: What each role is in Ombud for, said plainly on the home page.
ROLE_DUTIES: dict[Role, list[str]] = {
    Role.agent: [
        "Work identity-theft records requests and support cases assigned to you or your team.",
        "Read a customer's data only for an open case about that customer; other fields stay masked.",
        "Ask for a time-limited grant, or use break-glass in an emergency (always reviewed).",
    ],
    Role.privacy_officer: [
        "Watch the 30-day deadline of every records request and review every decline.",
        "Approve or deny access grants, and run access reviews.",
        "Verify the audit log and answer customers who ask who accessed their data.",
    ],
    Role.security_analyst: [
        "Triage insider-risk alerts and break-glass uses.",
        "Scope incidents from the audit log and notify the customers exposed.",
        "Verify the audit log's signed checkpoints.",
    ],
    Role.admin: [
        "Manage staff accounts, roles and API tokens (also from the command line: ombud staff).",
        "Everything the other roles can do, each use still on the record.",
    ],
}


@dataclass(frozen=True)
class Stat:
    label: str
    value: int
    href: str | None


def _count(session: Session, table: Table, spec: StatSpec) -> int | None:
    query = select(func.count()).select_from(table)
    if spec.where is not None:
        column, values = spec.where
        if column not in table.c:
            return None
        query = query.where(table.c[column].in_(values))
    open_only = spec.open_only
    if open_only and "left_on" in table.c:
        query = query.where(table.c.left_on.is_(None))
    elif open_only and "status" in table.c:
        query = query.where(table.c.status.not_in(_CLOSED_STATUSES))
    # A domain may define a table before its migration lands; the savepoint keeps that from breaking
    # the page (and, on PostgreSQL, the transaction).
    try:
        with session.begin_nested():
            return session.scalar(query) or 0
    except SQLAlchemyError:
        return None


def home_stats(session: Session, request: Request, staff: Staff) -> list[Stat]:
    """The counts this employee sees on the home page, for the tables that exist so far."""
    links = {link.label: link.href for link in nav_links(request, staff.viewer())}
    stats = []
    for spec in HOME_STATS:
        if spec.roles and not staff.has_role(*spec.roles):
            continue
        table = next((metadata.tables[name] for name in spec.tables if name in metadata.tables), None)
        if table is None:
            continue
        value = _count(session, table, spec)
        if value is not None:
            href = links.get(spec.link_label) if spec.link_label else None
            stats.append(Stat(spec.label, value, href))
    return stats


@router.get("/")
def home(request: Request, session: DbSession, staff: CurrentStaff) -> Response:
    """The console home: who you are, what your role does here, what the store holds."""
    return render(
        request,
        "console/home.html",
        staff,
        employee=staff.employee,
        duties=ROLE_DUTIES.get(staff.employee.role, []),
        stats=home_stats(session, request, staff),
        sections=[link for link in nav_links(request, staff.viewer()) if link.href != "/"],
    )


# --- the employee's own account: sessions, API tokens, password ----------------------------------------------


def _live_sessions(session: Session, staff: Staff) -> list[StaffSession]:
    now = clock.now()
    query = select(StaffSession).where(
        StaffSession.employee_id == staff.employee.id,
        StaffSession.revoked_at.is_(None),
        StaffSession.expires_at > now,
    )
    return list(session.scalars(query.order_by(StaffSession.created_at.desc())))


def _account_page(request: Request, session: Session, staff: Staff, **extra: object) -> Response:
    return render(
        request,
        "console/account.html",
        staff,
        employee=staff.employee,
        sessions=_live_sessions(session, staff),
        current_session_id=staff.browser_session.id if staff.browser_session else None,
        tokens=staff_service.list_api_tokens(session, staff.employee),
        now=clock.now(),
        **extra,
    )


@router.get("/account")
def account(request: Request, session: DbSession, staff: CurrentStaff) -> Response:
    """Your account: profile, signed-in browsers, API tokens (create, revoke), password change."""
    return _account_page(request, session, staff)


@router.post("/account/tokens")
def create_token(
    request: Request,
    session: DbSession,
    staff: CurrentStaff,
    name: Annotated[str, Form(max_length=100)],
    days: Annotated[int, Form(ge=1, le=366)] = 90,
) -> Response:
    """Create an API token acting as you; the secret is shown on this response only, never stored."""
    new = staff_service.create_api_token(
        session, staff.employee, name=name, valid_for=timedelta(days=days), actor=staff.employee
    )
    return _account_page(
        request,
        session,
        staff,
        new_token=new.token,
        flash_now=[("success", f"Token “{new.record.name}” created; copy it now, it is not shown again.")],
    )


@router.post("/account/tokens/{prefix}/revoke")
def revoke_token(request: Request, session: DbSession, staff: CurrentStaff, prefix: str) -> Response:
    """Revoke one of your API tokens."""
    record = staff_service.revoke_api_token(session, prefix, employee=staff.employee, actor=staff.employee)
    response = RedirectResponse("/account", status_code=303)
    return flash(request, response, f"Token “{record.name}” ({record.prefix}) revoked.", "success")


@router.post("/account/sessions/{session_id}/end")
def end_other_session(request: Request, session: DbSession, staff: CurrentStaff, session_id: int) -> Response:
    """Sign out one of your other browsers."""
    record = session.get(StaffSession, session_id)
    if record is None or record.employee_id != staff.employee.id:
        raise NotFound("no such session of yours")
    if record.revoked_at is None:
        record.revoked_at = clock.now()
    response = RedirectResponse("/account", status_code=303)
    return flash(request, response, "That browser has been signed out.", "success")


@router.post("/account/password")
def change_password(
    request: Request,
    session: DbSession,
    staff: CurrentStaff,
    current_password: Annotated[str, Form(max_length=1024)],
    new_password: Annotated[str, Form(max_length=1024)],
    confirm_password: Annotated[str, Form(max_length=1024)],
) -> Response:
    """Change your password; every other browser of yours is signed out, this one stays signed in."""
    response = RedirectResponse("/account", status_code=303)
    employee = staff.employee
    if not staff_service.verify_password(employee.password_hash, current_password):
        return flash(request, response, "Your current password was not right; nothing changed.", "error")
    if new_password != confirm_password:
        return flash(request, response, "The new passwords did not match; nothing changed.", "error")
    try:
        staff_service.check_password_strength(new_password, email=employee.email)
    except InvalidInput as exc:
        return flash(request, response, f"Not changed: {exc.message}.", "error")
    staff_service.set_password(session, employee, new_password, actor=employee, keep=staff.browser_session)
    return flash(request, response, "Password changed; your other browsers were signed out.", "success")


# --- the staff directory (admins) --------------------------------------------------------------------------

Admin = Annotated[Staff, Depends(require_roles(Role.admin))]


DIRECTORY_TABLE = TableSpec(
    name="staff",
    columns=(
        Column("name", "Name", sort=Employee.name), Column("email", "Email", sort=Employee.email),
        Column("role", "Role", sort=Employee.role), Column("team", "Team", sort=Employee.team),
        Column("region", "Region", sort=Employee.region), Column("manager", "Manager"),
        Column("sign_in", "Sign-in"), Column("action", "Action"),
    ),
    filters=(
        Filter("role", "Role", Employee.role, choices=enum_choices(Role)),
        Filter("team", "Team", apply=lambda stmt, v: stmt.where(func.lower(Employee.team) == v.lower())),
        Filter("name", "Name or email contains", apply=lambda stmt, v: stmt.where(
            func.lower(Employee.name).contains(v.lower(), autoescape=True)
            | func.lower(Employee.email).contains(v.lower(), autoescape=True))),
        Filter("departed", "People who have left", choices=(("true", "included"), ("only", "only")), by_route=True),
    ),
    default_sort="name",
    tiebreak=Employee.id,
)


def _directory_page(
    request: Request, session: Session, staff: Staff, *, status_code: int = 200, **extra: object,
) -> Response:
    query = dict(request.query_params)
    stmt = select(Employee)
    # Current staff unless asked: people who have left are kept (their records name them) but out of the way.
    departed = query.get("departed")
    if departed == "only":
        stmt = stmt.where(Employee.left_on.is_not(None))
    elif departed != "true":
        stmt = stmt.where(Employee.left_on.is_(None))
    page = DIRECTORY_TABLE.run(session, stmt, query)
    boss_ids = {e.manager_id for e in page.rows if e.manager_id}
    managers = {e.id: e for e in session.scalars(select(Employee).where(Employee.id.in_(boss_ids)))} if boss_ids else {}
    # Who can be a manager: one list for the page's edit forms (a datalist, not a select per row).
    candidates = session.execute(
        select(Employee.external_id, Employee.name, Employee.team).where(Employee.left_on.is_(None))
        .order_by(Employee.name)
    ).all()
    return render(
        request,
        "console/staff.html",
        staff,
        status_code=status_code,
        table=page,
        managers=managers,
        candidates=candidates,
        roles=list(Role),
        **extra,
    )


@router.get("/staff")
def staff_directory(request: Request, session: DbSession, staff: Admin) -> Response:
    """The staff directory: who can sign in, with which role (admins only); paged, sorted and filtered."""
    return _directory_page(request, session, staff)


@router.post("/staff")
def add_employee(
    request: Request,
    session: DbSession,
    staff: Admin,
    name: Annotated[str, Form(max_length=200)],
    email: Annotated[str, Form(max_length=320)],
    role: Annotated[Role, Form()],
    team: Annotated[str, Form(max_length=100)],
    region: Annotated[str, Form(max_length=50)],
    password: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    """Add a staff account (with a first password, or none until one is set)."""
    try:
        with session.begin_nested():
            employee = staff_service.create_employee(
                session, name=name, email=email, role=role, team=team, region=region,
                password=password or None, actor=staff.employee,
            )
    except (InvalidInput, Conflict) as exc:
        form = {"name": name, "email": email, "role": role.value, "team": team, "region": region}
        return _directory_page(request, session, staff, status_code=exc.status_code, form=form,
                               flash_now=[("error", f"Not added: {exc.message}.")])
    response = RedirectResponse("/staff", status_code=303)
    return flash(request, response, f"Added {employee.name} as {employee.role.value}.", "success")


def _employee(session: Session, external_id: str) -> Employee:
    employee = staff_service.get_employee_by_external_id(session, external_id)
    if employee is None:
        raise NotFound(f"no employee {external_id}")
    return employee


def _manager(session: Session, text: str) -> Employee:
    """The manager an admin named: by directory id, or by work email."""
    boss = staff_service.get_employee_by_external_id(session, text)
    if boss is None and "@" in text:
        boss = staff_service.get_employee_by_email(session, text)
    if boss is None or boss.left_on is not None:
        raise InvalidInput(f"no current employee {text!r} (give their directory id or work email)", field="manager")
    return boss


@router.post("/staff/{external_id}/edit")
def edit_employee(
    request: Request,
    session: DbSession,
    staff: Admin,
    external_id: str,
    role: Annotated[Role, Form()],
    team: Annotated[str, Form(max_length=100)],
    manager: Annotated[str, Form(max_length=320)] = "",
) -> Response:
    """Change an employee's role, team and manager (audited; nobody manages themselves, even through others)."""
    employee = _employee(session, external_id)
    try:
        with session.begin_nested():
            boss = _manager(session, manager.strip()) if manager.strip() else None
            if employee.id == staff.employee.id and role is not Role.admin:
                raise InvalidInput("you cannot take away your own admin role; ask another admin", field="role")
            changes = staff_service.update_employee(session, employee, role=role, team=team, manager=boss,
                                                    actor=staff.employee)
    except (InvalidInput, Conflict) as exc:
        return _directory_page(request, session, staff, status_code=exc.status_code,
                               flash_now=[("error", f"{employee.name} not changed: {exc.message}.")])
    response = RedirectResponse("/staff", status_code=303)
    said = ", ".join(f"{k} {v[0] or '—'} → {v[1] or '—'}" for k, v in changes.items()) or "nothing changed"
    return flash(request, response, f"{employee.name}: {said}.", "success")


@router.post("/staff/{external_id}/password")
def reset_employee_password(request: Request, session: DbSession, staff: Admin, external_id: str) -> Response:
    """Give an employee a new random password, shown once on this page (never sent or stored in clear)."""
    employee = _employee(session, external_id)
    if employee.id == staff.employee.id:
        raise InvalidInput("change your own password on your account page")
    password = staff_service.reset_password(session, employee, actor=staff.employee)
    return _directory_page(request, session, staff, reset={"name": employee.name, "password": password},
                           flash_now=[("success", f"New password for {employee.name}; their sessions were ended.")])


@router.post("/staff/{external_id}/deactivate")
def deactivate_employee(request: Request, session: DbSession, staff: Admin, external_id: str) -> Response:
    """Mark an employee as gone: sign-in refused, sessions ended, API tokens revoked."""
    employee = staff_service.get_employee_by_external_id(session, external_id)
    if employee is None:
        raise NotFound(f"no employee {external_id}")
    if employee.id == staff.employee.id:
        raise InvalidInput("you cannot deactivate yourself; ask another admin")
    ended, revoked = staff_service.deactivate_employee(session, employee, actor=staff.employee)
    response = RedirectResponse("/staff", status_code=303)
    message = f"{employee.name} deactivated: {ended} session(s) ended, {revoked} token(s) revoked."
    return flash(request, response, message, "success")
