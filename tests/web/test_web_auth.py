"""Signing in and out of the console: cookies, redirects, errors, rate limiting, session rotation."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select
from webutil import HTML, hidden

from ombud.api.deps import SESSION_COOKIE
from ombud.staff.models import LoginAttempt, LoginEvent, StaffSession
from ombud.staff.testing import make_employee
from ombud.web.auth import safe_next


def _sessions_of(session, employee, live_only=True):
    query = select(func.count()).select_from(StaffSession).where(StaffSession.employee_id == employee.id)
    if live_only:
        query = query.where(StaffSession.revoked_at.is_(None))
    return session.scalar(query)


def _post_login(client, email, password, next_path="/"):
    form = client.get(f"/login?next={next_path}")
    return client.post(
        "/login",
        data={"email": email, "password": password, "next": next_path,
              "login_csrf": hidden(form.text, "login_csrf")},
    )


def test_anonymous_home_redirects_to_sign_in_with_next(client):
    response = client.get("/account?tab=tokens")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=%2Faccount%3Ftab%3Dtokens"


def test_sign_in_sets_a_hardened_cookie_and_goes_to_next(client, session):
    employee = make_employee(session, name="Dana Scully")
    response = _post_login(client, employee.email, "correct horse battery staple", "/account")
    assert response.status_code == 303
    assert response.headers["location"] == "/account"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith(f"{SESSION_COOKIE}="))
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower() and "Path=/" in cookie
    assert "Secure" not in cookie  # tests run with secure_cookies off (not production)
    page = client.get("/account")
    assert page.status_code == 200 and "Dana Scully" in page.text
    assert _sessions_of(session, employee) == 1


def test_cookie_is_secure_when_settings_say_so(app, session, ctx):
    ctx.settings = ctx.settings.model_copy(update={"cookie_secure": True})
    employee = make_employee(session)
    client = TestClient(app, base_url="https://testserver", headers=HTML, follow_redirects=False)
    response = _post_login(client, employee.email, "correct horse battery staple")
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith(f"{SESSION_COOKIE}="))
    assert "Secure" in cookie


def test_wrong_password_shows_an_error_and_creates_no_session(client, session):
    employee = make_employee(session)
    response = _post_login(client, employee.email, "definitely not it")
    assert response.status_code == 401
    assert "Wrong email or password" in response.text
    assert SESSION_COOKIE not in response.cookies
    assert employee.email in response.text  # the email stays filled in, the password does not
    assert _sessions_of(session, employee, live_only=False) == 0
    assert client.get("/").status_code == 303


def test_rate_limited_sign_in_says_so_with_429(client, session, settings):
    employee = make_employee(session)
    for _ in range(settings.login_max_failures):
        assert _post_login(client, employee.email, "definitely not it").status_code == 401
    response = _post_login(client, employee.email, "correct horse battery staple")
    assert response.status_code == 429
    assert "Too many failed sign-ins" in response.text
    assert _sessions_of(session, employee, live_only=False) == 0
    kinds = session.scalars(select(LoginAttempt.kind).where(LoginAttempt.email == employee.email)).all()
    assert kinds[-1] is LoginEvent.rate_limited


def test_sign_in_form_without_its_token_is_refused(client, session):
    employee = make_employee(session)
    client.get("/login")
    response = client.post(
        "/login", data={"email": employee.email, "password": "correct horse battery staple", "login_csrf": "forged"}
    )
    assert response.status_code == 403
    assert _sessions_of(session, employee, live_only=False) == 0


def test_sign_in_rotates_the_session(client, session, sign_in):
    """A session cookie the browser already carries (even a planted one) is replaced, never reused."""
    planted_by, employee = make_employee(session), make_employee(session)
    sign_in(planted_by)
    planted = client.cookies.get(SESSION_COOKIE)
    client.cookies.set("ombud_login_csrf", "form-token", domain="testserver.local", path="/login")
    response = client.post(
        "/login",
        data={"email": employee.email, "password": "correct horse battery staple", "login_csrf": "form-token"},
    )
    assert response.status_code == 303
    fresh = client.cookies.get(SESSION_COOKIE)
    assert fresh != planted
    assert _sessions_of(session, planted_by) == 0
    assert _sessions_of(session, employee) == 1
    assert employee.name in client.get("/").text


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("/cases/12?tab=notes", "/cases/12?tab=notes"),
        ("https://evil.example/", "/"),
        ("//evil.example/", "/"),
        ("/\\evil.example", "/"),
        ("javascript:alert(1)", "/"),
        ("/login", "/"),
        ("", "/"),
        ("/ok\r\nSet-Cookie: x=1", "/"),
    ],
)
def test_next_only_goes_to_local_paths(given, expected):
    assert safe_next(given) == expected


def test_an_offsite_next_is_ignored_after_sign_in(client, session):
    employee = make_employee(session)
    response = _post_login(client, employee.email, "correct horse battery staple", "https://evil.example/x")
    assert response.headers["location"] == "/"


def test_sign_out_ends_the_session_and_records_it(client, session, sign_in):
    employee = make_employee(session)
    csrf = sign_in(employee)
    response = client.post("/logout", data={"csrf_token": csrf})
    assert response.status_code == 303 and response.headers["location"] == "/login"
    assert _sessions_of(session, employee) == 0
    assert client.get("/").status_code == 303
    page = client.get("/login")
    assert "You have signed out." in page.text
    kinds = session.scalars(select(LoginAttempt.kind).where(LoginAttempt.email == employee.email)).all()
    assert kinds == [LoginEvent.sign_in, LoginEvent.sign_out]


def test_signed_in_visit_to_login_goes_on(client, session, sign_in):
    sign_in(make_employee(session))
    response = client.get("/login?next=/account")
    assert response.status_code == 303 and response.headers["location"] == "/account"


def test_a_departed_employee_is_signed_out_on_the_next_request(client, session, sign_in):
    from ombud.staff import service

    employee = make_employee(session)
    sign_in(employee)
    service.deactivate_employee(session, employee)
    assert client.get("/").status_code == 303


@given(st.text(max_size=60))
def test_next_never_leaves_the_site(value):
    target = safe_next(value)
    parts = urlsplit(target)
    assert target.startswith("/") and not target.startswith("//")
    assert not parts.scheme and not parts.netloc and "\\" not in target
    assert target == "/" or target == value
