"""Staff sign-in and sign-out pages.

The sign-in form carries its own anti-forgery token (a double-submit cookie: no session exists yet);
every other form is checked centrally against the session's token (ombud.api.deps.csrf_protect).
"""

from __future__ import annotations

import secrets
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from ombud.api.deps import SESSION_COOKIE, DbSession, OptionalStaff, get_context, tokens_match
from ombud.errors import Unauthenticated
from ombud.staff import service as staff_service
from ombud.web.templating import flash, render

router = APIRouter(tags=["pages"], include_in_schema=False)

LOGIN_CSRF_COOKIE = "ombud_login_csrf"
_NOT_AFTER_SIGN_IN = frozenset({"/login", "/logout"})


def safe_next(value: str | None) -> str:
    """Where to go after sign-in: a path on this site only, never another host (no open redirect)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in value):
        return "/"
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or parts.path in _NOT_AFTER_SIGN_IN:
        return "/"
    return value


def client_ip(request: Request) -> str | None:
    """The caller's address as the server sees it (behind a proxy, run uvicorn with --proxy-headers)."""
    return request.client.host if request.client else None


def _login_page(
    request: Request, *, next_path: str, email: str = "", error: str | None = None, status_code: int = 200
) -> Response:
    token = request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(32)
    response = render(
        request,
        "auth/login.html",
        status_code=status_code,
        next=next_path,
        email=email,
        error=error,
        login_csrf=token,
    )
    settings = get_context(request).settings
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="lax", secure=settings.secure_cookies, path="/login"
    )
    return response


@router.get("/login")
def login_form(request: Request, staff: OptionalStaff, next: str = "/") -> Response:
    """The sign-in page; a signed-in employee goes straight on."""
    if staff is not None and not staff.via_api_token:
        return RedirectResponse(safe_next(next), status_code=303)
    return _login_page(request, next_path=safe_next(next))


@router.post("/login")
def login(
    request: Request,
    session: DbSession,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
    login_csrf: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Check the credentials; on success start a fresh session (any earlier one is replaced) and go on."""
    ctx = get_context(request)
    next_path = safe_next(next)
    if not tokens_match(login_csrf, request.cookies.get(LOGIN_CSRF_COOKIE)):
        return _login_page(
            request,
            next_path=next_path,
            email=email,
            error="The sign-in form expired or did not come from this site. Please try again.",
            status_code=403,
        )
    if not email.strip() or not password:
        return _login_page(
            request, next_path=next_path, email=email, error="Enter your email and password.", status_code=422
        )
    ip = client_ip(request)
    try:
        employee = staff_service.authenticate(session, ctx.settings, email=email, password=password, ip=ip)
    except staff_service.RateLimited:
        minutes = ctx.settings.login_window_minutes
        return _login_page(
            request,
            next_path=next_path,
            email=email,
            error=f"Too many failed sign-ins. Sign-in is paused; try again in up to {minutes} minutes.",
            status_code=429,
        )
    except Unauthenticated:
        return _login_page(
            request, next_path=next_path, email=email, error="Wrong email or password.", status_code=401
        )
    # Rotation: whatever session this browser had is replaced, so a planted cookie never becomes signed in.
    staff_service.end_session(session, request.cookies.get(SESSION_COOKIE), ip=ip, sign_out=False)
    new = staff_service.start_session(
        session, ctx.settings, employee, ip=ip, user_agent=request.headers.get("user-agent")
    )
    response = RedirectResponse(next_path, status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        new.token,
        httponly=True,
        samesite="lax",
        secure=ctx.settings.secure_cookies,
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(request: Request, session: DbSession, staff: OptionalStaff) -> Response:
    """End this browser's session (the form carries the CSRF token, checked centrally) and go to sign-in."""
    response = RedirectResponse("/login", status_code=303)
    if staff is not None and not staff.via_api_token:
        staff_service.end_session(session, request.cookies.get(SESSION_COOKIE), ip=client_ip(request))
        flash(request, response, "You have signed out.", "success")
    # Only a request that carried the cookie may clear it: a cross-site post (which SameSite=Lax strips of
    # the cookie) must not be able to sign anyone out by overwriting it.
    if SESSION_COOKIE in request.cookies:
        response.delete_cookie(SESSION_COOKIE, path="/")
    return response
