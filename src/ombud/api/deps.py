"""Request dependencies shared by the API and the pages: the context, one transaction, the signed-in staff."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from ombud.context import Context
from ombud.errors import PolicyDenied, Unauthenticated
from ombud.staff import service as staff_service
from ombud.staff.models import Employee, Role, StaffSession

SESSION_COOKIE = "ombud_session"


def get_context(request: Request) -> Context:
    """The process's context, set by create_app."""
    return request.app.state.ctx


def db_session(request: Request) -> Iterator[Session]:
    """One transaction per request: committed when the handler returns, rolled back when it raises."""
    ctx = get_context(request)
    with ctx.sessions() as session, session.begin():
        yield session


DbSession = Annotated[Session, Depends(db_session)]


@dataclass(frozen=True)
class Staff:
    """Who is calling: the employee, and the browser session when signed in by cookie."""

    employee: Employee
    browser_session: StaffSession | None = None

    @property
    def csrf_token(self) -> str | None:
        return self.browser_session.csrf_token if self.browser_session else None

    def has_role(self, *roles: Role) -> bool:
        return self.employee.role in roles or self.employee.role is Role.admin


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token else None


def optional_staff(request: Request, session: DbSession) -> Staff | None:
    """The signed-in employee (bearer token or session cookie), or None."""
    ctx = get_context(request)
    token = _bearer(request)
    if token is not None:
        employee = staff_service.resolve_api_token(session, token)
        return Staff(employee) if employee else None
    record = staff_service.resolve_session(session, ctx.settings, request.cookies.get(SESSION_COOKIE))
    if record is None:
        return None
    return Staff(staff_service.get_employee(session, record.employee_id), record)


def current_staff(staff: Annotated[Staff | None, Depends(optional_staff)]) -> Staff:
    """The signed-in employee; 401 when nobody is signed in."""
    if staff is None:
        raise Unauthenticated("sign in first")
    return staff


CurrentStaff = Annotated[Staff, Depends(current_staff)]


def require_roles(*roles: Role) -> Callable[[Staff], Staff]:
    """A dependency admitting only these roles (admins always pass)."""

    def check(staff: CurrentStaff) -> Staff:
        if not staff.has_role(*roles):
            allowed = ", ".join(r.value for r in roles)
            raise PolicyDenied(f"this needs one of the roles: {allowed}")
        return staff

    return check
