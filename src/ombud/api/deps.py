"""Request dependencies shared by the API and the pages: the context, one transaction, the signed-in staff,
and the one CSRF check that guards every state-changing request made with a session cookie."""

from __future__ import annotations

import hmac
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
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Paths that check an anti-forgery token of their own: the sign-in form is filled before any session exists.
CSRF_SELF_CHECKED = frozenset({"/login"})
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


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
class Viewer:
    """A plain snapshot of who is signed in, for the page layout (also usable after the transaction ended)."""

    name: str
    email: str
    role: Role
    external_id: str
    csrf_token: str | None


@dataclass(frozen=True)
class Staff:
    """Who is calling: the employee, and the browser session when signed in by cookie."""

    employee: Employee
    browser_session: StaffSession | None = None

    @property
    def csrf_token(self) -> str | None:
        return self.browser_session.csrf_token if self.browser_session else None

    @property
    def via_api_token(self) -> bool:
        return self.browser_session is None

    def has_role(self, *roles: Role) -> bool:
        return self.employee.role in roles or self.employee.role is Role.admin

    def viewer(self) -> Viewer:
        e = self.employee
        return Viewer(name=e.name, email=e.email, role=e.role, external_id=e.external_id, csrf_token=self.csrf_token)


def bearer_token(request: Request) -> str | None:
    """The token of an `Authorization: Bearer ...` header, if the request has one."""
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def optional_staff(request: Request, session: DbSession) -> Staff | None:
    """The signed-in employee (bearer token or session cookie), or None.

    A request carrying a bearer token is judged by that token alone, never by a cookie beside it.
    """
    ctx = get_context(request)
    token = bearer_token(request)
    if token is not None:
        employee = staff_service.resolve_api_token(session, token)
        staff = Staff(employee) if employee else None
    else:
        record = staff_service.resolve_session(session, ctx.settings, request.cookies.get(SESSION_COOKIE))
        staff = Staff(staff_service.get_employee(session, record.employee_id), record) if record else None
    request.state.viewer = staff.viewer() if staff else None
    return staff


OptionalStaff = Annotated[Staff | None, Depends(optional_staff)]


def current_staff(staff: OptionalStaff) -> Staff:
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


class CsrfRefused(PolicyDenied):
    """A state-changing request signed in by cookie came without the session's anti-forgery token."""


async def submitted_csrf_token(request: Request) -> str | None:
    """The anti-forgery token a request carries: the X-CSRF-Token header, else the form's csrf_token field."""
    header = request.headers.get(CSRF_HEADER)
    if header:
        return header
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type not in _FORM_TYPES:
        return None
    # Starlette keeps the parsed form on the request, so the route's own Form(...) parameters reuse it.
    form = await request.form()
    value = form.get(CSRF_FIELD)
    return value if isinstance(value, str) else None


def tokens_match(sent: str | None, expected: str | None) -> bool:
    """Constant-time comparison of an anti-forgery token with the expected one."""
    if not sent or not expected:
        return False
    return hmac.compare_digest(sent.encode(), expected.encode())


async def csrf_protect(request: Request, staff: OptionalStaff) -> None:
    """Refuse (403) a POST/PUT/PATCH/DELETE authenticated by session cookie without the session's token.

    Installed once on the whole app (see create_app), so every route, present and future, is covered.
    Requests authenticated by a bearer token are exempt: a browser never attaches one on its own.
    """
    if request.method not in UNSAFE_METHODS or staff is None or staff.via_api_token:
        return
    if request.url.path in CSRF_SELF_CHECKED:
        return
    if not tokens_match(await submitted_csrf_token(request), staff.csrf_token):
        raise CsrfRefused(
            "this form could not be verified (it may be stale or come from another site); "
            "reload the page and try again"
        )
