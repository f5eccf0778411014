"""Request dependencies shared by the API and the pages: the context, one transaction, the signed-in staff,
and the one CSRF check that guards every state-changing request made with a session cookie."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any

from fastapi import Depends, Path, Query, Request, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.security import APIKeyCookie, HTTPBearer
from sqlalchemy.orm import Session

from ombud import clock
from ombud.context import Context
from ombud.errors import PolicyDenied, Unauthenticated
from ombud.shapes import CUSTOMER_ID_MARK
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


#: scope="function": the transaction commits before the response is sent, so a client never sees a success
#: that failed to commit, and its next request sees what this one wrote.
DbSession = Annotated[Session, Depends(db_session, scope="function")]

#: A customer id in a path or a query: the document gives it the id pattern in effect, the edge checks it.
CustomerIdPath = Annotated[str, Path(max_length=64, json_schema_extra={CUSTOMER_ID_MARK: True})]
CustomerIdQuery = Annotated[str | None, Query(max_length=64, json_schema_extra={CUSTOMER_ID_MARK: True})]


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


@dataclass(frozen=True, slots=True)
class Caller:
    """An employee as an API token resolves them in one query: what the broker needs, without an ORM row."""

    id: int
    external_id: str
    name: str
    email: str
    team: str
    role: Role
    region: str
    left_on: date | None

    @property
    def active(self) -> bool:
        return self.left_on is None


_CALLER_SQL = (
    "SELECT t.id, t.expires_at, t.last_used_at, e.id, e.external_id, e.name, e.email, e.team, e.role, e.region, "
    "e.left_on FROM staff_api_token t JOIN staff_employee e ON e.id = t.employee_id "
    "WHERE t.token_hash = ? AND t.revoked_at IS NULL"
)
_STAMP_LAST_USE_SQL = "UPDATE staff_api_token SET last_used_at = ? WHERE id = ?"
_TOUCH_EVERY = timedelta(minutes=1)


def _utc(value: datetime | str | None) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite keeps naive UTC text
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def token_caller(session: Session, token: str) -> Caller | None:
    """The employee an API token acts for, by one indexed query in the session's transaction.

    The rules are staff.service.resolve_api_token's (a test holds the two equal): None when the token is
    unknown, revoked or expired, or the employee has left; its last use is stamped at most once a minute.
    """
    if not token.startswith(staff_service.TOKEN_PREFIX):
        return None
    conn = session.connection()
    dbapi = conn.connection.dbapi_connection
    sqlite = conn.dialect.name == "sqlite"
    cursor = dbapi.cursor()
    try:
        cursor.execute(_CALLER_SQL if sqlite else _CALLER_SQL.replace("?", "%s"),
                       (hashlib.sha256(token.encode()).hexdigest(),))
        row = cursor.fetchone()
        if row is None:
            return None
        now = clock.now()
        expires = _utc(row[1])
        if expires is not None and now >= expires:
            return None
        left_on = row[10]
        if left_on is not None:
            return None
        last_used = _utc(row[2])
        if last_used is None or now - last_used > _TOUCH_EVERY:
            stamp = now.astimezone(UTC)
            cursor.execute(_STAMP_LAST_USE_SQL if sqlite else _STAMP_LAST_USE_SQL.replace("?", "%s"),
                           (stamp.replace(tzinfo=None).isoformat(sep=" ", timespec="microseconds") if sqlite
                            else stamp, row[0]))
    finally:
        cursor.close()
    return Caller(id=row[3], external_id=row[4], name=row[5], email=row[6], team=row[7], role=Role(row[8]),
                  region=row[9], left_on=None)


#: The two ways to sign in, declared to OpenAPI (every operation that needs an employee lists both); they
#: never refuse on their own (auto_error=False): optional_staff below reads the header and the cookie itself.
BEARER_SCHEME = HTTPBearer(scheme_name="bearer", auto_error=False,
                           description="An API token (`ombud staff token create`).")
COOKIE_SCHEME = APIKeyCookie(name=SESSION_COOKIE, scheme_name="cookie", auto_error=False,
                             description="The staff console's session; state-changing calls also send X-CSRF-Token.")


def optional_staff(
    request: Request, session: DbSession, _bearer: Any = Security(BEARER_SCHEME),
    _cookie: Any = Security(COOKIE_SCHEME),
) -> Staff | None:
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


def _session_csrf_token(request: Request, cookie: str) -> str | None:
    """The anti-forgery token of the live browser session behind this cookie (None when there is none)."""
    ctx = get_context(request)
    with ctx.sessions() as session, session.begin():
        record = staff_service.resolve_session(session, ctx.settings, cookie)
        return record.csrf_token if record else None


async def csrf_protect(request: Request) -> None:
    """Refuse (403) a POST/PUT/PATCH/DELETE authenticated by session cookie without the session's token.

    Installed once on the whole app (see create_app), so every route, present and future, is covered. It asks
    the store nothing unless it must: a safe method (GET, HEAD, OPTIONS), a request carrying a bearer token (a
    browser never attaches one on its own, and such a request is judged by its token alone, never by a cookie
    beside it) or a request without a session cookie (nobody signed in by cookie, so nothing to forge) passes
    without a query. Only a cookie-authenticated state-changing request looks up its session's token.
    """
    if request.method not in UNSAFE_METHODS or bearer_token(request) is not None:
        return
    cookie = request.cookies.get(SESSION_COOKIE)
    if not cookie or request.url.path in CSRF_SELF_CHECKED:
        return
    expected = await run_in_threadpool(_session_csrf_token, request, cookie)
    if expected is None:  # no live session: the route's own authentication answers (401 or a sign-in page)
        return
    if not tokens_match(await submitted_csrf_token(request), expected):
        raise CsrfRefused(
            "this form could not be verified (it may be stale or come from another site); "
            "reload the page and try again"
        )
