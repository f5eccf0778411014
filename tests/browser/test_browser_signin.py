"""What a staff member does in a real browser: sign in, see the console, sign out; mistakes and forgeries."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from ombud.db import transaction
from ombud.staff.models import LoginAttempt, LoginEvent, Role, StaffSession

pytestmark = pytest.mark.browser


def _count_sessions(server_ctx, employee_id, *, live_only=False):
    with transaction(server_ctx.sessions) as session:
        query = select(func.count()).select_from(StaffSession).where(StaffSession.employee_id == employee_id)
        if live_only:
            query = query.where(StaffSession.revoked_at.is_(None))
        return session.scalar(query)


def _sign_in(page, account, password=None, *, on_current_page=False):
    if not on_current_page:
        page.goto("/login")
    page.get_by_label("Work email").fill(account.email)
    page.get_by_label("Password").fill(password or account.password)
    page.get_by_role("button", name="Sign in").click()


def test_sign_in_see_the_console_and_sign_out(page, live_server, make_staff, server_ctx):
    account = make_staff(name="Dana Scully", role=Role.privacy_officer, team="Privacy")
    page.goto("/account")
    assert page.url == f"{live_server}/login?next=%2Faccount"  # sent to sign in, and back afterwards

    _sign_in(page, account, on_current_page=True)
    page.wait_for_url(f"{live_server}/account")
    page.goto("/")
    assert page.get_by_role("heading", level=1).inner_text() == "Welcome, Dana Scully"
    header = page.locator("header")
    assert "Dana Scully" in header.inner_text() and "Privacy officer" in header.inner_text()
    assert page.get_by_role("navigation", name="Console sections").get_by_role("link", name="Home").is_visible()
    assert page.locator("[data-stat='Customer accounts in the store']").is_visible()
    cookie = next(c for c in page.context.cookies() if c["name"] == "ombud_session")
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax"
    assert _count_sessions(server_ctx, account.id, live_only=True) == 1

    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{live_server}/login")
    assert page.get_by_role("status").inner_text() == "You have signed out."
    assert _count_sessions(server_ctx, account.id, live_only=True) == 0
    # The session is gone: going back to the console lands on the sign-in page again.
    page.go_back()
    page.goto("/")
    assert page.url.startswith(f"{live_server}/login")
    assert not any(c["name"] == "ombud_session" for c in page.context.cookies())


def test_wrong_password_shows_an_error_and_creates_no_session(page, live_server, make_staff, server_ctx):
    account = make_staff()
    _sign_in(page, account, password="not my password at all")
    alert = page.get_by_role("alert")
    assert alert.inner_text() == "Wrong email or password."
    assert page.url == f"{live_server}/login"
    assert page.get_by_label("Work email").input_value() == account.email
    assert page.get_by_label("Password").input_value() == ""
    assert _count_sessions(server_ctx, account.id) == 0
    assert not any(c["name"] == "ombud_session" for c in page.context.cookies())
    with transaction(server_ctx.sessions) as session:
        kinds = session.scalars(select(LoginAttempt.kind).where(LoginAttempt.email == account.email)).all()
    assert kinds == [LoginEvent.failed]
    page.goto("/")
    assert page.url.startswith(f"{live_server}/login")


def test_a_forged_form_is_refused_and_the_session_survives(page, live_server, make_staff, server_ctx):
    account = make_staff()
    _sign_in(page, account)
    page.wait_for_url(f"{live_server}/")
    # A form posted from within the site but without the session's token (as injected markup would be).
    page.evaluate(
        """() => {
            const form = document.createElement('form');
            form.method = 'post';
            form.action = '/logout';
            const field = document.createElement('input');
            field.name = 'csrf_token';
            field.value = 'forged-token';
            form.appendChild(field);
            document.body.appendChild(form);
            form.submit();
        }"""
    )
    page.wait_for_load_state()
    heading = page.get_by_role("heading", level=1)
    assert heading.inner_text() == "Not allowed"
    assert "could not be verified" in page.locator(".error-message").inner_text()
    assert _count_sessions(server_ctx, account.id, live_only=True) == 1
    page.goto("/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Welcome")


def test_a_form_on_another_site_cannot_sign_you_out(page, live_server, make_staff, server_ctx):
    account = make_staff()
    _sign_in(page, account)
    page.wait_for_url(f"{live_server}/")
    # "localhost" is another site than "127.0.0.1": the forged page lives there.
    evil = live_server.replace("127.0.0.1", "localhost") + "/forged"
    page.route(
        re.compile(r"http://localhost:\d+/forged"),
        lambda route: route.fulfill(
            content_type="text/html",
            body=f'<form id="f" method="post" action="{live_server}/logout"><button>win</button></form>'
                 "<script>document.getElementById('f').submit()</script>",
        ),
    )
    page.goto(evil)
    # The post arrives without the cookie (SameSite=Lax), is treated as anonymous, and changes nothing.
    page.wait_for_url(re.compile(re.escape(live_server) + "/.*"))
    assert _count_sessions(server_ctx, account.id, live_only=True) == 1
    page.goto("/")
    assert page.get_by_role("heading", level=1).inner_text().startswith("Welcome")
